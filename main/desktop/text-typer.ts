/**
 * Exact Unicode text entry, one strategy per platform.
 *
 * Why not nut.js `keyboard.type`: libnut's typeString decodes UTF-8 to a code point and then
 * passes it on as a C `char` (Linux and Windows `toggleUniKey(c)` → `toggleKey(char c)`), so
 * every code point above 0xFF is truncated to its low byte. On X11 that byte goes through
 * XStringToKeysym (which knows names like "a", not characters like "ü": NoSymbol → nothing
 * is typed) and a small table of punctuation, pressed without Shift: '>' comes out as '.', '&'
 * as '7', '"' is missing from the table (a duplicate '\'' entry stands where it should be), and
 * everything non-ASCII is lost. On Windows the truncated byte goes to VkKeyScan (only what the
 * current layout can produce, and '你' = U+4F60 becomes '`'). Only the macOS build types
 * exactly: it posts each code point with CGEventKeyboardSetUnicodeString (UTF-16, surrogate
 * pairs included). See nut-tree/libnut-core src/{linux,win32,macos}/keypress.c and
 * nut-tree/nut.js issues #483, #569, #604, #618 (Unicode typing moved to a paid plugin).
 *
 * So:
 * - Linux/X11 (`XdotoolTyper`): `xdotool type`, but with every character the keymap lacks bound
 *   beforehand, with xmodmap, to a spare (empty) keycode that stays bound while typing.
 *   Plain `xdotool type` binds a scratch keycode per character and unbinds it right after the
 *   key press; a toolkit that re-reads the keymap lazily (GTK) may read it after the unbind and
 *   drop the character. Measured on Xvfb + Mousepad, typing a 198-character line with umlauts,
 *   CJK and symbols: plain `xdotool type` (its default 12 ms delay) lost 1–4 characters in 4
 *   of 18 runs, mostly right after the app started; with stable bindings no character was lost
 *   in 60+ runs, with no delay at all. A spare keycode is rebound to another character only
 *   `rebindGraceMs` after its last use (texts with more distinct characters than spare
 *   keycodes, e.g. CJK, type slower: ~70 characters/s instead of 750–1300).
 *   xdotool decodes its argument with mbstowcs, so it runs in a UTF-8 locale.
 * - macOS (`NutUnicodeTyper`): nut.js `keyboard.type`, which there is libnut's
 *   CGEventKeyboardSetUnicodeString path (exact; not testable on our machines).
 * - Windows (`SendInputTyper`): SendInput with KEYEVENTF_UNICODE from a small PowerShell helper
 *   process (libnut does not do this; not testable on our machines).
 *
 * Every strategy types in chunks (16 characters by default, ~20–40 ms on X11) and checks the
 * AbortSignal between chunks, so the kill switch stops typing within one chunk; newlines become
 * Enter and tabs Tab. A chunk in flight is not cut short: xdotool presses and releases each key
 * in separate requests, and a key left pressed would repeat into the app.
 *
 * Input children die with the agent: on Linux, xdotool runs under `setpriv --pdeathsig SIGKILL`
 * (util-linux), so the kernel kills it the moment the agent dies, even by SIGKILL, instead of
 * letting it finish its chunk (`runInputTool`). A key it pressed and had no time to release is
 * released by the supervisor of `foresight run` or its input watchdog (kill-guard.mjs).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ForesightError } from '../../common/errors.ts';
import { runToolSync, toolMissing, utf8Env, type ToolResult } from './x11.ts';
import { abortableSleep } from '../../common/sleep.ts';

export interface TextTyper {
  /** Which strategy this is, for logs: 'xdotool', 'nut-unicode', 'sendinput'. */
  readonly id: string;
  /** Types text exactly. Throws ForesightError('STOPPED') when the signal aborts. */
  type(text: string, signal?: AbortSignal): Promise<void>;
  /** Undoes what typing changed (keymap bindings), stops helper processes. */
  close(): Promise<void>;
}

export type TypingPiece = { kind: 'text'; chars: string[] } | { kind: 'key'; key: 'enter' | 'tab' };

/** Splits text into runs of characters (by code point) and the Enter/Tab presses between them. */
export function splitForTyping(text: string): TypingPiece[] {
  const pieces: TypingPiece[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length > 0) pieces.push({ kind: 'text', chars: run });
    run = [];
  };
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\r' || c === '\n') {
      if (c === '\r' && chars[i + 1] === '\n') i++;
      flush();
      pieces.push({ kind: 'key', key: 'enter' });
    } else if (c === '\t') {
      flush();
      pieces.push({ kind: 'key', key: 'tab' });
    } else {
      run.push(c);
    }
  }
  flush();
  return pieces;
}

export function stopped(): ForesightError {
  return new ForesightError('STOPPED', 'Typing stopped by the kill switch');
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw stopped();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableSleep(ms, signal, stopped);
}

// ------------------------------------------------------------------------------------ X11

let setprivPath: string | null | undefined;

/** `sh -c` script: exit 125 unless the parent is $1, else exec the rest of the arguments. */
const ORPHAN_CHECK = '[ "$PPID" = "$1" ] || exit 125; shift; exec "$@"';

/** util-linux's setpriv, when this is Linux and it is installed. */
function setpriv(): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = process.platform === 'linux' ? (['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null) : null;
  }
  return setprivPath ?? undefined;
}

/**
 * Runs a tool that sends input (xdotool) so that it dies with this process: the kernel sends it
 * SIGKILL when this process dies (prctl PR_SET_PDEATHSIG, set by setpriv before it execs the
 * tool; Node spawns from the main thread, whose end is what the kernel watches). Without setpriv
 * it runs plainly. Like runTool: ENOENT → TOOL_MISSING, a non-zero exit is returned.
 */
export function runInputTool(tool: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<ToolResult> {
  const guard = setpriv();
  return new Promise((resolve, reject) => {
    // Had this process died between the fork and setpriv's prctl, the tool would be an orphan
    // without the signal: the shell, run after the prctl, checks that its parent is still this
    // process before it becomes the tool (measured: under load that window is tens of ms).
    const child = guard
      ? spawn(guard, ['--pdeathsig', 'SIGKILL', '--', '/bin/sh', '-c', ORPHAN_CHECK, 'sh', String(process.pid), tool, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? toolMissing(tool) : new ForesightError('INTERNAL', `${tool} ${args.join(' ')} failed: ${e.message}`, { tool }, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // sh reports a tool it cannot find on stderr and exits 127.
      if (guard && code === 127 && /not found|No such file/i.test(stderr)) return reject(toolMissing(tool));
      if (signal) return reject(new ForesightError('INTERNAL', `${tool} ${args.join(' ')} was ended by ${signal}`, { tool }));
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Keysym names of printable ASCII as `xmodmap -pke` prints them (XKeysymToString). */
const ASCII_KEYSYM_NAMES: Readonly<Record<string, string>> = {
  space: ' ', exclam: '!', quotedbl: '"', numbersign: '#', dollar: '$', percent: '%', ampersand: '&',
  apostrophe: "'", quoteright: "'", parenleft: '(', parenright: ')', asterisk: '*', plus: '+', comma: ',',
  minus: '-', period: '.', slash: '/', colon: ':', semicolon: ';', less: '<', equal: '=', greater: '>',
  question: '?', at: '@', bracketleft: '[', backslash: '\\', bracketright: ']', asciicircum: '^',
  underscore: '_', grave: '`', quoteleft: '`', braceleft: '{', bar: '|', braceright: '}', asciitilde: '~',
};

function keysymNameToChar(name: string): string | undefined {
  if (/^[A-Za-z0-9]$/.test(name)) return name;
  return ASCII_KEYSYM_NAMES[name];
}

export interface X11Keymap {
  /** Printable ASCII characters the first group of the keymap produces (level 1 or 2). */
  present: Set<string>;
  /** Keycodes with no keysym at all. */
  empty: number[];
  /** The first keysym name of every keycode that has one. */
  firstSym: Map<number, string>;
}

/** Parses `xmodmap -pke` ("keycode  38 = a A a A", "keycode  93 ="). */
export function parseXmodmapKeymap(text: string): X11Keymap {
  const present = new Set<string>();
  const empty: number[] = [];
  const firstSym = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^keycode\s+(\d+)\s*=\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const code = Number(m[1]);
    const syms = m[2]!.split(/\s+/).filter((s) => s.length > 0 && s !== 'NoSymbol');
    const columns = m[2]!.split(/\s+/).filter((s) => s.length > 0);
    if (syms.length === 0) {
      empty.push(code);
      continue;
    }
    firstSym.set(code, columns[0]!);
    for (const name of columns.slice(0, 2)) {
      const c = keysymNameToChar(name);
      if (c !== undefined) present.add(c);
    }
  }
  return { present, empty, firstSym };
}

/** The keysym name xmodmap understands for any character: U+00FC → "U00FC". */
export function unicodeKeysymName(char: string): string {
  return `U${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Runs an input tool to completion (runInputTool, or the supervisor of `foresight run` doing it). */
export type InputToolRunner = (tool: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<ToolResult>;

export interface XdotoolTyperOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * Who starts xdotool and xmodmap (default: runInputTool, as a child of this process). The CLI
   * hands it to its supervisor, the process a user kills, so that xdotool dies the moment that
   * one does; without a supervisor, a tool host (tool-host.ts). Either way the agent does not
   * fork itself (why: tool-host.mjs).
   */
  runTool?: InputToolRunner;
  /** Characters per xdotool call; the kill switch is checked between calls. */
  chunkSize?: number;
  /** xdotool --delay between keystrokes, in ms. */
  keyDelayMs?: number;
  /** A spare keycode is rebound to another character only this long after its last use. */
  rebindGraceMs?: number;
  /**
   * Spare keycodes are unbound after typing has been idle this long (default: never before
   * `close()` and process exit). An unbinding is a keymap change every X client hears about
   * (MappingNotify); one landing while the agent's next click opens a menu lost that click in
   * GTK (Mousepad's File menu under load), so it waits for the end of the run by default.
   */
  restoreAfterMs?: number;
}

interface Binding {
  char: string;
  lastUsed: number;
  /** The keysym name xmodmap prints for it, once seen. */
  printed?: string;
}

/**
 * Linux/X11: `xdotool type` per chunk, with characters the keymap lacks bound to spare
 * keycodes (xmodmap) before the chunk and left bound while typing goes on.
 */
export class XdotoolTyper implements TextTyper {
  readonly id = 'xdotool';
  private readonly env: NodeJS.ProcessEnv;
  private readonly chunkSize: number;
  private readonly keyDelayMs: number;
  private readonly rebindGraceMs: number;
  private readonly restoreAfterMs: number;
  private readonly runTool: InputToolRunner;
  /** Our bindings: keycode → character. */
  private readonly bound = new Map<number, Binding>();
  private spare: number[] = [];
  private present = new Set<string>();
  private keymapKnown = false;
  private exitHook = false;
  private restoreTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onExit = () => this.restoreSync();

  constructor(opts: XdotoolTyperOptions = {}) {
    this.env = utf8Env(opts.env ?? process.env);
    this.chunkSize = Math.max(1, opts.chunkSize ?? 16);
    this.keyDelayMs = Math.max(0, opts.keyDelayMs ?? 0);
    this.rebindGraceMs = opts.rebindGraceMs ?? 100;
    this.restoreAfterMs = opts.restoreAfterMs ?? Infinity;
    this.runTool = opts.runTool ?? runInputTool;
  }

  type(text: string, signal?: AbortSignal): Promise<void> {
    // One typing at a time: two interleaved ones would fight over the spare keycodes.
    const run = this.queue.then(() => this.typeNow(text, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async typeNow(text: string, signal: AbortSignal | undefined): Promise<void> {
    checkAbort(signal);
    this.cancelRestore();
    try {
      const pieces = splitForTyping(text);
      const printableAscii = pieces.every((p) => p.kind === 'key' || p.chars.every((c) => c >= ' ' && c <= '~'));
      try {
        await this.loadKeymap();
      } catch (e) {
        // Without xmodmap, xdotool alone still types what the keymap has (ASCII on Latin layouts).
        if (!(e instanceof ForesightError && e.code === 'TOOL_MISSING' && printableAscii)) throw e;
        this.keymapKnown = false;
      }
      for (const piece of pieces) {
        checkAbort(signal);
        if (piece.kind === 'key') {
          await this.xdotool(['key', piece.key === 'enter' ? 'Return' : 'Tab']);
          continue;
        }
        let pos = 0;
        while (pos < piece.chars.length) {
          checkAbort(signal);
          const chunk = await this.prepareChunk(piece.chars, pos, signal);
          await this.xdotool(['type', '--delay', String(this.keyDelayMs), '--', chunk.join('')]);
          const now = Date.now();
          for (const c of chunk) {
            const code = this.keycodeOf(c);
            if (code !== undefined) this.bound.get(code)!.lastUsed = now;
          }
          pos += chunk.length;
        }
      }
    } finally {
      this.scheduleRestore();
    }
  }

  /** Takes up to chunkSize characters from pos, binding those the keymap lacks. */
  private async prepareChunk(chars: readonly string[], pos: number, signal: AbortSignal | undefined): Promise<string[]> {
    if (!this.keymapKnown) return chars.slice(pos, pos + this.chunkSize);
    const chunk: string[] = [];
    const usedCodes = new Set<number>();
    const toBind = new Map<number, string>();
    let waitUntil = 0;
    for (let i = pos; i < chars.length && chunk.length < this.chunkSize; i++) {
      const c = chars[i]!;
      if (this.present.has(c)) {
        chunk.push(c);
        continue;
      }
      let code = this.keycodeOf(c) ?? [...toBind].find(([, ch]) => ch === c)?.[0];
      if (code === undefined) {
        code = this.spare.find((k) => !this.bound.has(k) && !toBind.has(k));
        if (code === undefined) {
          // Recycle the least recently used binding that this chunk does not use.
          let lru: [number, Binding] | undefined;
          for (const entry of this.bound) {
            if (usedCodes.has(entry[0]) || toBind.has(entry[0])) continue;
            if (!lru || entry[1].lastUsed < lru[1].lastUsed) lru = entry;
          }
          if (!lru) {
            if (chunk.length > 0) break;
            throw new ForesightError('INTERNAL', `No spare keycode in the X keymap to type ${JSON.stringify(c)}`);
          }
          code = lru[0];
          waitUntil = Math.max(waitUntil, lru[1].lastUsed + this.rebindGraceMs);
        }
        toBind.set(code, c);
      }
      usedCodes.add(code);
      chunk.push(c);
    }
    if (toBind.size > 0) {
      const wait = waitUntil - Date.now();
      if (wait > 0) await sleep(wait, signal);
      const args = [...toBind].flatMap(([code, c]) => ['-e', `keycode ${code} = ${unicodeKeysymName(c)} ${unicodeKeysymName(c)}`]);
      if (!this.exitHook) {
        process.once('exit', this.onExit);
        this.exitHook = true;
      }
      const now = Date.now();
      for (const [code, c] of toBind) this.bound.set(code, { char: c, lastUsed: now });
      await this.xmodmap(args);
    }
    return chunk;
  }

  private keycodeOf(char: string): number | undefined {
    for (const [code, b] of this.bound) if (b.char === char) return code;
    return undefined;
  }

  /** Reads the keymap; keeps our bindings that are still in place, forgets the others. */
  private async loadKeymap(): Promise<void> {
    const res = await this.runTool('xmodmap', ['-pke'], this.env);
    if (res.code !== 0) throw new ForesightError('DISPLAY_UNAVAILABLE', `xmodmap could not read the keymap: ${res.stderr.trim()}`);
    const map = parseXmodmapKeymap(res.stdout);
    for (const [code, b] of [...this.bound]) {
      // xmodmap prints our keysym by name ("udiaeresis", "U4F60"): note it the first time,
      // and drop the binding when someone else remapped the keycode since (setxkbmap).
      const sym = map.firstSym.get(code);
      if (sym === undefined || (b.printed !== undefined && b.printed !== sym)) this.bound.delete(code);
      else b.printed = sym;
    }
    // Keycode 8 is the lowest X keycode and no evdev key; some clients ignore it: use it last.
    this.spare = [...map.empty.filter((k) => k !== 8), ...map.empty.filter((k) => k === 8), ...this.bound.keys()];
    this.present = map.present;
    this.keymapKnown = true;
  }

  private async xdotool(args: string[]): Promise<void> {
    const res = await this.runTool('xdotool', args, this.env);
    const lost = /I don't what key produces|Invalid multi-byte sequence/.exec(res.stderr);
    if (res.code !== 0 || lost) {
      if (/can'?t open display/i.test(res.stderr)) {
        throw new ForesightError('DISPLAY_UNAVAILABLE', `xdotool cannot open display ${this.env.DISPLAY ?? '(unset)'}`);
      }
      throw new ForesightError('INTERNAL', `xdotool ${args[0]} failed: ${res.stderr.trim() || `exit code ${res.code}`}`);
    }
  }

  private async xmodmap(args: string[]): Promise<void> {
    const res = await this.runTool('xmodmap', args, this.env);
    if (res.code !== 0) throw new ForesightError('INTERNAL', `xmodmap could not bind a spare keycode: ${res.stderr.trim()}`);
  }

  private cancelRestore(): void {
    if (this.restoreTimer) clearTimeout(this.restoreTimer);
    this.restoreTimer = undefined;
  }

  private scheduleRestore(): void {
    if (this.bound.size === 0 || !Number.isFinite(this.restoreAfterMs)) return;
    this.cancelRestore();
    this.restoreTimer = setTimeout(() => {
      this.restoreTimer = undefined;
      this.queue = this.queue.then(() => this.restore()).catch(() => undefined);
    }, this.restoreAfterMs);
    this.restoreTimer.unref();
  }

  private restoreArgs(): string[] {
    return [...this.bound.keys()].flatMap((code) => ['-e', `keycode ${code} =`]);
  }

  /** Unbinds our spare keycodes. */
  private async restore(): Promise<void> {
    if (this.bound.size === 0) return;
    const args = this.restoreArgs();
    this.bound.clear();
    try {
      await this.runTool('xmodmap', args, this.env);
    } catch {
      // the display may be gone; nothing left to undo then
    }
  }

  private restoreSync(): void {
    if (this.bound.size === 0) return;
    runToolSync('xmodmap', this.restoreArgs(), this.env);
    this.bound.clear();
  }

  async close(): Promise<void> {
    this.cancelRestore();
    await this.queue;
    await this.restore();
  }
}

// ------------------------------------------------------------------------------------ macOS

/**
 * macOS: libnut's typeString posts every code point with CGEventKeyboardSetUnicodeString
 * (surrogate pairs for astral characters), which is exact. Enter and Tab are pressed as keys:
 * the Unicode events carry virtual keycode 0, which some apps read as the 'a' key.
 */
export class NutUnicodeTyper implements TextTyper {
  readonly id = 'nut-unicode';
  private readonly chunkSize: number;

  constructor(opts: { chunkSize?: number } = {}) {
    this.chunkSize = Math.max(1, opts.chunkSize ?? 16);
  }

  async type(text: string, signal?: AbortSignal): Promise<void> {
    const { keyboard, Key } = await import('@nut-tree-fork/nut-js');
    keyboard.config.autoDelayMs = 0;
    for (const piece of splitForTyping(text)) {
      checkAbort(signal);
      if (piece.kind === 'key') {
        await keyboard.type(piece.key === 'enter' ? Key.Return : Key.Tab);
        continue;
      }
      for (let pos = 0; pos < piece.chars.length; pos += this.chunkSize) {
        checkAbort(signal);
        await keyboard.type(piece.chars.slice(pos, pos + this.chunkSize).join(''));
      }
    }
  }

  async close(): Promise<void> {}
}

// ---------------------------------------------------------------------------------- Windows

/**
 * A PowerShell helper that sends each UTF-16 unit with SendInput(KEYEVENTF_UNICODE), and Enter
 * and Tab as virtual keys. Protocol, one line each way: "T <base64 UTF-8 text>" or "K <vk>";
 * answers "ok" or "err <message>". Started once, kept for the process.
 */
const SENDINPUT_HELPER = String.raw`
$ErrorActionPreference = 'Stop'
Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
public static class ForesightSendInput {
  [StructLayout(LayoutKind.Sequential)]
  struct KEYBDINPUT { public ushort wVk; public ushort wScan; public uint dwFlags; public uint time; public IntPtr dwExtraInfo; }
  [StructLayout(LayoutKind.Sequential)]
  struct MOUSEINPUT { public int dx; public int dy; public uint mouseData; public uint dwFlags; public uint time; public IntPtr dwExtraInfo; }
  [StructLayout(LayoutKind.Explicit)]
  struct InputUnion { [FieldOffset(0)] public MOUSEINPUT mi; [FieldOffset(0)] public KEYBDINPUT ki; }
  [StructLayout(LayoutKind.Sequential)]
  struct INPUT { public uint type; public InputUnion u; }
  [DllImport("user32.dll", SetLastError = true)]
  static extern uint SendInput(uint count, INPUT[] inputs, int size);
  const uint INPUT_KEYBOARD = 1, KEYEVENTF_KEYUP = 2, KEYEVENTF_UNICODE = 4;
  static INPUT Key(ushort vk, ushort scan, uint flags) {
    INPUT i = new INPUT(); i.type = INPUT_KEYBOARD; i.u.ki.wVk = vk; i.u.ki.wScan = scan; i.u.ki.dwFlags = flags; return i;
  }
  static uint Send(List<INPUT> list) {
    INPUT[] a = list.ToArray();
    return SendInput((uint)a.Length, a, Marshal.SizeOf(typeof(INPUT))) == (uint)a.Length ? 0u : (uint)a.Length;
  }
  public static uint Text(string s) {
    List<INPUT> list = new List<INPUT>();
    foreach (char c in s) { list.Add(Key(0, c, KEYEVENTF_UNICODE)); list.Add(Key(0, c, KEYEVENTF_UNICODE | KEYEVENTF_KEYUP)); }
    return Send(list);
  }
  public static uint Vk(ushort vk) {
    List<INPUT> list = new List<INPUT>();
    list.Add(Key(vk, 0, 0)); list.Add(Key(vk, 0, KEYEVENTF_KEYUP));
    return Send(list);
  }
}
'@
[Console]::Out.WriteLine('ready')
while ($null -ne ($line = [Console]::In.ReadLine())) {
  try {
    if ($line.StartsWith('T ')) { $failed = [ForesightSendInput]::Text([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($line.Substring(2)))) }
    elseif ($line.StartsWith('K ')) { $failed = [ForesightSendInput]::Vk([uint16]$line.Substring(2)) }
    else { [Console]::Out.WriteLine('err unknown command'); continue }
    if ($failed -eq 0) { [Console]::Out.WriteLine('ok') } else { [Console]::Out.WriteLine('err SendInput was blocked (another desktop, or a window of higher integrity in front)') }
  } catch { [Console]::Out.WriteLine('err ' + $_.Exception.Message) }
}
`;

const VK_RETURN = 0x0d;
const VK_TAB = 0x09;

/** Windows: SendInput with KEYEVENTF_UNICODE, which libnut does not use (see the module comment). */
export class SendInputTyper implements TextTyper {
  readonly id = 'sendinput';
  private readonly chunkSize: number;
  private helper: Promise<{ child: ChildProcessWithoutNullStreams; next: () => Promise<string> }> | undefined;

  constructor(opts: { chunkSize?: number } = {}) {
    this.chunkSize = Math.max(1, opts.chunkSize ?? 16);
  }

  private start() {
    if (this.helper) return this.helper;
    this.helper = new Promise((resolve, reject) => {
      const encoded = Buffer.from(SENDINPUT_HELPER, 'utf16le').toString('base64');
      const child = spawn('powershell.exe', ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encoded], {
        windowsHide: true,
      });
      const lines: string[] = [];
      const waiters: Array<(l: string) => void> = [];
      let partial = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        partial += d;
        const parts = partial.split(/\r?\n/);
        partial = parts.pop() ?? '';
        for (const l of parts) {
          const w = waiters.shift();
          if (w) w(l);
          else lines.push(l);
        }
      });
      const next = () => {
        const l = lines.shift();
        return l !== undefined ? Promise.resolve(l) : new Promise<string>((r) => waiters.push(r));
      };
      child.on('error', (e: NodeJS.ErrnoException) => {
        this.helper = undefined;
        reject(e.code === 'ENOENT' ? new ForesightError('TOOL_MISSING', 'powershell.exe is needed to type Unicode text on Windows') : e);
      });
      child.on('exit', () => {
        this.helper = undefined;
        for (const w of waiters.splice(0)) w('err the typing helper exited');
      });
      child.unref();
      void next().then((l) => (l === 'ready' ? resolve({ child, next }) : reject(new ForesightError('INTERNAL', `Typing helper failed to start: ${l}`))));
    });
    return this.helper;
  }

  private async send(line: string): Promise<void> {
    const { child, next } = await this.start();
    child.stdin.write(line + '\n');
    const answer = await next();
    if (answer !== 'ok') throw new ForesightError('INTERNAL', `Typing failed: ${answer.replace(/^err /, '')}`);
  }

  async type(text: string, signal?: AbortSignal): Promise<void> {
    for (const piece of splitForTyping(text)) {
      checkAbort(signal);
      if (piece.kind === 'key') {
        await this.send(`K ${piece.key === 'enter' ? VK_RETURN : VK_TAB}`);
        continue;
      }
      for (let pos = 0; pos < piece.chars.length; pos += this.chunkSize) {
        checkAbort(signal);
        await this.send(`T ${Buffer.from(piece.chars.slice(pos, pos + this.chunkSize).join(''), 'utf8').toString('base64')}`);
      }
    }
  }

  async close(): Promise<void> {
    const h = this.helper;
    this.helper = undefined;
    if (h) (await h).child.stdin.end();
  }
}

// ---------------------------------------------------------------------------------- factory

export interface TextTyperOptions extends XdotoolTyperOptions {
  platform?: NodeJS.Platform;
}

/** The exact typer of this platform. */
export function createTextTyper(opts: TextTyperOptions = {}): TextTyper {
  const platform = opts.platform ?? process.platform;
  if (platform === 'darwin') return new NutUnicodeTyper(opts);
  if (platform === 'win32') return new SendInputTyper(opts);
  return new XdotoolTyper(opts);
}
