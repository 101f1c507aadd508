/**
 * A real X desktop for tests: Xvfb on a free display number, openbox as window manager,
 * and helpers to start Debian apps on it. Each test file starts its own and stops it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface XDesktop {
  display: string;
  env: NodeJS.ProcessEnv;
  width: number;
  height: number;
  /** Starts a program on this desktop; it is killed by stop(). */
  launch(cmd: string, args?: string[], extraEnv?: NodeJS.ProcessEnv): ChildProcess;
  /** Runs a short X tool (xdotool, xwininfo…) on this desktop and returns its stdout. */
  x(cmd: string, args: string[]): string;
  /** Waits until a window whose name matches exists; returns its id. */
  waitForWindow(namePattern: string, timeoutMs?: number): Promise<string>;
  /** Gives a window the keyboard focus and waits until the window manager says it has it. */
  focusWindow(id: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A fresh HOME (and XDG folders) for one app, so no earlier, killed session of it is offered
 * for restoring and no settings leak between tests.
 */
export function freshHomeEnv(): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'foresight-app-home-'));
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: home,
  };
}

function freeDisplayNumber(): number {
  for (let n = 90 + Math.floor(Math.random() * 100); n < 400; n++) {
    if (!existsSync(`/tmp/.X${n}-lock`) && !existsSync(`/tmp/.X11-unix/X${n}`)) return n;
  }
  throw new Error('No free X display number between 90 and 400');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** xvfbArgs: more Xvfb arguments (e.g. `-extension MIT-SHM`, a server without shared-memory captures). */
export async function startXDesktop(opts: { width?: number; height?: number; windowManager?: boolean; xvfbArgs?: string[] } = {}): Promise<XDesktop> {
  const width = opts.width ?? 1280;
  const height = opts.height ?? 800;
  const n = freeDisplayNumber();
  const display = `:${n}`;
  const home = mkdtempSync(join(tmpdir(), 'foresight-xhome-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DISPLAY: display,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: home,
    NO_AT_BRIDGE: '1',
    GTK_A11Y: 'none',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
  };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const children: ChildProcess[] = [];
  const xvfb = spawn('Xvfb', [display, '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-ac', ...(opts.xvfbArgs ?? [])], {
    stdio: 'ignore',
  });
  children.push(xvfb);
  const x = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { env, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  for (let i = 0; ; i++) {
    try {
      x('xdpyinfo', []);
      break;
    } catch {
      if (i > 100) throw new Error(`Xvfb did not start on ${display}: is the xvfb package installed?`);
      await sleep(50);
    }
  }
  const launch = (cmd: string, args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}) => {
    const child = spawn(cmd, args, { env: { ...env, ...extraEnv }, stdio: 'ignore' });
    children.push(child);
    return child;
  };
  if (opts.windowManager !== false) {
    launch('openbox', []);
    await sleep(300);
  }
  const waitForWindow = async (namePattern: string, timeoutMs = 15_000) => {
    const t0 = Date.now();
    for (;;) {
      try {
        const out = x('xdotool', ['search', '--onlyvisible', '--name', namePattern]).trim();
        const id = out.split('\n')[0];
        if (id) return id;
      } catch {
        // xdotool exits 1 while nothing matches
      }
      if (Date.now() - t0 > timeoutMs) throw new Error(`No window named /${namePattern}/ on ${display} after ${timeoutMs} ms`);
      await sleep(100);
    }
  };
  const focusWindow = async (id: string, timeoutMs = 5_000) => {
    const t0 = Date.now();
    for (;;) {
      try {
        x('xdotool', ['windowactivate', id]);
        if (x('xdotool', ['getactivewindow']).trim() === id) return;
      } catch {
        // not mapped yet, or no active window for a moment
      }
      if (Date.now() - t0 > timeoutMs) throw new Error(`Window ${id} did not get the focus on ${display} within ${timeoutMs} ms`);
      await sleep(50);
    }
  };
  const stop = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    }
    await sleep(100);
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  };
  return { display, env, width, height, launch, x, waitForWindow, focusWindow, stop };
}
