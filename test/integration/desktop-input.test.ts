/**
 * NutInput on a real X server, watched by xev: the buttons and wheel directions that arrive,
 * a drag from one point to another, key combinations pressed in order and released in
 * reverse, and points off the screen refused without the pointer moving.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import type { Desktop } from '../../main/desktop/index.ts';
import type { Rect } from '../../common/coords.ts';
import { isForesightError } from '../../common/errors.ts';

let desk: XDesktop;
let desktop: Desktop;
let xev: ChildProcess;
let events = '';
let win: Rect;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  desk = await startXDesktop();
  process.env.DISPLAY = desk.display;
  const { createDesktop } = await import('../../main/desktop/index.ts');
  desktop = await createDesktop();
  xev = spawn('xev', ['-geometry', '400x300+100+100', '-event', 'button', '-event', 'keyboard', '-event', 'mouse'], { env: desk.env, stdio: ['ignore', 'pipe', 'ignore'] });
  xev.stdout!.on('data', (d: Buffer) => (events += d.toString()));
  const id = await desk.waitForWindow('Event Tester');
  const out = desk.x('xdotool', ['getwindowgeometry', '--shell', id]);
  const v = (k: string) => Number(new RegExp(`^${k}=(-?\\d+)$`, 'm').exec(out)?.[1]);
  win = { x: v('X'), y: v('Y'), width: v('WIDTH'), height: v('HEIGHT') };
  await sleep(300);
});

after(async () => {
  xev?.kill();
  await desktop?.close();
  await desk?.stop();
});

/** Waits until xev has reported `count` more events matching re than before `since`. */
async function eventsAfter(since: number, re: RegExp, count: number): Promise<RegExpMatchArray[]> {
  for (let i = 0; ; i++) {
    const found = [...events.slice(since).matchAll(new RegExp(re.source, 'g'))];
    if (found.length >= count || i > 100) return found;
    await sleep(20);
  }
}

function pointer(): { x: number; y: number } {
  const out = desk.x('xdotool', ['getmouselocation', '--shell']);
  return { x: Number(/^X=(\d+)/m.exec(out)?.[1]), y: Number(/^Y=(\d+)/m.exec(out)?.[1]) };
}

const center = () => ({ x: win.x + win.width / 2, y: win.y + win.height / 2 });

test('clicks, double and right clicks and all four wheel directions arrive as the right X buttons', async () => {
  const since = events.length;
  await desktop.input.click(center(), 'left', 1);
  await desktop.input.click(center(), 'right', 1);
  await desktop.input.click(center(), 'left', 2);
  await desktop.input.scroll(center(), 'up', 2);
  await desktop.input.scroll(center(), 'down', 1);
  await desktop.input.scroll(center(), 'left', 1);
  await desktop.input.scroll(undefined, 'right', 1);
  const presses = await eventsAfter(since, /ButtonPress event[^]*?button (\d+)/, 9);
  // X buttons: 1 left, 3 right, 4/5 wheel up/down, 6/7 wheel left/right
  assert.deepEqual(
    presses.map((m) => Number(m[1])),
    [1, 3, 1, 1, 4, 4, 5, 6, 7],
  );
});

test('a point is rounded to a whole pixel; a drag presses at one point and releases at the other', async () => {
  await desktop.input.move({ x: win.x + 10.6, y: win.y + 20.4 });
  assert.deepEqual(pointer(), { x: win.x + 11, y: win.y + 20 });
  const since = events.length;
  const from = { x: win.x + 50, y: win.y + 50 };
  const to = { x: win.x + 250, y: win.y + 150 };
  await desktop.input.drag(from, to);
  const [press] = await eventsAfter(since, /ButtonPress event[^]*?root:\((\d+),(\d+)\)[^]*?button 1/, 1);
  const [release] = await eventsAfter(since, /ButtonRelease event[^]*?root:\((\d+),(\d+)\)[^]*?button 1/, 1);
  const motions = await eventsAfter(since, /MotionNotify event/, 3);
  assert.deepEqual([Number(press?.[1]), Number(press?.[2])], [from.x, from.y]);
  assert.deepEqual([Number(release?.[1]), Number(release?.[2])], [to.x, to.y]);
  assert.ok(motions.length >= 3, 'the pointer moved in steps while the button was down');
});

test('hotkey presses modifiers first and releases them last; a character key is typed exactly', async () => {
  await desktop.input.click(center(), 'left', 1); // xev has the focus
  await sleep(100);
  let since = events.length;
  await desktop.input.hotkey(['Control', 'shift', 'A']);
  const keys = await eventsAfter(since, /(KeyPress|KeyRelease) event[^]*?keysym 0x[0-9a-f]+, (\w+)\)/, 6);
  assert.deepEqual(
    keys.map((m) => `${m[1] === 'KeyPress' ? '+' : '-'}${m[2]}`),
    ['+Control_L', '+Shift_L', '+A', '-A', '-Shift_L', '-Control_L'],
  );
  since = events.length;
  await desktop.input.hotkey(['ü']);
  const typed = await eventsAfter(since, /KeyPress event[^]*?keysym 0x[0-9a-f]+, (\w+)\)/, 1);
  assert.deepEqual(
    typed.map((m) => m[1]),
    ['udiaeresis'],
  );
});

test('points off the screen are refused with OUT_OF_SCREEN and nothing happens', async () => {
  await desktop.input.move({ x: 50, y: 60 });
  const since = events.length;
  const refused = (e: unknown) => isForesightError(e, 'OUT_OF_SCREEN');
  await assert.rejects(desktop.input.click({ x: desk.width, y: 10 }, 'left', 1), refused);
  await assert.rejects(desktop.input.move({ x: -1, y: 10 }), refused);
  await assert.rejects(desktop.input.drag({ x: 10, y: 10 }, { x: 10, y: desk.height + 5 }), refused);
  await assert.rejects(desktop.input.scroll({ x: 10, y: -3 }, 'down', 1), refused);
  await assert.rejects(desktop.input.longPress({ x: 99999, y: 1 }, 50), refused);
  await sleep(200);
  assert.deepEqual(pointer(), { x: 50, y: 60 }, 'the pointer did not move');
  assert.doesNotMatch(events.slice(since), /ButtonPress/);
});
