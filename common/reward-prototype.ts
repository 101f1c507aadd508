/**
 * The TraceR1 prototype's stage-1 reward *as its script reads text* (cheryyunl/EasyR1,
 * examples/reward_function/gui.py at 86bd719). The arithmetic is `rewardOverItems` in
 * rewards.ts; this module reproduces how the script gets from an answer's text to the
 * action types and statuses it scores, with Python's semantics where they differ from
 * JavaScript's. Written from its behaviour, not its code; checked against the script on
 * generated test vectors (test/fixtures/rewards/, test/unit/reward-prototype.test.ts).
 *
 * What the script does with a text, and what surprises:
 * - Whitespace next to `<`, `>` and `/` is deleted everywhere first (so `< answer >` is
 *   `<answer>`, and also `a / b` inside an instruction becomes `a/b`).
 * - Format: 0 unless the whole text is `<think>…</think> <answer>…</answer>` (nothing before
 *   or after); else the share of `Step n:` blocks that hold a `"screenshot_abstraction": "…"`,
 *   an `"action": {…}` that is a JSON object (Python's json: NaN and Infinity allowed) with the
 *   keys `action_type` and `step_instruction`, and a `"status": "done"|"not done"`.
 * - Steps for the accuracy: every `Step n:` block (numbering is never checked) with an
 *   `"action": {…}` that Python's json reads and a `"status": "…"`; other blocks are skipped.
 *   Only `action_type` (any JSON value, compared with Python's `==`: 1 == 1.0 == true; a missing
 *   one is None, equal to another missing one) and the raw status text are kept. Without
 *   `<answer>…</answer>` the whole text is read.
 * - `{[^}]+}`: an action whose JSON holds a `}` (a nested object, a `}` in a string) is cut at
 *   the first `}` and so is not JSON: that step is dropped.
 * - `\s`, `\d` and `strip()` are Python's Unicode ones (`\x1c`–`\x1f` and `\x85` are
 *   whitespace, U+FEFF is not; any decimal digit counts for `Step n:`).
 *
 * Platform-free: common/ only. Linear in the text's length except for what the script's own
 * patterns cost on one step's text.
 */

/** Python's str.isspace() set (what `\s`, `strip()` and `split()` match), as a regex character-class body. */
export const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WS_CHAR = new RegExp(`[${PY_WS}]`);
const STEP_MARKER = new RegExp(`Step[${PY_WS}]+\\p{Nd}+:`, 'gu');
// The script's `(Step\s+\d+:.*?)(?=Step\s+\d+:|$)` with DOTALL; Python's `$` also matches before a final newline.
const STEP_BLOCK = new RegExp(`(Step[${PY_WS}]+\\p{Nd}+:.*?)(?=Step[${PY_WS}]+\\p{Nd}+:|\\n?$)`, 'gsu');
const SHOT = new RegExp(`"screenshot_abstraction":[${PY_WS}]*"[^"]*"`, 'u');
const ACTION = new RegExp(`"action":[${PY_WS}]*(\\{[^}]+\\})`, 'u');
const STATUS_DONE_OR_NOT = new RegExp(`"status":[${PY_WS}]*"(done|not done)"`, 'u');
const STATUS_ANY = new RegExp(`"status":[${PY_WS}]*"([^"]+)"`, 'u');

const isPyWs = (ch: string | undefined): boolean => {
  if (ch === undefined) return false;
  const c = ch.charCodeAt(0);
  return c <= 0x20 ? (c >= 0x09 && c <= 0x0d) || c >= 0x1c : c >= 0x85 && PY_WS_CHAR.test(ch);
};

/** Python's str.strip(). */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPyWs(s[a])) a++;
  while (b > a && isPyWs(s[b - 1])) b--;
  return s.slice(a, b);
}

const DELIMITERS = new Set(['<', '>', '/']);

/**
 * `re.sub(r"\s*(<|>|/)\s*", r"\1", text)`: every run of whitespace next to a `<`, `>` or `/`
 * goes. Done by hand because the pattern itself is quadratic on long whitespace runs.
 */
export function prototypePreprocess(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (!isPyWs(text[i])) {
      out += text[i];
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && isPyWs(text[j])) j++;
    const before = i > 0 ? text[i - 1]! : '';
    const after = j < text.length ? text[j]! : '';
    if (!DELIMITERS.has(before) && !DELIMITERS.has(after)) out += text.slice(i, j);
    i = j;
  }
  return out;
}

/** `re.fullmatch(r"<think>.*?</think>\s*<answer>.*?</answer>", text, re.DOTALL)`, without backtracking. */
function isThinkAnswer(text: string): boolean {
  if (!text.startsWith('<think>') || !text.endsWith('</answer>')) return false;
  const lastAnswerClose = text.length - '</answer>'.length;
  for (let i = text.indexOf('</think>', '<think>'.length); i !== -1; i = text.indexOf('</think>', i + 1)) {
    let k = i + '</think>'.length;
    while (k < text.length && isPyWs(text[k])) k++;
    if (text.startsWith('<answer>', k) && k + '<answer>'.length <= lastAnswerClose) return true;
  }
  return false;
}

/** `re.search(r"<answer>(.*?)</answer>", text, re.DOTALL).group(1)`, or undefined. */
function answerOf(text: string): string | undefined {
  const a = text.indexOf('<answer>');
  if (a === -1) return undefined;
  const b = text.indexOf('</answer>', a + '<answer>'.length);
  return b === -1 ? undefined : text.slice(a + '<answer>'.length, b);
}

function stepBlocks(content: string): string[] {
  return [...content.matchAll(STEP_BLOCK)].map((m) => pyStrip(m[1]!));
}

/** The format score of an already preprocessed answer. */
export function prototypeFormat(predict: string): number {
  if (!isThinkAnswer(predict)) return 0;
  const answer = answerOf(predict);
  if (answer === undefined) return 0;
  const content = pyStrip(answer);
  const markers = [...content.matchAll(STEP_MARKER)].length;
  if (markers === 0) return 0;
  let valid = 0;
  for (const step of stepBlocks(content)) {
    const action = ACTION.exec(step);
    let actionValid = false;
    if (action) {
      const dict = pyJsonObject(action[1]!);
      actionValid = dict !== undefined && Object.hasOwn(dict, 'action_type') && Object.hasOwn(dict, 'step_instruction');
    }
    if (SHOT.test(step) && actionValid && STATUS_DONE_OR_NOT.test(step)) valid++;
  }
  return valid / markers;
}

/** One step as the script keeps it: its action_type (None = `null` when missing) and raw status. */
export interface PrototypeStep {
  type: PyJson;
  status: string;
}

/** The steps the script scores in a text (answer or ground truth). */
export function prototypeSteps(text: string): PrototypeStep[] {
  const pre = prototypePreprocess(text);
  const answer = answerOf(pre);
  const content = answer === undefined ? pre : pyStrip(answer);
  const steps: PrototypeStep[] = [];
  for (const step of stepBlocks(content)) {
    const action = ACTION.exec(step);
    const status = STATUS_ANY.exec(step);
    if (!action || !status) continue;
    const dict = pyJsonObject(action[1]!);
    if (!dict) continue;
    steps.push({ type: Object.hasOwn(dict, 'action_type') ? dict['action_type']! : null, status: status[1]! });
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------
// Python's json.loads and == on what `{[^}]+}` can hold (no nested objects: they need a `}`).

/** A value as Python's json module returns it: ints stay exact (bigint), floats are numbers. */
export type PyJson = null | boolean | number | bigint | string | PyJson[] | { [key: string]: PyJson };

/** Python's recursion limit ends deeper arrays with RecursionError, which the script skips. */
const PY_MAX_DEPTH = 990;

class PyJsonError extends Error {}

/** `json.loads(s)` when it yields a dict; undefined when Python raises (or it is not a dict). */
export function pyJsonObject(s: string): { [key: string]: PyJson } | undefined {
  try {
    const r = new PyJsonReader(s);
    r.ws();
    const v = r.value(0);
    r.ws();
    if (r.pos !== s.length) return undefined;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch (e) {
    if (e instanceof PyJsonError) return undefined;
    throw e;
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class PyJsonReader {
  pos = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    while (this.pos < this.s.length && ' \t\n\r'.includes(this.s[this.pos]!)) this.pos++;
  }

  private fail(): never {
    throw new PyJsonError();
  }

  private word(w: string): boolean {
    if (!this.s.startsWith(w, this.pos)) return false;
    this.pos += w.length;
    return true;
  }

  value(depth: number): PyJson {
    if (depth > PY_MAX_DEPTH) this.fail();
    const c = this.s[this.pos];
    if (c === '"') return this.string();
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (this.word('null')) return null;
    if (this.word('true')) return true;
    if (this.word('false')) return false;
    if (this.word('NaN')) return NaN;
    if (this.word('Infinity')) return Infinity;
    if (this.word('-Infinity')) return -Infinity;
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail();
    this.pos += m[0].length;
    return m[1] === undefined && m[2] === undefined ? BigInt(m[0]) : Number(m[0]);
  }

  private string(): string {
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined || c.charCodeAt(0) < 0x20) this.fail();
      this.pos++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.pos];
      this.pos++;
      if (e === 'u') {
        const hex = this.s.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail();
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 4;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
      } else {
        this.fail();
      }
    }
  }

  private object(depth: number): { [key: string]: PyJson } {
    this.pos++;
    const out: { [key: string]: PyJson } = {};
    this.ws();
    if (this.word('}')) return out;
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') this.fail();
      const key = this.string();
      this.ws();
      if (!this.word(':')) this.fail();
      this.ws();
      Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.ws();
      if (this.word('}')) return out;
      if (!this.word(',')) this.fail();
    }
  }

  private array(depth: number): PyJson[] {
    this.pos++;
    const out: PyJson[] = [];
    this.ws();
    if (this.word(']')) return out;
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      if (this.word(']')) return out;
      if (!this.word(',')) this.fail();
    }
  }
}

/** Python's `a == b` on json values: numbers (and booleans, which are ints) by value, NaN unequal to itself. */
export function pyEquals(a: PyJson, b: PyJson): boolean {
  const na = pyNumber(a);
  const nb = pyNumber(b);
  if (na !== undefined || nb !== undefined) {
    if (na === undefined || nb === undefined) return false;
    if (typeof na === 'bigint' && typeof nb === 'bigint') return na === nb;
    if (typeof na === 'number' && typeof nb === 'number') return na === nb;
    const [i, f] = typeof na === 'bigint' ? [na, nb as number] : [nb as bigint, na];
    return Number.isInteger(f) && BigInt(f) === i;
  }
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => pyEquals(x, b[i]!));
  }
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && pyEquals(a[k]!, b[k]!));
}

function pyNumber(v: PyJson): number | bigint | undefined {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return typeof v === 'number' || typeof v === 'bigint' ? v : undefined;
}

/** A short label of an action_type value for reports. */
export function pyRepr(v: PyJson): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'None';
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
}

export { isPyWs as isPythonWhitespace };
