/**
 * Local vision-language models (`onnx:<model-dir>`): what other parts of native-models use —
 * the planner and grounder (backends.ts), and for a model registry's `verify` / `doctor`
 * the directory checks without a run.
 */
import { readVlmDirectory, type Execution, type ExecutionRequest } from './model-dir.ts';

export { FAMILIES, SUPPORTED_MODEL_TYPES, detectFamily, type VlmFamily } from './family.ts';
export { chooseExecution, readVlmDirectory, type Execution, type ExecutionRequest, type VlmDirectory } from './model-dir.ts';
export { OnnxGrounder } from './grounder.ts';
export { OnnxPlanner } from './planner.ts';

export interface VlmVerification {
  dir: string;
  modelType: string;
  family: string;
  execution: Execution;
  /** Loading the processor and the sessions, in ms. */
  loadMs: number;
}

/**
 * Loads a directory as a run would — files, family, sessions on the chosen provider, every
 * graph's inputs — and releases it. Throws MODEL_INVALID or PROVIDER_UNAVAILABLE saying what is wrong.
 */
export async function verifyVlmDirectory(dir: string, req: ExecutionRequest = {}): Promise<VlmVerification> {
  const d = readVlmDirectory(dir, req);
  const { LoadedVlm } = await import('./runtime.ts');
  const vlm = await LoadedVlm.load(d);
  await vlm.dispose();
  return { dir: d.dir, modelType: d.config.model_type, family: d.family.label, execution: d.execution, loadMs: vlm.loadMs };
}
