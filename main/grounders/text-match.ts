/**
 * Finding a step instruction's target among the texts OCR saw: which text the instruction
 * names (a quoted label, else its content words) and which line or run of words on the
 * screen matches it best, and the point that grounds the step there. Pure functions, no OCR,
 * so the matching is tested on its own and every OCR backend (Tesseract's `ocr`, PP-OCR's
 * `ocr:paddle`) grounds the same way.
 */
import { needsPoint, type Action } from '../../common/actions.ts';
import { convertPoint, type Rect } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Grounding, Observation } from '../../common/ports.ts';

/** A piece of text on the screen, its box in screenshot pixels, OCR confidence 0..100. */
export interface TextBox {
  text: string;
  bbox: Rect;
  confidence: number;
}

export interface TextLine extends TextBox {
  words: TextBox[];
}

/** What an instruction asks to act on: a quoted label, or (unquoted) its content words. */
export type TextTarget = { kind: 'quoted'; text: string } | { kind: 'words'; text: string };

export interface TextMatch {
  /** The words that matched, as OCR read them. */
  text: string;
  /** The line they are on. */
  line: string;
  bbox: Rect;
  /** 0..1: 1 exact, ~0.96 same letters and digits, lower for fuzzy or partial matches. */
  score: number;
  /** Same case and spelling as the target (after ellipsis and space normalisation). */
  caseExact: boolean;
  /** The match is a whole OCR line, not a part of a longer one. */
  wholeLine: boolean;
  /** Mean OCR confidence of the matched words, 0..1. */
  ocrConfidence: number;
}

// ---------------------------------------------------------------- normalisation

const QUOTE_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['"', '"'],
  ['“', '”'],
  ['„', '“'],
  ['«', '»'],
  ['‹', '›'],
  ['「', '」'],
  ['`', '`'],
];

/** Unifies what OCR and planners write differently: ellipsis, quotes, dashes, spaces. */
function unifyPunctuation(s: string): string {
  return s
    .replace(/\u2026/g, '...')
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u201f\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Case-, diacritics- and ellipsis-insensitive form: `Save As…` and `save as...` are equal. */
export function normalizeText(s: string): string {
  return unifyPunctuation(s.normalize('NFKD').replace(/\p{M}+/gu, '')).toLowerCase();
}

/** Only letters, digits and single spaces: `Save As...` → `save as`. */
export function alnumKey(s: string): string {
  return normalizeText(s)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Tokens of a text without the punctuation around them: `Open…,` → `open`. */
export function tokens(s: string): string[] {
  return normalizeText(s)
    .split(' ')
    .map((t) => t.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((t) => t.length > 0);
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** 1 - normalised edit distance. */
export function similarity(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 1 : 1 - levenshtein(a, b) / n;
}

// ---------------------------------------------------------------- what the instruction names

/**
 * The quoted strings of an instruction, in order: 'x', "x", “x”, ‘x’, «x», `x`. A single
 * quote opens only where no letter precedes it and closes only where none follows, so
 * apostrophes (Mousepad's, Don't Save) neither open nor close a quote.
 */
export function extractQuoted(instruction: string): string[] {
  const found: Array<{ start: number; end: number; text: string }> = [];
  const collect = (re: RegExp) => {
    for (const m of instruction.matchAll(re)) found.push({ start: m.index, end: m.index + m[0].length, text: m[1]! });
  };
  collect(/(?<![\p{L}\p{N}])['‘](.+?)['’](?![\p{L}\p{N}])/gu);
  for (const [open, close] of QUOTE_PAIRS) collect(new RegExp(`${escapeRe(open)}([^${escapeRe(close)}]+)${escapeRe(close)}`, 'gu'));
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: typeof found = [];
  for (const f of found) if (!kept.some((k) => f.start < k.end && k.start < f.end)) kept.push(f);
  return kept.map((f) => f.text.trim()).filter((t) => t.length > 0);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Words that say how to act or what kind of thing to act on, not which one. They still count
 * a little (a label may contain them: "Close Window"), but never make a match on their own.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the this that these those it its on onto in into at to of for from with by and or then again ' +
    'click clicks clicking double single tap taps press hit drag drop hover please now ' +
    'button buttons menu menus menuitem item items option options icon icons link links field fields ' +
    'entry box checkbox radio label labeled labelled named called titled text bar menubar toolbar tab ' +
    'window dialog screen panel pane area list dropdown top bottom corner side mouse cursor pointer element'
  ).split(' '),
);

/** Verbs that are labels too ("Open…", "Select All"): stop words only as the instruction's first word. */
const LEADING_VERBS: ReadonlySet<string> = new Set(
  'open select choose pick go use find locate type enter move right left double-click right-click'.split(' '),
);

const STOP_WEIGHT = 0.2;

function tokenWeight(t: string): number {
  return STOP_WORDS.has(t) ? STOP_WEIGHT : 1;
}

/** The instruction's distinct tokens with their weights. */
function instructionTerms(instruction: string): Array<{ t: string; w: number }> {
  const terms = new Map<string, number>();
  tokens(instruction).forEach((t, i) => {
    const w = i === 0 && LEADING_VERBS.has(t) ? STOP_WEIGHT : tokenWeight(t);
    terms.set(t, Math.max(terms.get(t) ?? 0, w));
  });
  return [...terms].map(([t, w]) => ({ t, w }));
}

function tokensMatch(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length < 4 || b.length < 4) return false;
  return levenshtein(a, b) <= Math.floor(Math.max(a.length, b.length) / 5);
}

// ---------------------------------------------------------------- matching

interface Span {
  words: TextBox[];
  line: TextLine;
  wholeLine: boolean;
}

function spansOf(lines: readonly TextLine[], minLen: number, maxLen: number): Span[] {
  const spans: Span[] = [];
  for (const line of lines) {
    const ws = line.words.filter((w) => w.text.trim().length > 0);
    for (let i = 0; i < ws.length; i++) {
      for (let j = i + Math.max(1, minLen); j <= Math.min(ws.length, i + maxLen); j++) {
        spans.push({ words: ws.slice(i, j), line, wholeLine: i === 0 && j === ws.length });
      }
    }
  }
  return spans;
}

export function unionRect(rs: readonly Rect[]): Rect {
  const x0 = Math.min(...rs.map((r) => r.x));
  const y0 = Math.min(...rs.map((r) => r.y));
  const x1 = Math.max(...rs.map((r) => r.x + r.width));
  const y1 = Math.max(...rs.map((r) => r.y + r.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

function toMatch(span: Span, score: number, caseExact: boolean): TextMatch {
  const text = span.words.map((w) => w.text).join(' ');
  const conf = span.words.reduce((s, w) => s + w.confidence, 0) / span.words.length / 100;
  return {
    text,
    line: span.line.text,
    bbox: unionRect(span.words.map((w) => w.bbox)),
    score,
    caseExact,
    wholeLine: span.wholeLine,
    ocrConfidence: Math.max(0, Math.min(1, conf)),
  };
}

/** Scores a span against a quoted label: exact, then same letters, then edit distance. */
function scoreQuoted(target: string, span: Span): { score: number; caseExact: boolean } {
  const raw = span.words.map((w) => w.text).join(' ');
  const caseExact = unifyPunctuation(raw) === unifyPunctuation(target);
  if (normalizeText(raw) === normalizeText(target)) return { score: 1, caseExact };
  const ta = alnumKey(target);
  const sa = alnumKey(raw);
  if (!ta) return { score: 0.9 * similarity(normalizeText(raw), normalizeText(target)), caseExact };
  if (sa === ta) return { score: 0.96, caseExact };
  const tc = ta.replace(/ /g, '');
  const sc = sa.replace(/ /g, '');
  if (sc === tc) return { score: 0.93, caseExact };
  return { score: 0.9 * similarity(sc, tc), caseExact };
}

/** Scores a span against the instruction's words: weighted F1 of shared tokens. */
function scoreWords(terms: ReadonlyArray<{ t: string; w: number }>, span: Span): number {
  const spanTokens = [...new Set(span.words.flatMap((w) => tokens(w.text)))];
  if (!spanTokens.length) return 0;
  let matchedContent = 0;
  let recallHit = 0;
  let recallAll = 0;
  for (const { t, w } of terms) {
    recallAll += w;
    if (spanTokens.some((s) => tokensMatch(s, t))) {
      recallHit += w;
      if (w === 1) matchedContent++;
    }
  }
  const onlyStop = terms.every((x) => x.w < 1);
  if (!onlyStop && matchedContent === 0) return 0;
  let precHit = 0;
  let precAll = 0;
  for (const s of spanTokens) {
    const w = tokenWeight(s);
    precAll += w;
    if (terms.some((x) => tokensMatch(s, x.t))) precHit += w;
  }
  const r = recallAll ? recallHit / recallAll : 0;
  const p = precAll ? precHit / precAll : 0;
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

const EPS = 1e-9;

/** Best first: score, then exact case, then a whole line, then the shortest line, then OCR confidence. */
export function compareMatches(a: TextMatch, b: TextMatch): number {
  if (Math.abs(a.score - b.score) > EPS) return b.score - a.score;
  if (a.caseExact !== b.caseExact) return a.caseExact ? -1 : 1;
  if (a.wholeLine !== b.wholeLine) return a.wholeLine ? -1 : 1;
  if (a.line.length !== b.line.length) return a.line.length - b.line.length;
  if (Math.abs(a.ocrConfidence - b.ocrConfidence) > EPS) return b.ocrConfidence - a.ocrConfidence;
  return a.bbox.y - b.bbox.y || a.bbox.x - b.bbox.x;
}

/** Two boxes cover the same place on the screen (the same text seen by two OCR passes). */
export function samePlace(a: Rect, b: Rect): boolean {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const smaller = Math.min(a.width * a.height, b.width * b.height);
  return smaller > 0 && inter / smaller > 0.5;
}

/**
 * All candidate matches of a target, best first, one per place on the screen (the best of
 * the spans that overlap there).
 */
export function rankMatches(lines: readonly TextLine[], target: TextTarget): TextMatch[] {
  const all: TextMatch[] = [];
  if (target.kind === 'quoted') {
    const n = tokens(target.text).length || 1;
    for (const span of spansOf(lines, Math.max(1, n - 2), n + 2)) {
      const { score, caseExact } = scoreQuoted(target.text, span);
      if (score > 0) all.push(toMatch(span, score, caseExact));
    }
  } else {
    const terms = instructionTerms(target.text);
    if (!terms.length) return [];
    const content = terms.filter((x) => x.w === 1).length;
    for (const span of spansOf(lines, 1, Math.max(1, content) + 2)) {
      const score = scoreWords(terms, span);
      if (score > 0) all.push(toMatch(span, score, false));
    }
  }
  all.sort(compareMatches);
  const distinct: TextMatch[] = [];
  for (const m of all) if (!distinct.some((d) => samePlace(d.bbox, m.bbox))) distinct.push(m);
  return distinct;
}

// ---------------------------------------------------------------- targets of an instruction

const DRAG_SPLIT = /\s(?:to|onto|into|over|towards?|until)\s/i;

/**
 * What to find for a step: the first quoted label, else the instruction's words (or, for
 * `select`, the option value). For drag, the start and the end: two quotes, or the two halves
 * around "to"/"onto"/"into".
 */
export function targetsOf(instruction: string, opts: { drag?: boolean; value?: string } = {}): { start?: TextTarget; end?: TextTarget } {
  const quoted = extractQuoted(instruction);
  const fromPart = (part: string): TextTarget | undefined => {
    const q = extractQuoted(part)[0];
    if (q) return { kind: 'quoted', text: q };
    return instructionTerms(part).some((x) => x.w === 1) ? { kind: 'words', text: part } : undefined;
  };
  if (opts.drag) {
    if (quoted.length >= 2) return { start: { kind: 'quoted', text: quoted[0]! }, end: { kind: 'quoted', text: quoted[1]! } };
    const m = DRAG_SPLIT.exec(instruction);
    if (m) {
      const start = fromPart(instruction.slice(0, m.index));
      const end = fromPart(instruction.slice(m.index + m[0].length));
      return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
    }
  }
  if (quoted[0]) return { start: { kind: 'quoted', text: quoted[0] } };
  if (opts.value) return { start: { kind: 'quoted', text: opts.value } };
  const start = fromPart(instruction);
  return start ? { start } : {};
}

// ---------------------------------------------------------------- grounding a step on the text read

/** How good a match must be; shared by every OCR backend so they ground alike. */
export interface TextGroundingOptions {
  /** Lowest score a quoted label may match with (1 exact, ~0.96 same letters, 0.9×similarity fuzzy). */
  minQuotedScore: number;
  /**
   * Lowest score an unquoted instruction's words may match with (weighted F1 of shared words).
   * 0.5: "click the blue icon next to Firefox" must not land on a "Next" button.
   */
  minWordsScore: number;
}

export const TEXT_GROUNDING_DEFAULTS: TextGroundingOptions = { minQuotedScore: 0.75, minWordsScore: 0.5 };

/** What an OCR backend read on one frame, boxes in screenshot pixels. */
export interface TextReading {
  frameId: string;
  lines: TextLine[];
}

export interface StepTargets {
  start: TextTarget;
  end?: TextTarget;
}

/**
 * What to look for to ground a step, checked before any OCR is awaited: only pointed actions,
 * and only instructions that name some text.
 */
export function stepTargets(action: Action, grounder: string): StepTargets {
  if (!needsPoint(action)) {
    throw new ForesightError('BAD_INPUT', `A ${action.action_type} action needs no point; the ${grounder} grounder only grounds pointed actions`);
  }
  const drag = action.action_type === 'drag';
  const value = action.action_type === 'select' ? action.value : undefined;
  const { start, end } = targetsOf(action.step_instruction, { drag, ...(value ? { value } : {}) });
  if (!start) {
    throw new ForesightError(
      'GROUNDING_FAILED',
      `The instruction "${action.step_instruction}" names no text to look for; quote the label, e.g. click on 'Save As…'`,
      { instruction: action.step_instruction },
    );
  }
  return end ? { start, end } : { start };
}

/** The point of a step in what OCR read: the centre of the best match, and for a drag its end. */
export function groundInText(
  action: Action,
  observation: Observation,
  text: TextReading,
  targets: StepTargets,
  opts: TextGroundingOptions,
): Pick<Grounding, 'point' | 'endPoint' | 'confidence' | 'detail'> {
  const first = locateText(text, targets.start, action.step_instruction, opts);
  let endPoint: Grounding['endPoint'];
  let endDetail = '';
  if (action.action_type === 'drag') {
    if (targets.end) {
      const e = locateText(text, targets.end, action.step_instruction, opts);
      endPoint = e.point;
      endDetail = ` → ${e.detail}`;
    } else if (action.end_point) {
      const p = convertPoint(action.end_point, 'screenshot', observation.geometry);
      endPoint = { space: 'screenshot', x: p.x, y: p.y };
      endDetail = " → the planner's end point";
    } else {
      throw new ForesightError('GROUNDING_FAILED', `The drag "${action.step_instruction}" names no end: write drag 'from' to 'to'`, {
        instruction: action.step_instruction,
      });
    }
  }
  return { point: first.point, ...(endPoint ? { endPoint } : {}), confidence: first.confidence, detail: first.detail + endDetail };
}

/** The best match of one target, or GROUNDING_FAILED naming the closest texts seen. */
export function locateText(
  text: TextReading,
  target: TextTarget,
  instruction: string,
  opts: TextGroundingOptions,
): { point: Grounding['point']; confidence: number; detail: string } {
  const ranked = rankMatches(text.lines, target);
  const min = target.kind === 'quoted' ? opts.minQuotedScore : opts.minWordsScore;
  const best = ranked[0];
  if (!best || best.score < min) throw notFound(text, target, instruction, ranked);
  const second = ranked[1];
  const tie =
    second !== undefined &&
    Math.abs(second.score - best.score) < 1e-9 &&
    second.caseExact === best.caseExact &&
    second.wholeLine === best.wholeLine &&
    second.line.length === best.line.length;
  const kindFactor = target.kind === 'quoted' ? 1 : 0.8;
  const confidence = best.score * kindFactor * (0.5 + 0.5 * best.ocrConfidence) * (tie ? 0.6 : 1);
  const how = best.score === 1 ? 'exact' : best.score >= 0.93 ? 'same letters' : `score ${best.score.toFixed(2)}`;
  const wanted = target.kind === 'quoted' ? `'${target.text}'` : `the words of "${target.text}"`;
  const detail =
    `${wanted} → "${best.text}" (${how}${best.wholeLine ? '' : `, in "${best.line}"`})` +
    (tie ? `; also "${second.text}" at (${Math.round(centre(second.bbox).x)}, ${Math.round(centre(second.bbox).y)})` : '');
  const c = centre(best.bbox);
  return { point: { space: 'screenshot', x: c.x, y: c.y }, confidence: Math.min(1, confidence), detail };
}

function notFound(text: TextReading, target: TextTarget, instruction: string, ranked: TextMatch[]): ForesightError {
  const wanted = target.kind === 'quoted' ? `'${target.text}'` : `the words of "${instruction}"`;
  if (!text.lines.length) {
    return new ForesightError('GROUNDING_FAILED', `OCR read no text on this screenshot, so ${wanted} cannot be found`, {
      target: target.text,
      frameId: text.frameId,
    });
  }
  // OCR's confident readings only: the stray marks it reads in icons help nobody.
  let closest = ranked
    .filter((m) => m.ocrConfidence >= 0.5 && /[\p{L}\p{N}]{2}/u.test(m.text))
    .slice(0, 5)
    .map((m) => ({ text: m.text, score: round2(m.score) }));
  if (!closest.length) {
    closest = text.lines
      .filter((l) => l.confidence >= 50)
      .slice(0, 8)
      .map((l) => ({ text: l.text, score: 0 }));
  }
  const list = closest.map((c) => (c.score ? `"${c.text}" (${c.score})` : `"${c.text}"`)).join(', ');
  return new ForesightError(
    'GROUNDING_FAILED',
    `No text on the screen matches ${wanted} well enough; ${closest.some((c) => c.score) ? 'closest' : 'texts seen'}: ${list || 'none'}`,
    { target: target.text, frameId: text.frameId, closest },
  );
}

function centre(r: Rect): { x: number; y: number } {
  return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
