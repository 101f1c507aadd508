/**
 * The kill switch: a global hotkey (uiohook-napi sees keys whichever window has the focus) or
 * trigger() (SIGINT, a button in the UI) aborts the run's AbortSignal at once and lets go of
 * every key and button the input adapter holds. Typing checks the signal between chunks of a
 * few characters, so it stops within one chunk.
 *
 * The default hotkey, ctrl+alt+k, is bound by no common desktop (ctrl+alt+escape is xkill on
 * some X desktops, ctrl+alt+delete and ctrl+shift+escape belong to the OS, cmd+alt+escape is
 * Force Quit on macOS). Note that the agent itself pressing the combination stops the run.
 */
import { createRequire } from 'node:module';
import type { UiohookKeyboardEvent } from 'uiohook-napi';
import { ForesightError } from '../../common/errors.ts';
import { formatKeyCombo, isModifier, parseKeyCombo, type KeyName } from '../../common/keys.ts';
import type { Input } from '../../common/ports.ts';
import { probeX11Sync } from './x11.ts';

export const DEFAULT_KILL_HOTKEY = 'ctrl+alt+k';

type UiohookModule = typeof import('uiohook-napi');
let hookModule: UiohookModule | undefined;

/**
 * uiohook-napi is loaded on first start(), not on import: on X11 its library constructor opens
 * an X connection that it closes only at process exit, and if the X server has gone by then,
 * Xlib ends the process with exit code 1. Only a process that listens for the hotkey pays that.
 */
function loadHook(): UiohookModule {
  hookModule ??= createRequire(import.meta.url)('uiohook-napi') as UiohookModule;
  return hookModule;
}

/** Canonical key names → names in uiohook's UiohookKey table (the main key of a kill combination). */
const UIOHOOK_NAMES: Readonly<Record<string, string>> = (() => {
  const m: Record<string, string> = {
    escape: 'Escape',
    enter: 'Enter',
    tab: 'Tab',
    space: 'Space',
    backspace: 'Backspace',
    delete: 'Delete',
    insert: 'Insert',
    home: 'Home',
    end: 'End',
    pageup: 'PageUp',
    pagedown: 'PageDown',
    up: 'ArrowUp',
    down: 'ArrowDown',
    left: 'ArrowLeft',
    right: 'ArrowRight',
    printscreen: 'PrintScreen',
    scrolllock: 'ScrollLock',
    numlock: 'NumLock',
    capslock: 'CapsLock',
    '-': 'Minus',
    '=': 'Equal',
    '[': 'BracketLeft',
    ']': 'BracketRight',
    '\\': 'Backslash',
    ';': 'Semicolon',
    "'": 'Quote',
    ',': 'Comma',
    '.': 'Period',
    '/': 'Slash',
    '`': 'Backquote',
  };
  for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789') m[c] = c.toUpperCase();
  for (let i = 1; i <= 24; i++) m[`f${i}`] = `F${i}`;
  for (let i = 0; i <= 9; i++) m[`numpad${i}`] = `Numpad${i}`;
  return m;
})();

/** What the supervisor's hook needs to recognise the hotkey; see kill-guard.mjs. */
export interface HotkeySpec extends Combo {
  /** As shown to the user: "ctrl+alt+k". */
  text: string;
}

interface Combo {
  /** The main key, as a UiohookKey name. */
  key: string;
  ctrl: boolean;
  alt: boolean;
  shift: boolean;
  meta: boolean;
}

function toCombo(keys: readonly KeyName[], text: string): Combo {
  const main = keys.filter((k) => !isModifier(k));
  const key = main.length === 1 ? UIOHOOK_NAMES[main[0]!] : undefined;
  if (key === undefined) {
    throw new ForesightError('BAD_INPUT', `Kill switch hotkey ${JSON.stringify(text)} must be modifiers plus one letter, digit, F-key or named key, e.g. ctrl+alt+k`, { hotkey: text });
  }
  const has = (m: string) => keys.includes(m) || keys.includes(`${m}right`);
  return { key, ctrl: has('ctrl'), alt: has('alt'), shift: has('shift'), meta: has('meta') };
}

// uiohook is one process-wide hook: the switches that listen share it.
const listening = new Set<KillSwitch>();
let hookRunning = false;
const onKeydown = (e: UiohookKeyboardEvent) => {
  for (const k of [...listening]) k.handleKey(e);
};

export interface KillSwitchOptions {
  /** e.g. "ctrl+alt+k" (default), "ctrl+shift+f12". */
  hotkey?: string;
  /** Its releaseAll() is called when the switch fires. */
  input?: Pick<Input, 'releaseAll'>;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

export type KillListener = (reason: string) => void;

export class KillSwitch {
  readonly hotkey: string;
  private readonly combo: Combo;
  private readonly input: Pick<Input, 'releaseAll'> | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly platform: NodeJS.Platform;
  private controller = new AbortController();
  private readonly listeners = new Set<KillListener>();
  private why: string | undefined;
  private firedAt: number | undefined;
  private code: number | undefined;

  constructor(opts: KillSwitchOptions = {}) {
    const text = opts.hotkey ?? DEFAULT_KILL_HOTKEY;
    const keys = parseKeyCombo(text);
    this.combo = toCombo(keys, text);
    this.hotkey = formatKeyCombo(keys);
    this.input = opts.input;
    this.env = opts.env ?? process.env;
    this.platform = opts.platform ?? process.platform;
  }

  /**
   * The hotkey in the form the supervisor's hook matches it (main/desktop/kill-guard.mjs):
   * the main key as a uiohook key name, and the modifiers.
   */
  get hotkeySpec(): HotkeySpec {
    return { ...this.combo, text: this.hotkey };
  }

  /** Aborts when the switch fires; the reason is a ForesightError('STOPPED'). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get triggered(): boolean {
    return this.controller.signal.aborted;
  }

  /** Why it fired ("hotkey ctrl+alt+k", "SIGINT"), once it has. */
  get reason(): string | undefined {
    return this.why;
  }

  /** When it fired (Date.now()), once it has. */
  get triggeredAt(): number | undefined {
    return this.firedAt;
  }

  /** Starts listening for the global hotkey. DISPLAY_UNAVAILABLE on X11 without a display. */
  start(): void {
    if (listening.has(this)) return;
    // uiohook aborts the whole process when XOpenDisplay fails: check first.
    if (this.platform !== 'darwin' && this.platform !== 'win32') probeX11Sync(this.env);
    const { uIOhook, UiohookKey } = loadHook();
    this.code = (UiohookKey as Readonly<Record<string, number>>)[this.combo.key];
    listening.add(this);
    if (!hookRunning) {
      uIOhook.on('keydown', onKeydown);
      try {
        uIOhook.start();
      } catch (e) {
        uIOhook.off('keydown', onKeydown);
        listening.delete(this);
        throw new ForesightError('INTERNAL', `The global hotkey could not be installed: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
      }
      hookRunning = true;
    }
  }

  /** Stops listening; when no switch listens any more the hook is removed and the process may exit. */
  async stop(): Promise<void> {
    listening.delete(this);
    if (hookRunning && listening.size === 0 && hookModule) {
      hookRunning = false;
      hookModule.uIOhook.off('keydown', onKeydown);
      hookModule.uIOhook.stop();
    }
  }

  /** @internal called by the shared hook */
  handleKey(e: UiohookKeyboardEvent): void {
    const c = this.combo;
    if (this.code === undefined || e.keycode !== this.code) return;
    if ((c.ctrl && !e.ctrlKey) || (c.alt && !e.altKey) || (c.shift && !e.shiftKey) || (c.meta && !e.metaKey)) return;
    this.trigger(`hotkey ${this.hotkey}`);
  }

  /** Fires the switch (idempotent): aborts the signal, tells the listeners, releases input. */
  trigger(reason: string): void {
    if (this.controller.signal.aborted) return;
    this.why = reason;
    this.firedAt = Date.now();
    this.controller.abort(new ForesightError('STOPPED', `Stopped by the kill switch (${reason})`));
    for (const l of [...this.listeners]) {
      try {
        l(reason);
      } catch {
        // a listener's failure must not keep the others from hearing it
      }
    }
    if (this.input) void this.input.releaseAll().catch(() => undefined);
  }

  /** Calls the listener when the switch fires (at once if it already has). Returns an unsubscribe. */
  onTrigger(listener: KillListener): () => void {
    if (this.why !== undefined) listener(this.why);
    else this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** A fresh signal for the next run, after the switch fired. */
  rearm(): void {
    if (!this.controller.signal.aborted) return;
    this.controller = new AbortController();
    this.why = undefined;
    this.firedAt = undefined;
  }
}
