import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  assertOnScreen,
  convertPoint,
  displayAt,
  physicalSize,
  screenshotToGlobalChecked,
  type CoordSpace,
  type Display,
  type FrameGeometry,
  type Point,
  type SpacePoint,
} from '../../common/coords.ts';
import { isForesightError } from '../../common/errors.ts';

const SCALES = [1, 1.25, 1.5, 2] as const;

function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: ${a} ≉ ${b}`);
}

function closePoint(a: Point, b: Point, what = 'point'): void {
  close(a.x, b.x, `${what}.x`);
  close(a.y, b.y, `${what}.y`);
}

const outOfScreen = (e: unknown) => isForesightError(e, 'OUT_OF_SCREEN');
const badInput = (e: unknown) => isForesightError(e, 'BAD_INPUT');

const display = (id: string, x: number, y: number, width: number, height: number, scaleFactor = 1, primary = false): Display => ({
  id,
  bounds: { x, y, width, height },
  scaleFactor,
  primary,
});

// ------------------------------------------------------------------------------ generators

/** One display anywhere on the virtual desktop, negative origins included. */
const displayArb: fc.Arbitrary<Display> = fc
  .record({
    x: fc.integer({ min: -8000, max: 8000 }),
    y: fc.integer({ min: -5000, max: 5000 }),
    width: fc.integer({ min: 320, max: 3840 }),
    height: fc.integer({ min: 240, max: 2160 }),
    scaleFactor: fc.constantFrom(...SCALES),
  })
  .map((r) => display('d', r.x, r.y, r.width, r.height, r.scaleFactor, true));

/** A screenshot of a display: at its physical size, or resized for a model (smaller or larger, any aspect). */
const frameArb: fc.Arbitrary<FrameGeometry> = displayArb.chain((d) => {
  const phys = physicalSize(d);
  return fc.oneof(
    fc.constant({ display: d, imageWidth: phys.width, imageHeight: phys.height }),
    fc
      .double({ min: 0.1, max: 2, noNaN: true })
      .map((f) => ({ display: d, imageWidth: Math.max(1, Math.round(phys.width * f)), imageHeight: Math.max(1, Math.round(phys.height * f)) })),
    fc.record({ display: fc.constant(d), imageWidth: fc.integer({ min: 1, max: 5000 }), imageHeight: fc.integer({ min: 1, max: 5000 }) }),
  );
});

/** A frame and a point inside its image (pixel centres, so it is strictly inside). */
const frameAndPixelArb = frameArb.chain((frame) =>
  fc.tuple(fc.constant(frame), fc.integer({ min: 0, max: frame.imageWidth - 1 }), fc.integer({ min: 0, max: frame.imageHeight - 1 })).map(([f, px, py]) => ({
    frame: f,
    point: { space: 'screenshot', x: px + 0.5, y: py + 0.5 } as SpacePoint,
  })),
);

/**
 * Several displays side by side, left to right, starting at a negative x (a monitor left of
 * the primary), each at its own height, with or without gaps between them.
 */
const layoutArb: fc.Arbitrary<Display[]> = fc
  .array(
    fc.record({
      width: fc.integer({ min: 640, max: 3840 }),
      height: fc.integer({ min: 480, max: 2160 }),
      dy: fc.integer({ min: -1200, max: 1200 }),
      gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 500 })),
      scaleFactor: fc.constantFrom(...SCALES),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .chain((specs) =>
    fc.integer({ min: -4000, max: 0 }).map((startX) => {
      let x = startX;
      return specs.map((s, i) => {
        const d = display(`d${i}`, x, s.dy, s.width, s.height, s.scaleFactor, i === 0);
        x += s.width + s.gap;
        return d;
      });
    }),
  );

// ------------------------------------------------------------------------------- conversions

describe('convertPoint', () => {
  const SPACES: readonly CoordSpace[] = ['screenshot', 'norm1000', 'norm1', 'global'];

  test('screenshot → any space → screenshot is the identity', () => {
    fc.assert(
      fc.property(frameAndPixelArb, fc.constantFrom(...SPACES), ({ frame, point }, via) => {
        const there = convertPoint(point, via, frame);
        assert.equal(there.space, via);
        const back = convertPoint(there, 'screenshot', frame);
        assert.equal(back.space, 'screenshot');
        closePoint(back, point);
      }),
      { numRuns: 500 },
    );
  });

  test('a chain through every space in any order comes back to the start', () => {
    fc.assert(
      fc.property(frameAndPixelArb, fc.shuffledSubarray([...SPACES], { minLength: 1 }), ({ frame, point }, chain) => {
        let p: SpacePoint = point;
        for (const s of chain) p = convertPoint(p, s, frame);
        closePoint(convertPoint(p, 'screenshot', frame), point);
      }),
      { numRuns: 500 },
    );
  });

  test('global → screenshot → global is the identity, negative origins included', () => {
    fc.assert(
      fc.property(frameArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (frame, u, v) => {
        const b = frame.display.bounds;
        const g: SpacePoint = { space: 'global', x: b.x + u * b.width, y: b.y + v * b.height };
        const shot = convertPoint(g, 'screenshot', frame);
        closePoint(convertPoint(shot, 'global', frame), g);
      }),
      { numRuns: 500 },
    );
  });

  test('the spaces agree with each other: norm1000 = 1000 · norm1 = 1000 · screenshot / image size', () => {
    fc.assert(
      fc.property(frameAndPixelArb, ({ frame, point }) => {
        const n1 = convertPoint(point, 'norm1', frame);
        const n1000 = convertPoint(point, 'norm1000', frame);
        close(n1000.x, n1.x * 1000, 'x');
        close(n1000.y, n1.y * 1000, 'y');
        close(n1.x, point.x / frame.imageWidth, 'norm1.x');
        close(n1.y, point.y / frame.imageHeight, 'norm1.y');
        assert.ok(n1.x > 0 && n1.x < 1 && n1.y > 0 && n1.y < 1, 'inside the image is inside 0..1');
      }),
      { numRuns: 300 },
    );
  });

  test('a screenshot at physical size: one image pixel is 1/scaleFactor logical pixels', () => {
    fc.assert(
      fc.property(displayArb, fc.nat(), fc.nat(), (d, i, j) => {
        const phys = physicalSize(d);
        const frame: FrameGeometry = { display: d, imageWidth: phys.width, imageHeight: phys.height };
        const px = i % phys.width;
        const py = j % phys.height;
        const g = convertPoint({ space: 'screenshot', x: px, y: py }, 'global', frame);
        // physicalSize rounds (1366 · 1.25 = 1707.5 → 1708), so the exact factor is image/logical width
        close(g.x, d.bounds.x + (px * d.bounds.width) / phys.width, 'x');
        close(g.y, d.bounds.y + (py * d.bounds.height) / phys.height, 'y');
        if (Number.isInteger(d.bounds.width * d.scaleFactor) && Number.isInteger(d.bounds.height * d.scaleFactor)) {
          close(g.x, d.bounds.x + px / d.scaleFactor, 'x / scaleFactor');
          close(g.y, d.bounds.y + py / d.scaleFactor, 'y / scaleFactor');
        }
      }),
      { numRuns: 300 },
    );
  });

  test('known numbers: a 1920x1080 display at 1.5 left of the primary, captured at 2880x1620 and resized to 1280x720', () => {
    const left = display('left', -1920, 0, 1920, 1080, 1.5);
    assert.deepEqual(physicalSize(left), { width: 2880, height: 1620 });
    const full: FrameGeometry = { display: left, imageWidth: 2880, imageHeight: 1620 };
    assert.deepEqual(convertPoint({ space: 'screenshot', x: 2880, y: 1620 }, 'global', full), { space: 'global', x: 0, y: 1080 });
    assert.deepEqual(convertPoint({ space: 'screenshot', x: 1440, y: 810 }, 'global', full), { space: 'global', x: -960, y: 540 });
    const small: FrameGeometry = { display: left, imageWidth: 1280, imageHeight: 720 };
    assert.deepEqual(convertPoint({ space: 'screenshot', x: 640, y: 360 }, 'global', small), { space: 'global', x: -960, y: 540 });
    assert.deepEqual(convertPoint({ space: 'norm1000', x: 250, y: 500 }, 'global', small), { space: 'global', x: -1440, y: 540 });
    assert.deepEqual(convertPoint({ space: 'global', x: -1920, y: 0 }, 'norm1', small), { space: 'norm1', x: 0, y: 0 });
    const above = display('above', 0, -1080, 2560, 1080, 1.25);
    assert.deepEqual(physicalSize(above), { width: 3200, height: 1350 });
    assert.deepEqual(convertPoint({ space: 'screenshot', x: 1600, y: 675 }, 'global', { display: above, imageWidth: 3200, imageHeight: 1350 }), {
      space: 'global',
      x: 1280,
      y: -540,
    });
  });

  test('physicalSize rounds fractional pixels', () => {
    assert.deepEqual(physicalSize(display('a', 0, 0, 1366, 768, 1.25)), { width: 1708, height: 960 });
    assert.deepEqual(physicalSize(display('b', 0, 0, 1280, 800, 2)), { width: 2560, height: 1600 });
  });

  test('the same space gives a copy; non-finite points and empty frames are refused', () => {
    const frame: FrameGeometry = { display: display('d', 0, 0, 100, 100), imageWidth: 100, imageHeight: 100 };
    const p: SpacePoint = { space: 'norm1', x: 0.5, y: 0.5 };
    const q = convertPoint(p, 'norm1', frame);
    assert.deepEqual(q, p);
    assert.notEqual(q, p);
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(() => convertPoint({ space: 'screenshot', x: bad, y: 1 }, 'global', frame), badInput);
      assert.throws(() => convertPoint({ space: 'norm1000', x: 1, y: bad }, 'screenshot', frame), badInput);
    }
    assert.throws(() => convertPoint({ space: 'screenshot', x: 1, y: 1 }, 'global', { ...frame, imageWidth: 0 }), badInput);
    assert.throws(() => convertPoint({ space: 'screenshot', x: 1, y: 1 }, 'norm1', { ...frame, imageHeight: -5 }), badInput);
  });
});

// ------------------------------------------------------------------------- displays and safety

describe('displayAt and assertOnScreen', () => {
  test('every point inside a display of a layout finds that display', () => {
    fc.assert(
      fc.property(layoutArb, fc.nat(), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (layout, k, u, v) => {
        const d = layout[k % layout.length]!;
        const p = { x: d.bounds.x + Math.floor(u * d.bounds.width), y: d.bounds.y + Math.floor(v * d.bounds.height) };
        assert.equal(displayAt(p, layout)?.id, d.id);
        assert.equal(assertOnScreen(p, layout).id, d.id);
      }),
      { numRuns: 500 },
    );
  });

  test('a screenshot pixel of any display lands back on that display', () => {
    fc.assert(
      fc.property(layoutArb, fc.nat(), fc.double({ min: 0.1, max: 2, noNaN: true }), fc.nat(), fc.nat(), (layout, k, f, i, j) => {
        const d = layout[k % layout.length]!;
        const phys = physicalSize(d);
        const frame: FrameGeometry = { display: d, imageWidth: Math.max(1, Math.round(phys.width * f)), imageHeight: Math.max(1, Math.round(phys.height * f)) };
        const pixel = { x: (i % frame.imageWidth) + 0.5, y: (j % frame.imageHeight) + 0.5 };
        const g = screenshotToGlobalChecked(pixel, frame, layout);
        assert.equal(displayAt(g, layout)?.id, d.id);
      }),
      { numRuns: 500 },
    );
  });

  test('points in the gaps between displays, above or below them, or past the last are refused', () => {
    fc.assert(
      fc.property(layoutArb, fc.nat(), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (layout, k, u) => {
        const i = k % layout.length;
        const d = layout[i]!;
        const next = layout[i + 1];
        const b = d.bounds;
        const y = b.y + Math.floor(u * b.height);
        // just past the right edge, which is exclusive: refused unless the next display is flush and spans this y
        const edge = { x: b.x + b.width, y };
        const nextHolds = next !== undefined && next.bounds.x === edge.x && y >= next.bounds.y && y < next.bounds.y + next.bounds.height;
        if (nextHolds) assert.equal(assertOnScreen(edge, layout).id, next.id);
        else assert.throws(() => assertOnScreen(edge, layout), outOfScreen);
        // inside a gap
        if (next !== undefined && next.bounds.x > b.x + b.width) {
          const gap = { x: b.x + b.width + Math.floor(u * (next.bounds.x - b.x - b.width)), y };
          assert.equal(displayAt(gap, layout), undefined);
          assert.throws(() => assertOnScreen(gap, layout), outOfScreen);
        }
        // the row just below the bottom edge (exclusive) and just above the top one, in x ranges only this display covers
        const x = b.x + Math.floor(u * b.width);
        assert.throws(() => assertOnScreen({ x, y: b.y + b.height }, layout), outOfScreen);
        assert.throws(() => assertOnScreen({ x, y: b.y - 0.5 }, layout), outOfScreen);
        // the left of the first display
        const first = layout[0]!.bounds;
        assert.throws(() => assertOnScreen({ x: first.x - 1, y: first.y }, layout), outOfScreen);
      }),
      { numRuns: 500 },
    );
  });

  test('NaN and infinities are refused, even with a display everywhere', () => {
    const huge = [display('all', -1e9, -1e9, 2e9, 2e9)];
    for (const p of [
      { x: NaN, y: 0 },
      { x: 0, y: NaN },
      { x: Infinity, y: 0 },
      { x: 0, y: -Infinity },
    ]) {
      assert.throws(() => assertOnScreen(p, huge), outOfScreen);
      assert.equal(displayAt(p, huge), undefined);
    }
  });

  test('a refusal says where and lists the displays; no displays at all is said too', () => {
    const layout = [display('left', -1920, 0, 1920, 1080, 1, false), display('main', 0, 0, 2560, 1440, 1.5, true)];
    assert.throws(
      () => assertOnScreen({ x: 100, y: 1500 }, layout),
      (e: unknown) =>
        outOfScreen(e) &&
        e.message === 'Refusing to act at (100, 1500): it is outside every display (left: 1920x1080 at (-1920, 0); main: 2560x1440 at (0, 0))' &&
        JSON.stringify(e.details) === JSON.stringify({ point: { x: 100, y: 1500 } }),
    );
    assert.throws(() => assertOnScreen({ x: 0, y: 0 }, []), (e: unknown) => outOfScreen(e) && /no displays/.test(e.message));
  });

  test('known layouts: a second display left at x=-1920, one above at y=-1080, the primary at the origin', () => {
    const layout = [display('main', 0, 0, 1920, 1080, 1, true), display('left', -1920, 0, 1920, 1080, 1.25), display('above', 0, -1080, 1920, 1080, 2)];
    const at = (x: number, y: number) => displayAt({ x, y }, layout)?.id;
    assert.equal(at(0, 0), 'main');
    assert.equal(at(1919, 1079), 'main');
    assert.equal(at(1920, 500), undefined, 'the right edge is exclusive');
    assert.equal(at(500, 1080), undefined, 'the bottom edge is exclusive');
    assert.equal(at(-1, 0), 'left');
    assert.equal(at(-1920, 1079), 'left');
    assert.equal(at(-1920.5, 10), undefined);
    assert.equal(at(0, -1), 'above');
    assert.equal(at(1919.9, -1080), 'above');
    assert.equal(at(-1, -1), undefined, 'the corner no display covers');
    // a click on the left display's screenshot (2400x1350 at 1.25) lands there
    const frame: FrameGeometry = { display: layout[1]!, imageWidth: 2400, imageHeight: 1350 };
    assert.deepEqual(screenshotToGlobalChecked({ x: 1200, y: 675 }, frame, layout), { x: -960, y: 540 });
    // and a point past its image is refused, not moved onto the primary
    assert.throws(() => screenshotToGlobalChecked({ x: 1200, y: 1350 }, frame, layout), outOfScreen);
  });
});
