/**
 * A loaded local VLM: the library's processor (chat template, image processor, tokenizer) and
 * model classes for the directory's family, on onnxruntime-node sessions. One generation turns a
 * chat (text + the screenshot) into text: image preprocessing from the observation's pixels,
 * prefill and greedy decoding with the key/value cache, stopped by the max-new-tokens bound, the
 * end-of-turn token or the AbortSignal (checked between tokens), then decoding to text.
 */
import {
  AutoModelForImageTextToText,
  env,
  Qwen2_5_VLProcessor,
  Qwen2VLProcessor,
  Qwen3VLProcessor,
  RawImage as LibraryImage,
  StoppingCriteria,
  Tensor,
} from '@huggingface/transformers';
import { join } from 'node:path';
import { ForesightError, isForesightError } from '../../common/errors.ts';
import type { Observation, RawImage } from '../../common/ports.ts';
import type { ChatMessage, GraphSpec, ProcessorName } from './family.ts';
import { DTYPE_SUFFIX, type Device, type VlmDirectory } from './model-dir.ts';

// Local files only: a model directory is never completed from the network, and nothing is
// written to a download cache.
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.useFSCache = false;

export interface GenerationResult {
  text: string;
  promptTokens: number;
  newTokens: number;
  /** Chat template, tokenizer and image processor, in ms. */
  preprocessMs: number;
  /** Prefill, decoding and detokenizing, in ms. */
  generateMs: number;
}

/** The pieces of the library's processor and model this module uses, typed at this one boundary. */
interface Processor {
  apply_chat_template(messages: ChatMessage[], options: { add_generation_prompt: boolean; tokenize: false }): string;
  (text: string, image: LibraryImage): Promise<Record<string, Tensor>>;
  batch_decode(ids: Tensor, options: { skip_special_tokens: boolean }): string[];
}
interface Session {
  inputNames: readonly string[];
  outputNames: readonly string[];
}
interface Model {
  sessions: Record<string, Session>;
  generate(args: Record<string, unknown>): Promise<unknown>;
  dispose(): Promise<unknown>;
}

const PROCESSORS: Record<ProcessorName, { from_pretrained(dir: string, options: { local_files_only: boolean }): Promise<unknown> }> = {
  Qwen2VLProcessor,
  Qwen2_5_VLProcessor,
  Qwen3VLProcessor,
};

/** Stops generation between two tokens once the signal aborts. */
class AbortCriteria extends StoppingCriteria {
  constructor(private readonly signal: AbortSignal) {
    super();
  }
  override _call(inputIds: number[][]): boolean[] {
    return inputIds.map(() => this.signal.aborted);
  }
}

/** The observation's pixels as the library's RGB image (nut.js captures BGRA). */
export function observationImage(raw: RawImage): LibraryImage {
  const { width, height, channels, order, data } = raw;
  const rgb = new Uint8ClampedArray(width * height * 3);
  const [r, b] = order === 'bgra' ? [2, 0] : [0, 2];
  for (let i = 0, o = 0; o < rgb.length; i += channels, o += 3) {
    rgb[o] = data[i + r]!;
    rgb[o + 1] = data[i + 1]!;
    rgb[o + 2] = data[i + b]!;
  }
  return new LibraryImage(rgb, width, height, 3);
}

function graphFile(d: VlmDirectory, g: GraphSpec): string {
  return join('onnx', `${g.name}${DTYPE_SUFFIX[d.execution.dtype[g.name]!]}.onnx`);
}

/** Every input a graph declares must be one the library feeds it, and every one it always feeds must be declared. */
export function checkGraphInputs(d: VlmDirectory, sessions: Record<string, Session>): void {
  for (const g of d.graphs) {
    const file = graphFile(d, g);
    const names = sessions[g.name]?.inputNames;
    if (!names) throw new ForesightError('MODEL_INVALID', `${d.dir}: ${file} was not loaded as the ${g.name} session`, { file });
    const missing = g.required.find((i) => !names.includes(i));
    if (missing !== undefined) {
      throw new ForesightError(
        'MODEL_INVALID',
        `${d.dir}: ${file} has no input "${missing}", which the ${d.config.model_type} family feeds it (it declares ${names.join(', ')}); ` +
          'the graph does not belong to this model type: download the export that matches config.json',
        { file, input: missing, declared: [...names] },
      );
    }
    const unfed = names.find((i) => !g.required.includes(i) && !g.optional.includes(i));
    if (unfed !== undefined) {
      throw new ForesightError(
        'MODEL_INVALID',
        `${d.dir}: ${file} declares input "${unfed}", which the ${d.config.model_type} family does not feed (it feeds ${[...g.required, ...g.optional].join(', ')}); ` +
          'the graph does not belong to this model type: download the export that matches config.json',
        { file, input: unfed, declared: [...names] },
      );
    }
  }
}

/** What makes each provider available (README, "Local vision-language models"). */
const PROVIDER_HINT: Record<Device, string> = {
  cpu: 'the CPU provider is built in',
  cuda: 'CUDA needs Linux x64 with CUDA 12 and cuDNN 9, and its provider files: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (then check with foresight models doctor)',
  dml: 'DirectML runs on Windows only',
  coreml: 'CoreML runs on macOS only',
  webgpu: 'WebGPU needs a GPU and its driver (Vulkan on Linux)',
};

/** The library's and onnxruntime's errors while loading, said in words a user can act on. */
function loadError(d: VlmDirectory, e: unknown): ForesightError {
  if (isForesightError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (d.execution.device !== 'cpu' && /provider|cuda|dml|coreml|webgpu|device/i.test(message)) {
    return new ForesightError(
      'PROVIDER_UNAVAILABLE',
      `${d.dir}: the ${d.execution.device} execution provider cannot run here (${message.slice(0, 300)}); ${PROVIDER_HINT[d.execution.device]}, or use ?device=cpu`,
      { reason: message.slice(0, 2000), device: d.execution.device },
      { cause: e },
    );
  }
  return new ForesightError('MODEL_INVALID', `${d.dir}: the model could not be loaded: ${message.slice(0, 500)}`, { reason: message.slice(0, 2000) }, { cause: e });
}

export class LoadedVlm {
  private constructor(
    readonly directory: VlmDirectory,
    private readonly processor: Processor,
    private readonly model: Model,
    /** How long loading took (processor, tokenizer, the three sessions), in ms. */
    readonly loadMs: number,
  ) {}

  static async load(d: VlmDirectory): Promise<LoadedVlm> {
    const t0 = performance.now();
    const options = { local_files_only: true, device: d.execution.device, dtype: d.execution.dtype };
    let processor: Processor;
    let model: Model;
    try {
      [processor, model] = await Promise.all([
        PROCESSORS[d.family.processor(d.config.model_type)].from_pretrained(d.dir, { local_files_only: true }) as Promise<Processor>,
        AutoModelForImageTextToText.from_pretrained(d.dir, options) as Promise<unknown> as Promise<Model>,
      ]);
    } catch (e) {
      throw loadError(d, e);
    }
    try {
      checkGraphInputs(d, model.sessions);
    } catch (e) {
      await model.dispose();
      throw e;
    }
    return new LoadedVlm(d, processor, model, performance.now() - t0);
  }

  async generate(messages: ChatMessage[], observation: Observation, maxNewTokens: number, signal: AbortSignal): Promise<GenerationResult> {
    if (signal.aborted) throw stopped();
    const t0 = performance.now();
    const prompt = this.processor.apply_chat_template(messages, { add_generation_prompt: true, tokenize: false });
    const inputs = await this.processor(prompt, observationImage(observation.raw));
    const ids = inputs.input_ids;
    if (!(ids instanceof Tensor)) throw new ForesightError('INTERNAL', 'The processor returned no input_ids');
    const promptTokens = ids.dims.at(-1) ?? 0;
    const t1 = performance.now();
    const out = await this.model.generate({
      ...inputs,
      max_new_tokens: maxNewTokens,
      do_sample: false,
      stopping_criteria: [new AbortCriteria(signal)],
    });
    if (signal.aborted) throw stopped();
    if (!(out instanceof Tensor)) throw new ForesightError('INTERNAL', 'Generation returned no token ids');
    const generated = out.slice(null, [promptTokens, out.dims.at(-1) ?? promptTokens]);
    const text = this.processor.batch_decode(generated, { skip_special_tokens: true })[0] ?? '';
    return { text, promptTokens, newTokens: generated.dims.at(-1) ?? 0, preprocessMs: t1 - t0, generateMs: performance.now() - t1 };
  }

  /** Each loaded graph's input and output names, by the library's session name. */
  graphNames(): Record<string, { inputs: string[]; outputs: string[] }> {
    const out: Record<string, { inputs: string[]; outputs: string[] }> = {};
    for (const [name, s] of Object.entries(this.model.sessions)) out[name] = { inputs: [...s.inputNames], outputs: [...s.outputNames] };
    return out;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

function stopped(): ForesightError {
  return new ForesightError('STOPPED', 'The local model was stopped');
}
