import type { ForecastFormat } from '../../common/actions.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Planner } from '../../common/ports.ts';
import { OpenAIPlanner } from './openai-planner.ts';
import { ScriptPlanner } from './script-planner.ts';

export interface PlannerOptions {
  apiKey?: string;
  /** The deadline of each model request, headers and body. */
  timeoutMs?: number;
  /** Endpoint faults are retried this many times (default 0). */
  retries?: number;
  format?: ForecastFormat;
}

/** Makes a planner from its spec: `openai:<baseURL>#<model>` or `script:<file>`. */
export function createPlanner(spec: string, opts: PlannerOptions = {}): Planner {
  if (spec.startsWith('openai:')) return new OpenAIPlanner(spec, opts);
  if (spec.startsWith('script:')) return new ScriptPlanner(spec.slice('script:'.length));
  throw new ForesightError(
    'BAD_INPUT',
    `Unknown planner "${spec}". Use openai:<baseURL>#<model> (any OpenAI-compatible endpoint) or script:<file> (a fixed TraceR1 answer).`,
  );
}
