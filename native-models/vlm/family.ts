/**
 * What Foresight needs to know about a family of vision-language models that
 * @huggingface/transformers runs: which config.json `model_type`s belong to it, which ONNX graphs
 * the library loads for it and which inputs the library feeds each one, how its chat messages
 * carry the screenshot, and how its models write a point. Each family is one file under
 * `families/`, registered in FAMILIES below; nothing else switches on the family.
 */
import { z } from 'zod';
import { ForesightError } from '../../common/errors.ts';
import type { GroundingConvention, SmartResizeOptions } from '../../main/grounders/openai.ts';
import { qwenVl } from './families/qwen-vl.ts';

/** The part of config.json the families read (the library reads the rest itself). */
export const modelConfigSchema = z
  .object({
    model_type: z.string().min(1),
    architectures: z.array(z.string()).optional(),
    num_hidden_layers: z.number().int().positive().optional(),
    text_config: z.object({ num_hidden_layers: z.number().int().positive().optional() }).passthrough().optional(),
  })
  .passthrough();
export type ModelConfig = z.infer<typeof modelConfigSchema>;

/** The part of preprocessor_config.json the families read. */
export const preprocessorConfigSchema = z
  .object({
    min_pixels: z.number().positive().optional(),
    max_pixels: z.number().positive().optional(),
    size: z.object({ shortest_edge: z.number().positive().optional(), longest_edge: z.number().positive().optional() }).passthrough().optional(),
    patch_size: z.number().int().positive().optional(),
    merge_size: z.number().int().positive().optional(),
  })
  .passthrough();
export type PreprocessorConfig = z.infer<typeof preprocessorConfigSchema>;

export interface GraphSpec {
  /** The library's session name, which is also the file's stem under onnx/. */
  name: string;
  /** Inputs the library always feeds this graph: each must be declared by it. */
  required: readonly string[];
  /** Inputs the library feeds when the graph declares them. Anything else would be left unfed. */
  optional: readonly string[];
}

/** One chat message as the library's chat templates read it. */
export interface ChatMessage {
  role: 'system' | 'user';
  content: string | ({ type: 'image' } | { type: 'text'; text: string })[];
}

/** The library's processor classes a family may name (runtime.ts maps the names to the classes). */
export const PROCESSOR_NAMES = ['Qwen2VLProcessor', 'Qwen2_5_VLProcessor', 'Qwen3VLProcessor'] as const;
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];

export interface VlmFamily {
  /** Shown in messages and README, e.g. "Qwen2-VL / Qwen2.5-VL / Qwen3-VL". */
  label: string;
  /** config.json `model_type` values of the family. */
  modelTypes: readonly string[];
  graphs(config: ModelConfig): GraphSpec[];
  /**
   * The library's processor for a model type: named here rather than left to
   * preprocessor_config.json's `processor_class`, which some exports leave out (the library then
   * builds a processor without tokenizer or chat template).
   */
  processor(modelType: string): ProcessorName;
  /** How the family's models write a point when asked for one. */
  groundingConvention(modelType: string): GroundingConvention;
  /** The size maths of the family's image processor, to read a point in pixels of the resized image. */
  resize(preprocessor: PreprocessorConfig): SmartResizeOptions;
  /** The messages of one request: an optional system text, and a user turn with the text and the screenshot. */
  messages(request: { system?: string; text: string; imageFirst: boolean }): ChatMessage[];
}

export const FAMILIES: readonly VlmFamily[] = [qwenVl];

export const SUPPORTED_MODEL_TYPES: readonly string[] = FAMILIES.flatMap((f) => f.modelTypes);

/** The family of a model directory's config.json, or MODEL_INVALID naming the families that are supported. */
export function detectFamily(config: ModelConfig, dir: string): VlmFamily {
  const family = FAMILIES.find((f) => f.modelTypes.includes(config.model_type));
  if (!family) {
    throw new ForesightError(
      'MODEL_INVALID',
      `${dir}: config.json says model_type "${config.model_type}", a family Foresight does not run as a local VLM. ` +
        `Supported: ${FAMILIES.map((f) => `${f.label} (model_type ${f.modelTypes.join(', ')})`).join('; ')}. ` +
        'Use an ONNX export of one of these (README, "Local vision-language models"), or serve the model behind an OpenAI-compatible endpoint (openai:<baseURL>#<model>).',
      { modelType: config.model_type, supported: [...SUPPORTED_MODEL_TYPES] },
    );
  }
  return family;
}
