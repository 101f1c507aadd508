/**
 * The desktop adapters, wired: Screen (nut.js + xrandr), Input (nut.js + the platform's exact
 * text typer), the kill switch, the settle detector and the Observer over them.
 * Process entry points (the CLI, the Electron main) call createDesktop once.
 */
import { ForesightError } from '../../common/errors.ts';
import { KillSwitch } from './kill-switch.ts';
import { NutInput } from './nut-input.ts';
import { NutScreen, releaseNutX11Connection } from './nut-screen.ts';
import { DesktopObserver, type EncodeOptions } from './observe.ts';
import { SettleDetector, type SettleOptions } from './settle.ts';
import { createTextTyper, type InputToolRunner, type TextTyper, type XdotoolTyperOptions } from './text-typer.ts';
import { ToolHost } from './tool-host.ts';
import { X11ShmCapture } from './x11-capture.ts';
import { X11Damage } from './x11-damage.ts';

export { DEFAULT_KILL_HOTKEY, KillSwitch, type KillSwitchOptions, type KillListener } from './kill-switch.ts';
export { NutInput, type NutInputOptions } from './nut-input.ts';
export { NutScreen, releaseNutX11Connection, toRawImage, type NutScreenOptions } from './nut-screen.ts';
export { DesktopObserver, encodeObservation, type DesktopObserverOptions, type EncodeOptions } from './observe.ts';
export { DEFAULT_SETTLE, SettleDetector, compareFrames, type SettleOptions, type SettleRequest, type SettleResult } from './settle.ts';
export { X11ShmCapture } from './x11-capture.ts';
export { X11Damage, type DamageEvent, type DamageSource, type X11DamageOptions } from './x11-damage.ts';
export { ToolHost } from './tool-host.ts';
export { createTextTyper, NutUnicodeTyper, SendInputTyper, XdotoolTyper, type TextTyper, type TextTyperOptions, type XdotoolTyperOptions } from './text-typer.ts';

export interface DesktopOptions {
  /** Global hotkey of the kill switch (default ctrl+alt+k). */
  killHotkey?: string;
  /** Display to observe (default: the primary one). */
  displayId?: string;
  /**
   * Environment for the X tools. nut.js and uiohook read DISPLAY from process.env, so its
   * DISPLAY must be process.env's (default: process.env).
   */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  settle?: Partial<SettleOptions>;
  /**
   * How the settle detector tells that the screen is still: 'auto' (default) listens to X
   * damage events where the X server offers them and polls pixels elsewhere; 'pixels' always
   * polls.
   */
  settleMethod?: 'auto' | 'pixels';
  typing?: XdotoolTyperOptions;
  encode?: EncodeOptions;
  /**
   * Who starts the X tools (xdotool, xmodmap, xrandr): a runner (the supervisor's), 'host' (a
   * small tool-host process this desktop starts and ends), or 'self' (default: this process).
   * An agent should not fork itself: see tool-host.mjs.
   */
  tools?: InputToolRunner | 'host' | 'self';
}

export interface Desktop {
  screen: NutScreen;
  input: NutInput;
  typer: TextTyper;
  killSwitch: KillSwitch;
  settleDetector: SettleDetector;
  observer: DesktopObserver;
  /**
   * Stops the kill switch's hook, undoes keymap changes and closes nut.js's X connection
   * (call it before the X server goes away, or the process exits with code 1).
   * keepXConnection: a process that exits right after, with the X server still running, may
   * leave libnut's connection to its exit handler; closing it early prints "Could not open
   * main display" on stderr (see releaseNutX11Connection).
   */
  close(opts?: { keepXConnection?: boolean }): Promise<void>;
}

/**
 * Checks that there is a display (DISPLAY_UNAVAILABLE otherwise, before any native code can
 * crash on it) and that displayId names one of its displays (BAD_INPUT), then wires the adapters.
 * The kill switch is created, not started: call killSwitch.start().
 */
export async function createDesktop(opts: DesktopOptions = {}): Promise<Desktop> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  if (env !== process.env && env.DISPLAY !== process.env.DISPLAY && platform !== 'darwin' && platform !== 'win32') {
    throw new ForesightError('BAD_INPUT', `nut.js acts on process.env.DISPLAY (${process.env.DISPLAY ?? 'unset'}), not on ${env.DISPLAY ?? 'unset'}: set DISPLAY for the whole process`);
  }
  const host = opts.tools === 'host' && platform !== 'darwin' && platform !== 'win32' ? ToolHost.start() : undefined;
  const runTool = host?.runTool ?? (typeof opts.tools === 'function' ? opts.tools : undefined);
  const screen = new NutScreen({ env, platform, ...(runTool ? { runTool } : {}) });
  await screen.ensureDisplay();
  let shm: X11ShmCapture | undefined;
  if (platform !== 'darwin' && platform !== 'win32' && env.DISPLAY) {
    try {
      shm = await X11ShmCapture.open(env.DISPLAY);
      screen.useShm(shm);
    } catch (e) {
      screen.useShm(undefined, e instanceof Error ? e.message : String(e));
    }
  }
  if (opts.displayId !== undefined) await screen.display(opts.displayId);
  const typer = createTextTyper({ ...(runTool ? { runTool } : {}), ...opts.typing, env, platform });
  const input = new NutInput({ displays: () => screen.displays(), typer, ensureDisplay: () => screen.ensureDisplay(), env, platform });
  const killSwitch = new KillSwitch({ ...(opts.killHotkey !== undefined ? { hotkey: opts.killHotkey } : {}), input, env, platform });
  const settleDetector = await createSettleDetector(screen, opts, platform, env);
  const observer = new DesktopObserver(screen, settleDetector, {
    ...(opts.displayId !== undefined ? { displayId: opts.displayId } : {}),
    ...(opts.encode ? { encode: opts.encode } : {}),
  });
  return {
    screen,
    input,
    typer,
    killSwitch,
    settleDetector,
    observer,
    async close(closeOpts = {}) {
      await killSwitch.stop();
      await typer.close();
      await settleDetector.close();
      await shm?.close();
      await host?.close();
      if (platform !== 'darwin' && platform !== 'win32' && env.DISPLAY && !closeOpts.keepXConnection) releaseNutX11Connection(env.DISPLAY);
    },
  };
}

async function createSettleDetector(screen: NutScreen, opts: DesktopOptions, platform: NodeJS.Platform, env: NodeJS.ProcessEnv): Promise<SettleDetector> {
  const polling = (why: string) => new SettleDetector(screen, opts.settle, undefined, undefined, why);
  if (opts.settleMethod === 'pixels') return polling('asked for (--settle-method pixels)');
  if (platform === 'darwin' || platform === 'win32' || !env.DISPLAY) return polling('X damage events exist only on X11');
  try {
    return new SettleDetector(screen, opts.settle, undefined, await X11Damage.open(env.DISPLAY));
  } catch (e) {
    return polling(e instanceof Error ? e.message : String(e));
  }
}
