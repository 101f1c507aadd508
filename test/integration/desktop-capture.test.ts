/**
 * Captures through MIT-SHM (main/desktop/x11-capture.ts) give exactly the pixels libnut's
 * XGetImage gives, of the whole screen and of a region; a region outside the screen is refused
 * without losing the connection; a server without MIT-SHM is refused with the reason, and the
 * desktop then captures through libnut and says why. X tools started through the tool host
 * (main/desktop/tool-host.ts) are children of the host, not of this process, and the host is
 * gone after close().
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { isForesightError } from '../../common/errors.ts';
import { NutScreen, ToolHost, X11ShmCapture, createDesktop, releaseNutX11Connection } from '../../main/desktop/index.ts';
import { compareFrames } from '../../main/desktop/settle.ts';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';

let desk: XDesktop;

before(async () => {
  desk = await startXDesktop({ width: 800, height: 600 });
  process.env.DISPLAY = desk.display;
  desk.launch('xterm', ['-T', 'capture-check', '-geometry', '60x20+40+40', '-bg', '#204080', '-fg', 'yellow', '-e', 'sh', '-c', 'echo Foresight captures; sleep 60']);
  await desk.waitForWindow('capture-check');
  await new Promise((r) => setTimeout(r, 500));
});

after(async () => {
  // libnut keeps its X connection; closed before the server goes (else its exit handler fails the process).
  if (desk) releaseNutX11Connection(desk.display);
  await desk?.stop();
});

void describe('shared-memory captures', () => {
  void it('give the same pixels as libnut, of the screen and of a region; a region outside the screen is refused and the next capture works', async () => {
    const shm = await X11ShmCapture.open(desk.display);
    try {
      const libnut = new NutScreen();
      const whole = await shm.grab({ x: 0, y: 0, width: 800, height: 600 });
      const reference = (await libnut.capture()).image;
      assert.equal(compareFrames(whole, reference).kind, 'same', 'the whole screen as libnut captures it');
      // Not a blank frame: the xterm's blue background is there (BGRA: 0x80 0x40 0x20).
      const at = (img: typeof whole, x: number, y: number) => [...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4)];
      assert.deepEqual(at(whole, 200, 200), [0x80, 0x40, 0x20, 255]);

      const region = await shm.grab({ x: 30, y: 35, width: 101, height: 57 });
      assert.equal(region.width, 101);
      for (const [x, y] of [[0, 0], [100, 56], [50, 20]] as const) assert.deepEqual(at(region, x, y), at(whole, 30 + x, 35 + y), `pixel ${x},${y} of the region`);

      await assert.rejects(shm.grab({ x: 700, y: 500, width: 200, height: 200 }), (e) => isForesightError(e) && e.code === 'DISPLAY_UNAVAILABLE' && /outside the X screen/.test(e.message));
      assert.ok(shm.alive, 'a refused region does not end the connection');
      const again = await shm.grab({ x: 0, y: 0, width: 800, height: 600 });
      assert.equal(compareFrames(again, whole).kind, 'same');
    } finally {
      await shm.close();
    }
  });

  void it('a server without MIT-SHM: refused with the reason; the desktop captures through libnut and says why', async () => {
    // -noreset: with no window manager, the server would reset when the first probe's connection
    // closes, and refuse the next connection while it does.
    const plain = await startXDesktop({ width: 320, height: 200, windowManager: false, xvfbArgs: ['-extension', 'MIT-SHM', '-noreset'] });
    const display = process.env.DISPLAY;
    try {
      await assert.rejects(X11ShmCapture.open(plain.display), (e) => isForesightError(e) && e.code === 'DISPLAY_UNAVAILABLE' && /MIT-SHM/.test(e.message));
      process.env.DISPLAY = plain.display;
      const d = await createDesktop({ env: process.env });
      try {
        assert.match(d.screen.captureMethod, /^libnut \(XGetImage; no MIT-SHM: .*MIT-SHM/);
        const c = await d.screen.capture();
        assert.equal(c.image.width, 320);
      } finally {
        await d.close();
      }
    } finally {
      process.env.DISPLAY = display;
      await plain.stop();
    }
  });
});

void describe('the tool host', () => {
  void it('runs tools as its own children, returns their output and exit code, names a missing tool with its package, and is gone after close()', async () => {
    const host = ToolHost.start();
    const r = await host.runTool('sh', ['-c', 'echo "$PPID"; echo oops >&2; exit 3'], process.env);
    assert.equal(r.code, 3);
    assert.equal(r.stderr.trim(), 'oops');
    const parent = Number(r.stdout.trim());
    assert.notEqual(parent, process.pid, 'not a child of this process');
    await assert.rejects(host.runTool('xmodmap-not-here', [], process.env), (e) => isForesightError(e) && e.code === 'TOOL_MISSING');
    const monitors = await host.runTool('xrandr', ['--listmonitors'], process.env);
    assert.match(monitors.stdout, /Monitors: 1/);
    await host.close();
    const alive = execFileSync('ps', ['-eo', 'pid,ppid,stat,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('tool-host.mjs') && l.trim().split(/\s+/)[1] === String(process.pid));
    assert.deepEqual(alive, [], 'no tool host left');
    await assert.rejects(host.runTool('true', [], process.env), /gone/);
  });
});
