/**
 * `onnx:<model-dir>[?key=value&…]`: a local VLM directory and how to run it. Keys: `device`
 * (cpu, cuda, dml, coreml, webgpu), `dtype` (which export of each graph: fp32, fp16, q8, q4,
 * q4f16, …), `max_new_tokens`, and for a planner `format`, for a grounder `convention`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ForesightError } from '../../common/errors.ts';
import { DEVICES, DTYPES, type Device, type Dtype, type ExecutionRequest } from './model-dir.ts';

export interface OnnxSpec {
  dir: string;
  execution: ExecutionRequest;
  maxNewTokens?: number;
  format?: string;
  convention?: string;
}

const USAGE = 'expected onnx:<model-dir>[?device=cpu|cuda&dtype=q4&max_new_tokens=N], e.g. onnx:/models/UI-TARS-2B-SFT';

export function parseOnnxSpec(spec: string, role: 'planner' | 'grounder'): OnnxSpec {
  if (!spec.startsWith('onnx:')) throw new ForesightError('BAD_INPUT', `"${spec}" is not a local model spec: ${USAGE}`);
  const rest = spec.slice('onnx:'.length);
  const q = rest.indexOf('?');
  // The shell expands ~ only at the start of a word, never after "onnx:".
  const raw = q < 0 ? rest : rest.slice(0, q);
  const dir = raw === '~' || raw.startsWith('~/') ? join(homedir(), raw.slice(1)) : raw;
  if (!dir) throw new ForesightError('BAD_INPUT', `"${spec}" names no model directory: ${USAGE}`);
  const options = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  const known = ['device', 'dtype', 'max_new_tokens', role === 'planner' ? 'format' : 'convention'];
  const out: OnnxSpec = { dir, execution: {} };
  for (const [key, value] of options) {
    if (!known.includes(key)) throw new ForesightError('BAD_INPUT', `Unknown option "${key}" in "${spec}"; a local ${role} takes ${known.join(', ')}`);
    if (key === 'device') {
      if (!(DEVICES as readonly string[]).includes(value)) throw new ForesightError('BAD_INPUT', `device=${value} in "${spec}": use one of ${DEVICES.join(', ')}`);
      out.execution.device = value as Device;
    } else if (key === 'dtype') {
      if (!(DTYPES as readonly string[]).includes(value)) throw new ForesightError('BAD_INPUT', `dtype=${value} in "${spec}": use one of ${DTYPES.join(', ')}`);
      out.execution.dtype = value as Dtype;
    } else if (key === 'max_new_tokens') {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0 || n > 32768) throw new ForesightError('BAD_INPUT', `max_new_tokens=${value} in "${spec}" must be an integer from 1 to 32768`);
      out.maxNewTokens = n;
    } else if (key === 'format') out.format = value;
    else out.convention = value;
  }
  return out;
}
