/**
 * NutScreen on a real X server: the display list and captures per monitor. Xvfb has one
 * output, so the test adds two RandR monitors (left and right halves) the way a two-screen
 * desk would report them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import type { NutScreen } from '../../main/desktop/index.ts';
import type { RawImage } from '../../common/ports.ts';
import { isForesightError } from '../../common/errors.ts';

let desk: XDesktop;
let screen: NutScreen;
let release: () => void;

before(async () => {
  desk = await startXDesktop();
  process.env.DISPLAY = desk.display;
  const { NutScreen, releaseNutX11Connection } = await import('../../main/desktop/index.ts');
  screen = new NutScreen({ displaysTtlMs: 0 });
  release = () => releaseNutX11Connection(desk.display);
  desk.launch('xterm', ['-T', 'content', '-geometry', '120x40+300+100']); // something to see on both halves
  await desk.waitForWindow('content');
});

after(async () => {
  release?.();
  await desk?.stop();
});

/** Columns [x0, x0 + width) of an image, packed. */
function columns(img: RawImage, x0: number, width: number): Buffer {
  const out = Buffer.alloc(width * img.height * 4);
  for (let y = 0; y < img.height; y++) out.set(img.data.subarray((y * img.width + x0) * 4, (y * img.width + x0 + width) * 4), y * width * 4);
  return out;
}

test('one screen: its geometry, scale 1, and a capture of opaque BGRA pixels', async () => {
  const displays = await screen.displays();
  assert.deepEqual(displays, [{ id: 'screen', bounds: { x: 0, y: 0, width: desk.width, height: desk.height }, scaleFactor: 1, primary: true }]);
  const cap = await screen.capture();
  assert.equal(cap.display.id, 'screen');
  assert.deepEqual([cap.image.width, cap.image.height, cap.image.channels, cap.image.order], [desk.width, desk.height, 4, 'bgra']);
  assert.equal(cap.image.data.length, desk.width * desk.height * 4);
  for (let i = 3; i < cap.image.data.length; i += 4 * 997) assert.equal(cap.image.data[i], 255);
});

test('two monitors: each is listed with its geometry and captured on its own', async () => {
  const half = desk.width / 2;
  desk.x('xrandr', ['--setmonitor', 'LEFT', `${half}/100x${desk.height}/100+0+0`, 'none']);
  desk.x('xrandr', ['--setmonitor', 'RIGHT', `${half}/100x${desk.height}/100+${half}+0`, 'none']);
  try {
    const displays = await screen.displays();
    const right = displays.find((d) => d.id === 'RIGHT');
    assert.deepEqual(right?.bounds, { x: half, y: 0, width: half, height: desk.height });
    assert.equal(displays.filter((d) => d.primary).length, 1);
    const whole = await screen.capture('screen');
    const rightCap = await screen.capture('RIGHT');
    assert.deepEqual([rightCap.image.width, rightCap.image.height], [half, desk.height]);
    assert.ok(columns(whole.image, half, half).equals(Buffer.from(rightCap.image.data)), 'RIGHT is the right half of the screen');
    await assert.rejects(screen.capture('HDMI-9'), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /RIGHT/.test(e.message));
  } finally {
    desk.x('xrandr', ['--delmonitor', 'LEFT']);
    desk.x('xrandr', ['--delmonitor', 'RIGHT']);
  }
});

test('a list older than its time to live answers once more while the new one is read, then the new one', async () => {
  const { NutScreen } = await import('../../main/desktop/index.ts');
  const cached = new NutScreen({ displaysTtlMs: 50 });
  assert.equal((await cached.displays()).length, 1);
  const half = desk.width / 2;
  desk.x('xrandr', ['--setmonitor', 'LEFT', `${half}/100x${desk.height}/100+0+0`, 'none']);
  desk.x('xrandr', ['--setmonitor', 'RIGHT', `${half}/100x${desk.height}/100+${half}+0`, 'none']);
  try {
    await new Promise((r) => setTimeout(r, 80));
    assert.equal((await cached.displays()).length, 1, 'the old list, at once');
    let ids: string[] = [];
    for (let i = 0; i < 100 && !ids.includes('RIGHT'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      ids = (await cached.displays()).map((d) => d.id);
    }
    assert.ok(ids.includes('LEFT') && ids.includes('RIGHT'), `then the new one: ${ids.join(', ')}`);
  } finally {
    desk.x('xrandr', ['--delmonitor', 'LEFT']);
    desk.x('xrandr', ['--delmonitor', 'RIGHT']);
  }
});
