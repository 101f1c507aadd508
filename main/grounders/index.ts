import { ForesightError } from '../../common/errors.ts';
import type { Grounder } from '../../common/ports.ts';
import { PlannerPointGrounder } from './none.ts';
import { OcrGrounder } from './ocr.ts';
import { OpenAIGrounder } from './openai.ts';

export interface GrounderOptions {
  apiKey?: string;
  /** The deadline of each model request, headers and body. */
  timeoutMs?: number;
  /** Endpoint faults are retried this many times (default 0). */
  retries?: number;
}

export const GROUNDER_FORMS = [
  'ocr (Tesseract, offline: finds the text quoted in the step instruction)',
  "none (the planner's own point)",
  'openai:<baseURL>#<model>[?convention=uitars|qwen25vl] (a VLM asked for a point)',
] as const;

/** Makes a grounder from its spec: `ocr`, `none` or `openai:<baseURL>#<model>[?convention=…]`. */
export function createGrounder(spec: string, opts: GrounderOptions = {}): Grounder {
  const s = spec.trim();
  if (s === 'ocr') return new OcrGrounder();
  if (s === 'none') return new PlannerPointGrounder();
  if (s.startsWith('openai:')) {
    return new OpenAIGrounder(s, {
      ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
    });
  }
  throw new ForesightError('BAD_INPUT', `Unknown grounder "${spec}". Use one of: ${GROUNDER_FORMS.join('; ')}.`);
}

export { OcrGrounder, PlannerPointGrounder, OpenAIGrounder };
