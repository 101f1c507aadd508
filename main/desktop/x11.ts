/**
 * Small X11 helpers shared by the Linux adapters: running X tools, making sure an X display
 * is reachable before any native code touches it, and the monitor layout from xrandr.
 *
 * Why the probe matters: libnut and uiohook-napi call XOpenDisplay themselves and do not
 * survive its failure (libnut segfaults on the NULL display, uiohook aborts the process), so
 * nothing may reach them until a display has been seen to answer.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Display } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';

/** The Debian package that ships each tool, for the TOOL_MISSING message. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  xdotool: 'xdotool',
  xmodmap: 'x11-xserver-utils',
  xrandr: 'x11-xserver-utils',
};

export function toolMissing(tool: string): ForesightError {
  const pkg = TOOL_PACKAGES[tool] ?? tool;
  return new ForesightError('TOOL_MISSING', `${tool} is not installed; install it with: sudo apt-get install ${pkg}`, { tool, package: pkg });
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs an X tool to completion. ENOENT becomes TOOL_MISSING; a non-zero exit is returned,
 * not thrown, so callers decide what it means.
 */
export function runTool(tool: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return reject(toolMissing(tool));
      if (error && typeof error.code !== 'number') {
        return reject(new ForesightError('INTERNAL', `${tool} ${args.join(' ')} failed: ${error.message}`, { tool }, { cause: error }));
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** Like runTool, but blocking: for process exit handlers only. */
export function runToolSync(tool: string, args: readonly string[], env: NodeJS.ProcessEnv): void {
  spawnSync(tool, args, { env, stdio: 'ignore', timeout: 2000 });
}

function noDisplay(reason: string, env: NodeJS.ProcessEnv): ForesightError {
  const wayland = env.WAYLAND_DISPLAY ? ' This looks like a Wayland session: Foresight needs X11 or XWayland (DISPLAY).' : '';
  return new ForesightError(
    'DISPLAY_UNAVAILABLE',
    `No X display to act on: ${reason}.${wayland} Run Foresight inside a desktop session, or start a virtual one (Xvfb :99 & export DISPLAY=:99).`,
    { display: env.DISPLAY ?? null },
  );
}

const CANNOT_OPEN = /can'?t open display|cannot open display|unable to open display/i;

/** Local displays (":1", "unix:1.0") have a socket; a missing socket means no server. */
function localSocketMissing(display: string): boolean {
  const m = /^(?:unix)?:(\d+)(?:\.\d+)?$/.exec(display);
  return m !== null && !existsSync(`/tmp/.X11-unix/X${m[1]}`);
}

const probes = new Map<string, Promise<Display[]>>();

/**
 * Checks that the X display in env answers and returns its monitors (empty when xrandr is
 * not installed). DISPLAY_UNAVAILABLE when DISPLAY is unset or nothing answers there.
 * A successful probe is remembered per DISPLAY value.
 */
export function probeX11(env: NodeJS.ProcessEnv): Promise<Display[]> {
  const display = env.DISPLAY;
  if (!display) return Promise.reject(noDisplay('DISPLAY is not set', env));
  let p = probes.get(display);
  if (!p) {
    p = listX11Monitors(env).catch((e: unknown) => {
      probes.delete(display);
      throw e;
    });
    probes.set(display, p);
  }
  return p;
}

/** The monitors of the X screen from `xrandr --listmonitors`; [] when xrandr is missing. */
/** run: who starts xrandr (default: this process; see tool-host.mjs for why an agent should not). */
export async function listX11Monitors(env: NodeJS.ProcessEnv, run: (tool: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<ToolResult> = (t, a, e) => runTool(t, a, e, 5000)): Promise<Display[]> {
  const display = env.DISPLAY;
  if (!display) throw noDisplay('DISPLAY is not set', env);
  let res: ToolResult;
  try {
    res = await run('xrandr', ['--listmonitors'], env);
  } catch (e) {
    if (e instanceof ForesightError && e.code === 'TOOL_MISSING') {
      if (localSocketMissing(display)) throw noDisplay(`no X server listens on ${display}`, env);
      return [];
    }
    throw e;
  }
  if (res.code !== 0) {
    if (CANNOT_OPEN.test(res.stderr)) throw noDisplay(`cannot open display ${display}`, env);
    return []; // an X server without RandR: fall back to the screen size
  }
  return parseXrandrMonitors(res.stdout);
}

/**
 * Parses `xrandr --listmonitors`:
 *   Monitors: 2
 *    0: +*DP-1 2560/597x1440/336+0+0  DP-1
 *    1: +HDMI-1 1920/527x1080/296+2560+180  HDMI-1
 * X11 has no per-monitor scaling: root-window pixels are both the logical and the physical
 * space, so scaleFactor is 1.
 */
export function parseXrandrMonitors(text: string): Display[] {
  const displays: Display[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*\d+:\s+\+?(\*?)(\S+)\s+(\d+)\/\d+x(\d+)\/\d+([+-]\d+)([+-]\d+)/.exec(line);
    if (!m) continue;
    displays.push({
      id: m[2]!,
      bounds: { x: Number(m[5]), y: Number(m[6]), width: Number(m[3]), height: Number(m[4]) },
      scaleFactor: 1,
      primary: m[1] === '*',
    });
  }
  if (displays.length > 0 && !displays.some((d) => d.primary)) {
    const origin = displays.find((d) => d.bounds.x === 0 && d.bounds.y === 0) ?? displays[0]!;
    origin.primary = true;
  }
  return displays;
}

/** A UTF-8 locale for X tools that decode their arguments with mbstowcs (xdotool type). */
export function utf8Env(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const current = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  if (/utf-?8/i.test(current)) return env;
  return { ...env, LC_ALL: 'C.UTF-8' };
}

/**
 * The blocking twin of probeX11, for code that must stay synchronous (KillSwitch.start).
 * Uses the remembered result of probeX11 when there is one.
 */
export function probeX11Sync(env: NodeJS.ProcessEnv): void {
  const display = env.DISPLAY;
  if (!display) throw noDisplay('DISPLAY is not set', env);
  if (probes.has(display)) return;
  const res = spawnSync('xrandr', ['--listmonitors'], { env, encoding: 'utf8', timeout: 5000 });
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT') {
    if (localSocketMissing(display)) throw noDisplay(`no X server listens on ${display}`, env);
    return;
  }
  if (res.status !== 0 && CANNOT_OPEN.test(res.stderr ?? '')) throw noDisplay(`cannot open display ${display}`, env);
}
