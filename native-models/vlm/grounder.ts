/**
 * `onnx:<model-dir>` as a grounder: a local VLM asked for the point of one step, with the
 * endpoint grounder's prompt and answer reader (main/grounders/openai.ts). The point's
 * convention comes from the family (Qwen2.5-VL: pixels of its resized image, with the pixel
 * budget of the directory's preprocessor_config.json; Qwen2-VL / UI-TARS 1.0 and Qwen3-VL:
 * 0..1000), or `?convention=`.
 */
import { needsPoint } from '../../common/actions.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Grounder, GroundRequest, Grounding, Observation } from '../../common/ports.ts';
import {
  GROUNDING_CONVENTIONS,
  groundingFromAnswer,
  groundingPrompt,
  type GroundingConvention,
  type SmartResizeOptions,
} from '../../main/grounders/openai.ts';
import { readVlmDirectory, type VlmDirectory } from './model-dir.ts';
import type { LoadedVlm } from './runtime.ts';
import { loadShared } from './shared.ts';
import { parseOnnxSpec } from './spec.ts';

/** As the endpoint grounder: a point, or two for a drag, with room for a short thought. */
const DEFAULT_MAX_NEW_TOKENS = 256;

export class OnnxGrounder implements Grounder {
  readonly id: string;
  readonly speculative = false;
  readonly convention: GroundingConvention;
  readonly directory: VlmDirectory;
  private readonly resize: SmartResizeOptions;
  private readonly maxNewTokens: number;
  private readonly loading: Promise<LoadedVlm>;

  constructor(spec: string) {
    const parsed = parseOnnxSpec(spec, 'grounder');
    this.id = spec;
    this.directory = readVlmDirectory(parsed.dir, parsed.execution);
    const { convention } = parsed;
    if (convention !== undefined && !(GROUNDING_CONVENTIONS as readonly string[]).includes(convention)) {
      throw new ForesightError('BAD_INPUT', `Unknown grounding convention "${convention}"; use ${GROUNDING_CONVENTIONS.join(' or ')}`);
    }
    this.convention = (convention as GroundingConvention | undefined) ?? this.directory.family.groundingConvention(this.directory.config.model_type);
    this.resize = this.directory.family.resize(this.directory.preprocessor);
    this.maxNewTokens = parsed.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    this.loading = loadShared(this.directory);
    this.loading.catch(() => undefined);
  }

  async ready(): Promise<LoadedVlm> {
    return this.loading;
  }

  perceive(_observation: Observation): void {
    // Nothing to prepare: each grounding is one generation.
  }

  async ground(req: GroundRequest, signal: AbortSignal): Promise<Grounding> {
    const { action, observation } = req;
    if (!needsPoint(action)) {
      throw new ForesightError('BAD_INPUT', `A ${action.action_type} action needs no point; grounders only ground pointed actions`);
    }
    const vlm = await this.loading;
    const t0 = performance.now();
    const messages = this.directory.family.messages({ text: groundingPrompt(this.convention, action), imageFirst: true });
    const { text: raw } = await vlm.generate(messages, observation, this.maxNewTokens, signal);
    return groundingFromAnswer(raw, { action, observation, convention: this.convention, resize: this.resize }, this.id, t0);
  }
}
