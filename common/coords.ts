import { ForesightError } from './errors.ts';

/**
 * Coordinate spaces. Every point that crosses a module boundary says which space it is in;
 * conversions happen only here (and benchmark loaders convert into these at load time).
 *
 * - `screenshot`: pixels of one captured image (which may have been resized for a model).
 * - `norm1000`: 0..1000 relative to the image (UI-TARS 1.0, Qwen2.5-VL style grids).
 * - `norm1`:    0..1 relative to the image.
 * - `global`:   logical pixels of the virtual desktop, the space input adapters act in.
 *               A display covers [bounds.x, bounds.x + bounds.width) in it; its physical
 *               pixels are bounds.width * scaleFactor wide. Origins may be negative.
 */
export type CoordSpace = 'screenshot' | 'norm1000' | 'norm1' | 'global';

export interface Point {
  x: number;
  y: number;
}

export interface SpacePoint extends Point {
  space: CoordSpace;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Display {
  id: string;
  /** Position and size in global logical pixels. */
  bounds: Rect;
  /** Physical pixels per logical pixel (1, 1.25, 1.5, 2, …). */
  scaleFactor: number;
  primary: boolean;
}

/** What a screenshot was taken of and how large the image is. */
export interface FrameGeometry {
  display: Display;
  /** Size of the image in pixels (may differ from the display's physical size after resizing). */
  imageWidth: number;
  imageHeight: number;
}

export function physicalSize(display: Display): { width: number; height: number } {
  return {
    width: Math.round(display.bounds.width * display.scaleFactor),
    height: Math.round(display.bounds.height * display.scaleFactor),
  };
}

function toScreenshotSpace(p: SpacePoint, frame: FrameGeometry): Point {
  switch (p.space) {
    case 'screenshot':
      return { x: p.x, y: p.y };
    case 'norm1000':
      return { x: (p.x / 1000) * frame.imageWidth, y: (p.y / 1000) * frame.imageHeight };
    case 'norm1':
      return { x: p.x * frame.imageWidth, y: p.y * frame.imageHeight };
    case 'global': {
      const b = frame.display.bounds;
      return {
        x: ((p.x - b.x) / b.width) * frame.imageWidth,
        y: ((p.y - b.y) / b.height) * frame.imageHeight,
      };
    }
  }
}

function fromScreenshotSpace(p: Point, to: CoordSpace, frame: FrameGeometry): SpacePoint {
  switch (to) {
    case 'screenshot':
      return { space: to, x: p.x, y: p.y };
    case 'norm1000':
      return { space: to, x: (p.x / frame.imageWidth) * 1000, y: (p.y / frame.imageHeight) * 1000 };
    case 'norm1':
      return { space: to, x: p.x / frame.imageWidth, y: p.y / frame.imageHeight };
    case 'global': {
      const b = frame.display.bounds;
      return {
        space: to,
        x: b.x + (p.x / frame.imageWidth) * b.width,
        y: b.y + (p.y / frame.imageHeight) * b.height,
      };
    }
  }
}

/** Converts a point between any two spaces of one frame. */
export function convertPoint(p: SpacePoint, to: CoordSpace, frame: FrameGeometry): SpacePoint {
  if (p.space === to) return { ...p };
  if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
    throw new ForesightError('BAD_INPUT', `Point (${p.x}, ${p.y}) in ${p.space} space is not a finite number`);
  }
  if (frame.imageWidth <= 0 || frame.imageHeight <= 0) {
    throw new ForesightError('BAD_INPUT', `Frame size ${frame.imageWidth}x${frame.imageHeight} is empty`);
  }
  // Between the two image-relative grids, one operation: through pixels, 810 on the 0–1000 grid
  // of a 1280-wide image comes back as 0.8100000000000002 and misses a box edge at 0.81.
  if (p.space === 'norm1000' && to === 'norm1') return { space: to, x: p.x / 1000, y: p.y / 1000 };
  if (p.space === 'norm1' && to === 'norm1000') return { space: to, x: p.x * 1000, y: p.y * 1000 };
  return fromScreenshotSpace(toScreenshotSpace(p, frame), to, frame);
}

function contains(r: Rect, p: Point): boolean {
  return p.x >= r.x && p.x < r.x + r.width && p.y >= r.y && p.y < r.y + r.height;
}

/** The display with this id, or the primary one (the first when none is marked). BAD_INPUT for an unknown id. */
export function pickDisplay(displays: readonly Display[], displayId?: string): Display {
  const d = displayId === undefined ? (displays.find((x) => x.primary) ?? displays[0]) : displays.find((x) => x.id === displayId);
  if (!d) {
    throw new ForesightError(
      'BAD_INPUT',
      `No display ${JSON.stringify(displayId)}; this desktop has: ${displays.map((x) => `${x.id} (${x.bounds.width}x${x.bounds.height} at ${x.bounds.x},${x.bounds.y})`).join(', ') || 'none'}`,
      { displayId: displayId ?? null },
    );
  }
  return d;
}

/** The display whose bounds hold a global point, or undefined when it is outside every display. */
export function displayAt(p: Point, displays: readonly Display[]): Display | undefined {
  return displays.find((d) => contains(d.bounds, p));
}

/**
 * Refuses a global point outside every display: nothing is ever typed or clicked off screen.
 * Returns the display it lands on.
 */
export function assertOnScreen(p: Point, displays: readonly Display[]): Display {
  const d = Number.isFinite(p.x) && Number.isFinite(p.y) ? displayAt(p, displays) : undefined;
  if (!d) {
    const known = displays
      .map((x) => `${x.id}: ${x.bounds.width}x${x.bounds.height} at (${x.bounds.x}, ${x.bounds.y})`)
      .join('; ');
    throw new ForesightError(
      'OUT_OF_SCREEN',
      `Refusing to act at (${p.x}, ${p.y}): it is outside every display (${known || 'no displays'})`,
      { point: { x: p.x, y: p.y } },
    );
  }
  return d;
}

/** The global point of a screenshot point, checked to be on a display. */
export function screenshotToGlobalChecked(p: Point, frame: FrameGeometry, displays: readonly Display[]): Point {
  const g = convertPoint({ space: 'screenshot', ...p }, 'global', frame);
  assertOnScreen(g, displays);
  return { x: g.x, y: g.y };
}
