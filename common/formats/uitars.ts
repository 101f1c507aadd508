/**
 * UI-TARS 1.0 and 1.5: `Thought: … Action: click(start_box='(x,y)')`, one step per action call,
 * with the model's own point converted into one of our coordinate spaces: the 0–1000 grid for
 * 1.0, pixels of the smart-resized image for 1.5 (converted back onto the screenshot, so 1.5
 * needs the screenshot size). The one place a UI-TARS `Action` is built is `uiTarsAction`.
 *
 * Time linear in the answer: calls and their arguments are scanned by hand, and the search for
 * an argument's closing quote remembers its last answer (see `ArgReader`).
 */
import { DIRECTIONS, actionFromFields, typeNeedsPoint, type Action, type ActionFields, type ActionType, type Direction, type Forecast, type ForecastFormat, type ForecastStep } from '../actions.ts';
import { assertNever } from '../assert.ts';
import type { SpacePoint } from '../coords.ts';
import { ForesightError, isForesightError } from '../errors.ts';
import { smartResize } from '../image-resize.ts';
import { parseKeyCombo } from '../keys.ts';
import { MAX_FORECAST_STEPS, Problems, clip, count, finishForecast, parseError, type ImageSize, type ModelFormat, type ParseContext } from './format.ts';
import { ESCAPES, LimitExceeded, isSpace } from './lexer.ts';

export type UiTarsVersion = '1.0' | '1.5';

interface UiTarsCall {
  name: string;
  args: Map<string, string>;
  text: string;
}

/** UI-TARS function names → ours. mouse_down / mouse_up have no equivalent and are refused. */
const UITARS_ACTIONS: Readonly<Record<string, ActionType>> = {
  click: 'click',
  left_single: 'click',
  left_double: 'double_click',
  double_click: 'double_click',
  right_single: 'right_click',
  right_click: 'right_click',
  drag: 'drag',
  select: 'drag',
  hover: 'move',
  move: 'move',
  mouse_move: 'move',
  move_to: 'move',
  hotkey: 'hotkey',
  press: 'key',
  key: 'key',
  keypress: 'key',
  type: 'type',
  scroll: 'scroll',
  wait: 'wait',
  finished: 'finished',
  call_user: 'call_user',
  long_press: 'long_press',
  open_app: 'open_app',
  press_home: 'navigate_home',
  press_back: 'navigate_back',
  press_recent: 'navigate_recent',
  fail: 'fail',
  error_env: 'fail',
};

/** Which argument a positional value stands for, per function. */
const POSITIONAL: Readonly<Record<string, readonly string[]>> = {
  drag: ['start_box', 'end_box'],
  select: ['start_box', 'end_box'],
  type: ['content'],
  finished: ['content'],
  hotkey: ['key'],
  press: ['key'],
  key: ['key'],
  keypress: ['key'],
  open_app: ['app_name'],
  scroll: ['start_box', 'direction'],
};

function parseUiTars(raw: string, version: UiTarsVersion, ctx: ParseContext | undefined): Forecast {
  if (version === '1.5' && !ctx) {
    throw new ForesightError('BAD_INPUT', 'UI-TARS-1.5 answers need the screenshot size (ctx) to convert their smart-resized pixel coordinates');
  }
  const format: ForecastFormat = version === '1.0' ? 'uitars-1.0' : 'uitars-1.5';
  const problems = new Problems();
  const actionAt = /(^|\n)[ \t]*(?:\*\*)?Action(?:\*\*)?[ \t]*:/i.exec(raw);
  if (!actionAt) {
    throw parseError(raw, [`no "Action:" line found (expected Thought: ... then Action: click(start_box='(x,y)'))`]);
  }
  const thought = uiTarsThought(raw.slice(0, actionAt.index));
  const instruction = thought.replace(/\s+/g, ' ').trim();
  const calls = readCalls(raw.slice(actionAt.index + actionAt[0].length), problems);
  const resized = version === '1.5' && ctx ? smartResize(ctx.imageWidth, ctx.imageHeight) : undefined;
  const steps: ForecastStep[] = [];
  calls.forEach((call, i) => {
    const where = calls.length > 1 ? `Action ${i + 1} (${clip(call.text, 60)})` : clip(call.text, 60);
    const step = uiTarsStep(call, instruction, where, version, ctx, resized, problems);
    if (step) steps.push(step);
  });
  if (calls.length === 0 && !problems.any) problems.add(undefined, `the "Action:" line holds no action (expected e.g. click(start_box='(x,y)'))`);
  if (problems.any) throw parseError(raw, problems.list);
  return finishForecast(raw, { format, ...(thought ? { thought } : {}), steps });
}

/** "Thought: …" (or "Action_Summary: …", or <think>…</think>, or whatever precedes Action:). */
function uiTarsThought(pre: string): string {
  const t = /(?:^|\n)[ \t]*(?:\*\*)?Thought(?:\*\*)?[ \t]*:([\s\S]*)$/i.exec(pre);
  if (t) return t[1]!.trim();
  const s = /(?:^|\n)[ \t]*Action_Summary[ \t]*:([\s\S]*)$/i.exec(pre);
  if (s) return s[1]!.trim();
  const think = /<think\s*>([\s\S]*?)(?:<\/think\s*>|$)/i.exec(pre);
  if (think) return think[1]!.trim();
  return pre.replace(/<\/?think\s*>/gi, '').trim();
}

const isIdentStart = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
const isIdent = (c: number) => isIdentStart(c) || (c >= 0x30 && c <= 0x39);

/**
 * The text after "Action:", read call by call. Every scan here moves forward or looks ahead a
 * bounded way, except the search for a quoted argument's lenient end, which is remembered.
 */
class ArgReader {
  /** Per quote character, the last lenient end found: from `from` on, the first is at `at` (-1: none). */
  private readonly closerMemo = new Map<string, { from: number; at: number }>();

  constructor(readonly src: string) {}

  /** The end of an identifier starting at p (p itself when there is none). */
  ident(p: number): number {
    const s = this.src;
    if (!isIdentStart(s.charCodeAt(p))) return p;
    let q = p + 1;
    while (isIdent(s.charCodeAt(q))) q++;
    return q;
  }

  /** Past blanks and backticks, and any further "Action:" (each call may have its own). */
  skipToCall(p: number): number {
    const s = this.src;
    for (;;) {
      while (p < s.length && (isSpace(s.charCodeAt(p)) || s[p] === '`')) p++;
      const next = this.actionLabel(p);
      if (next === p) return p;
      p = next;
    }
  }

  /** `(?:\*\*)?Action(?:\*\*)?[ \t]*:` at p → the position after it, else p. */
  private actionLabel(p: number): number {
    const s = this.src;
    let q = p;
    if (s.startsWith('**', q)) q += 2;
    if (s.slice(q, q + 6).toLowerCase() !== 'action') return p;
    q += 6;
    if (s.startsWith('**', q)) q += 2;
    while (s[q] === ' ' || s[q] === '\t') q++;
    return s[q] === ':' ? q + 1 : p;
  }

  /** `name=` at p → the lower-cased name and the position of its value; else undefined. */
  keyword(p: number): { name: string; at: number } | undefined {
    const s = this.src;
    const end = this.ident(p);
    if (end === p) return undefined;
    let q = end;
    while (isSpace(s.charCodeAt(q))) q++;
    if (s[q] !== '=') return undefined;
    q++;
    while (isSpace(s.charCodeAt(q))) q++;
    return { name: s.slice(p, end).toLowerCase(), at: q };
  }

  /** One argument value: quoted (with \' \" \n \\ escapes) or bare up to "," / ")" outside brackets. */
  value(start: number): { value: string; end: number } {
    const s = this.src;
    const q = s[start];
    if (q === "'" || q === '"') {
      const end = this.lenientEnd(start + 1, q);
      const close = end >= 0 ? end : this.closingQuote(start + 1, q, false);
      if (close >= 0) return { value: this.unescape(start + 1, close), end: close + 1 };
      return { value: s.slice(start + 1), end: s.length };
    }
    let depth = 0;
    let p = start;
    while (p < s.length) {
      const c = s[p]!;
      if (c === '(' || c === '[' || c === '<') depth++;
      else if (c === ')' || c === ']' || c === '>') {
        if (depth === 0) break;
        depth--;
      } else if ((c === ',' || c === '\n') && depth === 0) break;
      p++;
    }
    return { value: s.slice(start, p).trim(), end: p };
  }

  /** The first unescaped `quote` from `from` on; with `lenient`, only one the call goes on after. -1: none. */
  private closingQuote(from: number, quote: string, lenient: boolean): number {
    const s = this.src;
    for (let p = from; p < s.length; p++) {
      const c = s[p]!;
      if (c === '\\' && p + 1 < s.length) p++;
      else if (c === quote && (!lenient || this.endsArgument(p + 1))) return p;
    }
    return -1;
  }

  /**
   * `closingQuote(from, quote, true)`, remembered. A later argument that starts before the
   * remembered end has the same one (a quote never starts an escape pair, so every scan from
   * an argument's first character pairs the escapes alike).
   */
  private lenientEnd(from: number, quote: string): number {
    const memo = this.closerMemo.get(quote);
    if (memo && memo.from <= from && (memo.at < 0 || memo.at >= from)) return memo.at;
    const at = this.closingQuote(from, quote, true);
    this.closerMemo.set(quote, { from, at });
    return at;
  }

  /** A quote ends an argument when the call goes on: ")" or ", name=" follows, or the text ends. */
  private endsArgument(pos: number): boolean {
    const s = this.src;
    let p = pos;
    while (isSpace(s.charCodeAt(p))) p++;
    if (p >= s.length || s[p] === ')') return true;
    if (s[p] !== ',') return false;
    p++;
    while (isSpace(s.charCodeAt(p))) p++;
    const end = this.ident(p);
    if (end === p) return false;
    p = end;
    while (isSpace(s.charCodeAt(p))) p++;
    return s[p] === '=';
  }

  private unescape(from: number, to: number): string {
    // The slice first: indexOf on the whole text would look past `to`, to the end, each time.
    const s = this.src.slice(from, to);
    let out = '';
    let seg = 0;
    for (let p = s.indexOf('\\'); p >= 0; p = s.indexOf('\\', seg)) {
      out += s.slice(seg, p);
      const e = s[p + 1]!;
      out += ESCAPES.get(e) ?? `\\${e}`;
      seg = p + 2;
    }
    return out + s.slice(seg);
  }
}

/** Reads `name(key='value', …)` calls, one after another, each optionally behind its own "Action:". */
function readCalls(src: string, problems: Problems): UiTarsCall[] {
  const reader = new ArgReader(src);
  const calls: UiTarsCall[] = [];
  let p = reader.skipToCall(0);
  while (p < src.length) {
    if (calls.length === MAX_FORECAST_STEPS) {
      throw new LimitExceeded(
        `the answer holds more than ${count(MAX_FORECAST_STEPS)} actions (found ${JSON.stringify(clip(src.slice(p, p + 100).trim(), 40))} after ${count(MAX_FORECAST_STEPS)} of them); answer with at most ${count(MAX_FORECAST_STEPS)}`,
      );
    }
    const start = p;
    const nameEnd = reader.ident(p);
    let open = nameEnd;
    while (src[open] === ' ' || src[open] === '\t') open++;
    if (nameEnd === p || src[open] !== '(') {
      problems.add(undefined, `cannot read the action ${JSON.stringify(clip(src.slice(p, p + 200).trim(), 60))} (expected a call such as click(start_box='(x,y)'))`);
      return calls;
    }
    const fn = src.slice(p, nameEnd).toLowerCase();
    p = open + 1;
    const args = new Map<string, string>();
    let positional = 0;
    let closed = false;
    while (p < src.length) {
      while (p < src.length && isSpace(src.charCodeAt(p))) p++;
      if (src[p] === ')') {
        p++;
        closed = true;
        break;
      }
      if (src[p] === ',') {
        p++;
        continue;
      }
      const k = reader.keyword(p);
      let argName: string;
      if (k) {
        argName = k.name;
        p = k.at;
      } else {
        argName = `_${positional++}`;
      }
      const read = reader.value(p);
      if (read.end === p) {
        problems.add(undefined, `cannot read the arguments of ${JSON.stringify(clip(src.slice(start, start + 200).trim(), 60))} ${p < src.length ? `at ${JSON.stringify(src[p])}` : ''}`.trim());
        return calls;
      }
      args.set(argName, read.value);
      p = read.end;
    }
    const text = src.slice(start, p).trim();
    if (!closed) {
      problems.add(undefined, `the action ${JSON.stringify(clip(text, 60))} is missing its closing ")"`);
      return calls;
    }
    const names = Object.hasOwn(POSITIONAL, fn) ? POSITIONAL[fn]! : ['start_box'];
    for (const [k, v] of [...args]) {
      const idx = /^_(\d+)$/.exec(k);
      if (!idx) continue;
      args.delete(k);
      const real = names[Number(idx[1])];
      if (real !== undefined && !args.has(real)) args.set(real, v);
    }
    calls.push({ name: fn, args, text });
    p = reader.skipToCall(p);
  }
  return calls;
}

/** One call → one step: its arguments checked against the action it names. */
function uiTarsStep(
  call: UiTarsCall,
  instruction: string,
  where: string,
  version: UiTarsVersion,
  ctx: ParseContext | undefined,
  resized: { width: number; height: number } | undefined,
  problems: Problems,
): ForecastStep | undefined {
  const bad = (m: string) => problems.add(where, m);
  const type = Object.hasOwn(UITARS_ACTIONS, call.name) ? UITARS_ACTIONS[call.name] : undefined;
  if (!type) {
    bad(`unknown action ${JSON.stringify(clip(call.name, 60))} (expected one of ${Object.keys(UITARS_ACTIONS).join(', ')})`);
    return undefined;
  }
  const before = problems.list.length;
  const boxOf = (names: readonly string[]): SpacePoint | undefined => {
    const argName = names.find((n) => call.args.has(n));
    if (argName === undefined) return undefined;
    const nums = numbersIn(call.args.get(argName)!);
    if (nums.length !== 2 && nums.length !== 4) {
      bad(`${argName} must be a point '(x,y)' or a box '(x1,y1,x2,y2)', found ${JSON.stringify(clip(call.args.get(argName)!, 60))}`);
      return undefined;
    }
    const x = nums.length === 4 ? (nums[0]! + nums[2]!) / 2 : nums[0]!;
    const y = nums.length === 4 ? (nums[1]! + nums[3]!) / 2 : nums[1]!;
    if (version === '1.0') {
      if (ctx?.checkRange !== false && (x < 0 || y < 0 || x > 1000 || y > 1000)) {
        bad(`${argName} (${x},${y}) is outside the 0–1000 grid UI-TARS-1.0 answers on`);
        return undefined;
      }
      return { space: 'norm1000', x, y };
    }
    const r = resized!;
    const c = ctx!;
    if (c.checkRange !== false && (x < 0 || y < 0 || x > r.width || y > r.height)) {
      bad(`${argName} (${x},${y}) is outside the ${r.width}x${r.height} image the model saw`);
      return undefined;
    }
    return { space: 'screenshot', x: (x * c.imageWidth) / r.width, y: (y * c.imageHeight) / r.height };
  };

  const point = boxOf(['start_box', 'point', 'start_point', 'box']);
  const endPoint = boxOf(['end_box', 'end_point']);

  const needsPoint = typeNeedsPoint(type);
  if (needsPoint && !point && !problems.list.slice(before).length) bad(`${call.name} needs start_box='(x,y)'`);
  if (type === 'drag' && !endPoint && !problems.list.slice(before).length) bad(`${call.name} needs end_box='(x,y)'`);

  const content = call.args.get('content') ?? call.args.get('text');
  let text: string | undefined;
  let answer: string | undefined;
  if (type === 'type') {
    if (content === undefined) bad(`type needs content='...'`);
    else text = content;
  }
  if (type === 'finished' && content !== undefined && content !== '') answer = content;
  let keys: string[] | undefined;
  if (type === 'hotkey' || type === 'key') {
    const key = call.args.get('key') ?? call.args.get('keys') ?? call.args.get('hotkey');
    if (key === undefined) bad(`${call.name} needs key='...'`);
    else {
      try {
        // UI-TARS separates pyautogui key names (which hold no spaces) with spaces: split on them
        // here, so "ctrl right" is ctrl + the right arrow rather than one multi-word name.
        keys = parseKeyCombo(key.trim().split(/\s+/));
      } catch (e) {
        if (!isForesightError(e)) throw e;
        bad(`key: ${clip(e.message, 200)}`);
      }
    }
  }
  let direction: Direction | undefined;
  if (type === 'scroll') {
    const dir = call.args.get('direction')?.trim().toLowerCase();
    if (dir === undefined) bad(`scroll needs direction='down' (one of ${DIRECTIONS.join(', ')})`);
    else if ((DIRECTIONS as readonly string[]).includes(dir)) direction = dir as Direction;
    else bad(`direction must be one of ${DIRECTIONS.join(', ')}, found ${JSON.stringify(clip(dir, 60))}`);
  }
  let app: string | undefined;
  if (type === 'open_app') {
    const name = call.args.get('app_name') ?? call.args.get('app');
    if (name === undefined || name.trim() === '') bad(`open_app needs app_name='...'`);
    else app = name;
  }
  if (problems.list.length > before) return undefined;
  const action = uiTarsAction(type, instruction || call.text, { point, endPoint, text, answer, keys, direction, app }, bad);
  if (!action) return undefined;
  return { screenshot_abstraction: '', action, status: type === 'finished' ? 'done' : 'not done' };
}

/** The arguments of a call as read and checked, before they become an `Action`. */
interface UiTarsArgs {
  point: SpacePoint | undefined;
  endPoint: SpacePoint | undefined;
  text: string | undefined;
  answer: string | undefined;
  keys: string[] | undefined;
  direction: Direction | undefined;
  app: string | undefined;
}

/**
 * The one place a UI-TARS `Action` is built, from arguments already checked against its type:
 * the union member of that type, which keeps the fields it has.
 */
function uiTarsAction(type: ActionType, instruction: string, args: UiTarsArgs, bad: (m: string) => void): Action | undefined {
  const action: ActionFields = { action_type: type, step_instruction: instruction };
  if (args.point) action.point = args.point;
  if (args.endPoint) action.end_point = args.endPoint;
  if (args.text !== undefined) action.text = args.text;
  if (args.answer !== undefined) action.answer = args.answer;
  if (args.keys !== undefined) action.keys = args.keys;
  if (args.direction !== undefined) action.direction = args.direction;
  if (args.app !== undefined) action.app = args.app;
  const built = actionFromFields(action);
  if (!built.ok) {
    // Only reached if a check above misses what the schema requires: still a clear PARSE_ERROR.
    for (const p of built.problems) bad(p);
    return undefined;
  }
  return built.action;
}

function numbersIn(s: string): number[] {
  return (s.match(/[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g) ?? []).map(Number);
}

// ------------------------------------------------------------------------- UI-TARS writing

function escapeContent(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

/** Actions UI-TARS writes as `name(start_box=…)`, by the name it uses. */
const UITARS_POINT_CALLS: Readonly<Record<'click' | 'double_click' | 'right_click' | 'move' | 'long_press', string>> = {
  click: 'click',
  double_click: 'left_double',
  right_click: 'right_single',
  move: 'hover',
  long_press: 'long_press',
};

/** Actions UI-TARS writes without arguments. */
const UITARS_PLAIN_CALLS: Readonly<Record<'wait' | 'call_user' | 'fail' | 'navigate_home' | 'navigate_back' | 'navigate_recent', string>> = {
  wait: 'wait()',
  call_user: 'call_user()',
  fail: 'fail()',
  navigate_home: 'press_home()',
  navigate_back: 'press_back()',
  navigate_recent: 'press_recent()',
};

/**
 * One step as a UI-TARS answer (`Thought: …\nAction: …`), as the model would write it; used
 * by fake model servers in tests. Points are written in the version's convention: the 0–1000
 * grid for 1.0, pixels of the smart-resized image for 1.5 (which needs the screenshot size,
 * as does a `screenshot`-space point for 1.0). What UI-TARS cannot say is lost: scroll amounts,
 * the step's abstraction, and `input_text` comes back as `type`.
 */
export function serializeUiTars(step: ForecastStep, version: UiTarsVersion, thought?: string, ctx?: ImageSize): string {
  return `Thought: ${thought ?? step.action.step_instruction}\nAction: ${uiTarsCallText(step, version, ctx)}`;
}

/** Several steps as one answer: one thought, then one "Action:" line per step (read back as several steps). */
function serializeUiTarsSteps(steps: readonly ForecastStep[], version: UiTarsVersion, thought: string | undefined, ctx: ImageSize | undefined): string {
  const [first, ...rest] = steps;
  if (!first) throw new ForesightError('BAD_INPUT', 'A UI-TARS answer needs at least one step');
  return [serializeUiTars(first, version, thought, ctx), ...rest.map((s) => `Action: ${uiTarsCallText(s, version, ctx)}`)].join('\n');
}

/** The call UI-TARS writes for one step: `click(start_box='(x,y)')`. */
function uiTarsCallText(step: ForecastStep, version: UiTarsVersion, ctx: ImageSize | undefined): string {
  const a = step.action;
  const box = (p: SpacePoint | undefined, what: string): string => {
    if (!p) throw new ForesightError('BAD_INPUT', `A ${a.action_type} step needs a ${what} to be written in UI-TARS format`);
    const { x, y } = uiTarsCoords(p, version, ctx);
    return version === '1.0' ? `'(${x},${y})'` : `'<|box_start|>(${x},${y})<|box_end|>'`;
  };
  switch (a.action_type) {
    case 'click':
    case 'double_click':
    case 'right_click':
    case 'move':
    case 'long_press':
      return `${UITARS_POINT_CALLS[a.action_type]}(start_box=${box(a.point, 'point')})`;
    case 'wait':
    case 'call_user':
    case 'fail':
    case 'navigate_home':
    case 'navigate_back':
    case 'navigate_recent':
      return UITARS_PLAIN_CALLS[a.action_type];
    case 'drag':
      return `drag(start_box=${box(a.point, 'point')}, end_box=${box(a.end_point, 'end point')})`;
    case 'type':
    case 'input_text':
      return `type(content='${escapeContent(a.text)}')`;
    case 'hotkey':
      return `hotkey(key='${escapeContent(keysText(a.keys))}')`;
    case 'key':
      return `press(key='${escapeContent(keysText(a.keys))}')`;
    case 'scroll':
      return `scroll(${a.point ? `start_box=${box(a.point, 'point')}, ` : ''}direction='${a.direction}')`;
    case 'finished':
      return a.answer !== undefined && a.answer !== '' ? `finished(content='${escapeContent(a.answer)}')` : 'finished()';
    case 'open_app':
      return `open_app(app_name='${escapeContent(a.app)}')`;
    case 'select':
    case 'tool_call':
      throw new ForesightError('BAD_INPUT', `UI-TARS has no action for ${a.action_type}`);
    default:
      return assertNever(a, 'action');
  }
}

/** UI-TARS separates keys with spaces; the plus key is spelled "plus" so it cannot read as a separator. */
function keysText(keys: readonly string[] | undefined): string {
  if (!keys || keys.length === 0) throw new ForesightError('BAD_INPUT', 'A hotkey or key step needs keys to be written in UI-TARS format');
  return keys.map((k) => (k === '+' ? 'plus' : k === ' ' ? 'space' : k)).join(' ');
}

function uiTarsCoords(p: SpacePoint, version: UiTarsVersion, ctx: ImageSize | undefined): { x: number; y: number } {
  const need = () => {
    if (!ctx) throw new ForesightError('BAD_INPUT', `Writing a ${p.space} point for UI-TARS-${version} needs the screenshot size (ctx)`);
    return ctx;
  };
  let norm: { x: number; y: number }; // 0..1 of the image
  switch (p.space) {
    case 'norm1000':
      norm = { x: p.x / 1000, y: p.y / 1000 };
      break;
    case 'norm1':
      norm = { x: p.x, y: p.y };
      break;
    case 'screenshot': {
      const c = need();
      norm = { x: p.x / c.imageWidth, y: p.y / c.imageHeight };
      break;
    }
    case 'global':
      throw new ForesightError('BAD_INPUT', 'A global point cannot be written for UI-TARS; convert it to the screenshot first');
  }
  if (version === '1.0') return { x: Math.round(norm.x * 1000), y: Math.round(norm.y * 1000) };
  const c = need();
  const r = smartResize(c.imageWidth, c.imageHeight);
  return { x: Math.round(norm.x * r.width), y: Math.round(norm.y * r.height) };
}

export const uitars10: ModelFormat = {
  id: 'uitars-1.0',
  // UI-TARS-1.0 is read from replayed predictions only: no live prompt asks for it.
  prompt: { template: undefined, stepsPerAnswer: 1, points: 'norm1000', needsImageSize: false },
  parse: (raw, ctx) => parseUiTars(raw, '1.0', ctx),
  serialize: (steps, options) => serializeUiTarsSteps(steps, '1.0', options?.thought, options?.image),
};

export const uitars15: ModelFormat = {
  id: 'uitars-1.5',
  prompt: { template: 'uitars-1.5-computer', stepsPerAnswer: 1, points: 'smart-resized-pixels', needsImageSize: true },
  parse: (raw, ctx) => parseUiTars(raw, '1.5', ctx),
  serialize: (steps, options) => serializeUiTarsSteps(steps, '1.5', options?.thought, options?.image),
};
