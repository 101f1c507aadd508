/**
 * A planner behind any OpenAI-compatible chat endpoint (vLLM, SGLang, Ollama, LM Studio,
 * hosted providers). It sends the instruction, the text history and the current screenshot;
 * it returns the raw answer, which the loop parses. The request (one deadline per attempt,
 * endpoint faults as ENDPOINT_ERROR, retries) is chat-endpoint.ts'.
 */
import { FORECAST_FORMATS, type ForecastFormat } from '../../common/actions.ts';
import { ForesightError } from '../../common/errors.ts';
import { modelFormat } from '../../common/formats/index.ts';
import type { Planner, PlanReply, PlanRequest } from '../../common/ports.ts';
import { parseEndpointSpec } from './endpoint-spec.ts';
import { SOM_VARIANTS, TEMPLATES, type PromptTemplate } from './prompts.ts';
import { ChatEndpoint } from './chat-endpoint.ts';

export interface OpenAIPlannerOptions {
  apiKey?: string;
  /** The deadline of each request, headers and body (default 120 s). */
  timeoutMs?: number;
  /** Endpoint faults are retried this many times (default 0). */
  retries?: number;
  /** The wait before retry n; default 1 s, 2 s, 4 s, … (tests shorten it). */
  backoffMs?: (retry: number) => number;
  /** Overrides the format chosen from the spec (`?format=`) or the model name. */
  format?: ForecastFormat;
  maxTokens?: number;
  temperature?: number;
}

/** The format a planner answers in: the caller's, the spec's `?format=`, or guessed from the model's name. */
export function chooseFormat(model: string, fromSpec: string | undefined, fromOpts: ForecastFormat | undefined): ForecastFormat {
  const f = fromOpts ?? fromSpec;
  if (f !== undefined) {
    if (!(FORECAST_FORMATS as readonly string[]).includes(f)) {
      throw new ForesightError('BAD_INPUT', `Unknown planner format "${f}"; use one of ${FORECAST_FORMATS.join(', ')}`);
    }
    return f as ForecastFormat;
  }
  return /ui-?tars/i.test(model) ? 'uitars-1.5' : 'tracer1';
}

/** The prompt template a format's contract names, if any. */
export function livePrompt(format: ForecastFormat): PromptTemplate | undefined {
  const id = modelFormat(format).prompt.template;
  return id === undefined ? undefined : TEMPLATES[id];
}

export class OpenAIPlanner implements Planner {
  readonly id: string;
  readonly format: ForecastFormat;
  private readonly endpoint: ChatEndpoint;
  private readonly model: string;
  private readonly template: PromptTemplate;

  constructor(spec: string, private readonly opts: OpenAIPlannerOptions = {}) {
    const parsed = parseEndpointSpec(spec);
    this.id = spec;
    this.model = parsed.model;
    this.format = chooseFormat(parsed.model, parsed.options.format, opts.format);
    // The format says which prompt asks for it; one without a prompt is read from predictions only.
    const template = livePrompt(this.format);
    if (!template) {
      const live = FORECAST_FORMATS.filter((f) => livePrompt(f) !== undefined);
      throw new ForesightError('BAD_INPUT', `Live planning with ${this.format} is not supported (no prompt asks for it); use format=${live.join(' or ')}`);
    }
    this.template = template;
    this.endpoint = new ChatEndpoint({
      baseURL: parsed.baseURL,
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}),
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
    });
  }

  async plan(req: PlanRequest, signal: AbortSignal): Promise<PlanReply> {
    // Set-of-Marks: the marked screenshot and the list of marks, when the template can name them.
    const som = req.marks ? SOM_VARIANTS[this.template.id] : undefined;
    const template = som ?? this.template;
    const input = { instruction: req.instruction, history: req.history, horizon: req.horizon, feedback: req.feedback, ...(som && req.marks ? { marks: req.marks.marks } : {}) };
    const system = template.system(input);
    const user = template.user(input);
    const png = som && req.marks ? req.marks.png : req.observation.png;
    const image = `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
    const t0 = performance.now();
    const answer = await this.endpoint.complete(
      {
        model: this.model,
        temperature: this.opts.temperature ?? 0,
        max_tokens: this.opts.maxTokens ?? 2048,
        messages: [
          { role: 'system', content: system },
          {
            role: 'user',
            content: [
              { type: 'text', text: user },
              { type: 'image_url', image_url: { url: image } },
            ],
          },
        ],
      },
      signal,
    );
    const raw = answer.content;
    return {
      raw,
      format: this.format,
      model: this.model,
      prompt: { template: template.id, version: template.version, system, user },
      latencyMs: performance.now() - t0,
    };
  }
}
