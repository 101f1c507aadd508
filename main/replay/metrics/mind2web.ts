/**
 * Multimodal-Mind2Web step scoring for a screenshot and a click point: the screenshot evaluation
 * of SeeClick, `njucckevin/SeeClick` `agent_tasks/mind2web_test.py` (read at cac90bc, whose
 * scoring is that of 73c6835), which follows Mind2Web's `calculate_f1`. Mind2Web's own
 * `src/action_prediction/metric.py` (OSU-NLP-Group/Mind2Web) scores a choice among HTML
 * candidates and cannot score a point; SeeClick's variant is the one for a screenshot and a
 * point (used by SeeClick, OS-Atlas, UI-TARS and others). Differences from Mind2Web's script:
 * no punctuation-token removal in the F1, element by point-in-box, operation F1 macro over the
 * three operations.
 *
 * - Operations are numbered by the step's `original_op`: CLICK, HOVER and ENTER → 4, SELECT → 2,
 *   TYPE → 3. An answer is `{"action_type": n, "click_point": (x, y), "value": "…"}`, the point
 *   in 0–1 of the image.
 * - The truth box is the target element's box divided by the image size and rounded to 3
 *   decimals (Python `round`, ties to even on the binary value); the element is correct when
 *   the click point lies inside it, edges inclusive.
 * - The truth value goes through Python's `ast.literal_eval` of `"value": "<value>"` written
 *   into the answer string: escapes are interpreted (`\t` becomes a tab), and a value that
 *   breaks the literal (a `"`, a line break, a trailing backslash, a bad escape) makes the
 *   script SKIP the step (`continue`: never scored, though later steps still see it in their
 *   history) — surprising, reproduced (see `pyLiteralValue`).
 * - Operation F1: token-set F1 (Python `str.split()` whitespace) between "<n>" (click) or
 *   "<n> <value lower-cased>" (type, select) of answer and truth; both empty = 1. An answer
 *   without a click point is the script's "format wrong": element wrong and F1 0, while its
 *   operation may still match (Op_match is set before the point is read).
 * - Step success: F1 exactly 1 and the element correct. An episode succeeds when all its
 *   scored steps do.
 * - Reported (the script's log lines): element accuracy and step SR over all steps (micro);
 *   operation F1 = mean of the per-operation mean F1 over the TRUE operations 4, 2, 3 (its
 *   `marco_op_f1`; the script prints NaN when one of the three never occurs — here the mean
 *   runs over the operations present); episode SR over episodes; and the macro figures, per
 *   episode means averaged over episodes (macro operation F1 averages the steps' F1 directly).
 */
import { PY_WS } from '../../../common/reward-prototype.ts';

export type M2wOp = 2 | 3 | 4;
export const M2W_OP_NAMES: Readonly<Record<M2wOp, string>> = { 4: 'CLICK', 2: 'SELECT', 3: 'TYPE' };

/** `original_op` → the script's operation number. */
export function opNumber(originalOp: string): M2wOp | undefined {
  switch (originalOp) {
    case 'CLICK':
    case 'HOVER':
    case 'ENTER':
      return 4;
    case 'SELECT':
      return 2;
    case 'TYPE':
      return 3;
    default:
      return undefined;
  }
}

/** A box normalized to the image, [x1, y1, x2, y2], rounded as the script does. */
export type NormBox = readonly [number, number, number, number];

/**
 * Python's round(x, 3) on a double: the 3-decimal value nearest to the exact binary value
 * (what `toFixed` computes), except on an exact tie, which goes to the even last digit, not
 * up. A double is exactly halfway, (2k+1)/2000, only when it is an odd multiple of 1/16 (0.0625,
 * 0.1875, …); `x * 2000` is no test for it, as it rounds e.g. 0.6255 (just below the tie) to
 * 1251.
 */
export function pyRound3(x: number): number {
  const sixteenths = x * 16;
  if (Number.isInteger(sixteenths) && Math.abs(sixteenths % 2) === 1) {
    const lo = Math.floor(x * 1000);
    return (lo % 2 === 0 ? lo : lo + 1) / 1000;
  }
  return Number(x.toFixed(3));
}

export function normBox(x: number, y: number, width: number, height: number, imageWidth: number, imageHeight: number): NormBox {
  return [pyRound3(x / imageWidth), pyRound3(y / imageHeight), pyRound3((x + width) / imageWidth), pyRound3((y + height) / imageHeight)];
}

/** Python's `str.split()` separators (JS `\s` differs: it has U+FEFF, lacks U+001C–U+001F and U+0085). */
const PY_SPLIT = new RegExp(`[${PY_WS}]+`);

function tokens(s: string): Set<string> {
  return new Set(s.split(PY_SPLIT).filter((t) => t !== ''));
}

/** Mind2Web's `calculate_f1` as SeeClick has it: F1 of the two sets of whitespace tokens. */
export function opF1(pred: string, label: string): number {
  const p = tokens(pred);
  const l = tokens(label);
  if (p.size === 0 && l.size === 0) return 1;
  if (p.size === 0 || l.size === 0) return 0;
  let tp = 0;
  for (const t of p) if (l.has(t)) tp++;
  const precision = tp / p.size;
  const recall = tp / l.size;
  if (precision === 0 || recall === 0) return 0;
  return (2 * precision * recall) / (precision + recall);
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/**
 * What `ast.literal_eval` makes of a truth value the script wrote between double quotes, or
 * undefined when the literal does not parse (the script then skips the step). Interpreted as
 * in a Python 3 str literal: the simple escapes, octal `\ooo`, `\xhh`, `\uhhhh`, `\Uhhhhhhhh`,
 * backslash + line break (continuation); an unknown escape keeps its backslash. Undefined for:
 * a `"` (it closes the string; the literal survives only for contrived values such as `a" "b`,
 * which we count as unreadable too), a raw line break or NUL, a trailing backslash, a short
 * `\x`/`\u`/`\U`, a code point above U+10FFFF. `\N{name}` is kept as written: resolving
 * Unicode names needs a table we do not carry (so such a value is scored, as by the script when
 * the name exists, but against the escape's text rather than its character).
 */
export function pyLiteralValue(value: string): string | undefined {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"' || c === '\n' || c === '\r' || c === '\0') return undefined;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = value[++i];
    if (e === undefined) return undefined;
    if (e === '\n') continue;
    if (e === '\r') {
      if (value[i + 1] === '\n') i++;
      continue;
    }
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    if (e >= '0' && e <= '7') {
      let digits = e;
      while (digits.length < 3 && /[0-7]/.test(value[i + 1] ?? '')) digits += value[++i];
      out += String.fromCodePoint(parseInt(digits, 8));
      continue;
    }
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (width > 0) {
      const hex = value.slice(i + 1, i + 1 + width);
      if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return undefined;
      out += String.fromCodePoint(cp);
      i += width;
      continue;
    }
    if (e === 'N') {
      const m = /^\{[A-Za-z0-9 -]+\}/.exec(value.slice(i + 1));
      if (!m) return undefined;
      out += '\\N' + m[0];
      i += m[0].length;
      continue;
    }
    out += '\\' + e;
  }
  return out;
}

export interface M2wAnswer {
  /** The operation number; any other number never matches. */
  actionType: number;
  /** 0–1 of the image; undefined = the script's "format wrong". */
  clickPoint?: readonly [number, number];
  value?: string;
}

export interface M2wTruth {
  op: M2wOp;
  box: NormBox;
  /** The value as the script reads it back (`pyLiteralValue`), '' for clicks. */
  value: string;
}

export interface M2wStepScore {
  opMatch: boolean;
  elementMatch: boolean;
  f1: number;
  success: boolean;
}

function opString(actionType: number, value: string | undefined): string {
  return actionType === 2 || actionType === 3 ? `${actionType} ${(value ?? '').toLowerCase()}` : String(actionType);
}

export function scoreMind2WebStep(a: M2wAnswer, t: M2wTruth): M2wStepScore {
  const opMatch = a.actionType === t.op;
  if (!a.clickPoint) return { opMatch, elementMatch: false, f1: 0, success: false };
  const [x, y] = a.clickPoint;
  const elementMatch = t.box[0] <= x && x <= t.box[2] && t.box[1] <= y && y <= t.box[3];
  const f1 = opF1(opString(a.actionType, a.value), opString(t.op, t.value));
  return { opMatch, elementMatch, f1, success: f1 === 1 && elementMatch };
}

export interface M2wSummary {
  elementAccuracy: number;
  operationF1: number;
  stepSR: number;
  episodeSR: number;
  /** Per-episode means averaged over episodes (the script's "Macro …" lines). */
  macroElementAccuracy: number;
  macroOperationF1: number;
  macroStepSR: number;
  /** Mean F1 per true operation present. */
  f1ByOp: Partial<Record<M2wOp, number>>;
}

/**
 * numpy's float64 sum (`np.add.reduce` on a contiguous array): plain below 8 items, else 8
 * running sums combined pairwise, split in halves (multiples of 8) above 128 items. Used so the
 * means below equal the script's `np.mean` to the last bit (checked against numpy 2.4 on
 * lists of up to 20,000 F1 values).
 */
export function npSum(xs: readonly number[], from = 0, to = xs.length): number {
  const n = to - from;
  if (n < 8) {
    let res = 0;
    for (let i = from; i < to; i++) res += xs[i]!;
    return res;
  }
  if (n <= 128) {
    const r = xs.slice(from, from + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += xs[from + i + j]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += xs[from + i]!;
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return npSum(xs, from, from + half) + npSum(xs, from + half, to);
}

/** `np.mean` of a list of floats. */
export const npMean = (xs: readonly number[]): number => npSum(xs) / xs.length;
const mean = npMean;

/** The script's figures; `steps` must not be empty. Episodes are the distinct `episode` keys. */
export function summarizeMind2Web(steps: readonly { episode: string; op: M2wOp; score: M2wStepScore }[]): M2wSummary {
  const n = steps.length;
  const byOp = new Map<M2wOp, number[]>();
  const episodes = new Map<string, { ele: number[]; f1: number[]; ok: number[] }>();
  for (const s of steps) {
    const list = byOp.get(s.op) ?? [];
    list.push(s.score.f1);
    byOp.set(s.op, list);
    const e = episodes.get(s.episode) ?? { ele: [], f1: [], ok: [] };
    e.ele.push(s.score.elementMatch ? 1 : 0);
    e.f1.push(s.score.f1);
    e.ok.push(s.score.success ? 1 : 0);
    episodes.set(s.episode, e);
  }
  const f1ByOp: Partial<Record<M2wOp, number>> = {};
  for (const [op, xs] of byOp) f1ByOp[op] = mean(xs);
  const eps = [...episodes.values()];
  return {
    elementAccuracy: steps.filter((s) => s.score.elementMatch).length / n,
    // The script's dict order, 4, 2, 3 (the sum's order shows in the last bit).
    operationF1: mean(([4, 2, 3] as const).flatMap((op) => (f1ByOp[op] === undefined ? [] : [f1ByOp[op]]))),
    stepSR: steps.filter((s) => s.score.success).length / n,
    episodeSR: eps.filter((e) => e.ok.every((v) => v === 1)).length / eps.length,
    macroElementAccuracy: mean(eps.map((e) => mean(e.ele))),
    macroOperationF1: mean(eps.map((e) => mean(e.f1))),
    macroStepSR: mean(eps.map((e) => mean(e.ok))),
    f1ByOp,
  };
}
