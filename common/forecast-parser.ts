/**
 * The forecast parser: a planner's raw answer → a validated `Forecast`.
 *
 * Two formats:
 * - `tracer1`: the TraceR1 prototype's `<think>…</think><answer>Step 1: "screenshot_abstraction":
 *   …, "action": {…}, "status": "not done" …</answer>`. Tolerant of how models write JSON
 *   (quotes of any kind, trailing commas, unquoted keys, fences, markdown around "Step n:"),
 *   strict about structure: every step needs an action with a known type, the arguments that
 *   type needs, a status, and steps numbered 1..n.
 * - `uitars-1.0` / `uitars-1.5`: `Thought: … Action: click(start_box='(x,y)')`, one step per
 *   action line, with the model's own point converted into one of our coordinate spaces.
 *
 * Every refusal is a `PARSE_ERROR` whose message lists precisely what was wrong, because the
 * agent loop sends that message back to the model as feedback for its next attempt.
 *
 * Platform-free: common/ and zod only.
 */
import {
  ACTION_TYPES,
  DIRECTIONS,
  actionFromFields,
  coordSpaceSchema,
  forecastSchema,
  type Action,
  type ActionFields,
  type ActionType,
  type Direction,
  type Forecast,
  type ForecastFormat,
  type ForecastStep,
  type StepStatus,
  type ToolCall,
} from './actions.ts';
import type { CoordSpace, SpacePoint } from './coords.ts';
import { ForesightError, isForesightError } from './errors.ts';
import { parseKeyCombo } from './keys.ts';

export interface ParseContext {
  /** Size of the screenshot the planner saw, in pixels. */
  imageWidth: number;
  imageHeight: number;
  /**
   * TraceR1 only: the space of a point the planner writes without naming one (`[x, y]` or
   * `{"x": …, "y": …}`). Default `norm1000`, the grid Qwen-family planners are trained on;
   * a point written as `{"space": "screenshot", "x": …, "y": …}` keeps its own space.
   */
  pointSpace?: 'norm1000' | 'norm1' | 'screenshot';
}

export type UiTarsVersion = '1.0' | '1.5';

/** How much of the raw answer a PARSE_ERROR carries in its details (the store keeps all of it). */
const RAW_IN_DETAILS = 4000;
/** How many problems the message lists before "and N more". */
const PROBLEMS_IN_MESSAGE = 6;

export function parseForecast(raw: string, format: ForecastFormat, ctx?: ParseContext): Forecast {
  if (typeof raw !== 'string') {
    throw new ForesightError('PARSE_ERROR', `the answer is not text (got ${typeof raw})`, { raw: '', problems: ['the answer is not text'] });
  }
  switch (format) {
    case 'tracer1':
      return parseTraceR1(raw, ctx);
    case 'uitars-1.0':
      return parseUiTars(raw, '1.0', ctx);
    case 'uitars-1.5':
      return parseUiTars(raw, '1.5', ctx);
  }
}

// ------------------------------------------------------------------------------- problems

class Problems {
  readonly list: string[] = [];

  add(where: string | undefined, message: string): void {
    this.list.push(where ? `${where}: ${message}` : message);
  }

  get any(): boolean {
    return this.list.length > 0;
  }
}

function parseError(raw: string, problems: readonly string[]): ForesightError {
  const shown = problems.slice(0, PROBLEMS_IN_MESSAGE);
  const more = problems.length - shown.length;
  const message = shown.join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
  const truncated = raw.length > RAW_IN_DETAILS ? `${raw.slice(0, RAW_IN_DETAILS)}…(${raw.length - RAW_IN_DETAILS} more characters)` : raw;
  return new ForesightError('PARSE_ERROR', message, { raw: truncated, problems: [...problems] });
}

/** Validates the assembled forecast against the shared schema; a failure here is reported like any other problem. */
function finish(raw: string, forecast: Forecast): Forecast {
  const checked = forecastSchema.safeParse(forecast);
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) => {
      const [head, index, ...rest] = issue.path;
      const where = head === 'steps' && typeof index === 'number' ? `Step ${index + 1}` : issue.path.map(String).join('.');
      const field = rest.length > 0 ? `"${rest.map(String).join('.')}" ` : '';
      return `${where}: ${field}${issue.message}`;
    });
    throw parseError(raw, problems);
  }
  // The checked copy would do too; ours keeps its key order and has only known fields already.
  return forecast;
}

/** A short description of a JSON value for a message: `a number (5)`, `an array`. */
function describe(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `the text ${JSON.stringify(clip(v, 40))}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  if (Array.isArray(v)) return 'an array';
  return 'an object';
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

// ------------------------------------------------------------------- relaxed JSON reading

type Json = string | number | boolean | null | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json;
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class SyntaxProblem extends Error {}

/** Openers of a string and the characters that may close it. Curly quotes close with either curl. */
const QUOTES: Readonly<Record<string, readonly string[]>> = {
  '"': ['"'],
  "'": ["'"],
  '\u201c': ['\u201d', '\u201c'],
  '\u201d': ['\u201d', '\u201c'],
  '\u201e': ['\u201d', '\u201c'],
  '\u2018': ['\u2019', '\u2018'],
  '\u2019': ['\u2019', '\u2018'],
  '\u201a': ['\u2019', '\u2018'],
};

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '/': '/', '\\': '\\', '"': '"', "'": "'", '`': '`' };

/**
 * "Step 3:" at a position, as models write it: `Step 3:`, `Step 3 :`, `**Step 3:**`,
 * `- Step 3:`, `### Step 3:`. Checked only outside strings.
 */
const STEP_MARKER = /[ \t]*(?:[-*#>][ \t]*)*[*_]*[ \t]*step[ \t]*(\d+)[ \t]*[*_]*[ \t]*[:\uff1a][ \t]*[*_]*/iy;

function stepMarkerAt(src: string, pos: number): { num: number; end: number } | undefined {
  STEP_MARKER.lastIndex = pos;
  const m = STEP_MARKER.exec(src);
  return m ? { num: Number(m[1]), end: STEP_MARKER.lastIndex } : undefined;
}

/**
 * A forgiving JSON reader: single, double and curly quotes; unquoted keys; trailing and
 * missing commas; Python's True/False/None; bare words as strings. A quote closes a string
 * only where the JSON goes on (`,` `:` `}` `]`, the end, or the next "Step n:"), so a quote
 * the model forgot to escape stays in the text. Valid JSON reads exactly as JSON.parse reads it.
 */
class RelaxedJson {
  pos = 0;

  constructor(
    readonly src: string,
    /** In the "Step n:" format a step's members end where the next step marker begins. */
    readonly stepMarkers: boolean,
  ) {}

  get atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  peek(): string {
    return this.src[this.pos] ?? '';
  }

  skipWs(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  atMarker(pos = this.pos): boolean {
    return this.stepMarkers && stepMarkerAt(this.src, pos) !== undefined;
  }

  /** Where the reader is, for a message: the rest of the line, shortened. */
  near(pos = this.pos): string {
    if (pos >= this.src.length) return 'at the end';
    const line = this.src.slice(pos).split('\n', 1)[0]!.trim();
    return line === '' ? 'at the end of a line' : `at ${JSON.stringify(clip(line.replace(/\s+/g, ' '), 30))}`;
  }

  value(): Json {
    this.skipWs();
    const c = this.peek();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c in QUOTES) return this.string();
    return this.bare();
  }

  object(): JsonObject {
    const start = this.pos;
    this.pos++; // {
    const entries: Array<[string, Json]> = [];
    for (;;) {
      this.skipWs();
      while (this.peek() === ',') {
        this.pos++;
        this.skipWs();
      }
      if (this.peek() === '}') {
        this.pos++;
        // fromEntries defines "__proto__" as an ordinary key instead of setting the prototype
        return Object.fromEntries(entries);
      }
      if (this.atEnd || this.atMarker()) throw new SyntaxProblem(`the object opened ${this.near(start)} is never closed with "}"`);
      entries.push(this.member());
      this.skipWs();
      const c = this.peek();
      if (c === ',' || c === '}') continue;
      if (c in QUOTES || /[A-Za-z_$]/.test(c)) continue; // a missing comma between members
      if (this.atEnd || this.atMarker()) throw new SyntaxProblem(`the object opened ${this.near(start)} is never closed with "}"`);
      throw new SyntaxProblem(`expected "," or "}" ${this.near()}`);
    }
  }

  /** Members without braces, up to the next step marker or the end: the body of a "Step n:" line. */
  bareMembers(): JsonObject {
    const entries: Array<[string, Json]> = [];
    for (;;) {
      this.skipWs();
      while (this.peek() === ',') {
        this.pos++;
        this.skipWs();
      }
      if (this.atEnd || this.atMarker()) return Object.fromEntries(entries);
      entries.push(this.member());
      this.skipWs();
      const c = this.peek();
      if (c === ',' || this.atEnd || this.atMarker()) continue;
      if (c in QUOTES) continue; // a missing comma between members
      throw new SyntaxProblem(`unexpected text ${this.near()} (expected "," and the next "key": value)`);
    }
  }

  member(): [string, Json] {
    const key = this.key();
    this.skipWs();
    if (this.peek() !== ':') throw new SyntaxProblem(`expected ":" after the key ${JSON.stringify(key)}, found ${this.near().replace(/^at /, '')}`);
    this.pos++;
    this.skipWs();
    if (this.atEnd || this.peek() === ',' || this.peek() === '}' || this.atMarker()) {
      throw new SyntaxProblem(`the key ${JSON.stringify(key)} has no value`);
    }
    return [key, this.value()];
  }

  key(): string {
    const c = this.peek();
    if (c in QUOTES) {
      // Keys hold no quotes: the first matching quote ends one.
      const key = this.readString(this.pos, false);
      if (key === undefined) throw new SyntaxProblem(`the key starting ${this.near()} has no closing quote`);
      return key;
    }
    const m = /[A-Za-z_$][\w$-]*/y;
    m.lastIndex = this.pos;
    const found = m.exec(this.src);
    if (!found) throw new SyntaxProblem(`expected a "key" ${this.near()}`);
    this.pos = m.lastIndex;
    return found[0];
  }

  array(): Json[] {
    const start = this.pos;
    this.pos++; // [
    const items: Json[] = [];
    for (;;) {
      this.skipWs();
      while (this.peek() === ',') {
        this.pos++;
        this.skipWs();
      }
      if (this.peek() === ']') {
        this.pos++;
        return items;
      }
      if (this.atEnd || this.atMarker()) throw new SyntaxProblem(`the array opened ${this.near(start)} is never closed with "]"`);
      items.push(this.value());
      this.skipWs();
      const c = this.peek();
      if (c === ',' || c === ']') continue;
      if (c in QUOTES || c === '{' || c === '[' || /[-\d]/.test(c)) continue; // a missing comma
      if (this.atEnd || this.atMarker()) throw new SyntaxProblem(`the array opened ${this.near(start)} is never closed with "]"`);
      throw new SyntaxProblem(`expected "," or "]" ${this.near()}`);
    }
  }

  /** Whether a quote at `pos - 1` can end a string: the JSON goes on right after it. */
  private closesHere(pos: number): boolean {
    let p = pos;
    while (p < this.src.length && /\s/.test(this.src[p]!)) p++;
    if (p >= this.src.length) return true;
    return ',:}]'.includes(this.src[p]!) || this.atMarker(p);
  }

  string(): string {
    const start = this.pos;
    const lenient = this.readString(start, true);
    if (lenient !== undefined) return lenient;
    // No quote that the JSON goes on after: take the first one, and let the caller say what follows.
    const strict = this.readString(start, false);
    if (strict !== undefined) return strict;
    throw new SyntaxProblem(`the text starting ${this.near(start)} has no closing quote`);
  }

  private readString(start: number, lenient: boolean): string | undefined {
    const closers = QUOTES[this.src[start]!] ?? ['"'];
    let out = '';
    let p = start + 1;
    while (p < this.src.length) {
      const c = this.src[p]!;
      if (c === '\\') {
        const e = this.src[p + 1];
        if (e === undefined) return undefined;
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.src.slice(p + 2, p + 6))) {
          out += String.fromCharCode(parseInt(this.src.slice(p + 2, p + 6), 16));
          p += 6;
          continue;
        }
        const known = ESCAPES[e];
        // An unknown escape ("C:\Users") keeps its backslash: that is what the model meant.
        out += known ?? `\\${e}`;
        p += 2;
        continue;
      }
      if (closers.includes(c) && (!lenient || this.closesHere(p + 1))) {
        this.pos = p + 1;
        return out;
      }
      out += c;
      p++;
    }
    return undefined;
  }

  /** Numbers, true/false/null (and Python's spellings), or a bare word taken as text. */
  bare(): Json {
    const num = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
    num.lastIndex = this.pos;
    const n = num.exec(this.src);
    if (n && !/[\w.]/.test(this.src[num.lastIndex] ?? '')) {
      this.pos = num.lastIndex;
      return Number(n[0]);
    }
    const start = this.pos;
    let p = this.pos;
    while (p < this.src.length && !',}]\n\r'.includes(this.src[p]!) && !this.atMarker(p)) p++;
    const word = this.src.slice(start, p).trim();
    if (word.length === 0) throw new SyntaxProblem(`expected a value ${this.near()}`);
    if (/^[[{(<]/.test(word)) throw new SyntaxProblem(`cannot read the value ${this.near()}`);
    this.pos = p;
    const literals: Record<string, Json> = { true: true, false: false, null: null, True: true, False: false, None: null };
    return word in literals ? literals[word]! : word;
  }
}

// ------------------------------------------------------------------------- TraceR1 format

/** Spellings of action types seen in model output, squashed with `squashName`. */
const ACTION_SYNONYMS: Readonly<Record<string, ActionType>> = {
  tap: 'click',
  left_click: 'click',
  left_single: 'click',
  single_click: 'click',
  click_element: 'click',
  double_tap: 'double_click',
  doubleclick: 'double_click',
  left_double: 'double_click',
  dbl_click: 'double_click',
  right_single: 'right_click',
  rightclick: 'right_click',
  context_click: 'right_click',
  long_click: 'long_press',
  long_tap: 'long_press',
  longpress: 'long_press',
  drag_and_drop: 'drag',
  left_drag: 'drag',
  hover: 'move',
  mouse_move: 'move',
  move_to: 'move',
  move_mouse: 'move',
  // "input_text" stays the mobile action; the other spellings of typing are the desktop "type"
  input: 'type',
  type_text: 'type',
  typing: 'type',
  write: 'type',
  press: 'key',
  keypress: 'key',
  press_key: 'key',
  key_press: 'key',
  hotkeys: 'hotkey',
  key_combination: 'hotkey',
  shortcut: 'hotkey',
  sleep: 'wait',
  pause: 'wait',
  finish: 'finished',
  done: 'finished',
  ask_user: 'call_user',
  calluser: 'call_user',
  failed: 'fail',
  infeasible: 'fail',
  home: 'navigate_home',
  press_home: 'navigate_home',
  go_home: 'navigate_home',
  back: 'navigate_back',
  press_back: 'navigate_back',
  go_back: 'navigate_back',
  recent: 'navigate_recent',
  recents: 'navigate_recent',
  press_recent: 'navigate_recent',
  recent_apps: 'navigate_recent',
  app_switch: 'navigate_recent',
  open: 'open_app',
  launch: 'open_app',
  launch_app: 'open_app',
  open_application: 'open_app',
  select_option: 'select',
  tool: 'tool_call',
  function_call: 'tool_call',
  call_tool: 'tool_call',
};

const KNOWN_ACTIONS: ReadonlySet<string> = new Set(ACTION_TYPES);

/** Actions whose step_instruction may be empty: nothing on the screen has to be found for them. */
const NO_TARGET_ACTIONS: ReadonlySet<ActionType> = new Set<ActionType>([
  'wait',
  'finished',
  'fail',
  'call_user',
  'navigate_home',
  'navigate_back',
  'navigate_recent',
  'hotkey',
  'key',
  'type',
]);

function squashName(s: string): string {
  return s.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

function actionTypeOf(name: string): ActionType | undefined {
  const s = squashName(name);
  if (KNOWN_ACTIONS.has(s)) return s as ActionType;
  return ACTION_SYNONYMS[s];
}

function unknownActionMessage(name: string): string {
  return `unknown action_type ${JSON.stringify(name)} (expected one of ${ACTION_TYPES.join(', ')})`;
}

const DONE_WORDS = new Set(['done', 'complete', 'completed', 'finished', 'success']);
const NOT_DONE_WORDS = new Set(['not done', 'notdone', 'undone', 'not finished', 'incomplete', 'in progress', 'ongoing', 'pending']);

function statusOf(v: string): StepStatus | undefined {
  const s = v.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
  if (DONE_WORDS.has(s)) return 'done';
  if (NOT_DONE_WORDS.has(s)) return 'not done';
  return undefined;
}

/** The members of an object under squashed keys ("Step Instruction" → step_instruction); the first spelling wins. */
function fieldsOf(o: JsonObject): Map<string, Json> {
  const m = new Map<string, Json>();
  for (const [k, v] of Object.entries(o)) {
    const key = squashName(k);
    if (!m.has(key)) m.set(key, v);
  }
  return m;
}

function firstOf(f: Map<string, Json>, names: readonly string[]): { name: string; value: Json } | undefined {
  for (const name of names) {
    const value = f.get(name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function parseTraceR1(raw: string, ctx: ParseContext | undefined): Forecast {
  const problems = new Problems();
  const { thought, answer } = splitThinkAnswer(raw);
  if (answer === undefined) {
    throw parseError(raw, ['no <answer> block found (expected <answer> with lines Step 1: "screenshot_abstraction": "...", "action": {...}, "status": "not done" </answer>)']);
  }
  const body = stripFences(answer).trim();
  const rawSteps = body.startsWith('[') || body.startsWith('{') ? readJsonSteps(body, problems) : readStepLines(body, problems);
  const steps: ForecastStep[] = [];
  for (const s of rawSteps) {
    if (s.value === undefined) {
      problems.add(`Step ${s.label}`, s.syntaxError ?? 'cannot be read');
      continue;
    }
    const step = readStep(s.value, `Step ${s.label}`, problems, ctx);
    if (step) steps.push(step);
  }
  if (problems.any) throw parseError(raw, problems.list);
  return finish(raw, { format: 'tracer1', ...(thought !== undefined ? { thought } : {}), steps });
}

/**
 * `<think>` and `<answer>`, each possibly without its closer. A <think> or </think> after the
 * first <answer> is text inside the answer. No <answer> tag: steps right after the thinking
 * still count, prose does not.
 */
function splitThinkAnswer(raw: string): { thought?: string; answer?: string } {
  const firstAnswer = /<answer\s*>/i.exec(raw)?.index ?? Infinity;
  const open = /<think\s*>/i.exec(raw);
  let thought: string | undefined;
  let after = 0;
  if (open && open.index < firstAnswer) {
    const from = open.index + open[0].length;
    const close = /<\/think\s*>/i.exec(raw.slice(from));
    if (close) {
      thought = raw.slice(from, from + close.index);
      after = from + close.index + close[0].length;
    } else {
      const answer = /<answer\s*>/i.exec(raw.slice(from));
      after = answer ? from + answer.index : raw.length;
      thought = raw.slice(from, after);
    }
  } else {
    // "…reasoning</think><answer>": the opener was in the prompt (some chat templates add it)
    const close = /<\/think\s*>/i.exec(raw);
    if (close && close.index < firstAnswer) {
      thought = raw.slice(0, close.index);
      after = close.index + close[0].length;
    }
  }
  const t = thought !== undefined ? { thought: thought.trim() } : {};
  const rest = raw.slice(after);
  const answerOpen = /<answer\s*>/i.exec(rest);
  if (answerOpen) {
    let answer = rest.slice(answerOpen.index + answerOpen[0].length);
    const close = /<\/answer\s*>/i.exec(answer);
    if (close) answer = answer.slice(0, close.index);
    return { ...t, answer };
  }
  const body = stripFences(rest).trim();
  const looksLikeSteps = body.startsWith('[') || body.startsWith('{') || findFirstMarker(body) !== undefined;
  return { ...t, ...(looksLikeSteps ? { answer: rest } : {}) };
}

function stripFences(s: string): string {
  return s.replace(/^[ \t]*```[\w-]*[ \t]*$/gm, '');
}

/** The first "Step n:" at the start of a line or after a separator, outside any JSON. */
function findFirstMarker(body: string): number | undefined {
  for (let p = 0; p < body.length; p++) {
    const prev = p === 0 ? '\n' : body[p - 1]!;
    if (!/[\s,}]/.test(prev)) continue;
    if (stepMarkerAt(body, p)) return p;
  }
  return undefined;
}

/** One step as read, or why it could not be read (reported in step order with the others). */
interface RawStep {
  label: string;
  value?: JsonObject;
  syntaxError?: string;
}

function readStepLines(body: string, problems: Problems): RawStep[] {
  if (body.length === 0) {
    problems.add(undefined, 'the <answer> block is empty (expected lines Step 1: "screenshot_abstraction": "...", "action": {...}, "status": "not done")');
    return [];
  }
  const first = findFirstMarker(body);
  if (first === undefined) {
    problems.add(
      undefined,
      `no "Step 1:" found in the <answer> block, which starts ${JSON.stringify(clip(body.replace(/\s+/g, ' '), 40))} (expected lines Step 1: "screenshot_abstraction": "...", "action": {...}, "status": "not done")`,
    );
    return [];
  }
  const reader = new RelaxedJson(body, true);
  reader.pos = first;
  const steps: RawStep[] = [];
  const numbers: number[] = [];
  while (!reader.atEnd) {
    const marker = stepMarkerAt(body, reader.pos);
    if (!marker) break;
    reader.pos = marker.end;
    const label = String(marker.num);
    numbers.push(marker.num);
    try {
      reader.skipWs();
      let value: JsonObject;
      if (reader.peek() === '{') {
        // the whole step as one object: Step 1: {"screenshot_abstraction": …, "action": …, "status": …}
        value = reader.object();
        reader.skipWs();
        if (reader.peek() === ',') reader.pos++;
        reader.skipWs();
        if (!reader.atEnd && !reader.atMarker()) throw new SyntaxProblem(`unexpected text ${reader.near()} after the step's closing "}"`);
      } else {
        value = reader.bareMembers();
      }
      steps.push({ label, value });
    } catch (e) {
      if (!(e instanceof SyntaxProblem)) throw e;
      steps.push({ label, syntaxError: e.message });
      // Go on with the next step that starts a line, so every broken step is reported at once.
      const next = nextLineMarker(body, reader.pos > marker.end ? reader.pos : marker.end);
      if (next === undefined) break;
      reader.pos = next;
    }
    reader.skipWs();
  }
  checkNumbering(numbers, problems);
  return steps;
}

function nextLineMarker(body: string, from: number): number | undefined {
  for (let p = body.indexOf('\n', from); p >= 0; p = body.indexOf('\n', p + 1)) {
    if (stepMarkerAt(body, p + 1)) return p + 1;
  }
  return undefined;
}

function checkNumbering(numbers: readonly number[], problems: Problems): void {
  const order = 'number the steps 1, 2, 3, … in order';
  numbers.forEach((n, i) => {
    const prev = numbers[i - 1];
    const expected = prev === undefined ? 1 : prev + 1;
    if (n === expected) return;
    if (numbers.indexOf(n) < i) problems.add(undefined, `Step ${n} appears twice; ${order}`);
    else if (prev === undefined) problems.add(undefined, `the first step is numbered ${n}; ${order}`);
    else if (n > expected) {
      const missing = n - expected === 1 ? `Step ${expected} is missing` : `Steps ${expected}–${n - 1} are missing`;
      problems.add(undefined, `Step ${n} follows Step ${prev} (${missing}); ${order}`);
    } else problems.add(undefined, `Step ${n} follows Step ${prev}; ${order}`);
  });
}

function readJsonSteps(body: string, problems: Problems): RawStep[] {
  const reader = new RelaxedJson(body, false);
  let value: Json;
  try {
    value = reader.value();
    reader.skipWs();
    if (!reader.atEnd) throw new SyntaxProblem(`unexpected text ${reader.near()} after the JSON`);
  } catch (e) {
    if (!(e instanceof SyntaxProblem)) throw e;
    problems.add(undefined, `the steps in <answer> could not be read as JSON: ${e.message}`);
    return [];
  }
  let list: Json[];
  if (Array.isArray(value)) list = value;
  else if (isObject(value) && Array.isArray(value.steps)) list = value.steps;
  else list = [value];
  if (list.length === 0) {
    problems.add(undefined, 'the answer holds no steps');
    return [];
  }
  const steps: RawStep[] = [];
  const numbers: number[] = [];
  list.forEach((item, i) => {
    if (!isObject(item)) {
      problems.add(`Step ${i + 1}`, `expected an object with "screenshot_abstraction", "action" and "status", found ${describe(item)}`);
      return;
    }
    const n = fieldsOf(item).get('step');
    numbers.push(typeof n === 'number' ? n : typeof n === 'string' && /^\s*\d+\s*$/.test(n) ? Number(n) : i + 1);
    steps.push({ label: String(i + 1), value: item });
  });
  checkNumbering(numbers, problems);
  return steps;
}

function readStep(o: JsonObject, where: string, problems: Problems, ctx: ParseContext | undefined): ForecastStep | undefined {
  const f = fieldsOf(o);
  const before = problems.list.length;

  let abstraction = '';
  const abs = firstOf(f, ['screenshot_abstraction', 'screen_abstraction', 'abstraction']);
  if (abs !== undefined) {
    if (typeof abs.value === 'string') abstraction = abs.value;
    else if (abs.value !== null) problems.add(where, `"screenshot_abstraction" must be text, found ${describe(abs.value)}`);
  }

  let action: Action | undefined;
  const a = f.get('action');
  if (a === undefined) {
    const flat = f.has('action_type') ? ' (put "action_type" and "step_instruction" inside "action": {...})' : '';
    problems.add(where, `"action" is missing${flat}`);
  } else if (!isObject(a)) {
    problems.add(where, `"action" must be an object like {"action_type": "click", "step_instruction": "..."}, found ${describe(a)}`);
  } else {
    action = readAction(a, where, problems, ctx);
  }

  let status: StepStatus | undefined;
  const s = f.get('status');
  if (s === undefined) problems.add(where, '"status" is missing (expected "done" or "not done")');
  else if (typeof s !== 'string') problems.add(where, `"status" must be "done" or "not done", found ${describe(s)}`);
  else {
    status = statusOf(s);
    if (!status) problems.add(where, `"status" is ${JSON.stringify(s)}; expected "done" or "not done"`);
  }

  if (problems.list.length > before || !action || !status) return undefined;
  return { screenshot_abstraction: abstraction, action, status };
}

function readAction(o: JsonObject, where: string, problems: Problems, ctx: ParseContext | undefined): Action | undefined {
  const f = fieldsOf(o);
  const before = problems.list.length;
  const bad = (msg: string) => problems.add(where, msg);

  const typeField = firstOf(f, ['action_type', 'type']);
  if (typeField === undefined) {
    bad('"action" is missing "action_type"');
    return undefined;
  }
  if (typeof typeField.value !== 'string') {
    bad(`"action_type" must be text such as "click", found ${describe(typeField.value)}`);
    return undefined;
  }
  const type = actionTypeOf(typeField.value);
  if (!type) {
    bad(unknownActionMessage(typeField.value));
    return undefined;
  }

  const text = readText(f, type === 'finished' ? ['text'] : ['text', 'content'], 'text', bad);
  const answer = readText(f, type === 'finished' ? ['answer', 'content'] : ['answer'], 'answer', bad);
  const app = readText(f, ['app', 'app_name', 'application'], 'app', bad);
  const value = readText(f, ['value', 'option'], 'value', bad);

  let keys: string[] | undefined;
  const k = firstOf(f, ['keys', 'key', 'hotkey', 'key_combination', 'combination']);
  if (k !== undefined) {
    const input = typeof k.value === 'string' ? k.value : Array.isArray(k.value) && k.value.every((x) => typeof x === 'string') ? (k.value as string[]) : undefined;
    if (input === undefined) bad(`"${k.name}" must be key names such as ["ctrl", "s"] or "ctrl+s", found ${describe(k.value)}`);
    else {
      try {
        keys = parseKeyCombo(input);
      } catch (e) {
        if (!isForesightError(e)) throw e;
        bad(`"${k.name}": ${e.message}`);
      }
    }
  }

  let direction: Direction | undefined;
  const d = firstOf(f, ['direction', 'dir']);
  if (d !== undefined) {
    const dv = typeof d.value === 'string' ? d.value.trim().toLowerCase() : undefined;
    if (dv !== undefined && (DIRECTIONS as readonly string[]).includes(dv)) direction = dv as Direction;
    else bad(`"direction" must be one of ${DIRECTIONS.join(', ')}, found ${describe(d.value)}`);
  }

  const amount = readInt(f, ['amount', 'clicks', 'notches'], 'amount', 1, bad);
  let duration = readInt(f, ['duration_ms', 'ms'], 'duration_ms', 0, bad);
  if (duration === undefined) {
    const seconds = firstOf(f, ['seconds', 'duration_s', 'duration_sec']);
    if (seconds !== undefined) {
      const n = toNumber(seconds.value);
      if (n === undefined || n < 0) bad(`"${seconds.name}" must be a number of seconds, found ${describe(seconds.value)}`);
      else duration = Math.round(n * 1000);
    }
  }

  const point = readPoint(f, ['point', 'coordinate', 'coordinates', 'position', 'start_point', 'start_box'], where, problems, ctx);
  const endPoint = readPoint(f, ['end_point', 'end_coordinate', 'end_coordinates', 'end_box'], where, problems, ctx);

  let tool: ToolCall | undefined;
  const t = f.get('tool');
  const toolName = f.get('tool_name');
  if (t !== undefined || toolName !== undefined) tool = readTool(t, toolName, f, bad);

  let instruction = '';
  const si = f.get('step_instruction');
  if (si === undefined || si === null) {
    if (!NO_TARGET_ACTIONS.has(type) && !point) bad(`"action" is missing "step_instruction" (say in words what to ${type.replace(/_/g, ' ')} on)`);
  } else if (typeof si !== 'string') {
    bad(`"step_instruction" must be text, found ${describe(si)}`);
  } else {
    instruction = si;
    if (si.trim() === '' && !NO_TARGET_ACTIONS.has(type) && !point) bad(`"step_instruction" is empty; a ${type} step must say in words what to act on`);
  }

  // What each action cannot do without.
  if ((type === 'type' || type === 'input_text') && text === undefined) bad(`a ${type} step needs "text", the exact text to type`);
  if ((type === 'hotkey' || type === 'key') && keys === undefined && k === undefined) bad(`a ${type} step needs "keys", e.g. ${type === 'key' ? '["enter"]' : '["ctrl", "s"]'}`);
  if (type === 'scroll' && direction === undefined && d === undefined) bad(`a scroll step needs "direction" (one of ${DIRECTIONS.join(', ')})`);
  if (type === 'open_app' && (app === undefined || app.trim() === '')) bad('an open_app step needs "app", the application name');
  if (type === 'tool_call' && tool === undefined && t === undefined && toolName === undefined) bad('a tool_call step needs "tool": {"name": "...", "arguments": {...}}');

  if (problems.list.length > before) return undefined;
  const action: ActionFields = { action_type: type, step_instruction: instruction };
  if (text !== undefined) action.text = text;
  if (keys !== undefined) action.keys = keys;
  if (direction !== undefined) action.direction = direction;
  if (amount !== undefined) action.amount = amount;
  if (point !== undefined) action.point = point;
  if (endPoint !== undefined) action.end_point = endPoint;
  if (answer !== undefined) action.answer = answer;
  if (app !== undefined) action.app = app;
  if (duration !== undefined) action.duration_ms = duration;
  if (value !== undefined) action.value = value;
  if (tool !== undefined) action.tool = tool;
  // The union keeps the fields this type has (a click's "text" is dropped) and checks them.
  const built = actionFromFields(action);
  if (!built.ok) {
    for (const p of built.problems) bad(p);
    return undefined;
  }
  return built.action;
}

function readText(f: Map<string, Json>, names: readonly string[], label: string, bad: (m: string) => void): string | undefined {
  const v = firstOf(f, names);
  if (v === undefined || v.value === null) return undefined;
  if (typeof v.value === 'string') return v.value;
  if (typeof v.value === 'number' || typeof v.value === 'boolean') return String(v.value);
  bad(`"${label}" must be text, found ${describe(v.value)}`);
  return undefined;
}

function toNumber(v: Json): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(v)) return Number(v);
  return undefined;
}

function readInt(f: Map<string, Json>, names: readonly string[], label: string, min: number, bad: (m: string) => void): number | undefined {
  const v = firstOf(f, names);
  if (v === undefined || v.value === null) return undefined;
  const n = toNumber(v.value);
  if (n === undefined || !Number.isInteger(n) || n < min || !Number.isSafeInteger(n)) {
    bad(`"${label}" must be a whole number${min > 0 ? ` of at least ${min}` : ' (0 or more)'}, found ${describe(v.value)}`);
    return undefined;
  }
  return n;
}

const POINT_SPACES: ReadonlySet<string> = new Set(coordSpaceSchema.options);

/**
 * A point the planner gave itself: [x, y], [x1, y1, x2, y2] (the centre), {"x": …, "y": …}
 * with an optional "space", or text such as "(x, y)" / "<point>x y</point>".
 */
function readPoint(f: Map<string, Json>, names: readonly string[], where: string, problems: Problems, ctx: ParseContext | undefined): SpacePoint | undefined {
  const v = firstOf(f, names);
  if (v === undefined || v.value === null) return undefined;
  const label = names[0]!;
  const bad = (m: string) => problems.add(where, m);
  let coords: number[] | undefined;
  let space: CoordSpace = ctx?.pointSpace ?? 'norm1000';
  const value = v.value;
  if (Array.isArray(value)) {
    const ns = value.map(toNumber);
    if (ns.every((n): n is number => n !== undefined)) coords = ns;
  } else if (isObject(value)) {
    const pf = fieldsOf(value);
    const x = pf.get('x');
    const y = pf.get('y');
    const xs = x === undefined ? undefined : toNumber(x);
    const ys = y === undefined ? undefined : toNumber(y);
    if (xs !== undefined && ys !== undefined) coords = [xs, ys];
    const sp = pf.get('space');
    if (sp !== undefined) {
      if (typeof sp === 'string' && POINT_SPACES.has(sp)) space = sp as CoordSpace;
      else {
        bad(`"${label}" has an unknown "space" ${describe(sp)} (expected one of ${coordSpaceSchema.options.join(', ')})`);
        return undefined;
      }
    }
  } else if (typeof value === 'string') {
    coords = numbersIn(value);
  }
  if (coords === undefined || (coords.length !== 2 && coords.length !== 4) || !coords.every(Number.isFinite)) {
    bad(`"${label}" must be [x, y] or {"x": ..., "y": ...}, found ${describe(value)}`);
    return undefined;
  }
  const [x, y] = coords.length === 4 ? [(coords[0]! + coords[2]!) / 2, (coords[1]! + coords[3]!) / 2] : [coords[0]!, coords[1]!];
  const range = rangeOf(space, ctx);
  if (range && (x < 0 || y < 0 || x > range.w || y > range.h)) {
    bad(`"${label}" (${x}, ${y}) is outside the ${range.name} (0–${range.w} × 0–${range.h})`);
    return undefined;
  }
  return { space, x, y };
}

function rangeOf(space: CoordSpace, ctx: ParseContext | undefined): { w: number; h: number; name: string } | undefined {
  if (space === 'norm1000') return { w: 1000, h: 1000, name: '0–1000 grid' };
  if (space === 'norm1') return { w: 1, h: 1, name: 'normalised 0–1 range' };
  if (space === 'screenshot' && ctx) return { w: ctx.imageWidth, h: ctx.imageHeight, name: `${ctx.imageWidth}x${ctx.imageHeight} screenshot` };
  return undefined;
}

function numbersIn(s: string): number[] {
  return (s.match(/[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g) ?? []).map(Number);
}

function readTool(t: Json | undefined, toolName: Json | undefined, f: Map<string, Json>, bad: (m: string) => void): ToolCall | undefined {
  let name: Json | undefined;
  let args: Json | undefined;
  if (isObject(t)) {
    const tf = fieldsOf(t);
    name = tf.get('name');
    args = firstOf(tf, ['arguments', 'args', 'parameters'])?.value;
  } else if (typeof t === 'string') {
    name = t;
    args = firstOf(f, ['arguments', 'args', 'parameters'])?.value;
  } else if (t === undefined) {
    name = toolName;
    args = firstOf(f, ['arguments', 'args', 'parameters'])?.value;
  } else {
    bad(`"tool" must be {"name": "...", "arguments": {...}}, found ${describe(t)}`);
    return undefined;
  }
  if (typeof name !== 'string' || name.trim() === '') {
    bad(`"tool" needs a "name", found ${describe(name)}`);
    return undefined;
  }
  if (typeof args === 'string') {
    // Function-calling APIs send arguments as a JSON string.
    try {
      args = new RelaxedJson(args, false).value();
    } catch {
      bad(`"tool" "arguments" must be an object, found ${describe(args)}`);
      return undefined;
    }
  }
  if (args === undefined || args === null) return { name, arguments: {} };
  if (!isObject(args)) {
    bad(`"tool" "arguments" must be an object, found ${describe(args)}`);
    return undefined;
  }
  return { name, arguments: args };
}

// ------------------------------------------------------------------------- TraceR1 writing

/** The canonical TraceR1 answer: one line per step, JSON inside. parseForecast reads it back exactly. */
export function serializeTraceR1(steps: readonly ForecastStep[], thought?: string): string {
  const lines = steps.map((s, i) => {
    const a: ActionFields = s.action;
    const ordered: Record<string, unknown> = { action_type: a.action_type };
    // Arguments in schema order, the words for the grounder last, as the prototype writes them.
    const optional = ['text', 'keys', 'direction', 'amount', 'point', 'end_point', 'answer', 'app', 'duration_ms', 'value', 'tool'] as const;
    for (const key of optional) if (a[key] !== undefined) ordered[key] = a[key];
    ordered.step_instruction = a.step_instruction;
    return `Step ${i + 1}: "screenshot_abstraction": ${json(s.screenshot_abstraction)}, "action": ${json(ordered)}, "status": ${json(s.status)}`;
  });
  const think = thought !== undefined ? `<think>${thought}</think>` : '';
  return `${think}<answer>\n${lines.join('\n')}\n</answer>`;
}

/** JSON with "</" written "<\\/" (the same string to any JSON reader), so a text holding "</answer>" cannot end the block. */
function json(v: unknown): string {
  return JSON.stringify(v).replace(/<\//g, '<\\/');
}

// ------------------------------------------------------------------------- UI-TARS format

/**
 * The size Qwen2.5-VL resizes an image to before the model sees it (qwen_vl_utils
 * `smart_resize`, with UI-TARS's pixel bounds as defaults): each side rounded to a multiple of
 * `factor` (Python's round: halves to even), then both scaled down (floor) or up (ceil) to
 * keep the area within [minPixels, maxPixels]. UI-TARS-1.5 answers in pixels of this size.
 */
export function smartResize(
  width: number,
  height: number,
  factor = 28,
  minPixels = 100 * 28 * 28,
  maxPixels = 16384 * 28 * 28,
): { width: number; height: number } {
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new ForesightError('BAD_INPUT', `Cannot resize an image of ${width}x${height}`);
  }
  if (Math.max(width, height) / Math.min(width, height) > 200) {
    throw new ForesightError('BAD_INPUT', `The aspect ratio of ${width}x${height} is above 200, which Qwen-VL processors refuse`);
  }
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return { width: w, height: h };
}

/** Python's round(): halves go to the even neighbour (round(28.5) == 28). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

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
  const calls = readCalls(raw.slice(actionAt.index + actionAt[0].length), problems);
  const resized = version === '1.5' && ctx ? smartResize(ctx.imageWidth, ctx.imageHeight) : undefined;
  const steps: ForecastStep[] = [];
  calls.forEach((call, i) => {
    const where = calls.length > 1 ? `Action ${i + 1} (${clip(call.text, 60)})` : clip(call.text, 60);
    const step = uiTarsStep(call, thought, where, version, ctx, resized, problems);
    if (step) steps.push(step);
  });
  if (calls.length === 0 && !problems.any) problems.add(undefined, `the "Action:" line holds no action (expected e.g. click(start_box='(x,y)'))`);
  if (problems.any) throw parseError(raw, problems.list);
  return finish(raw, { format, ...(thought ? { thought } : {}), steps });
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

/** Reads `name(key='value', …)` calls, one after another, each optionally behind its own "Action:". */
function readCalls(src: string, problems: Problems): UiTarsCall[] {
  const calls: UiTarsCall[] = [];
  let p = 0;
  const skip = () => {
    for (;;) {
      while (p < src.length && /[\s`]/.test(src[p]!)) p++;
      const again = /(?:\*\*)?Action(?:\*\*)?[ \t]*:/iy;
      again.lastIndex = p;
      if (again.exec(src)) p = again.lastIndex;
      else return;
    }
  };
  skip();
  while (p < src.length) {
    const start = p;
    const name = /([A-Za-z_][\w]*)[ \t]*\(/y;
    name.lastIndex = p;
    const m = name.exec(src);
    if (!m) {
      problems.add(undefined, `cannot read the action ${JSON.stringify(clip(src.slice(p).trim(), 60))} (expected a call such as click(start_box='(x,y)'))`);
      return calls;
    }
    p = name.lastIndex;
    const args = new Map<string, string>();
    let positional = 0;
    let closed = false;
    while (p < src.length) {
      while (p < src.length && /\s/.test(src[p]!)) p++;
      if (src[p] === ')') {
        p++;
        closed = true;
        break;
      }
      if (src[p] === ',') {
        p++;
        continue;
      }
      const key = /([A-Za-z_]\w*)\s*=\s*/y;
      key.lastIndex = p;
      const k = key.exec(src);
      let argName: string;
      if (k) {
        argName = k[1]!.toLowerCase();
        p = key.lastIndex;
      } else {
        argName = `_${positional++}`;
      }
      const read = readArgValue(src, p);
      if (read.end === p) {
        problems.add(undefined, `cannot read the arguments of ${JSON.stringify(clip(src.slice(start).trim(), 60))} ${p < src.length ? `at ${JSON.stringify(src[p])}` : ''}`.trim());
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
    const fn = m[1]!.toLowerCase();
    const names = POSITIONAL[fn] ?? ['start_box'];
    for (const [k, v] of [...args]) {
      const idx = /^_(\d+)$/.exec(k);
      if (!idx) continue;
      args.delete(k);
      const real = names[Number(idx[1])];
      if (real !== undefined && !args.has(real)) args.set(real, v);
    }
    calls.push({ name: fn, args, text });
    skip();
  }
  return calls;
}

/** One argument value: quoted (with \' \" \n \\ escapes) or bare up to "," / ")" outside brackets. */
function readArgValue(src: string, start: number): { value: string; end: number } {
  const q = src[start];
  if (q === "'" || q === '"') {
    const read = (lenient: boolean): { value: string; end: number } | undefined => {
      let out = '';
      let p = start + 1;
      while (p < src.length) {
        const c = src[p]!;
        if (c === '\\' && p + 1 < src.length) {
          const e = src[p + 1]!;
          out += ESCAPES[e] ?? `\\${e}`;
          p += 2;
          continue;
        }
        if (c === q && (!lenient || argValueEndsAt(src, p + 1))) return { value: out, end: p + 1 };
        out += c;
        p++;
      }
      return undefined;
    };
    const got = read(true) ?? read(false);
    if (got) return got;
    return { value: src.slice(start + 1), end: src.length };
  }
  let depth = 0;
  let p = start;
  while (p < src.length) {
    const c = src[p]!;
    if ('([<'.includes(c)) depth++;
    else if (')]>'.includes(c)) {
      if (depth === 0) break;
      depth--;
    } else if (c === ',' && depth === 0) break;
    else if (c === '\n' && depth === 0) break;
    p++;
  }
  return { value: src.slice(start, p).trim(), end: p };
}

/** A quote ends an argument when the call goes on: ")" or ", name=" follows. */
function argValueEndsAt(src: string, pos: number): boolean {
  const rest = src.slice(pos, pos + 200);
  return /^\s*(?:\)|,\s*[A-Za-z_]\w*\s*=|$)/.test(rest);
}

function uiTarsStep(
  call: UiTarsCall,
  thought: string,
  where: string,
  version: UiTarsVersion,
  ctx: ParseContext | undefined,
  resized: { width: number; height: number } | undefined,
  problems: Problems,
): ForecastStep | undefined {
  const bad = (m: string) => problems.add(where, m);
  const type = UITARS_ACTIONS[call.name];
  if (!type) {
    bad(`unknown action ${JSON.stringify(call.name)} (expected one of ${Object.keys(UITARS_ACTIONS).join(', ')})`);
    return undefined;
  }
  const before = problems.list.length;
  const boxOf = (names: readonly string[]): SpacePoint | undefined => {
    const argName = names.find((n) => call.args.has(n));
    if (argName === undefined) return undefined;
    const nums = numbersIn(call.args.get(argName)!);
    if (nums.length !== 2 && nums.length !== 4) {
      bad(`${argName} must be a point '(x,y)' or a box '(x1,y1,x2,y2)', found ${JSON.stringify(call.args.get(argName))}`);
      return undefined;
    }
    const x = nums.length === 4 ? (nums[0]! + nums[2]!) / 2 : nums[0]!;
    const y = nums.length === 4 ? (nums[1]! + nums[3]!) / 2 : nums[1]!;
    if (version === '1.0') {
      if (x < 0 || y < 0 || x > 1000 || y > 1000) {
        bad(`${argName} (${x},${y}) is outside the 0–1000 grid UI-TARS-1.0 answers on`);
        return undefined;
      }
      return { space: 'norm1000', x, y };
    }
    const r = resized!;
    const c = ctx!;
    if (x < 0 || y < 0 || x > r.width || y > r.height) {
      bad(`${argName} (${x},${y}) is outside the ${r.width}x${r.height} image the model saw`);
      return undefined;
    }
    return { space: 'screenshot', x: (x * c.imageWidth) / r.width, y: (y * c.imageHeight) / r.height };
  };

  const point = boxOf(['start_box', 'point', 'start_point', 'box']);
  const endPoint = boxOf(['end_box', 'end_point']);
  const action: ActionFields = { action_type: type, step_instruction: thought.replace(/\s+/g, ' ').trim() || call.text };
  if (point) action.point = point;
  if (endPoint) action.end_point = endPoint;

  const needsPoint = ['click', 'double_click', 'right_click', 'drag', 'move', 'long_press'].includes(type);
  if (needsPoint && !point && !problems.list.slice(before).length) bad(`${call.name} needs start_box='(x,y)'`);
  if (type === 'drag' && !endPoint && !problems.list.slice(before).length) bad(`${call.name} needs end_box='(x,y)'`);

  const content = call.args.get('content') ?? call.args.get('text');
  if (type === 'type') {
    if (content === undefined) bad(`type needs content='...'`);
    else action.text = content;
  }
  if (type === 'finished' && content !== undefined && content !== '') action.answer = content;
  if (type === 'hotkey' || type === 'key') {
    const key = call.args.get('key') ?? call.args.get('keys') ?? call.args.get('hotkey');
    if (key === undefined) bad(`${call.name} needs key='...'`);
    else {
      try {
        // UI-TARS separates pyautogui key names (which hold no spaces) with spaces: split on them
        // here, so "ctrl right" is ctrl + the right arrow rather than one multi-word name.
        action.keys = parseKeyCombo(key.trim().split(/\s+/));
      } catch (e) {
        if (!isForesightError(e)) throw e;
        bad(`key: ${e.message}`);
      }
    }
  }
  if (type === 'scroll') {
    const dir = call.args.get('direction')?.trim().toLowerCase();
    if (dir === undefined) bad(`scroll needs direction='down' (one of ${DIRECTIONS.join(', ')})`);
    else if ((DIRECTIONS as readonly string[]).includes(dir)) action.direction = dir as Direction;
    else bad(`direction must be one of ${DIRECTIONS.join(', ')}, found ${JSON.stringify(dir)}`);
  }
  if (type === 'open_app') {
    const app = call.args.get('app_name') ?? call.args.get('app');
    if (app === undefined || app.trim() === '') bad(`open_app needs app_name='...'`);
    else action.app = app;
  }
  if (problems.list.length > before) return undefined;
  const built = actionFromFields(action);
  if (!built.ok) {
    for (const p of built.problems) bad(p);
    return undefined;
  }
  return { screenshot_abstraction: '', action: built.action, status: type === 'finished' ? 'done' : 'not done' };
}

// ------------------------------------------------------------------------- UI-TARS writing

function escapeContent(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

/** Actions UI-TARS writes as `name(start_box=…)`, by the name it uses. */
const UITARS_POINT_CALLS: Partial<Record<ActionType, string>> = {
  click: 'click',
  double_click: 'left_double',
  right_click: 'right_single',
  move: 'hover',
  long_press: 'long_press',
};

/** Actions UI-TARS writes without arguments. */
const UITARS_PLAIN_CALLS: Partial<Record<ActionType, string>> = {
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
export function serializeUiTars(step: ForecastStep, version: UiTarsVersion, thought?: string, ctx?: { imageWidth: number; imageHeight: number }): string {
  const a: ActionFields = step.action;
  const box = (p: SpacePoint | undefined, what: string): string => {
    if (!p) throw new ForesightError('BAD_INPUT', `A ${a.action_type} step needs a ${what} to be written in UI-TARS format`);
    const { x, y } = uiTarsCoords(p, version, ctx);
    return version === '1.0' ? `'(${x},${y})'` : `'<|box_start|>(${x},${y})<|box_end|>'`;
  };
  const pointCall = UITARS_POINT_CALLS[a.action_type];
  const plainCall = UITARS_PLAIN_CALLS[a.action_type];
  let call: string;
  if (pointCall) call = `${pointCall}(start_box=${box(a.point, 'point')})`;
  else if (plainCall) call = plainCall;
  else {
    switch (a.action_type) {
      case 'drag':
        call = `drag(start_box=${box(a.point, 'point')}, end_box=${box(a.end_point, 'end point')})`;
        break;
      case 'type':
      case 'input_text':
        call = `type(content='${escapeContent(a.text ?? '')}')`;
        break;
      case 'hotkey':
        call = `hotkey(key='${escapeContent(keysText(a.keys))}')`;
        break;
      case 'key':
        call = `press(key='${escapeContent(keysText(a.keys))}')`;
        break;
      case 'scroll':
        call = `scroll(${a.point ? `start_box=${box(a.point, 'point')}, ` : ''}direction='${a.direction ?? 'down'}')`;
        break;
      case 'finished': {
        const answer = a.answer ?? a.text;
        call = answer !== undefined && answer !== '' ? `finished(content='${escapeContent(answer)}')` : 'finished()';
        break;
      }
      case 'open_app':
        call = `open_app(app_name='${escapeContent(a.app ?? '')}')`;
        break;
      default:
        throw new ForesightError('BAD_INPUT', `UI-TARS has no action for ${a.action_type}`);
    }
  }
  return `Thought: ${thought ?? a.step_instruction}\nAction: ${call}`;
}

/** UI-TARS separates keys with spaces; the plus key is spelled "plus" so it cannot read as a separator. */
function keysText(keys: readonly string[] | undefined): string {
  if (!keys || keys.length === 0) throw new ForesightError('BAD_INPUT', 'A hotkey or key step needs keys to be written in UI-TARS format');
  return keys.map((k) => (k === '+' ? 'plus' : k === ' ' ? 'space' : k)).join(' ');
}

function uiTarsCoords(p: SpacePoint, version: UiTarsVersion, ctx: { imageWidth: number; imageHeight: number } | undefined): { x: number; y: number } {
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
