/**
 * The settle rule on synthetic frames, with a fake clock: identical frames settle, a screen that
 * keeps changing does not, a slowly appearing text is waited for, a blinking caret is ignored
 * only after the quiet time, the kill switch stops the wait.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SettleDetector, compareFrames, type SettleClock, type SettleOptions } from '../../main/desktop/settle.ts';
import type { Capture, RawImage, Screen } from '../../common/ports.ts';
import type { Display } from '../../common/coords.ts';
import { isForesightError } from '../../common/errors.ts';

const W = 64;
const H = 32;
const DISPLAY: Display = { id: 'test', bounds: { x: 0, y: 0, width: W, height: H }, scaleFactor: 1, primary: true };

/** A frame with some filled rectangles (x, y, w, h), BGRA. */
function frame(...rects: Array<[number, number, number, number]>): RawImage {
  const data = new Uint8Array(W * H * 4).fill(255);
  for (const [x0, y0, w, h] of rects) {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data.fill(0, (y * W + x) * 4, (y * W + x) * 4 + 3);
  }
  return { width: W, height: H, channels: 4, order: 'bgra', data };
}

class FakeClock implements SettleClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new Error('aborted');
    this.t += Math.max(0, ms);
  }
}

/** A screen whose nth capture is frames(n); each capture takes captureMs of fake time. */
function fakeScreen(clock: FakeClock, frames: (n: number) => RawImage, captureMs = 10): Screen & { captures: number } {
  const s = {
    captures: 0,
    displays: async () => [DISPLAY],
    capture: async (): Promise<Capture> => {
      clock.t += captureMs;
      return { display: DISPLAY, image: frames(s.captures++), capturedAt: clock.t };
    },
  };
  return s;
}

const OPTS: Partial<SettleOptions> = { minWaitMs: 50, intervalMs: 40, stableFrames: 3, timeoutMs: 1500, caret: { maxWidth: 4, maxHeight: 48, quietMs: 300 } };

test('compareFrames: same, small (with its box) and changed', () => {
  const a = frame([10, 5, 8, 8]);
  assert.deepEqual(compareFrames(a, frame([10, 5, 8, 8])), { kind: 'same' });
  assert.deepEqual(compareFrames(a, frame([10, 5, 8, 8], [30, 4, 1, 20]), 4, 48), { kind: 'small', bbox: { x: 30, y: 4, width: 1, height: 20 } });
  assert.deepEqual(compareFrames(a, frame([10, 5, 8, 8], [30, 4, 1, 20])), { kind: 'changed' }, 'no tolerance: any pixel counts');
  assert.deepEqual(compareFrames(a, frame([10, 5, 8, 8], [30, 4, 6, 2]), 4, 48), { kind: 'changed' }, 'wider than a caret');
  assert.deepEqual(compareFrames(a, frame()), { kind: 'changed' });
});

test('a still screen settles after stableFrames identical captures', async () => {
  const clock = new FakeClock();
  const screen = fakeScreen(clock, () => frame([1, 1, 5, 5]));
  const { info } = await new SettleDetector(screen, OPTS, clock).settle();
  assert.equal(info.settled, true);
  assert.equal(info.frames, 3);
});

test('a screen that changes on every capture never settles: settled false at the timeout', async () => {
  const clock = new FakeClock();
  const screen = fakeScreen(clock, (n) => frame([n % W, 0, 10, 10]));
  const { info } = await new SettleDetector(screen, OPTS, clock).settle();
  assert.equal(info.settled, false);
  assert.ok(info.waitedMs >= 1500);
  assert.equal(info.frames, screen.captures);
});

test('text that appears character by character (small changes) is waited for, not ignored', async () => {
  const clock = new FakeClock();
  // one more 3-pixel-wide glyph on each of the first six captures, then still
  const screen = fakeScreen(clock, (n) => frame(...Array.from({ length: Math.min(n, 6) }, (_, i): [number, number, number, number] => [2 + i * 5, 10, 3, 8])));
  const { info, capture } = await new SettleDetector(screen, OPTS, clock).settle();
  assert.equal(info.settled, true);
  assert.deepEqual(compareFrames(capture.image, frame(...Array.from({ length: 6 }, (_, i): [number, number, number, number] => [2 + i * 5, 10, 3, 8]))), { kind: 'same' }, 'the returned capture shows all six');
});

test('a fast blinking caret is ignored once nothing else changed for quietMs; without tolerance it never settles', async () => {
  const blinking = (n: number) => (n % 2 === 0 ? frame([5, 5, 20, 10]) : frame([5, 5, 20, 10], [40, 4, 1, 18]));
  const clock = new FakeClock();
  const tolerant = await new SettleDetector(fakeScreen(clock, blinking), OPTS, clock).settle();
  assert.equal(tolerant.info.settled, true);
  assert.ok(tolerant.info.waitedMs >= 300, 'not before the quiet time');
  const clock2 = new FakeClock();
  const strict = await new SettleDetector(fakeScreen(clock2, blinking), { ...OPTS, caret: false }, clock2).settle();
  assert.equal(strict.info.settled, false);
});

test('an aborted signal stops the wait with STOPPED', async () => {
  const clock = new FakeClock();
  const ac = new AbortController();
  const screen = fakeScreen(clock, (n) => {
    if (n === 2) ac.abort();
    return frame([n, 0, 10, 10]);
  });
  await assert.rejects(new SettleDetector(screen, OPTS).settle({ signal: ac.signal }), (e: unknown) => isForesightError(e, 'STOPPED'));
});

test('settle options are checked', () => {
  const clock = new FakeClock();
  assert.throws(() => new SettleDetector(fakeScreen(clock, () => frame()), { stableFrames: 1 }), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
});
