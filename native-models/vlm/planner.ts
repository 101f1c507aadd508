/**
 * `onnx:<model-dir>` as a planner: the endpoint planner's prompt templates and formats
 * (main/planners), answered by a local VLM. The loop parses the raw answer with parseForecast,
 * as it does an endpoint's.
 */
import { basename } from 'node:path';
import { FORECAST_FORMATS, type ForecastFormat } from '../../common/actions.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Planner, PlanReply, PlanRequest } from '../../common/ports.ts';
import { chooseFormat, livePrompt } from '../../main/planners/openai-planner.ts';
import type { PromptTemplate } from '../../main/planners/prompts.ts';
import { readVlmDirectory, type VlmDirectory } from './model-dir.ts';
import type { LoadedVlm } from './runtime.ts';
import { loadShared } from './shared.ts';
import { parseOnnxSpec } from './spec.ts';

export interface OnnxPlannerOptions {
  /** Overrides `?format=` of the spec and the guess from the directory's name. */
  format?: ForecastFormat;
}

/** A TraceR1 answer of ten steps with its reasoning stays well inside this. */
const DEFAULT_MAX_NEW_TOKENS = 2048;

export class OnnxPlanner implements Planner {
  readonly id: string;
  readonly format: ForecastFormat;
  readonly directory: VlmDirectory;
  private readonly model: string;
  private readonly template: PromptTemplate;
  private readonly maxNewTokens: number;
  private readonly loading: Promise<LoadedVlm>;

  constructor(spec: string, opts: OnnxPlannerOptions = {}) {
    const parsed = parseOnnxSpec(spec, 'planner');
    this.id = spec;
    this.directory = readVlmDirectory(parsed.dir, parsed.execution);
    this.model = basename(this.directory.dir);
    this.format = chooseFormat(this.model, parsed.format, opts.format);
    if (parsed.format === undefined && opts.format === undefined && this.format === 'uitars-1.5' && this.directory.config.model_type === 'qwen2_vl') {
      // A "UI-TARS" folder of a Qwen2-VL model is UI-TARS 1.0, which answers on a 0..1000 grid,
      // not in the resized pixels UI-TARS-1.5's reader expects.
      throw new ForesightError(
        'BAD_INPUT',
        `${this.directory.dir} holds a Qwen2-VL model named UI-TARS, i.e. UI-TARS 1.0, which Foresight does not plan with (no prompt asks for its format). ` +
          'Use it as the grounder (--grounder onnx:<dir>) under a TraceR1 planner, or add ?format=tracer1 to plan with it anyway.',
      );
    }
    const template = livePrompt(this.format);
    if (!template) {
      const live = FORECAST_FORMATS.filter((f) => livePrompt(f) !== undefined);
      throw new ForesightError('BAD_INPUT', `Live planning with ${this.format} is not supported (no prompt asks for it); use format=${live.join(' or ')}`);
    }
    this.template = template;
    this.maxNewTokens = parsed.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    // Loading starts now, while the desktop comes up; plan() awaits it and reports its error.
    this.loading = loadShared(this.directory);
    this.loading.catch(() => undefined);
  }

  /** Resolves once the sessions are loaded and checked; rejects with what is wrong with the directory. */
  async ready(): Promise<LoadedVlm> {
    return this.loading;
  }

  async plan(req: PlanRequest, signal: AbortSignal): Promise<PlanReply> {
    const vlm = await this.loading;
    const input = { instruction: req.instruction, history: req.history, horizon: req.horizon, feedback: req.feedback };
    const system = this.template.system(input);
    const user = this.template.user(input);
    const t0 = performance.now();
    const result = await vlm.generate(this.directory.family.messages({ system, text: user, imageFirst: false }), req.observation, this.maxNewTokens, signal);
    return {
      raw: result.text,
      format: this.format,
      model: this.model,
      prompt: { template: this.template.id, version: this.template.version, system, user },
      latencyMs: performance.now() - t0,
    };
  }
}
