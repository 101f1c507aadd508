/**
 * Planners for the benchmark replay. Besides every live planner (`openai:…`, `script:…`, seen
 * through the Planner port), two that only make sense offline:
 * - `oracle`: answers with the step's true future (up to the horizon) in the TraceR1 format, its
 *   first point in screenshot pixels. With `--grounder none` it must score 100% on every suite;
 *   anything less is a bug in a loader or a metric.
 * - `predictions:<file>`: answers produced elsewhere (batch inference), one JSON object per line:
 *   `{"id": "<step id>", "answer": "<raw model output>", "format"?: "tracer1" | "uitars-1.0" | "uitars-1.5"}`.
 *   `foresight bench run` writes such a file (`answers.jsonl`) for every run, so a run's answers
 *   can be re-scored under another grounder or after a metric fix without asking the model again.
 *
 * Every answer still goes through the same parser and grounder as a live one.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { FORECAST_FORMATS, type ForecastFormat } from '../../common/actions.ts';
import { ForesightError, isForesightError } from '../../common/errors.ts';
import { serializeTraceR1 } from '../../common/formats/index.ts';
import type { Planner, PlanReply, PlanRequest } from '../../common/ports.ts';
import { createPlanner, type PlannerOptions } from '../planners/index.ts';
import type { ReplayStep } from './suite.ts';

export interface ReplayPlanner {
  readonly id: string;
  /** False when it never looks at the screenshot (oracle, predictions): the runner then reads no image. */
  readonly needsImage: boolean;
  plan(step: ReplayStep, ctx: ReplayPlanContext, signal: AbortSignal): Promise<PlanReply>;
  close?(): Promise<void>;
}

export interface ReplayPlanContext {
  /** How many steps to forecast. */
  horizon: number;
  /** What a live planner is sent; undefined exactly when the planner's needsImage is false. */
  request?: PlanRequest;
}

export const REPLAY_PLANNER_FORMS = [
  'oracle (the ground truth; scores 100%)',
  'predictions:<file.jsonl> (answers produced elsewhere: {"id", "answer", "format"?} per line)',
  'openai:<baseURL>#<model> (any OpenAI-compatible endpoint)',
  'script:<file> (a fixed TraceR1 answer)',
] as const;

export async function createReplayPlanner(spec: string, opts: PlannerOptions = {}): Promise<ReplayPlanner> {
  const s = spec.trim();
  if (s === 'oracle') return new OraclePlanner();
  if (s.startsWith('predictions:')) return PredictionsPlanner.load(s.slice('predictions:'.length));
  if (s.startsWith('openai:') || s.startsWith('script:')) return new LiveReplayPlanner(createPlanner(s, opts));
  throw new ForesightError('BAD_INPUT', `Unknown planner "${spec}" for a replay. Use one of: ${REPLAY_PLANNER_FORMS.join('; ')}.`);
}

export class OraclePlanner implements ReplayPlanner {
  readonly id = 'oracle';
  readonly needsImage = false;
  plan(step: ReplayStep, ctx: ReplayPlanContext, signal: AbortSignal): Promise<PlanReply> {
    if (signal.aborted) return Promise.reject(new ForesightError('STOPPED', 'Planning was stopped'));
    if (step.future.length === 0) {
      return Promise.reject(new ForesightError('INTERNAL', `Step ${step.id} has no true action; the loader must give every step one`));
    }
    const k = Math.max(1, Math.min(ctx.horizon, step.future.length));
    return Promise.resolve({
      raw: serializeTraceR1(step.future.slice(0, k)),
      format: 'tracer1',
      model: 'oracle',
      prompt: { template: 'oracle', version: '1', system: '', user: step.id },
      latencyMs: 0,
    });
  }
}

const predictionLine = z.object({
  id: z.string().min(1),
  answer: z.string(),
  format: z.enum(FORECAST_FORMATS).optional(),
});

export class PredictionsPlanner implements ReplayPlanner {
  readonly needsImage = false;

  private constructor(
    readonly id: string,
    private readonly answers: Map<string, { answer: string; format: ForecastFormat }>,
  ) {}

  static async load(file: string): Promise<PredictionsPlanner> {
    if (!file) throw new ForesightError('BAD_INPUT', 'predictions: needs a file, e.g. predictions:out/answers.jsonl');
    const path = resolve(file);
    const answers = new Map<string, { answer: string; format: ForecastFormat }>();
    let lineNo = 0;
    try {
      const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
      for await (const line of lines) {
        lineNo++;
        if (line.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw new ForesightError('BAD_INPUT', `${path}:${lineNo} is not JSON; each line must be {"id": …, "answer": …}`);
        }
        const parsed = predictionLine.safeParse(value);
        if (!parsed.success) {
          const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ');
          throw new ForesightError('BAD_INPUT', `${path}:${lineNo}: ${why}; each line must be {"id": …, "answer": …, "format"?: …}`);
        }
        if (answers.has(parsed.data.id)) throw new ForesightError('BAD_INPUT', `${path}:${lineNo}: a second answer for step "${parsed.data.id}"`);
        answers.set(parsed.data.id, { answer: parsed.data.answer, format: parsed.data.format ?? 'tracer1' });
      }
    } catch (e) {
      if (isForesightError(e)) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ForesightError('NOT_FOUND', `The predictions file ${path} does not exist`);
      throw new ForesightError('BAD_INPUT', `Cannot read the predictions file ${path}: ${(e as Error).message}`);
    }
    return new PredictionsPlanner(`predictions:${path}`, answers);
  }

  get size(): number {
    return this.answers.size;
  }

  plan(step: ReplayStep, _ctx: ReplayPlanContext, signal: AbortSignal): Promise<PlanReply> {
    if (signal.aborted) return Promise.reject(new ForesightError('STOPPED', 'Planning was stopped'));
    const found = this.answers.get(step.id);
    // A step without an answer is scored as a wrong one (an empty answer does not parse).
    return Promise.resolve({
      raw: found?.answer ?? '',
      format: found?.format ?? 'tracer1',
      model: this.id,
      prompt: { template: 'predictions', version: '1', system: '', user: step.id },
      latencyMs: 0,
    });
  }
}

/** A live planner (Planner port) used in a replay: it sees the step's screenshot and teacher-forced history. */
export class LiveReplayPlanner implements ReplayPlanner {
  readonly needsImage = true;
  readonly id: string;

  constructor(private readonly planner: Planner) {
    this.id = planner.id;
  }

  get format(): ForecastFormat {
    return this.planner.format;
  }

  plan(_step: ReplayStep, ctx: ReplayPlanContext, signal: AbortSignal): Promise<PlanReply> {
    const request = ctx.request;
    if (!request) return Promise.reject(new ForesightError('INTERNAL', 'A live planner needs the observation'));
    return this.planner.plan(request, signal);
  }
}
