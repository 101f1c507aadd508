/**
 * The desktop adapters' logic that needs no X server: parsing of xrandr / xmodmap output,
 * how text is split for typing, PNG encoding, the kill switch's trigger path, and the refusals
 * (off-screen points, no display, missing tools) that must happen before any native call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { parseXrandrMonitors, probeX11, utf8Env } from '../../main/desktop/x11.ts';
import { XdotoolTyper, parseXmodmapKeymap, splitForTyping, unicodeKeysymName, type TextTyper } from '../../main/desktop/text-typer.ts';
import { encodeObservation } from '../../main/desktop/observe.ts';
import { KillSwitch } from '../../main/desktop/kill-switch.ts';
import { NutInput } from '../../main/desktop/nut-input.ts';
import { NutScreen } from '../../main/desktop/nut-screen.ts';
import { isForesightError } from '../../common/errors.ts';
import type { Display } from '../../common/coords.ts';

test('parseXrandrMonitors reads geometry, primary flag and names', () => {
  const out = `Monitors: 3
 0: +*DP-1 2560/597x1440/336+0+0  DP-1
 1: +HDMI-1 1920/527x1080/296+2560+180  HDMI-1
 2: +eDP-1 1280/290x800/180-1280+0  eDP-1
`;
  assert.deepEqual(parseXrandrMonitors(out), [
    { id: 'DP-1', bounds: { x: 0, y: 0, width: 2560, height: 1440 }, scaleFactor: 1, primary: true },
    { id: 'HDMI-1', bounds: { x: 2560, y: 180, width: 1920, height: 1080 }, scaleFactor: 1, primary: false },
    { id: 'eDP-1', bounds: { x: -1280, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: false },
  ]);
  const xvfb = parseXrandrMonitors('Monitors: 1\n 0: +screen 1280/339x800/212+0+0  screen\n');
  assert.equal(xvfb[0]?.primary, true, 'without a * the monitor at the origin is primary');
  assert.deepEqual(parseXrandrMonitors('Monitors: 0\n'), []);
});

test('parseXmodmapKeymap finds the ASCII the keymap types and the empty keycodes', () => {
  const map = parseXmodmapKeymap(`keycode   8 =
keycode  10 = 1 exclam 1 exclam
keycode  38 = a A a A
keycode  48 = apostrophe quotedbl apostrophe quotedbl
keycode  59 = comma less comma less
keycode  93 =
keycode  94 = less greater less greater bar brokenbar bar
keycode 132 = udiaeresis udiaeresis
keycode 200 = NoSymbol NoSymbol
`);
  for (const c of ['1', '!', 'a', 'A', "'", '"', ',', '<', '>']) assert.ok(map.present.has(c), c);
  assert.ok(!map.present.has('|'), 'level 3 (AltGr) does not count');
  assert.deepEqual(map.empty, [8, 93, 200]);
  assert.equal(map.firstSym.get(132), 'udiaeresis');
  assert.equal(unicodeKeysymName('ü'), 'U00FC');
  assert.equal(unicodeKeysymName('你'), 'U4F60');
  assert.equal(unicodeKeysymName('😀'), 'U1F600');
});

test('splitForTyping: runs of characters by code point; newlines become Enter, tabs Tab', () => {
  assert.deepEqual(splitForTyping('ab\r\nc\td😀\n'), [
    { kind: 'text', chars: ['a', 'b'] },
    { kind: 'key', key: 'enter' },
    { kind: 'text', chars: ['c'] },
    { kind: 'key', key: 'tab' },
    { kind: 'text', chars: ['d', '😀'] },
    { kind: 'key', key: 'enter' },
  ]);
  assert.deepEqual(splitForTyping(''), []);
  assert.deepEqual(splitForTyping('\r'), [{ kind: 'key', key: 'enter' }]);
});

test('utf8Env gives X tools a UTF-8 locale when there is none', () => {
  assert.equal(utf8Env({ LANG: 'en_US.UTF-8' }).LC_ALL, undefined);
  assert.equal(utf8Env({ LANG: 'C' }).LC_ALL, 'C.UTF-8');
  assert.equal(utf8Env({}).LC_ALL, 'C.UTF-8');
});

test('encodeObservation: PNG of the pixels (BGRA → RGB), sha256 frame id, geometry', async () => {
  // 2x1: a red and a blue pixel, in BGRA
  const raw = { width: 2, height: 1, channels: 4 as const, order: 'bgra' as const, data: new Uint8Array([0, 0, 255, 255, 255, 0, 0, 255]) };
  const display: Display = { id: 'd', bounds: { x: 0, y: 0, width: 2, height: 1 }, scaleFactor: 1, primary: true };
  const obs = await encodeObservation({ display, image: raw, capturedAt: 42 });
  assert.equal(obs.frameId, createHash('sha256').update(obs.png).digest('hex'));
  assert.deepEqual([...(await sharp(obs.png).raw().toBuffer())], [255, 0, 0, 0, 0, 255]);
  assert.deepEqual(obs.geometry, { display, imageWidth: 2, imageHeight: 1 });
  assert.equal(obs.raw, raw);
  assert.equal(obs.capturedAt, 42);
});

test('kill switch: trigger() aborts the signal once, tells listeners, releases input; rearm() gives a fresh signal', async () => {
  let released = 0;
  const kill = new KillSwitch({ hotkey: 'Ctrl+Alt+K', input: { releaseAll: async () => void released++ } });
  assert.equal(kill.hotkey, 'ctrl+alt+k');
  const heard: string[] = [];
  const off = kill.onTrigger((r) => heard.push(r));
  const signal = kill.signal;
  kill.trigger('SIGINT');
  kill.trigger('again');
  assert.ok(signal.aborted);
  assert.ok(isForesightError(signal.reason, 'STOPPED'));
  assert.equal(kill.reason, 'SIGINT');
  assert.deepEqual(heard, ['SIGINT']);
  await new Promise((r) => setImmediate(r));
  assert.equal(released, 1);
  const late: string[] = [];
  kill.onTrigger((r) => late.push(r));
  assert.deepEqual(late, ['SIGINT'], 'a listener added after the fact hears it at once');
  off();
  kill.rearm();
  assert.ok(!kill.signal.aborted);
  assert.equal(kill.reason, undefined);
});

test('kill switch refuses hotkeys it cannot watch, and a missing display before loading the hook', () => {
  for (const bad of ['ctrl+alt', 'ctrl+a+b', 'ctrl+?', 'ctrl+nokey']) {
    assert.throws(() => new KillSwitch({ hotkey: bad }), (e: unknown) => isForesightError(e, 'BAD_INPUT'), bad);
  }
  const kill = new KillSwitch({ env: {}, platform: 'linux' });
  assert.throws(() => kill.start(), (e: unknown) => isForesightError(e, 'DISPLAY_UNAVAILABLE') && /DISPLAY is not set/.test(e.message));
});

test('no display: DISPLAY_UNAVAILABLE with a clear message, before nut.js is touched', async () => {
  await assert.rejects(new NutScreen({ env: {}, platform: 'linux' }).displays(), (e: unknown) => isForesightError(e, 'DISPLAY_UNAVAILABLE') && /DISPLAY is not set/.test(e.message));
  await assert.rejects(probeX11({ PATH: process.env.PATH, DISPLAY: ':4321' }), (e: unknown) => isForesightError(e, 'DISPLAY_UNAVAILABLE') && /:4321/.test(e.message));
  await assert.rejects(new XdotoolTyper({ env: { PATH: process.env.PATH } }).type('x'), (e: unknown) => isForesightError(e, 'DISPLAY_UNAVAILABLE'));
});

test('missing X tools: TOOL_MISSING says what to install', async () => {
  const env = { PATH: '/nonexistent', DISPLAY: ':4321' };
  await assert.rejects(new XdotoolTyper({ env }).type('plain ascii'), (e: unknown) => isForesightError(e, 'TOOL_MISSING') && /apt-get install xdotool/.test(e.message));
  await assert.rejects(new XdotoolTyper({ env }).type('ü'), (e: unknown) => isForesightError(e, 'TOOL_MISSING') && /apt-get install x11-xserver-utils/.test(e.message));
});

test('NutInput refuses every point outside the displays, before acting', async () => {
  const displays: Display[] = [
    { id: 'left', bounds: { x: -1280, y: 0, width: 1280, height: 1024 }, scaleFactor: 1, primary: false },
    { id: 'main', bounds: { x: 0, y: 0, width: 1920, height: 1080 }, scaleFactor: 1.5, primary: true },
  ];
  const typed: string[] = [];
  const typer: TextTyper = { id: 'fake', type: async (t) => void typed.push(t), close: async () => {} };
  const input = new NutInput({ displays: () => displays, typer, platform: 'linux' });
  const off = [
    { x: 1920, y: 10 },
    { x: -1281, y: 10 },
    { x: -10, y: 1024 },
    { x: 10, y: -1 },
    { x: Number.NaN, y: 5 },
    { x: 5, y: Number.POSITIVE_INFINITY },
  ];
  const refused = (e: unknown) => isForesightError(e, 'OUT_OF_SCREEN') && /outside every display/.test(e.message);
  for (const p of off) {
    await assert.rejects(input.move(p), refused, JSON.stringify(p));
    await assert.rejects(input.click(p, 'left', 1), refused);
    await assert.rejects(input.click(p, 'right', 2), refused);
    await assert.rejects(input.longPress(p, 100), refused);
    await assert.rejects(input.drag({ x: 10, y: 10 }, p), refused, 'a drag that ends off screen');
    await assert.rejects(input.drag(p, { x: 10, y: 10 }), refused);
    await assert.rejects(input.scroll(p, 'down', 3), refused);
  }
  await assert.rejects(input.scroll(undefined, 'down', 0), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
  await assert.rejects(input.hotkey(['ctrl', 'nokey']), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
  assert.deepEqual(typed, []);
});
