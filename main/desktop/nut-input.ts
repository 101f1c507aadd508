/**
 * The Input port over nut.js: mouse and key presses, with text handed to an exact TextTyper.
 * Every pointed action is checked against the current displays first: nothing is ever clicked
 * outside the screen. Points are global logical pixels, rounded to whole pixels inside the
 * display they fall on.
 */
import { Button, Key, keyboard, mouse, Point as NutPoint } from '@nut-tree-fork/nut-js';
import type { Direction } from '../../common/actions.ts';
import { assertOnScreen, type Display, type Point } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import { BASE_CHAR_KEYS, isModifier, isNamedKey, parseKeyCombo, type KeyName, type NamedKey } from '../../common/keys.ts';
import type { Input, MouseButton } from '../../common/ports.ts';
import { runInputTool, type TextTyper } from './text-typer.ts';
import { probeX11 } from './x11.ts';

export interface NutInputOptions {
  /** The displays to check points against (re-read on every action). */
  displays: () => readonly Display[] | Promise<readonly Display[]>;
  typer: TextTyper;
  /** Called before the first native call (the X11 display probe: libnut crashes without a display). */
  ensureDisplay?: () => Promise<void>;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  /** Pause between the steps of one action (move → press, key → key), in ms. */
  stepDelayMs?: number;
}

const NAMED_TO_NUT: Readonly<Partial<Record<NamedKey, Key>>> = {
  ctrl: Key.LeftControl,
  alt: Key.LeftAlt,
  shift: Key.LeftShift,
  meta: Key.LeftSuper,
  ctrlright: Key.RightControl,
  altright: Key.RightAlt,
  shiftright: Key.RightShift,
  metaright: Key.RightSuper,
  enter: Key.Return,
  escape: Key.Escape,
  tab: Key.Tab,
  space: Key.Space,
  backspace: Key.Backspace,
  delete: Key.Delete,
  insert: Key.Insert,
  home: Key.Home,
  end: Key.End,
  pageup: Key.PageUp,
  pagedown: Key.PageDown,
  up: Key.Up,
  down: Key.Down,
  left: Key.Left,
  right: Key.Right,
  capslock: Key.CapsLock,
  numlock: Key.NumLock,
  scrolllock: Key.ScrollLock,
  printscreen: Key.Print,
  menu: Key.Menu,
  fn: Key.Fn,
  clear: Key.Clear,
  add: Key.Add,
  subtract: Key.Subtract,
  multiply: Key.Multiply,
  divide: Key.Divide,
  decimal: Key.Decimal,
  volumeup: Key.AudioVolUp,
  volumedown: Key.AudioVolDown,
  volumemute: Key.AudioMute,
  playpause: Key.AudioPlay,
  stop: Key.AudioStop,
  nexttrack: Key.AudioNext,
  prevtrack: Key.AudioPrev,
};
for (let i = 1; i <= 24; i++) (NAMED_TO_NUT as Record<string, Key>)[`f${i}`] = Key[`F${i}` as keyof typeof Key];
for (let i = 0; i <= 9; i++) (NAMED_TO_NUT as Record<string, Key>)[`numpad${i}`] = Key[`NumPad${i}` as keyof typeof Key];

const CHAR_TO_NUT: Readonly<Record<string, Key>> = {
  '-': Key.Minus,
  '=': Key.Equal,
  '[': Key.LeftBracket,
  ']': Key.RightBracket,
  '\\': Key.Backslash,
  ';': Key.Semicolon,
  "'": Key.Quote,
  ',': Key.Comma,
  '.': Key.Period,
  '/': Key.Slash,
  '`': Key.Grave,
};

/** Keys libnut has no code for on a platform (K_NOT_A_KEY in its keycode.h, or null in nut.js). */
const UNSUPPORTED: Readonly<Record<string, ReadonlySet<string>>> = {
  linux: new Set(['fn']),
  darwin: new Set(['pause', 'numlock', 'scrolllock', 'insert', 'printscreen', 'menu', 'stop', 'f21', 'f22', 'f23', 'f24']),
  win32: new Set(['fn', 'pause']),
};

/** On X11, keys libnut cannot press are pressed by xdotool (keysym names). */
const X11_XDOTOOL_KEYS: Readonly<Record<string, string>> = { menu: 'Menu', pause: 'Pause' };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Pressable = { kind: 'nut'; key: Key; name: KeyName } | { kind: 'xdotool'; keysym: string; name: KeyName } | { kind: 'char'; char: string; name: KeyName };

export class NutInput implements Input {
  private readonly displaysOf: NutInputOptions['displays'];
  private readonly typer: TextTyper;
  private readonly ensureDisplay: () => Promise<void>;
  private readonly platform: NodeJS.Platform;
  private readonly env: NodeJS.ProcessEnv;
  private readonly stepDelayMs: number;
  private readonly heldKeys = new Set<Key>();
  private readonly heldButtons = new Set<Button>();
  private ready: Promise<void> | undefined;

  constructor(opts: NutInputOptions) {
    this.displaysOf = opts.displays;
    this.typer = opts.typer;
    this.platform = opts.platform ?? process.platform;
    this.env = opts.env ?? process.env;
    const env = this.env;
    this.ensureDisplay = opts.ensureDisplay ?? (this.isX11() ? async () => void (await probeX11(env)) : () => Promise.resolve());
    this.stepDelayMs = opts.stepDelayMs ?? 15;
  }

  private init(): Promise<void> {
    this.ready ??= this.ensureDisplay().then(
      () => {
        // Fast and direct: no animated moves, no 100–300 ms pauses before every call.
        mouse.config.mouseSpeed = 100_000;
        mouse.config.autoDelayMs = 0;
        keyboard.config.autoDelayMs = 0;
      },
      (e: unknown) => {
        this.ready = undefined;
        throw e;
      },
    );
    return this.ready;
  }

  /** Checks every point against the displays; returns them as whole pixels on their display. */
  private async onScreen(...points: Point[]): Promise<NutPoint[]> {
    const displays = await this.displaysOf();
    const checked = points.map((p) => {
      const d = assertOnScreen(p, displays);
      const b = d.bounds;
      const x = Math.min(Math.max(Math.round(p.x), b.x), b.x + b.width - 1);
      const y = Math.min(Math.max(Math.round(p.y), b.y), b.y + b.height - 1);
      return new NutPoint(x, y);
    });
    await this.init();
    return checked;
  }

  async move(p: Point): Promise<void> {
    const [at] = await this.onScreen(p);
    await mouse.setPosition(at!);
  }

  async click(p: Point, button: MouseButton, count: 1 | 2): Promise<void> {
    const [at] = await this.onScreen(p);
    const btn = toNutButton(button);
    await mouse.setPosition(at!);
    await sleep(this.stepDelayMs);
    await mouse.click(btn);
    if (count === 2) {
      // Two clicks well inside every toolkit's double-click time (libnut's own doubleClick
      // blocks the event loop for 200 ms between them).
      await sleep(60);
      await mouse.click(btn);
    }
  }

  async longPress(p: Point, durationMs: number): Promise<void> {
    if (!Number.isFinite(durationMs) || durationMs < 0) throw new ForesightError('BAD_INPUT', `Long press duration ${durationMs} ms is not a duration`);
    const [at] = await this.onScreen(p);
    await mouse.setPosition(at!);
    await sleep(this.stepDelayMs);
    await this.pressButton(Button.LEFT);
    try {
      await sleep(durationMs);
    } finally {
      await this.releaseButton(Button.LEFT);
    }
  }

  async drag(from: Point, to: Point): Promise<void> {
    const [a, b] = await this.onScreen(from, to);
    await mouse.setPosition(a!);
    await sleep(this.stepDelayMs);
    await this.pressButton(Button.LEFT);
    try {
      // Intermediate motion: toolkits start a drag only after the pointer moved past a threshold.
      const steps = Math.min(20, Math.max(5, Math.ceil(Math.hypot(b!.x - a!.x, b!.y - a!.y) / 40)));
      for (let i = 1; i <= steps; i++) {
        await sleep(10);
        await mouse.setPosition(new NutPoint(Math.round(a!.x + ((b!.x - a!.x) * i) / steps), Math.round(a!.y + ((b!.y - a!.y) * i) / steps)));
      }
      await sleep(this.stepDelayMs * 2);
    } finally {
      await this.releaseButton(Button.LEFT);
    }
  }

  async scroll(at: Point | undefined, direction: Direction, amount: number): Promise<void> {
    if (!Number.isInteger(amount) || amount < 1 || amount > 200) {
      throw new ForesightError('BAD_INPUT', `Scroll amount must be a whole number of notches from 1 to 200, not ${amount}`);
    }
    if (at) {
      const [p] = await this.onScreen(at);
      await mouse.setPosition(p!);
      await sleep(this.stepDelayMs);
    } else {
      await this.init();
    }
    // libnut on X11 sends button 7 (right) for scrollLeft and 6 (left) for scrollRight.
    const x11 = this.isX11();
    switch (direction) {
      case 'up':
        await mouse.scrollUp(amount);
        return;
      case 'down':
        await mouse.scrollDown(amount);
        return;
      case 'left':
        await (x11 ? mouse.scrollRight(amount) : mouse.scrollLeft(amount));
        return;
      case 'right':
        await (x11 ? mouse.scrollLeft(amount) : mouse.scrollRight(amount));
        return;
    }
  }

  async type(text: string, signal?: AbortSignal): Promise<void> {
    await this.init();
    await this.typer.type(text, signal);
  }

  async hotkey(keys: readonly string[]): Promise<void> {
    const names = parseKeyCombo(keys);
    const plan = names.map((k) => this.pressable(k));
    await this.init();
    const pressed: Key[] = [];
    try {
      for (const p of plan) {
        if (p.kind === 'nut') {
          await this.pressKey(p.key);
          pressed.push(p.key);
        } else if (p.kind === 'xdotool') {
          await this.xdotoolKey(p.keysym);
        } else {
          // A character no key of a US keyboard makes alone ('?', 'é'): typed exactly, with the
          // modifiers of the combination held.
          await this.typer.type(p.char);
        }
        await sleep(this.stepDelayMs);
      }
    } finally {
      for (const k of pressed.reverse()) await this.releaseKey(k);
    }
  }

  private pressable(name: KeyName): Pressable {
    if (UNSUPPORTED[this.platform]?.has(name)) {
      throw new ForesightError('BAD_INPUT', `The key "${name}" cannot be pressed on ${this.platform}`, { key: name });
    }
    if (this.isX11() && X11_XDOTOOL_KEYS[name]) return { kind: 'xdotool', keysym: X11_XDOTOOL_KEYS[name]!, name };
    if (isNamedKey(name)) {
      const key = NAMED_TO_NUT[name];
      if (key === undefined) throw new ForesightError('BAD_INPUT', `The key "${name}" cannot be pressed here`, { key: name });
      return { kind: 'nut', key, name };
    }
    const char: string = name;
    if (BASE_CHAR_KEYS.has(char)) {
      if (/^[a-z]$/.test(char)) return { kind: 'nut', key: Key[char.toUpperCase() as keyof typeof Key], name };
      if (/^[0-9]$/.test(name)) return { kind: 'nut', key: Key[`Num${name}` as keyof typeof Key], name };
      return { kind: 'nut', key: CHAR_TO_NUT[name]!, name };
    }
    if (isModifier(name)) throw new ForesightError('INTERNAL', `Modifier ${name} has no key`);
    return { kind: 'char', char: name, name };
  }

  private isX11(): boolean {
    return this.platform !== 'darwin' && this.platform !== 'win32';
  }

  private async xdotoolKey(keysym: string): Promise<void> {
    const res = await runInputTool('xdotool', ['key', keysym], this.env);
    if (res.code !== 0) throw new ForesightError('INTERNAL', `xdotool key ${keysym} failed: ${res.stderr.trim()}`);
  }

  private async pressKey(k: Key): Promise<void> {
    this.heldKeys.add(k);
    try {
      await keyboard.pressKey(k);
    } catch (e) {
      this.heldKeys.delete(k);
      throw new ForesightError('BAD_INPUT', `The key ${Key[k]} cannot be pressed: ${e instanceof Error ? e.message : String(e)}`, { key: Key[k] }, { cause: e });
    }
  }

  private async releaseKey(k: Key): Promise<void> {
    await keyboard.releaseKey(k);
    this.heldKeys.delete(k);
  }

  private async pressButton(b: Button): Promise<void> {
    this.heldButtons.add(b);
    await mouse.pressButton(b);
  }

  private async releaseButton(b: Button): Promise<void> {
    await mouse.releaseButton(b);
    this.heldButtons.delete(b);
  }

  /** Lets go of every key and button held by this adapter, and of the usual modifiers. */
  async releaseAll(): Promise<void> {
    if (!this.ready) return; // nothing was ever pressed (and the display may not exist)
    const keys = new Set<Key>([...this.heldKeys, Key.LeftControl, Key.LeftAlt, Key.LeftShift, Key.LeftSuper]);
    const errors: unknown[] = [];
    for (const k of keys) {
      try {
        await keyboard.releaseKey(k);
      } catch (e) {
        errors.push(e);
      }
    }
    this.heldKeys.clear();
    for (const b of [...this.heldButtons]) {
      try {
        await mouse.releaseButton(b);
      } catch (e) {
        errors.push(e);
      }
    }
    this.heldButtons.clear();
    if (errors.length > 0) throw new ForesightError('INTERNAL', `Could not release every key: ${String(errors[0])}`);
  }
}

function toNutButton(b: MouseButton): Button {
  switch (b) {
    case 'left':
      return Button.LEFT;
    case 'right':
      return Button.RIGHT;
    case 'middle':
      return Button.MIDDLE;
  }
}
