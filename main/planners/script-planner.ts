/**
 * `script:<file>`: replays a fixed TraceR1 answer. At step t it forecasts steps t..end (up to
 * the horizon), renumbered from 1, so runs are repeatable without a model. Used by tests and
 * demos; the answer goes through the same parser as a live model's.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ForecastStep } from '../../common/actions.ts';
import { ForesightError, isForesightError } from '../../common/errors.ts';
import { parseForecast, serializeTraceR1 } from '../../common/formats/index.ts';
import type { Planner, PlanReply, PlanRequest } from '../../common/ports.ts';
import { marksText } from './prompts.ts';

export class ScriptPlanner implements Planner {
  readonly id: string;
  readonly format = 'tracer1' as const;
  private readonly steps: ForecastStep[];

  constructor(file: string) {
    const path = resolve(file);
    this.id = `script:${path}`;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ForesightError('NOT_FOUND', `Cannot read the script plan ${path}: ${(e as Error).message}`);
    }
    try {
      this.steps = parseForecast(text, 'tracer1').steps;
    } catch (e) {
      if (isForesightError(e)) {
        throw new ForesightError('BAD_INPUT', `The script plan ${path} is not a valid TraceR1 answer: ${e.message}`);
      }
      throw e;
    }
  }

  async plan(req: PlanRequest, signal: AbortSignal): Promise<PlanReply> {
    if (signal.aborted) throw new ForesightError('STOPPED', 'Planning was stopped');
    const from = Math.min(req.stepNumber - 1, this.steps.length - 1);
    const slice = this.steps.slice(from, from + Math.max(1, req.horizon));
    return {
      raw: serializeTraceR1(slice),
      format: 'tracer1',
      model: 'script',
      // A script reads nothing, but the marks it was shown are kept with its forecast like a model's prompt.
      prompt: { template: 'script', version: '1', system: '', user: `step ${req.stepNumber} of ${this.id}${req.marks ? `\n\nMarks on the screenshot:\n${marksText(req.marks.marks)}` : ''}` },
      latencyMs: 0,
    };
  }
}
