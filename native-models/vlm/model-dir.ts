/**
 * Reads a local VLM directory before anything is loaded: config.json (which family), the files
 * the library will open, and which execution provider and precision each ONNX graph runs with.
 * Everything wrong with a directory that can be seen without loading a graph is a MODEL_INVALID
 * here, with the file named; graph inputs are checked once the sessions exist (runtime.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { ForesightError } from '../../common/errors.ts';
import {
  detectFamily,
  modelConfigSchema,
  preprocessorConfigSchema,
  type GraphSpec,
  type ModelConfig,
  type PreprocessorConfig,
  type VlmFamily,
} from './family.ts';

/** The precisions onnx-community exports come in, and the file suffix the library reads for each. */
export const DTYPE_SUFFIX = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
} as const;
export type Dtype = keyof typeof DTYPE_SUFFIX;
export const DTYPES = Object.keys(DTYPE_SUFFIX) as Dtype[];

/** Execution providers onnxruntime-node has on some platform (CPU everywhere; CUDA on Linux x64; DirectML on Windows; CoreML on macOS). */
export const DEVICES = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];

export interface ExecutionRequest {
  device?: Device;
  dtype?: Dtype;
}

export interface Execution {
  device: Device;
  /** Per graph: the precision, and so the file, it runs with. */
  dtype: Record<string, Dtype>;
}

export interface VlmDirectory {
  dir: string;
  config: ModelConfig;
  preprocessor: PreprocessorConfig;
  family: VlmFamily;
  graphs: GraphSpec[];
  execution: Execution;
}

/** Files besides the graphs that the library's processor and model read. */
export const REQUIRED_FILES = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'];

function readJson<T>(dir: string, file: string, schema: z.ZodType<T>): T {
  const path = join(dir, file);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ForesightError('MODEL_INVALID', `${path} is not readable JSON (${e instanceof Error ? e.message : String(e)}); download it again`, { file });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ForesightError('MODEL_INVALID', `${path}: ${issue?.path.join('.') || '(top level)'} ${issue?.message ?? 'is malformed'}`, { file });
  }
  return parsed.data;
}

/**
 * Preference orders of precisions, when the spec names none: on a CPU the 4- and 8-bit
 * exports (a quarter / half of fp32's memory traffic, which bounds decoding speed); on a GPU
 * the fp16 ones (its native arithmetic), then the rest.
 */
const PREFERENCE: Record<'cpu' | 'gpu', readonly Dtype[]> = {
  cpu: ['q4', 'q8', 'fp32', 'int8', 'uint8', 'bnb4', 'q4f16', 'fp16'],
  gpu: ['q4f16', 'fp16', 'fp32', 'q4', 'q8', 'int8', 'uint8', 'bnb4'],
};

/**
 * The one place that decides where and in which precision each graph runs. Today the spec's
 * `device` (default cpu) and `dtype` (default: the first precision of the device's preference
 * order whose file the directory holds); a session manager that knows the machine's providers
 * can take this decision over without changing its callers.
 */
export function chooseExecution(dir: string, graphs: readonly GraphSpec[], req: ExecutionRequest): Execution {
  const device = req.device ?? 'cpu';
  const order = req.dtype ? [req.dtype] : PREFERENCE[device === 'cpu' ? 'cpu' : 'gpu'];
  const dtype: Record<string, Dtype> = {};
  for (const g of graphs) {
    const found = order.find((d) => existsSync(join(dir, 'onnx', `${g.name}${DTYPE_SUFFIX[d]}.onnx`)));
    if (!found) {
      const wanted = order.map((d) => `onnx/${g.name}${DTYPE_SUFFIX[d]}.onnx`);
      throw new ForesightError(
        'MODEL_INVALID',
        `${dir}: the ${g.name} graph is missing: none of ${wanted.join(', ')} exists. ` +
          (req.dtype ? `Download that precision, or leave ?dtype= out to take the one present.` : 'Download the onnx/ folder of the model repository.'),
        { file: wanted[0], graph: g.name },
      );
    }
    dtype[g.name] = found;
  }
  return { device, dtype };
}

export function readVlmDirectory(dirArg: string, req: ExecutionRequest = {}): VlmDirectory {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ForesightError('MODEL_INVALID', `${dir} is not a directory; onnx:<model-dir> names a downloaded model folder (README, "Local vision-language models")`);
  }
  for (const f of REQUIRED_FILES) {
    if (!existsSync(join(dir, f))) {
      throw new ForesightError('MODEL_INVALID', `${dir}: ${f} is missing; download it from the model repository with the rest of the folder`, { file: f });
    }
  }
  const config = readJson(dir, 'config.json', modelConfigSchema);
  const family = detectFamily(config, dir);
  const preprocessor = readJson(dir, 'preprocessor_config.json', preprocessorConfigSchema);
  const graphs = family.graphs(config);
  if (!graphs.some((g) => g.required.some((i) => i.startsWith('past_key_values.')))) {
    throw new ForesightError('MODEL_INVALID', `${join(dir, 'config.json')} gives no num_hidden_layers (top level or text_config), so the decoder's cache cannot be fed`);
  }
  return { dir, config, preprocessor, family, graphs, execution: chooseExecution(dir, graphs, req) };
}

/** Files the library reads when present (the tokenizer's other spellings, the chat template, generation defaults). */
const OPTIONAL_FILES = [
  'generation_config.json',
  'chat_template.json',
  'chat_template.jinja',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'merges.txt',
  'processor_config.json',
];

/** The graph file a directory's execution choice opens: onnx/<name><dtype suffix>.onnx. */
export function graphFile(d: VlmDirectory, g: GraphSpec): string {
  const dtype = d.execution.dtype[g.name];
  return join('onnx', `${g.name}${DTYPE_SUFFIX[dtype ?? 'fp32']}.onnx`);
}

/** The precisions of a graph the directory holds a file of. */
export function presentDtypes(dir: string, g: GraphSpec): Dtype[] {
  return DTYPES.filter((d) => existsSync(join(dir, 'onnx', `${g.name}${DTYPE_SUFFIX[d]}.onnx`)));
}

/**
 * Every file a run of this directory reads, relative to it: the configs and tokenizer files,
 * and for each graph the file of its chosen precision with its external weights
 * (`<file>.onnx_data`, `<file>.onnx_data_1`, … of the larger exports).
 */
export function vlmFiles(d: VlmDirectory): string[] {
  const files = [...REQUIRED_FILES, ...OPTIONAL_FILES.filter((f) => existsSync(join(d.dir, f)))];
  const onnx = existsSync(join(d.dir, 'onnx')) ? readdirSync(join(d.dir, 'onnx')) : [];
  for (const g of d.graphs) {
    const file = graphFile(d, g);
    files.push(file);
    const base = file.slice('onnx/'.length);
    for (const f of onnx.filter((x) => x.startsWith(`${base}_data`)).sort()) files.push(`onnx/${f}`);
  }
  return files;
}
