/**
 * A planner behind any OpenAI-compatible chat endpoint (vLLM, SGLang, Ollama, LM Studio,
 * hosted providers), through the official SDK. It sends the instruction, the text history
 * and the current screenshot; it returns the raw answer, which the loop parses.
 */
import OpenAI from 'openai';
import { FORECAST_FORMATS, type ForecastFormat } from '../../common/actions.ts';
import { ForesightError } from '../../common/errors.ts';
import { modelFormat } from '../../common/formats/index.ts';
import type { Planner, PlanReply, PlanRequest } from '../../common/ports.ts';
import { parseEndpointSpec } from './endpoint-spec.ts';
import { TEMPLATES, type PromptTemplate } from './prompts.ts';
import { withScopedSignal } from '../../common/sleep.ts';

export interface OpenAIPlannerOptions {
  apiKey?: string;
  timeoutMs?: number;
  /** Overrides the format chosen from the spec (`?format=`) or the model name. */
  format?: ForecastFormat;
  maxTokens?: number;
  temperature?: number;
}

function chooseFormat(model: string, fromSpec: string | undefined, fromOpts: ForecastFormat | undefined): ForecastFormat {
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
function livePrompt(format: ForecastFormat): PromptTemplate | undefined {
  const id = modelFormat(format).prompt.template;
  return id === undefined ? undefined : TEMPLATES[id];
}

export function toEndpointError(e: unknown, baseURL: string): ForesightError {
  if (e instanceof ForesightError) return e;
  if (e instanceof OpenAI.APIUserAbortError) return new ForesightError('STOPPED', 'The request to the model was stopped');
  if (e instanceof OpenAI.APIConnectionTimeoutError) {
    return new ForesightError('TIMEOUT', `The model endpoint at ${baseURL} did not answer in time`);
  }
  if (e instanceof OpenAI.APIConnectionError) {
    return new ForesightError(
      'ENDPOINT_UNREACHABLE',
      `Model endpoint unreachable at ${baseURL}: is the server running and the URL right? (${e.cause instanceof Error ? e.cause.message : e.message})`,
      { baseURL },
    );
  }
  if (e instanceof OpenAI.APIError) {
    const body = JSON.stringify(e.error ?? e.message).slice(0, 400);
    return new ForesightError('ENDPOINT_ERROR', `Model endpoint at ${baseURL} answered HTTP ${e.status ?? '?'}: ${body}`, {
      baseURL,
      status: e.status,
    });
  }
  return new ForesightError('INTERNAL', e instanceof Error ? e.message : String(e));
}

export class OpenAIPlanner implements Planner {
  readonly id: string;
  readonly format: ForecastFormat;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly baseURL: string;
  private readonly template: PromptTemplate;

  constructor(spec: string, private readonly opts: OpenAIPlannerOptions = {}) {
    const parsed = parseEndpointSpec(spec);
    this.id = spec;
    this.model = parsed.model;
    this.baseURL = parsed.baseURL;
    this.format = chooseFormat(parsed.model, parsed.options.format, opts.format);
    // The format says which prompt asks for it; one without a prompt is read from predictions only.
    const template = livePrompt(this.format);
    if (!template) {
      const live = FORECAST_FORMATS.filter((f) => livePrompt(f) !== undefined);
      throw new ForesightError('BAD_INPUT', `Live planning with ${this.format} is not supported (no prompt asks for it); use format=${live.join(' or ')}`);
    }
    this.template = template;
    this.client = new OpenAI({
      baseURL: parsed.baseURL,
      apiKey: opts.apiKey ?? 'none',
      timeout: opts.timeoutMs ?? 120_000,
      maxRetries: 0,
    });
  }

  async plan(req: PlanRequest, signal: AbortSignal): Promise<PlanReply> {
    const input = { instruction: req.instruction, history: req.history, horizon: req.horizon, feedback: req.feedback };
    const system = this.template.system(input);
    const user = this.template.user(input);
    const image = `data:image/png;base64,${Buffer.from(req.observation.png).toString('base64')}`;
    const t0 = performance.now();
    let raw: string;
    try {
      const res = await withScopedSignal(signal, (scoped) =>
        this.client.chat.completions.create(
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
          { signal: scoped },
        ),
      );
      raw = res.choices[0]?.message?.content ?? '';
    } catch (e) {
      throw toEndpointError(e, this.baseURL);
    }
    return {
      raw,
      format: this.format,
      model: this.model,
      prompt: { template: this.template.id, version: this.template.version, system, user },
      latencyMs: performance.now() - t0,
    };
  }
}
