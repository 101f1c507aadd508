/**
 * X damage events from a real X server (Xvfb): what an app draws arrives as rectangles where it
 * drew; a display without a server is a clear DISPLAY_UNAVAILABLE; an X server that goes away
 * ends the source without taking the process with it; createDesktop listens on X11 and polls
 * pixels when asked to; under a compositing manager the drawing is still reported.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { X11Damage } from '../../main/desktop/x11-damage.ts';
import { isForesightError } from '../../common/errors.ts';
import type { Rect } from '../../common/coords.ts';

let desk: XDesktop;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  desk = await startXDesktop();
  process.env.DISPLAY = desk.display;
});

after(async () => {
  await desk?.stop();
});

/** Where a window is on the screen (xdotool's position is off by the decorations). */
function geometry(id: string): Rect {
  const out = desk.x('xwininfo', ['-id', id]);
  const v = (k: string) => Number(new RegExp(`${k}:\\s+(-?\\d+)`).exec(out)?.[1]);
  return { x: v('Absolute upper-left X'), y: v('Absolute upper-left Y'), width: v('Width'), height: v('Height') };
}

const inside = (r: Rect, w: Rect) => r.x >= w.x && r.y >= w.y && r.x + r.width <= w.x + w.width && r.y + r.height <= w.y + w.height;

test('typing into xterm arrives as damage inside its window, and nothing arrives while it is still', async () => {
  const term = desk.launch('xterm', ['-T', 'damage-target', '-geometry', '60x10+100+120']);
  const damage = await X11Damage.open(desk.display);
  try {
    const id = await desk.waitForWindow('damage-target');
    await desk.focusWindow(id);
    await sleep(800);
    const win = geometry(id);
    await damage.sync();
    const quietFrom = Date.now();
    await sleep(300);
    await damage.sync();
    const idle = damage.eventsSince(quietFrom).filter((e) => !(e.rect.width <= 4 && e.rect.height <= 48));
    assert.deepEqual(idle, [], 'a still xterm draws nothing (at most its caret)');

    const count = damage.count;
    const typedAt = Date.now();
    desk.x('xdotool', ['type', '--window', id, 'echo damage']);
    await damage.sync();
    await sleep(100);
    await damage.sync();
    const seen = damage.eventsSince(typedAt);
    assert.ok(seen.length > 0 && damage.count > count, 'the typed text was reported');
    for (const e of seen) assert.ok(inside(e.rect, win), `damage ${JSON.stringify(e.rect)} lies in the xterm window ${JSON.stringify(win)}`);
    assert.ok(damage.alive);
  } finally {
    await damage.close();
    term.kill();
  }
  assert.equal(damage.alive, false, 'closed');
});

test('a display with no X server is DISPLAY_UNAVAILABLE, soon', async () => {
  const t0 = Date.now();
  await assert.rejects(X11Damage.open(':399', { timeoutMs: 2000 }), (e: unknown) => isForesightError(e, 'DISPLAY_UNAVAILABLE') && /:399/.test((e as Error).message));
  assert.ok(Date.now() - t0 < 2500);
});

test('an X server that goes away ends the source; the process carries on', async () => {
  const other = await startXDesktop({ windowManager: false });
  const damage = await X11Damage.open(other.display);
  assert.equal(damage.alive, true);
  await other.stop();
  for (let i = 0; i < 50 && damage.alive; i++) await sleep(50);
  assert.equal(damage.alive, false);
  await damage.sync(); // resolves at once on a dead source
  await damage.close();
});

test('createDesktop listens to damage on X11; settleMethod pixels polls, and says why', async () => {
  const { createDesktop } = await import('../../main/desktop/index.ts');
  const listening = await createDesktop();
  try {
    assert.equal(listening.settleDetector.method, 'damage');
    const { info } = await listening.settleDetector.settle();
    assert.equal(info.method, 'damage');
    assert.equal(info.settled, true);
  } finally {
    await listening.close();
  }
  const polling = await createDesktop({ settleMethod: 'pixels' });
  try {
    assert.equal(polling.settleDetector.method, 'pixels');
    assert.match(polling.settleDetector.describe(), /pixels.*asked for/);
    assert.equal((await polling.settleDetector.settle()).info.method, 'pixels');
  } finally {
    await polling.close();
  }
});

test('under a compositing manager (xcompmgr) damage still shows the drawing; the settled frame is complete', async () => {
  const compositor = desk.launch('xcompmgr', ['-c']);
  const term = desk.launch('xterm', ['-T', 'composited', '-geometry', '60x10+200+200']);
  const { createDesktop } = await import('../../main/desktop/index.ts');
  const desktop = await createDesktop();
  try {
    const id = await desk.waitForWindow('composited');
    await desk.focusWindow(id);
    const win = geometry(id);
    const signal = new AbortController().signal;
    const before = await desktop.observer.observe(true, signal);
    await desktop.input.type('echo composited');
    const after = await desktop.observer.observe(true, signal);
    assert.equal(after.settle?.method, 'damage');
    assert.equal(after.settle?.settled, true);
    assert.equal(desktop.settleDetector.method, 'damage', 'no switch to pixels: the drawing was reported');
    const crop = (raw: typeof before.observation.raw) =>
      Buffer.concat(Array.from({ length: win.height }, (_, y) => Buffer.from(raw.data.subarray(((win.y + y) * raw.width + win.x) * 4, ((win.y + y) * raw.width + win.x + win.width) * 4))));
    assert.notDeepEqual(crop(after.observation.raw), crop(before.observation.raw), 'the typed text is in the observation');
    await sleep(500);
    const later = await desktop.screen.capture();
    assert.deepEqual(crop(later.image), crop(after.observation.raw), 'and nothing of it was still to come');
  } finally {
    await desktop.close();
    term.kill();
    compositor.kill();
  }
});
