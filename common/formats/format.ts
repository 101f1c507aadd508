/**
 * What every model format is: the small interface a format module implements, the context a
 * parse may need, the limits every parse keeps, and how a refusal is reported.
 *
 * A format reads a planner's raw answer into a validated `Forecast` and writes steps back the
 * way that model writes them. Every refusal is a `PARSE_ERROR` whose message lists precisely
 * what was wrong, because the agent loop sends that message back to the model as feedback for
 * its next attempt.
 *
 * Platform-free: common/ and zod only.
 */
import { forecastSchema, type Forecast, type ForecastFormat, type ForecastStep } from '../actions.ts';
import { ForesightError } from '../errors.ts';

// ----------------------------------------------------------------------------------- limits

/*
 * Limits on what a parse reads. Each keeps the cost of one parse bounded (time linear in the
 * answer, stack bounded) against a model that runs away; exceeding one is a PARSE_ERROR that
 * names the limit and what was found, so the loop stores the raw answer and asks again.
 */

/**
 * The longest answer read, in UTF-16 code units (JavaScript's string length): 1 MiB. A thinking
 * model writing 32k tokens produces ~130 KB; anything near this size is a generation that never
 * stopped. A parse at the limit takes tens of milliseconds.
 */
export const MAX_ANSWER_CHARS = 1024 * 1024;

/**
 * How deep `{` and `[` may nest. A forecast nests 4 deep (list → step → action → point or tool
 * arguments); the rest is room for a tool's own arguments. Bounds the reader's stack: without
 * it, 5,000 `[` overflowed it.
 */
export const MAX_NESTING_DEPTH = 32;

/**
 * The most steps one forecast may hold. The paper's horizon peaks near 10 steps, and the prompt
 * asks for `--horizon` of them; an answer with more than 100 has lost its way.
 */
export const MAX_FORECAST_STEPS = 100;

/**
 * The longest `wait` a planner may ask for: 60 s. A longer pause is not a step of a desktop
 * task (it is a stuck model, or a unit mistaken: seconds written as milliseconds); a person
 * who needs a long pause uses `call_user`.
 */
export const MAX_WAIT_MS = 60_000;

// ---------------------------------------------------------------------------------- context

export interface ImageSize {
  imageWidth: number;
  imageHeight: number;
}

export interface ParseContext extends ImageSize {
  /**
   * TraceR1 only: the space of a point the planner writes without naming one (`[x, y]` or
   * `{"x": …, "y": …}`). Default `norm1000`, the grid Qwen-family planners are trained on;
   * a point written as `{"space": "screenshot", "x": …, "y": …}` keeps its own space.
   */
  pointSpace?: 'norm1000' | 'norm1' | 'screenshot';
  /**
   * Whether a point outside the image (or its grid) is a parse error, sent back to the model.
   * Default true, for the forecast's first step only: later steps are about screens not seen yet,
   * whose size may differ (a Mind2Web page grows from step to step). False in benchmark replay,
   * where the official scripts score any point (a hidden input centred at x = −9999 is a hit).
   */
  checkRange?: boolean;
  /**
   * TraceR1 only: read as the prototype's reward script reads an answer. A step that cannot be
   * read (no status, an unknown type, broken JSON) is left out instead of failing the whole
   * forecast, and the numbering is not checked; the forecast still needs a readable first step.
   * For benchmark replay; a live run keeps the strict reading, whose problems go back to the model.
   */
  tolerant?: boolean;
}

// ---------------------------------------------------------------------------- the interface

/** What a planner must know to ask a model for answers in a format (see main/planners/prompts.ts). */
export interface PromptContract {
  /**
   * The id of the prompt template (main/planners/prompts.ts) that asks a model for this format;
   * `undefined` when answers in it are only read (replayed predictions), never asked for live.
   */
  readonly template: string | undefined;
  /** How many steps one answer holds: the horizon the prompt asks for, or one action at a time. */
  readonly stepsPerAnswer: 'horizon' | 1;
  /**
   * How the model says where to act: in words only (a grounder finds the target; a point of
   * its own is optional, on the 0–1000 grid unless it names its space), on the 0–1000 grid, or
   * in pixels of the smart-resized image it saw (`common/image-resize.ts`).
   */
  readonly points: 'words' | 'norm1000' | 'smart-resized-pixels';
  /** Whether `parse` needs the screenshot size (a `ParseContext`). */
  readonly needsImageSize: boolean;
}

export interface SerializeOptions {
  /** The reasoning written before the steps (`<think>` or `Thought:`). */
  thought?: string;
  /** The screenshot size, for formats that write pixel points. */
  image?: ImageSize;
}

/**
 * One model format. A new one is a file in common/formats/ that exports a `ModelFormat`, and one
 * line in the registry (`index.ts`). `parse` may throw anything: the registry's `parseForecast`
 * turns what is not a ForesightError into a PARSE_ERROR that keeps the raw answer.
 */
export interface ModelFormat {
  readonly id: ForecastFormat;
  readonly prompt: PromptContract;
  /** The raw answer → a validated Forecast, or a PARSE_ERROR listing what is wrong. */
  parse(raw: string, ctx: ParseContext | undefined): Forecast;
  /** Steps as the model would write them; `parse` reads them back. BAD_INPUT for what the format cannot say. */
  serialize(steps: readonly ForecastStep[], options?: SerializeOptions): string;
}

// ------------------------------------------------------------------------------- refusals

/** How much of the raw answer a PARSE_ERROR carries in its details (the store keeps all of it). */
const RAW_IN_DETAILS = 4000;
/** How many problems the message lists before "and N more". */
const PROBLEMS_IN_MESSAGE = 6;

/** The problems found in one answer, each already saying where. */
export class Problems {
  readonly list: string[] = [];

  add(where: string | undefined, message: string): void {
    this.list.push(where ? `${where}: ${message}` : message);
  }

  get any(): boolean {
    return this.list.length > 0;
  }
}

export function parseError(raw: string, problems: readonly string[], extra?: Record<string, unknown>): ForesightError {
  const shown = problems.slice(0, PROBLEMS_IN_MESSAGE);
  const more = problems.length - shown.length;
  const message = shown.join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
  const truncated = raw.length > RAW_IN_DETAILS ? `${raw.slice(0, RAW_IN_DETAILS)}…(${raw.length - RAW_IN_DETAILS} more characters)` : raw;
  return new ForesightError('PARSE_ERROR', message, { raw: truncated, problems: [...problems], ...extra });
}

/** Validates the assembled forecast against the shared schema; a failure here is reported like any other problem. */
export function finishForecast(raw: string, forecast: Forecast): Forecast {
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

export function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** A count as people read it: 1,048,576. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
