/**
 * The settle rules on synthetic frames and damage events, with a fake clock: identical frames
 * (or no drawing) settle, a screen that keeps changing does not, a slowly appearing text is
 * waited for, a blinking caret is ignored only after the quiet time, the kill switch stops the
 * wait; with damage events, a capture older than the last drawing is never the answer, and a
 * change nobody reported switches to pixels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SettleDetector, compareFrames, type SettleClock, type SettleOptions } from '../../main/desktop/settle.ts';
import type { Capture, RawImage, Screen } from '../../common/ports.ts';
import type { Display, Rect } from '../../common/coords.ts';
import type { DamageEvent, DamageSource } from '../../main/desktop/x11-damage.ts';
import { DesktopObserver, encodeObservation } from '../../main/desktop/observe.ts';
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

// ---------------------------------------------------------------- the damage method

/** Damage events on a schedule: each one arrives when the fake clock reaches its time. */
class FakeDamage implements DamageSource {
  alive = true;
  closed = false;
  readonly schedule: DamageEvent[] = [];
  /** Runs at each sync (an event still on its way when the detector asks). */
  onSync: (() => void) | undefined;
  constructor(private readonly clock: FakeClock) {}
  /** An event `dt` ms after the clock's current time. */
  at(dt: number, rect: Rect = { x: 0, y: 0, width: 20, height: 10 }): this {
    this.schedule.push({ at: this.clock.t + dt, rect });
    this.schedule.sort((a, b) => a.at - b.at);
    return this;
  }
  private arrived(): DamageEvent[] {
    return this.schedule.filter((e) => e.at <= this.clock.t);
  }
  get count(): number {
    return this.arrived().length;
  }
  /** Events before this time have been dropped (a source keeps only a few seconds). */
  forgetBefore = -Infinity;
  eventsSince(since: number): readonly DamageEvent[] {
    return this.arrived().filter((e) => e.at >= since && e.at >= this.forgetBefore);
  }
  async sync(): Promise<void> {
    const f = this.onSync;
    this.onSync = undefined;
    f?.();
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

// captureAfterMs 30: the timings below were written for a capture 30 ms into the quiet.
const DOPTS: Partial<SettleOptions> = { ...OPTS, minWaitMs: 100, quietMs: 120, captureAfterMs: 30 };

test('damage: settled quietMs after the last drawing, from one capture taken in the quiet', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1).at(20);
  const screen = fakeScreen(clock, () => frame([1, 1, 5, 5]));
  const detector = new SettleDetector(screen, DOPTS, clock, damage);
  assert.equal(detector.method, 'damage');
  const { info } = await detector.settle();
  assert.equal(info.settled, true);
  assert.equal(info.method, 'damage');
  assert.equal(info.frames, 1);
  assert.ok(info.waitedMs >= 140 && info.waitedMs <= 146, `settled at ${info.waitedMs} ms (last drawing at 20 ms)`);
});

test('damage: drawing after the capture began makes it stale; the answer is a later capture', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1).at(45);
  // the first capture (taken ~31 ms in) shows the old screen; what was drawn at 45 ms shows later
  const screen = fakeScreen(clock, (n) => (n === 0 ? frame() : frame([8, 8, 12, 12])));
  const { capture, info } = await new SettleDetector(screen, DOPTS, clock, damage).settle();
  assert.equal(info.settled, true);
  assert.equal(info.frames, 2);
  assert.deepEqual(compareFrames(capture.image, frame([8, 8, 12, 12])), { kind: 'same' });
});

test('damage: drawing reported during the final round trip is waited for', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1);
  damage.onSync = () => damage.at(0); // it happened just before the detector asked
  const screen = fakeScreen(clock, (n) => (n === 0 ? frame() : frame([3, 3, 9, 9])));
  const { capture, info } = await new SettleDetector(screen, DOPTS, clock, damage).settle();
  assert.equal(info.settled, true);
  assert.ok(info.waitedMs >= 240, `waited ${info.waitedMs} ms: a further quiet time after the late drawing`);
  assert.deepEqual(compareFrames(capture.image, frame([3, 3, 9, 9])), { kind: 'same' }, 'not the capture from before that drawing');
});

test('damage: without any drawing the floor minWaitMs still holds', async () => {
  const clock = new FakeClock();
  const { info } = await new SettleDetector(fakeScreen(clock, () => frame()), { ...DOPTS, minWaitMs: 250 }, clock, new FakeDamage(clock)).settle();
  assert.equal(info.settled, true);
  assert.ok(info.waitedMs >= 250, `${info.waitedMs} ms`);
});

test('damage: a screen that keeps drawing never settles: settled false at the timeout, with a fresh capture', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock);
  for (let t = 0; t < 3000; t += 50) damage.at(t);
  const screen = fakeScreen(clock, (n) => frame([n % W, 0, 10, 10]));
  const { info, capture } = await new SettleDetector(screen, DOPTS, clock, damage).settle();
  assert.equal(info.settled, false);
  assert.ok(info.waitedMs >= 1500);
  assert.deepEqual(compareFrames(capture.image, frame([(screen.captures - 1) % W, 0, 10, 10])), { kind: 'same' }, 'the latest capture');
});

test('damage: a blinking caret counts only until nothing else drew for caret.quietMs', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1);
  for (let t = 60; t < 1400; t += 90) damage.at(t, { x: 40, y: 4, width: 2, height: 18 });
  const { info } = await new SettleDetector(fakeScreen(clock, () => frame()), DOPTS, clock, damage).settle();
  assert.equal(info.settled, true);
  // the last caret change inside the 300 ms quiet time is at 240 ms: settled 120 ms after it
  assert.ok(info.waitedMs >= 360 && info.waitedMs < 420, `${info.waitedMs} ms`);
  const clock2 = new FakeClock();
  const damage2 = new FakeDamage(clock2).at(1);
  for (let t = 60; t < 3000; t += 90) damage2.at(t, { x: 40, y: 4, width: 2, height: 18 });
  const strict = await new SettleDetector(fakeScreen(clock2, () => frame()), { ...DOPTS, caret: false }, clock2, damage2).settle();
  assert.equal(strict.info.settled, false, 'without caret tolerance every drawing counts');
});

test('damage: drawing on another display does not hold the wait', async () => {
  const clock = new FakeClock();
  const other: Display = { id: 'right', bounds: { x: W, y: 0, width: W, height: H }, scaleFactor: 1, primary: false };
  const damage = new FakeDamage(clock);
  for (let t = 0; t < 3000; t += 20) damage.at(t, { x: W + 5, y: 5, width: 30, height: 20 });
  const screen = fakeScreen(clock, () => frame());
  screen.displays = async () => [DISPLAY, other];
  const { info } = await new SettleDetector(screen, DOPTS, clock, damage).settle();
  assert.equal(info.settled, true);
  assert.ok(info.waitedMs < 130, `${info.waitedMs} ms`);
});

test('damage: a frame that changed while no damage was reported switches to pixels for good', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock);
  let look = frame();
  const screen = fakeScreen(clock, () => look);
  const detector = new SettleDetector(screen, DOPTS, clock, damage);
  assert.equal((await detector.settle()).info.method, 'damage');
  look = frame([10, 10, 20, 10]); // drawn, but the X server said nothing (a compositor, say)
  const second = await detector.settle();
  assert.equal(second.info.method, 'pixels');
  assert.equal(second.info.settled, true);
  assert.deepEqual(compareFrames(second.capture.image, look), { kind: 'same' });
  assert.equal(detector.method, 'pixels');
  assert.match(detector.pixelsReason ?? '', /no drawing/);
  assert.equal(damage.closed, true);
});

test('damage: a change that was reported keeps the damage method', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock);
  let look = frame();
  const detector = new SettleDetector(fakeScreen(clock, () => look), DOPTS, clock, damage);
  await detector.settle();
  look = frame([10, 10, 20, 10]);
  damage.at(1);
  assert.equal((await detector.settle()).info.method, 'damage');
  assert.equal(detector.method, 'damage');
});

test('damage: a source that dies mid-wait hands over to pixels', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1);
  const screen = fakeScreen(clock, (n) => {
    damage.alive = false;
    return n >= 0 ? frame() : frame([1, 1, 1, 1]);
  });
  const detector = new SettleDetector(screen, DOPTS, clock, damage);
  const { info } = await detector.settle();
  assert.equal(info.method, 'pixels');
  assert.equal(info.settled, true);
  assert.match(detector.pixelsReason ?? '', /closed/);
});

test('damage: an aborted signal stops the wait with STOPPED', async () => {
  const clock = new FakeClock();
  const ac = new AbortController();
  const damage = new FakeDamage(clock);
  for (let t = 0; t < 3000; t += 50) damage.at(t);
  const screen = fakeScreen(clock, () => {
    ac.abort();
    return frame();
  });
  await assert.rejects(new SettleDetector(screen, DOPTS, clock, damage).settle({ signal: ac.signal }), (e: unknown) => isForesightError(e, 'STOPPED'));
});

test('the observer encodes during the quiet time, and only the capture the detector answers with', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1).at(45);
  const screen = fakeScreen(clock, (n) => (n === 0 ? frame() : frame([8, 8, 12, 12])));
  const observer = new DesktopObserver(screen, new SettleDetector(screen, DOPTS, clock, damage));
  const { observation, settle } = await observer.observe(true, new AbortController().signal);
  assert.equal(settle?.frames, 2, 'the first capture went stale');
  const expected = await encodeObservation({ display: DISPLAY, image: frame([8, 8, 12, 12]), capturedAt: 0 });
  assert.equal(observation.frameId, expected.frameId, 'the observation is the later capture');
});

// ---------------------------------------------------------------- speculation and the stale check

test('speculation: each early capture is offered with a signal that aborts once something draws after it; the answer\'s never aborts', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1).at(45);
  const screen = fakeScreen(clock, (n) => (n === 0 ? frame() : frame([8, 8, 12, 12])));
  const offered: Array<{ capture: Capture; invalidated: AbortSignal; abortedAt?: number }> = [];
  const { capture } = await new SettleDetector(screen, DOPTS, clock, damage).settle({
    onCapture: (c, invalidated) => {
      const o: (typeof offered)[number] = { capture: c, invalidated };
      invalidated.addEventListener('abort', () => (o.abortedAt = clock.t));
      offered.push(o);
    },
  });
  assert.equal(offered.length, 2);
  assert.equal(offered[0]!.invalidated.aborted, true, 'the capture drawn over at 45 ms was invalidated');
  assert.ok(offered[0]!.abortedAt! - offered[0]!.capture.capturedAt <= 30, 'within a poll of the drawing, before the settle');
  assert.equal(offered[1]!.capture, capture, 'the second capture is the answer');
  assert.equal(offered[1]!.invalidated.aborted, false);
});

test('speculation: the capture is taken captureAfterMs into the quiet (a setting)', async () => {
  const clock = new FakeClock();
  const start = clock.t;
  const damage = new FakeDamage(clock).at(1);
  const screen = fakeScreen(clock, () => frame());
  let at = 0;
  await new SettleDetector(screen, { ...DOPTS, captureAfterMs: 10 }, clock, damage).settle({ onCapture: (c) => (at = c.capturedAt) });
  assert.ok(at - start >= 11 && at - start <= 11 + 5 + 10, `captured ${at - start} ms in (last drawing at 1 ms, +10 ms quiet, +10 ms capture)`);
});

test('speculation: the capture waits for the action\'s first drawing (a click drawn 50 ms later), or firstDrawMs when nothing draws', async () => {
  for (const [drawAt, expected] of [[50, 50 + 15], [undefined, 80]] as const) {
    const clock = new FakeClock();
    const start = clock.t;
    const damage = new FakeDamage(clock);
    if (drawAt !== undefined) damage.at(drawAt);
    const screen = fakeScreen(clock, () => frame());
    const taken: number[] = [];
    await new SettleDetector(screen, { ...DOPTS, captureAfterMs: 15, firstDrawMs: 80 }, clock, damage).settle({ onCapture: (c) => taken.push(c.capturedAt - start) });
    assert.equal(taken.length, 1, `one capture, not one before the drawing (${taken.join(', ')})`);
    assert.ok(taken[0]! >= expected && taken[0]! <= expected + 5 + 10, `captured ${taken[0]} ms in, expected ~${expected}`);
  }
  // Typed text is drawn before the action has even ended (~1 ms after the key): that drawing counts.
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(-3);
  const started = clock.t - 8;
  const taken: number[] = [];
  const start = clock.t;
  await new SettleDetector(fakeScreen(clock, () => frame()), { ...DOPTS, captureAfterMs: 15, firstDrawMs: 80 }, clock, damage).settle({ actionStartedAt: started, onCapture: (c) => taken.push(c.capturedAt - start) });
  assert.ok(taken.length === 1 && taken[0]! >= 15 && taken[0]! <= 15 + 5 + 10, `captured ${taken.join(', ')} ms in: the drawing before the action ended was seen`);
});

test('speculation: an animation at 60 Hz costs one wasted capture, not one per frame (the quiet before a capture doubles each time one is drawn over)', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock);
  for (let t = 1; t <= 200; t += 17) damage.at(t, { x: 0, y: 0, width: 200, height: 40 });
  const screen = fakeScreen(clock, () => frame());
  let offered = 0;
  let wasted = 0;
  const { info } = await new SettleDetector(screen, { ...DOPTS, captureAfterMs: 15, firstDrawMs: 80 }, clock, damage).settle({
    onCapture: (_c, invalidated) => {
      offered++;
      invalidated.addEventListener('abort', () => wasted++);
    },
  });
  assert.equal(info.settled, true);
  assert.equal(wasted, 1, `${offered} captures offered, ${wasted} drawn over`);
  assert.equal(offered, 2);
});

test('stale check (damage): nothing drew after the frame: unchanged; a window that appeared: changed, saying where and when', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1);
  let shown = frame();
  const screen = fakeScreen(clock, () => shown);
  const detector = new SettleDetector(screen, DOPTS, clock, damage);
  const { capture } = await detector.settle();
  clock.t += 400;
  assert.deepEqual(await detector.changesSince(capture.image, capture.capturedAt), { changed: false, method: 'damage' });
  damage.at(0, { x: 10, y: 4, width: 30, height: 20 });
  shown = frame([10, 4, 30, 20]);
  clock.t += 200;
  const change = await detector.changesSince(capture.image, capture.capturedAt);
  assert.equal(change.changed, true);
  assert.match(change.changed ? change.what : '', /^1 drawing over 30x20 at \(10, 4\), from \d+ ms after the frame was captured, for 0 ms$/);
});

test('stale check (damage): a caret-sized drawing is ignored; a repaint that leaves the picture as it was (a whole entry redrawn on a caret blink) is not stale', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1);
  let shown = frame([20, 10, 20, 8]);
  const screen = fakeScreen(clock, () => shown);
  const detector = new SettleDetector(screen, DOPTS, clock, damage);
  const { capture } = await detector.settle();
  damage.at(100, { x: 30, y: 10, width: 1, height: 8 }).at(300, { x: 0, y: 8, width: 64, height: 12 });
  shown = frame([20, 10, 20, 8], [30, 10, 1, 8]); // only the caret column differs
  clock.t += 600;
  assert.deepEqual(await detector.changesSince(capture.image, capture.capturedAt), { changed: false, method: 'damage' });
  assert.equal(screen.captures, 2, 'the repaint was checked with one capture');
});

test('stale check (damage): a screen that keeps drawing is changed once timeoutMs passed without quiet', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1);
  const screen = fakeScreen(clock, () => frame());
  const detector = new SettleDetector(screen, { ...DOPTS, timeoutMs: 600 }, clock, damage);
  const { capture } = await detector.settle();
  for (let t = 10; t < 3000; t += 40) damage.at(t);
  clock.t += 200; // the model thinks while it spins
  const t0 = clock.t;
  const change = await detector.changesSince(capture.image, capture.capturedAt);
  assert.equal(change.changed, true);
  assert.match(change.changed ? change.what : '', /and still drawing$/);
  assert.ok(clock.t - t0 >= 600 && clock.t - t0 <= 620, `gave up after ${clock.t - t0} ms`);
});

test('stale check (pixels): the frame just before acting is compared over a downscaled copy; a caret is not a change', async () => {
  const clock = new FakeClock();
  let shown = frame([4, 4, 10, 10]);
  const screen = fakeScreen(clock, () => shown);
  const detector = new SettleDetector(screen, OPTS, clock);
  const { capture } = await detector.settle();
  assert.deepEqual(await detector.changesSince(capture.image, capture.capturedAt), { changed: false, method: 'pixels' });
  shown = frame([4, 4, 10, 10], [40, 2, 1, 16]);
  assert.deepEqual(await detector.changesSince(capture.image, capture.capturedAt), { changed: false, method: 'pixels' });
  shown = frame([4, 4, 10, 10], [30, 10, 20, 12]);
  const change = await detector.changesSince(capture.image, capture.capturedAt);
  assert.equal(change.changed, true);
  assert.match(change.changed ? change.what : '', /^the frame just before acting differs in 20x12 at \(30, 8\)|differs in \d+x\d+ at \(28, 8\)/);
});

test('pixels speculation: a run of equal frames offers its first capture, the answer; a differing capture invalidates it', async () => {
  const clock = new FakeClock();
  const screen = fakeScreen(clock, (n) => (n < 2 ? frame([n * 10, 0, 5, 5]) : frame([20, 0, 5, 5])));
  const offered: Array<{ capture: Capture; invalidated: AbortSignal }> = [];
  const { capture, info } = await new SettleDetector(screen, OPTS, clock).settle({ onCapture: (c, invalidated) => offered.push({ capture: c, invalidated }) });
  assert.equal(info.settled, true);
  assert.deepEqual(offered.map((o) => o.invalidated.aborted), [true, true, false]);
  assert.equal(offered[2]!.capture, capture);
});

test('stale check (damage): drawing older than the events kept is still noticed, through the count and the pixels', async () => {
  const clock = new FakeClock();
  const damage = new FakeDamage(clock).at(1);
  let shown = frame();
  const screen = fakeScreen(clock, () => shown);
  const detector = new SettleDetector(screen, DOPTS, clock, damage);
  const { capture } = await detector.settle();
  damage.at(50, { x: 40, y: 8, width: 20, height: 20 });
  shown = frame([40, 8, 20, 20]);
  clock.t += 8000; // the model and the grounder took long; the source forgot the event
  damage.forgetBefore = clock.t - 5000;
  const change = await detector.changesSince(capture.image, capture.capturedAt);
  assert.equal(change.changed, true);
  assert.match(change.changed ? change.what : '', /^the screen differs from the frame in 20x20 at \(40, 8\) \d+ ms after it was captured/);
  shown = frame();
  assert.deepEqual(await detector.changesSince(capture.image, capture.capturedAt), { changed: false, method: 'damage' }, 'drawn and undrawn: the frame holds');
});
