/**
 * The settle detector on a real X desktop: a still screen (with Mousepad's blinking caret)
 * settles; a window that keeps changing never does (settled: false at the timeout); after
 * opening a menu, the capture it returns shows the menu fully drawn, with X damage events (the
 * default on X11) and with pixel polling. Also what a settled
 * frame becomes as an observation (PNG, sha256 frame id).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { freshHomeEnv, startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import type { Desktop } from '../../main/desktop/index.ts';
import { SettleDetector } from '../../main/desktop/settle.ts';
import type { Rect } from '../../common/coords.ts';
import type { RawImage } from '../../common/ports.ts';

let desk: XDesktop;
let desktop: Desktop;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  desk = await startXDesktop();
  process.env.DISPLAY = desk.display;
  const { createDesktop } = await import('../../main/desktop/index.ts');
  desktop = await createDesktop();
});

after(async () => {
  await desktop?.close();
  await desk?.stop();
});


function crop(img: RawImage, r: Rect): Buffer {
  const bpp = img.channels;
  const out = Buffer.alloc(r.width * r.height * bpp);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.y + y) * img.width + r.x) * bpp;
    out.set(img.data.subarray(from, from + r.width * bpp), y * r.width * bpp);
  }
  return out;
}

function visibleWindows(cls: string): string[] {
  try {
    return desk.x('xdotool', ['search', '--onlyvisible', '--class', cls]).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function geometry(id: string): Rect {
  const out = desk.x('xdotool', ['getwindowgeometry', '--shell', id]);
  const v = (k: string) => Number(new RegExp(`^${k}=(-?\\d+)$`, 'm').exec(out)?.[1]);
  return { x: v('X'), y: v('Y'), width: v('WIDTH'), height: v('HEIGHT') };
}

test('a continuously changing window never settles: settled is false at the timeout', async () => {
  const clock = desk.launch('xterm', ['-T', 'clock', '-geometry', '60x20+0+0', '-e', 'sh', '-c', 'while true; do date +%N; sleep 0.05; done']);
  try {
    await desk.waitForWindow('clock');
    const { capture, info } = await desktop.settleDetector.settle();
    assert.equal(info.settled, false);
    assert.equal(info.method, 'damage', 'Xvfb reports damage: the detector listens to it');
    assert.ok(info.waitedMs >= desktop.settleDetector.options.timeoutMs);
    assert.equal(capture.image.width, desk.width);
  } finally {
    clock.kill();
  }
});

test('a still screen with a blinking caret settles; the observation is a PNG named by its sha256', async (t) => {
  desk.launch('mousepad', [], freshHomeEnv());
  await desk.waitForWindow('Mousepad');
  await sleep(1000);
  const { info } = await desktop.settleDetector.settle();
  t.diagnostic(`still screen: settled after ${info.waitedMs} ms, ${info.frames} frames`);
  assert.equal(info.settled, true);

  const { observation, settle } = await desktop.observer.observe(true, new AbortController().signal);
  assert.equal(settle?.settled, true);
  assert.equal(observation.frameId, createHash('sha256').update(observation.png).digest('hex'));
  const meta = await sharp(observation.png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, desk.width);
  assert.equal(meta.height, desk.height);
  assert.equal(observation.geometry.imageWidth, desk.width);
  assert.equal(observation.geometry.display.bounds.width, desk.width);
  // the PNG holds the same pixels as the raw capture (BGRA → RGB)
  const rgb = await sharp(observation.png).raw().toBuffer();
  const i = (400 * desk.width + 640) * 4;
  assert.deepEqual([...rgb.subarray((400 * desk.width + 640) * 3, (400 * desk.width + 640) * 3 + 3)], [observation.raw.data[i + 2], observation.raw.data[i + 1], observation.raw.data[i]]);
});

for (const method of ['damage', 'pixels'] as const) {
test(`after opening a menu, the settled capture shows the menu fully drawn (${method})`, async () => {
  const [main] = visibleWindows('mousepad');
  assert.ok(main, 'Mousepad is open');
  const detector = method === 'damage' ? desktop.settleDetector : new SettleDetector(desktop.screen, {}, undefined, undefined, 'this test polls pixels');
  await desktop.input.move({ x: desk.width - 1, y: desk.height - 1 }); // no hover highlight in the menu
  const before = await detector.settle();
  const windowsBefore = new Set(visibleWindows('mousepad'));

  await desktop.input.hotkey(['f10']);
  const opened = await detector.settle({ since: Date.now() });
  assert.equal(opened.info.method, method);

  const menu = visibleWindows('mousepad').find((w) => !windowsBefore.has(w));
  assert.ok(menu, 'a menu window opened');
  const r = geometry(menu);
  assert.equal(opened.info.settled, true);
  assert.notDeepEqual(crop(opened.capture.image, r), crop(before.capture.image, r), 'the capture shows something new where the menu is');
  await sleep(700);
  const later = await desktop.screen.capture();
  assert.deepEqual(crop(opened.capture.image, r), crop(later.image, r), 'the menu was already complete in the settled capture');
  await desktop.input.hotkey(['escape']);
  await sleep(300);
});
}
