/**
 * Local vision-language models (`onnx:<model-dir>`): what other parts of native-models use —
 * the planner and grounder (backends.ts), and for a model registry's `verify` / `doctor`
 * the directory checks without a run.
 */
import { graphFile, presentDtypes, readVlmDirectory, type Dtype, type Execution, type ExecutionRequest } from './model-dir.ts';

export { FAMILIES, SUPPORTED_MODEL_TYPES, detectFamily, type VlmFamily } from './family.ts';
export { chooseExecution, readVlmDirectory, vlmFiles, type Dtype, type Execution, type ExecutionRequest, type VlmDirectory } from './model-dir.ts';
export { OnnxGrounder } from './grounder.ts';
export { OnnxPlanner } from './planner.ts';

export interface VlmVerification {
  dir: string;
  modelType: string;
  family: string;
  execution: Execution;
  /** The graphs as loaded: file, precision, the other precisions present, real input and output names. */
  graphs: VlmGraph[];
  /** Loading the processor and the sessions, in ms. */
  loadMs: number;
}

export interface VlmGraph {
  name: string;
  file: string;
  dtype: Dtype;
  variants: Dtype[];
  inputs: string[];
  outputs: string[];
}

/**
 * Loads a directory as a run would — files, family, sessions on the chosen provider, every
 * graph's inputs — and releases it. Throws MODEL_INVALID or PROVIDER_UNAVAILABLE saying what is wrong.
 */
export async function verifyVlmDirectory(dir: string, req: ExecutionRequest = {}): Promise<VlmVerification> {
  const d = readVlmDirectory(dir, req);
  const { LoadedVlm } = await import('./runtime.ts');
  const vlm = await LoadedVlm.load(d);
  const names = vlm.graphNames();
  await vlm.dispose();
  const graphs = d.graphs.map((g): VlmGraph => ({
    name: g.name,
    file: graphFile(d, g),
    dtype: d.execution.dtype[g.name] ?? 'fp32',
    variants: presentDtypes(d.dir, g),
    inputs: names[g.name]?.inputs ?? [],
    outputs: names[g.name]?.outputs ?? [],
  }));
  return { dir: d.dir, modelType: d.config.model_type, family: d.family.label, execution: d.execution, graphs, loadMs: vlm.loadMs };
}
