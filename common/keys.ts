import { ForesightError } from './errors.ts';

/**
 * Key names. Models write keys many ways ("Ctrl", "control", "cmd", "Return", "PgDn",
 * "arrowleft", "ctrl+shift+s", ["ctrl", "s"]); everything past the parser speaks one
 * canonical, lower-case set:
 *
 * - modifiers: ctrl, alt, shift, meta (the Windows/Super/Command key), and their right-hand
 *   variants ctrlright, altright (AltGr), shiftright, metaright;
 * - named keys: enter, escape, tab, space, backspace, delete, arrows, f1–f24, …;
 * - character keys: one character. Letters are lower case ("ctrl+A" means ctrl+a, as models
 *   mean it). The unshifted keys of a US keyboard (a–z, 0–9 and `-=[]\;',./`) are
 *   `BASE_CHAR_KEYS`; any other single character ('?', 'é', '你') is allowed too, and
 *   adapters produce it by typing it (exact Unicode) with the modifiers held.
 */

export const MODIFIER_KEYS = ['ctrl', 'alt', 'shift', 'meta', 'ctrlright', 'altright', 'shiftright', 'metaright'] as const;
export type ModifierKey = (typeof MODIFIER_KEYS)[number];

const FUNCTION_KEYS = Array.from({ length: 24 }, (_, i) => `f${i + 1}`);
const NUMPAD_KEYS = Array.from({ length: 10 }, (_, i) => `numpad${i}`);

export const NAMED_KEYS = [
  ...MODIFIER_KEYS,
  'enter',
  'escape',
  'tab',
  'space',
  'backspace',
  'delete',
  'insert',
  'home',
  'end',
  'pageup',
  'pagedown',
  'up',
  'down',
  'left',
  'right',
  'capslock',
  'numlock',
  'scrolllock',
  'printscreen',
  'pause',
  'menu',
  'fn',
  'clear',
  ...FUNCTION_KEYS,
  ...NUMPAD_KEYS,
  'add',
  'subtract',
  'multiply',
  'divide',
  'decimal',
  'volumeup',
  'volumedown',
  'volumemute',
  'playpause',
  'stop',
  'nexttrack',
  'prevtrack',
] as const;
export type NamedKey = (typeof NAMED_KEYS)[number];

/** The unshifted keys of a US keyboard: every layout-independent adapter can press these. */
export const BASE_CHAR_KEYS: ReadonlySet<string> = new Set([
  ...'abcdefghijklmnopqrstuvwxyz0123456789',
  ...'-=[]\\;\',./`',
]);

/**
 * A canonical key: a `NamedKey` or exactly one character (see the module comment).
 * Kept a string so that any character can be a key; use isNamedKey / isCharKey to tell.
 */
export type KeyName = string;

const NAMED_SET: ReadonlySet<string> = new Set(NAMED_KEYS);
const MODIFIER_SET: ReadonlySet<string> = new Set(MODIFIER_KEYS);

/** Spellings seen in model output, pyautogui, xdotool, Playwright and nut.js, squashed (see squash). */
const ALIASES: Readonly<Record<string, string>> = {
  // modifiers
  control: 'ctrl',
  ctl: 'ctrl',
  ctrlleft: 'ctrl',
  leftctrl: 'ctrl',
  controlleft: 'ctrl',
  leftcontrol: 'ctrl',
  lctrl: 'ctrl',
  ctrll: 'ctrl',
  controll: 'ctrl',
  ctrlr: 'ctrlright',
  controlr: 'ctrlright',
  altl: 'alt',
  altr: 'altright',
  shiftl: 'shift',
  shiftr: 'shiftright',
  metal: 'meta',
  metar: 'metaright',
  strg: 'ctrl',
  rightctrl: 'ctrlright',
  controlright: 'ctrlright',
  rightcontrol: 'ctrlright',
  rctrl: 'ctrlright',
  option: 'alt',
  opt: 'alt',
  altleft: 'alt',
  leftalt: 'alt',
  optionleft: 'alt',
  lalt: 'alt',
  menuleft: 'alt',
  rightalt: 'altright',
  optionright: 'altright',
  altgr: 'altright',
  altgraph: 'altright',
  ralt: 'altright',
  shiftleft: 'shift',
  leftshift: 'shift',
  lshift: 'shift',
  rightshift: 'shiftright',
  rshift: 'shiftright',
  cmd: 'meta',
  command: 'meta',
  super: 'meta',
  win: 'meta',
  windows: 'meta',
  winleft: 'meta',
  leftwin: 'meta',
  lwin: 'meta',
  metaleft: 'meta',
  leftmeta: 'meta',
  superleft: 'meta',
  leftsuper: 'meta',
  superl: 'meta',
  cmdleft: 'meta',
  commandleft: 'meta',
  os: 'meta',
  winright: 'metaright',
  rightwin: 'metaright',
  rwin: 'metaright',
  rightmeta: 'metaright',
  superright: 'metaright',
  rightsuper: 'metaright',
  superr: 'metaright',
  cmdright: 'metaright',
  commandright: 'metaright',
  // named keys
  return: 'enter',
  ret: 'enter',
  kpenter: 'enter',
  numpadenter: 'enter',
  esc: 'escape',
  spacebar: 'space',
  bksp: 'backspace',
  bs: 'backspace',
  del: 'delete',
  forwarddelete: 'delete',
  ins: 'insert',
  pgup: 'pageup',
  prior: 'pageup',
  pgdn: 'pagedown',
  pgdown: 'pagedown',
  next: 'pagedown',
  arrowup: 'up',
  uparrow: 'up',
  arrowdown: 'down',
  downarrow: 'down',
  arrowleft: 'left',
  leftarrow: 'left',
  arrowright: 'right',
  rightarrow: 'right',
  caps: 'capslock',
  capital: 'capslock',
  num: 'numlock',
  scroll: 'scrolllock',
  scrlk: 'scrolllock',
  print: 'printscreen',
  prtsc: 'printscreen',
  prtscr: 'printscreen',
  prntscrn: 'printscreen',
  printscr: 'printscreen',
  snapshot: 'printscreen',
  break: 'pause',
  apps: 'menu',
  application: 'menu',
  contextmenu: 'menu',
  function: 'fn',
  plus: '+',
  minus: '-',
  hyphen: '-',
  dash: '-',
  equal: '=',
  equals: '=',
  comma: ',',
  period: '.',
  dot: '.',
  fullstop: '.',
  slash: '/',
  forwardslash: '/',
  backslash: '\\',
  semicolon: ';',
  colon: ':',
  quote: "'",
  apostrophe: "'",
  singlequote: "'",
  quotedbl: '"',
  doublequote: '"',
  grave: '`',
  backquote: '`',
  backtick: '`',
  tilde: '~',
  bracketleft: '[',
  leftbracket: '[',
  openbracket: '[',
  lbracket: '[',
  bracketright: ']',
  rightbracket: ']',
  closebracket: ']',
  rbracket: ']',
  braceleft: '{',
  braceright: '}',
  parenleft: '(',
  parenright: ')',
  less: '<',
  greater: '>',
  question: '?',
  exclam: '!',
  at: '@',
  numbersign: '#',
  hash: '#',
  dollar: '$',
  percent: '%',
  asciicircum: '^',
  caret: '^',
  ampersand: '&',
  asterisk: '*',
  star: '*',
  underscore: '_',
  bar: '|',
  pipe: '|',
  volup: 'volumeup',
  audiovolup: 'volumeup',
  audioraisevolume: 'volumeup',
  voldown: 'volumedown',
  audiovoldown: 'volumedown',
  audiolowervolume: 'volumedown',
  mute: 'volumemute',
  volmute: 'volumemute',
  audiomute: 'volumemute',
  play: 'playpause',
  mediaplaypause: 'playpause',
  audioplay: 'playpause',
  mediastop: 'stop',
  audiostop: 'stop',
  medianexttrack: 'nexttrack',
  audionext: 'nexttrack',
  mediaprevtrack: 'prevtrack',
  mediaprevioustrack: 'prevtrack',
  audioprev: 'prevtrack',
  numpadadd: 'add',
  kpadd: 'add',
  numpadsubtract: 'subtract',
  kpsubtract: 'subtract',
  numpadmultiply: 'multiply',
  kpmultiply: 'multiply',
  numpaddivide: 'divide',
  kpdivide: 'divide',
  numpaddecimal: 'decimal',
  kpdecimal: 'decimal',
};

/** Single characters that stand for a named key. */
const CHAR_ALIASES: Readonly<Record<string, NamedKey>> = { ' ': 'space', '\n': 'enter', '\r': 'enter', '\t': 'tab' };

/** Lower case, without the separators people put inside one name ("Page_Down", "Arrow Left"). */
function squash(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

function codePoints(s: string): string[] {
  return Array.from(s);
}

export function isModifier(key: KeyName): key is ModifierKey {
  return MODIFIER_SET.has(key);
}

export function isNamedKey(key: KeyName): key is NamedKey {
  return NAMED_SET.has(key);
}

/** One character that is not a named key ('a', '/', '?', 'é'). */
export function isCharKey(key: KeyName): boolean {
  return codePoints(key).length === 1 && !CHAR_ALIASES[key];
}

function unknownKey(name: string): ForesightError {
  return new ForesightError(
    'BAD_INPUT',
    `Unknown key ${JSON.stringify(name)}. Use a single character or a key name such as ctrl, alt, shift, meta, enter, escape, tab, space, backspace, delete, up, pagedown, home, f5`,
    { key: name },
  );
}

/** The canonical name of one key, or BAD_INPUT when nothing matches. */
export function normalizeKey(name: string): KeyName {
  if (typeof name !== 'string' || name.length === 0) throw unknownKey(String(name));
  const chars = codePoints(name);
  if (chars.length === 1) {
    const alias = CHAR_ALIASES[name];
    if (alias) return alias;
    if (/\p{C}/u.test(name)) throw unknownKey(name);
    return name.toLowerCase();
  }
  const trimmed = name.trim();
  if (trimmed !== name) return normalizeKey(trimmed.length > 0 ? trimmed : ' ');
  const s = squash(name);
  if (NAMED_SET.has(s)) return s;
  const alias = ALIASES[s];
  if (alias !== undefined) return alias;
  // "num5", "kp5", "numpad_5"; "F5" is caught above
  const numpad = /^(?:numpad|num|kp|keypad)(\d)$/.exec(s);
  if (numpad) return `numpad${numpad[1]}`;
  throw unknownKey(name);
}

/**
 * Splits one combo string into key names: "ctrl+shift+s", "Ctrl + S", "ctrl++", "ctrl+Page Down",
 * "ctrl s" (spaces separate only when there is no "+"), "ctrl-shift-s" (dashes separate only
 * when every part before the last is a modifier).
 */
function splitCombo(combo: string): string[] {
  if (!combo.includes('+')) {
    const words = combo.trim().split(/\s+/).filter((w) => w.length > 0);
    // "page down" is one key; "ctrl right" is ctrl + the right arrow, not the right ctrl key.
    const startsWithModifier = words.length > 1 && isKnownName(words[0]!) && isModifier(normalizeKey(words[0]!));
    if (words.length > 1 && isKnownName(combo) && !startsWithModifier) return [combo.trim()];
    return words.flatMap(splitDashes);
  }
  const tokens: string[] = [];
  let expectKey = true;
  let i = 0;
  while (i < combo.length) {
    const c = combo[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '+' && !expectKey) {
      expectKey = true;
      i++;
      continue;
    }
    let token: string;
    if (c === '+') {
      token = '+';
      i++;
    } else {
      const end = combo.indexOf('+', i);
      const j = end < 0 ? combo.length : end;
      token = combo.slice(i, j).trim();
      i = j;
    }
    tokens.push(token);
    expectKey = false;
  }
  if (expectKey && tokens.length > 0) {
    throw new ForesightError('BAD_INPUT', `Key combination ${JSON.stringify(combo)} ends with "+"; write "ctrl+plus" for the plus key`, { keys: combo });
  }
  return tokens.flatMap(splitDashes);
}

function isKnownName(name: string): boolean {
  try {
    normalizeKey(name);
    return true;
  } catch {
    return false;
  }
}

/** "ctrl-shift-s" → ["ctrl", "shift", "s"], but "page-down" stays one name. */
function splitDashes(token: string): string[] {
  if (token.length < 3 || !token.includes('-')) return [token];
  const parts = token.split('-');
  // "ctrl--" splits into ["ctrl", "", ""]: the key is the dash itself
  if (parts.length >= 3 && parts.at(-1) === '' && parts.at(-2) === '') parts.splice(-2, 2, '-');
  if (parts.some((p) => p === '')) return [token];
  const mods = parts.slice(0, -1);
  const allMods = mods.every((p) => isKnownName(p) && isModifier(normalizeKey(p)));
  return allMods ? parts : [token];
}

/**
 * Parses a key combination into canonical names, modifiers first (in the order given), then
 * the other keys. Accepts "ctrl+shift+s", "ctrl s", ["ctrl", "shift", "s"], ["ctrl+s"].
 * Duplicates are dropped. BAD_INPUT for unknown names or an empty combination.
 */
export function parseKeyCombo(input: string | readonly string[]): KeyName[] {
  const raw =
    typeof input === 'string'
      ? splitCombo(input)
      : input.flatMap((k) => (typeof k === 'string' && codePoints(k).length > 1 && /[+\s-]/.test(k.trim()) ? splitCombo(k) : [k]));
  const keys: KeyName[] = [];
  for (const r of raw) {
    const k = normalizeKey(r);
    if (!keys.includes(k)) keys.push(k);
  }
  if (keys.length === 0) {
    throw new ForesightError('BAD_INPUT', 'Empty key combination: name at least one key, e.g. ["ctrl", "s"] or ["enter"]', { keys: typeof input === 'string' ? input : [...input] });
  }
  return [...keys.filter(isModifier), ...keys.filter((k) => !isModifier(k))];
}

/** The combination as people write it: "ctrl+shift+s". */
export function formatKeyCombo(keys: readonly KeyName[]): string {
  return keys.map((k) => (k === '+' ? 'plus' : k)).join('+');
}
