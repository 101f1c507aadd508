/**
 * TraceR1, the prototype's format: `<think>…</think><answer>Step 1: "screenshot_abstraction":
 * …, "action": {…}, "status": "not done" …</answer>`. Tolerant of how models write JSON (quotes
 * of any kind, trailing commas, unquoted keys, fences, markdown around "Step n:", the whole
 * answer as a JSON array), strict about structure: every step needs an action with a known type,
 * the arguments that type needs, a status, and steps numbered 1..n.
 *
 * This file reads the structure (thinking, answer block, steps); tracer1-action.ts reads the
 * fields of each step. Time linear in the answer (see lexer.ts).
 */
import type { ActionFields, Forecast, ForecastStep } from '../actions.ts';
import { MAX_FORECAST_STEPS, Problems, clip, count, finishForecast, parseError, type ModelFormat, type ParseContext } from './format.ts';
import { LimitExceeded, RelaxedJson, StepMarkers, SyntaxProblem, describe, isObject, isSpace, type Json, type JsonObject } from './lexer.ts';
import { fieldsOf, readStep } from './tracer1-action.ts';

function parseTraceR1(raw: string, ctx: ParseContext | undefined): Forecast {
  const problems = new Problems();
  const { thought, answer } = splitThinkAnswer(raw);
  if (answer === undefined) {
    throw parseError(raw, ['no <answer> block found (expected <answer> with lines Step 1: "screenshot_abstraction": "...", "action": {...}, "status": "not done" </answer>)']);
  }
  const body = stripFences(answer).trim();
  // Tolerant reading: the numbering's problems are not the answer's (the prototype never checks it).
  const structure = ctx?.tolerant ? new Problems() : problems;
  const rawSteps = body.startsWith('[') || body.startsWith('{') ? readJsonSteps(body, structure) : readStepLines(body, structure);
  if (ctx?.tolerant && rawSteps.length === 0) for (const p of structure.list) problems.add(undefined, p);
  const steps: ForecastStep[] = [];
  // Only the first step is held to this screenshot's size: later ones are about screens not seen yet.
  const laterCtx: ParseContext | undefined = ctx ? { ...ctx, checkRange: false } : undefined;
  for (const [i, s] of rawSteps.entries()) {
    // Tolerant: a later step that cannot be read is left out, as the prototype's script skips it.
    const stepProblems = ctx?.tolerant && i > 0 ? new Problems() : problems;
    if (s.value === undefined) {
      stepProblems.add(`Step ${s.label}`, s.syntaxError ?? 'cannot be read');
      continue;
    }
    const step = readStep(s.value, `Step ${s.label}`, stepProblems, i === 0 ? ctx : laterCtx);
    if (step) steps.push(step);
  }
  if (problems.any) throw parseError(raw, problems.list);
  return finishForecast(raw, { format: 'tracer1', ...(thought !== undefined ? { thought } : {}), steps });
}

/**
 * `<think>` and `<answer>`, each possibly without its closer, spaces allowed inside the brackets
 * (`< answer >`, as the prototype's reward script also reads them). A <think> or </think> after the
 * first <answer> is text inside the answer. No <answer> tag: steps right after the thinking
 * still count, prose does not.
 */
function splitThinkAnswer(raw: string): { thought?: string; answer?: string } {
  const firstAnswer = /<\s*answer\s*>/i.exec(raw)?.index ?? Infinity;
  const open = /<\s*think\s*>/i.exec(raw);
  let thought: string | undefined;
  let after = 0;
  if (open && open.index < firstAnswer) {
    const from = open.index + open[0].length;
    const close = /<\s*\/\s*think\s*>/i.exec(raw.slice(from));
    if (close) {
      thought = raw.slice(from, from + close.index);
      after = from + close.index + close[0].length;
    } else {
      const answer = /<\s*answer\s*>/i.exec(raw.slice(from));
      after = answer ? from + answer.index : raw.length;
      thought = raw.slice(from, after);
    }
  } else {
    // "…reasoning</think><answer>": the opener was in the prompt (some chat templates add it)
    const close = /<\s*\/\s*think\s*>/i.exec(raw);
    if (close && close.index < firstAnswer) {
      thought = raw.slice(0, close.index);
      after = close.index + close[0].length;
    }
  }
  const t = thought !== undefined ? { thought: thought.trim() } : {};
  const rest = raw.slice(after);
  const answerOpen = /<\s*answer\s*>/i.exec(rest);
  if (answerOpen) {
    let answer = rest.slice(answerOpen.index + answerOpen[0].length);
    const close = /<\s*\/\s*answer\s*>/i.exec(answer);
    if (close) answer = answer.slice(0, close.index);
    return { ...t, answer };
  }
  const body = stripFences(rest).trim();
  const looksLikeSteps = body.startsWith('[') || body.startsWith('{') || findFirstMarker(new StepMarkers(body)) !== undefined;
  return { ...t, ...(looksLikeSteps ? { answer: rest } : {}) };
}

function stripFences(s: string): string {
  return s.replace(/^[ \t]*```[\w-]*[ \t]*$/gm, '');
}

/** The first "Step n:" at the start of a line or after a separator, outside any JSON. */
function findFirstMarker(markers: StepMarkers): number | undefined {
  const body = markers.src;
  for (let p = 0; p < body.length; p++) {
    if (p > 0) {
      const prev = body.charCodeAt(p - 1);
      if (!isSpace(prev) && prev !== 0x2c && prev !== 0x7d) continue; // , }
    }
    if (markers.has(p)) return p;
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
  const markers = new StepMarkers(body);
  const first = findFirstMarker(markers);
  if (first === undefined) {
    problems.add(
      undefined,
      `no "Step 1:" found in the <answer> block, which starts ${JSON.stringify(clip(body.slice(0, 200).replace(/\s+/g, ' '), 40))} (expected lines Step 1: "screenshot_abstraction": "...", "action": {...}, "status": "not done")`,
    );
    return [];
  }
  const reader = new RelaxedJson(body, markers);
  reader.pos = first;
  const steps: RawStep[] = [];
  const numbers: number[] = [];
  while (!reader.atEnd) {
    const marker = markers.at(reader.pos);
    if (!marker) break;
    if (numbers.length === MAX_FORECAST_STEPS) {
      throw new LimitExceeded(
        `the answer holds more than ${count(MAX_FORECAST_STEPS)} steps (found a "Step ${marker.num}:" after ${count(MAX_FORECAST_STEPS)} of them); forecast at most ${count(MAX_FORECAST_STEPS)}`,
      );
    }
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
      const next = nextLineMarker(markers, reader.pos > marker.end ? reader.pos : marker.end);
      if (next === undefined) break;
      reader.pos = next;
    }
    reader.skipWs();
  }
  checkNumbering(numbers, problems);
  return steps;
}

function nextLineMarker(markers: StepMarkers, from: number): number | undefined {
  const body = markers.src;
  for (let p = body.indexOf('\n', from); p >= 0; p = body.indexOf('\n', p + 1)) {
    if (markers.has(p + 1)) return p + 1;
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
  if (list.length > MAX_FORECAST_STEPS) {
    throw new LimitExceeded(`the answer holds ${count(list.length)} steps; forecast at most ${count(MAX_FORECAST_STEPS)}`);
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
/** Arguments in schema order, the words for the grounder last, as the prototype writes them. */
const WRITE_ORDER = ['text', 'keys', 'direction', 'amount', 'point', 'end_point', 'answer', 'app', 'duration_ms', 'value', 'tool'] as const;
// A field a member gains must be given its place above: otherwise this line does not compile.
type Unwritten = Exclude<keyof ActionFields, 'action_type' | 'step_instruction' | (typeof WRITE_ORDER)[number]>;
const everyFieldWritten: [Unwritten] extends [never] ? true : Unwritten = true;
void everyFieldWritten;

/** The canonical TraceR1 answer: one line per step, JSON inside. parseForecast reads it back exactly. */
export function serializeTraceR1(steps: readonly ForecastStep[], thought?: string): string {
  const lines = steps.map((s, i) => {
    // Any member's fields, written in one order whatever the member.
    const a: ActionFields = s.action;
    const ordered: Record<string, unknown> = { action_type: a.action_type };
    for (const key of WRITE_ORDER) if (a[key] !== undefined) ordered[key] = a[key];
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


export const tracer1: ModelFormat = {
  id: 'tracer1',
  prompt: { template: 'tracer1-desktop', stepsPerAnswer: 'horizon', points: 'words', needsImageSize: false },
  parse: parseTraceR1,
  serialize: (steps, options) => serializeTraceR1(steps, options?.thought),
};
