/**
 * The shared tolerant reader of the JSON models write: quotes of any kind, unquoted keys,
 * trailing and missing commas, Python's literals, bare words; and the "Step n:" markers of the
 * TraceR1 line format.
 *
 * Cost: time linear in the text and stack bounded by MAX_NESTING_DEPTH, whatever the text.
 * Nothing here tries a backtracking pattern at every position of an unbounded run: step markers
 * are found with one backward pass over the text (`StepMarkers`), and the search for a string's
 * closing quote remembers its last answer, so no stretch of text is scanned twice by it.
 */
import { MAX_NESTING_DEPTH, clip } from './format.ts';

export type Json = string | number | boolean | null | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short description of a JSON value for a message: `the number 5`, `an array`. */
export function describe(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `the text ${JSON.stringify(clip(v, 40))}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  if (Array.isArray(v)) return 'an array';
  return 'an object';
}

/** Text that cannot be read as the format's structure; the parser reports it and goes on where it can. */
export class SyntaxProblem extends Error {}

/** A limit of format.ts was exceeded: the whole parse stops with this message (which limit, what was found). */
export class LimitExceeded extends Error {}

/** JavaScript's `\s`, one UTF-16 code unit at a time, without a regular expression per character. */
export function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** Openers of a string and the characters that may close it. Curly quotes close with either curl. */
const QUOTES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ["'", "'"],
  ['\u201c', '\u201d\u201c'],
  ['\u201d', '\u201d\u201c'],
  ['\u201e', '\u201d\u201c'],
  ['\u2018', '\u2019\u2018'],
  ['\u2019', '\u2019\u2018'],
  ['\u201a', '\u2019\u2018'],
]);

export function isQuote(c: string): boolean {
  return QUOTES.has(c);
}

export const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['n', '\n'],
  ['t', '\t'],
  ['r', '\r'],
  ['b', '\b'],
  ['f', '\f'],
  ['/', '/'],
  ['\\', '\\'],
  ['"', '"'],
  ["'", "'"],
  ['`', '`'],
]);

const LITERALS: ReadonlyMap<string, Json> = new Map<string, Json>([
  ['true', true],
  ['false', false],
  ['null', null],
  ['True', true],
  ['False', false],
  ['None', null],
]);

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isBlank = (c: number) => c === 0x20 || c === 0x09;
const isEmphasis = (c: number) => c === 0x2a || c === 0x5f; // * _
/** What may stand before "Step": spaces, list and heading marks, emphasis: `- **Step 1:**`, `### Step 1:`, `> Step 1:`. */
const isDecoration = (c: number) => isBlank(c) || c === 0x2d || c === 0x2a || c === 0x23 || c === 0x3e || c === 0x5f;

/**
 * Where a "Step n:" marker starting at each position ends, as models write it: `Step 3:`,
 * `Step 3 :`, `**Step 3:**`, `- Step 3:`, `### Step 3:`, `Step 3：`. Computed for the whole text
 * in one backward pass: a marker that starts on a decoration character is the marker that starts
 * one character later, so each position costs O(1) however long its run of spaces or `*` is.
 */
export class StepMarkers {
  private readonly ends: Int32Array;
  private readonly nums: Float64Array;

  constructor(readonly src: string) {
    const n = src.length;
    this.ends = new Int32Array(n + 1).fill(-1);
    this.nums = new Float64Array(n + 1);
    for (let p = n - 1; p >= 0; p--) {
      const c = src.charCodeAt(p);
      if (isDecoration(c)) {
        this.ends[p] = this.ends[p + 1]!;
        this.nums[p] = this.nums[p + 1]!;
      } else if (c === 0x73 || c === 0x53) {
        this.tail(p);
      }
    }
  }

  /** `step[ \t]*(\d+)[ \t]*[*_]*[ \t]*[:：][ \t]*[*_]*` at p, scanned once: its runs hold no "s", so no other start rescans them. */
  private tail(p: number): void {
    const s = this.src;
    if (s.slice(p, p + 4).toLowerCase() !== 'step') return;
    let q = p + 4;
    while (isBlank(s.charCodeAt(q))) q++;
    const digits = q;
    while (isDigit(s.charCodeAt(q))) q++;
    if (q === digits) return;
    const num = Number(s.slice(digits, q));
    while (isBlank(s.charCodeAt(q))) q++;
    while (isEmphasis(s.charCodeAt(q))) q++;
    while (isBlank(s.charCodeAt(q))) q++;
    const colon = s.charCodeAt(q);
    if (colon !== 0x3a && colon !== 0xff1a) return;
    q++;
    while (isBlank(s.charCodeAt(q))) q++;
    while (isEmphasis(s.charCodeAt(q))) q++;
    this.ends[p] = q;
    this.nums[p] = num;
  }

  at(pos: number): { num: number; end: number } | undefined {
    const end = this.ends[pos] ?? -1;
    return end < 0 ? undefined : { num: this.nums[pos]!, end };
  }

  has(pos: number): boolean {
    return (this.ends[pos] ?? -1) >= 0;
  }
}

/**
 * A forgiving JSON reader: single, double and curly quotes; unquoted keys; trailing and
 * missing commas; Python's True/False/None; bare words as strings. A quote closes a string
 * only where the JSON goes on (`,` `:` `}` `]`, the end, or the next "Step n:"), so a quote
 * the model forgot to escape stays in the text. Valid JSON reads exactly as JSON.parse reads it.
 * Brackets nested deeper than MAX_NESTING_DEPTH stop the parse (`LimitExceeded`).
 */
export class RelaxedJson {
  pos = 0;
  private depth = 0;
  /** In the "Step n:" format a step's members end where the next step marker begins. */
  readonly markers: StepMarkers | undefined;
  /**
   * Per set of closing quotes, the last answer of `lenientCloser`: from `from` on, the first
   * closing quote the JSON goes on after is at `at` (-1: none up to the end).
   */
  private readonly closerMemo = new Map<string, { from: number; at: number }>();

  constructor(
    readonly src: string,
    stepMarkers: boolean | StepMarkers,
  ) {
    this.markers = stepMarkers === true ? new StepMarkers(src) : stepMarkers === false ? undefined : stepMarkers;
  }

  get atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  peek(): string {
    return this.src[this.pos] ?? '';
  }

  skipWs(): void {
    const s = this.src;
    while (this.pos < s.length && isSpace(s.charCodeAt(this.pos))) this.pos++;
  }

  atMarker(pos = this.pos): boolean {
    return this.markers !== undefined && this.markers.has(pos);
  }

  /** Where the reader is, for a message: the rest of the line, shortened (looks at most 200 characters ahead). */
  near(pos = this.pos): string {
    const s = this.src;
    if (pos >= s.length) return 'at the end';
    const window = s.slice(pos, pos + 200);
    const nl = window.indexOf('\n');
    const line = (nl >= 0 ? window.slice(0, nl) : window).trim();
    if (line === '') return nl < 0 && pos + window.length < s.length ? 'at a long run of spaces' : 'at the end of a line';
    return `at ${JSON.stringify(clip(line.replace(/\s+/g, ' '), 30))}`;
  }

  value(): Json {
    this.skipWs();
    const c = this.peek();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (QUOTES.has(c)) return this.string();
    return this.bare();
  }

  /** Counts one more level of brackets; refuses the one past MAX_NESTING_DEPTH. */
  private nest(kind: 'object' | 'array', start: number): void {
    this.depth++;
    if (this.depth > MAX_NESTING_DEPTH) {
      throw new LimitExceeded(
        `brackets nest more than ${MAX_NESTING_DEPTH} deep (the ${kind} opened ${this.near(start)} is level ${this.depth}); an answer may nest { and [ at most ${MAX_NESTING_DEPTH} levels`,
      );
    }
  }

  object(): JsonObject {
    const start = this.pos;
    this.nest('object', start);
    try {
      this.pos++; // {
      const entries: Array<[string, Json]> = [];
      for (;;) {
        this.skipCommas();
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
        if (QUOTES.has(c) || /[A-Za-z_$]/.test(c)) continue; // a missing comma between members
        if (this.atEnd || this.atMarker()) throw new SyntaxProblem(`the object opened ${this.near(start)} is never closed with "}"`);
        throw new SyntaxProblem(`expected "," or "}" ${this.near()}`);
      }
    } finally {
      this.depth--;
    }
  }

  /** Members without braces, up to the next step marker or the end: the body of a "Step n:" line. */
  bareMembers(): JsonObject {
    const entries: Array<[string, Json]> = [];
    for (;;) {
      this.skipCommas();
      if (this.atEnd || this.atMarker()) return Object.fromEntries(entries);
      entries.push(this.member());
      this.skipWs();
      const c = this.peek();
      if (c === ',' || this.atEnd || this.atMarker()) continue;
      if (QUOTES.has(c)) continue; // a missing comma between members
      throw new SyntaxProblem(`unexpected text ${this.near()} (expected "," and the next "key": value)`);
    }
  }

  private skipCommas(): void {
    this.skipWs();
    while (this.peek() === ',') {
      this.pos++;
      this.skipWs();
    }
  }

  member(): [string, Json] {
    const key = this.key();
    this.skipWs();
    if (this.peek() !== ':') throw new SyntaxProblem(`expected ":" after the key ${JSON.stringify(clip(key, 60))}, found ${this.near().replace(/^at /, '')}`);
    this.pos++;
    this.skipWs();
    if (this.atEnd || this.peek() === ',' || this.peek() === '}' || this.atMarker()) {
      throw new SyntaxProblem(`the key ${JSON.stringify(clip(key, 60))} has no value`);
    }
    return [key, this.value()];
  }

  key(): string {
    const c = this.peek();
    if (QUOTES.has(c)) {
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
    this.nest('array', start);
    try {
      this.pos++; // [
      const items: Json[] = [];
      for (;;) {
        this.skipCommas();
        if (this.peek() === ']') {
          this.pos++;
          return items;
        }
        if (this.atEnd || this.atMarker()) throw new SyntaxProblem(`the array opened ${this.near(start)} is never closed with "]"`);
        items.push(this.value());
        this.skipWs();
        const c = this.peek();
        if (c === ',' || c === ']') continue;
        if (QUOTES.has(c) || c === '{' || c === '[' || /[-\d]/.test(c)) continue; // a missing comma
        if (this.atEnd || this.atMarker()) throw new SyntaxProblem(`the array opened ${this.near(start)} is never closed with "]"`);
        throw new SyntaxProblem(`expected "," or "]" ${this.near()}`);
      }
    } finally {
      this.depth--;
    }
  }

  /** Whether a quote at `pos - 1` can end a string: the JSON goes on right after it. */
  private closesHere(pos: number): boolean {
    const s = this.src;
    let p = pos;
    while (p < s.length && isSpace(s.charCodeAt(p))) p++;
    if (p >= s.length) return true;
    const c = s[p]!;
    return c === ',' || c === ':' || c === '}' || c === ']' || this.atMarker(p);
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

  /**
   * The string whose opening quote is at `start`, or undefined when nothing closes it. Lenient:
   * closed by the first matching quote the JSON goes on after; strict: by the first matching quote.
   */
  private readString(start: number, lenient: boolean): string | undefined {
    const closers = QUOTES.get(this.src[start]!) ?? '"';
    const end = lenient ? this.lenientCloser(start + 1, closers) : this.nextCloser(start + 1, closers, false);
    if (end < 0) return undefined;
    this.pos = end + 1;
    return this.decode(start + 1, end);
  }

  /**
   * The first closing quote from `from` on, skipping escaped characters; with `lenient`, only
   * one the JSON goes on after. -1: none. Scanning from any string's first character sees the
   * same escape pairs (a quote is never the first half of one), which is what lets
   * `lenientCloser` reuse an answer found from an earlier string.
   */
  private nextCloser(from: number, closers: string, lenient: boolean): number {
    const s = this.src;
    let p = from;
    while (p < s.length) {
      const c = s[p]!;
      if (c === '\\') {
        if (p + 1 >= s.length) return -1;
        p += 2;
        continue;
      }
      if (closers.includes(c) && (!lenient || this.closesHere(p + 1))) return p;
      p++;
    }
    return -1;
  }

  /**
   * `nextCloser(from, closers, true)`, remembered: strings are read left to right, so a later
   * string that starts before the remembered answer has the same answer. Without this, a run of
   * strings that never close in the lenient sense cost a scan to the end each: quadratic.
   */
  private lenientCloser(from: number, closers: string): number {
    const memo = this.closerMemo.get(closers);
    if (memo && memo.from <= from && (memo.at < 0 || memo.at >= from)) return memo.at;
    const at = this.nextCloser(from, closers, true);
    this.closerMemo.set(closers, { from, at });
    return at;
  }

  /** The text between `from` and `to` with its escapes resolved; an unknown escape ("C:\Users") keeps its backslash. */
  private decode(from: number, to: number): string {
    // The slice first: indexOf on the whole text would look past `to`, to the end, each time.
    const s = this.src.slice(from, to);
    let p = s.indexOf('\\');
    if (p < 0) return s;
    let out = '';
    let seg = 0;
    while (p >= 0) {
      out += s.slice(seg, p);
      const e = s[p + 1]!;
      if (e === 'u' && p + 6 <= s.length && [2, 3, 4, 5].every((i) => isHex(s.charCodeAt(p + i)))) {
        out += String.fromCharCode(parseInt(s.slice(p + 2, p + 6), 16));
        seg = p + 6;
      } else {
        out += ESCAPES.get(e) ?? `\\${e}`;
        seg = p + 2;
      }
      p = s.indexOf('\\', seg);
    }
    return out + s.slice(seg);
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
    const s = this.src;
    const start = this.pos;
    let p = this.pos;
    for (; p < s.length; p++) {
      const c = s[p]!;
      if (c === ',' || c === '}' || c === ']' || c === '\n' || c === '\r' || this.atMarker(p)) break;
    }
    const word = s.slice(start, p).trim();
    if (word.length === 0) throw new SyntaxProblem(`expected a value ${this.near()}`);
    if (/^[[{(<]/.test(word)) throw new SyntaxProblem(`cannot read the value ${this.near()}`);
    this.pos = p;
    const literal = LITERALS.get(word);
    return literal !== undefined ? literal : word;
  }
}
