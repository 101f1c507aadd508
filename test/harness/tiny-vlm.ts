/**
 * Builds a tiny Qwen2-VL-family model directory (test/fixtures/vlm/make_tiny_vlm.py) into a
 * temporary folder: the real files a user downloads, with graphs whose greedy decoding spells out
 * the given answers. Answer i is given when the prompt holds i marked bytes (by default the byte
 * 0x86 of "→", once per line of the planner's history), the last one from then on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TINY_VLM_SCRIPT = fileURLToPath(new URL('../fixtures/vlm/make_tiny_vlm.py', import.meta.url));

export interface TinyVlmOptions {
  answers: readonly string[];
  family?: 'qwen2_vl' | 'qwen2_5_vl';
  /** The byte whose count in the prompt picks the answer. */
  countByte?: number;
  /** The image processor's pixel budget (small: few image tokens). */
  minPixels?: number;
  maxPixels?: number;
  /** `graph:old:new`: renames a graph input (a graph that does not fit its family). */
  rename?: readonly string[];
  /** `graph:name`: adds an input the family does not feed. */
  extraInput?: readonly string[];
  /** Where to write it; a new temporary folder by default. */
  dir?: string;
}

/** Debian's python3 has the onnx module (python3-onnx); a python3 earlier on PATH may not. */
function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export function buildTinyVlm(opts: TinyVlmOptions): string {
  const dir = opts.dir ?? join(mkdtempSync(join(tmpdir(), 'foresight-vlm-')), 'model');
  const answers = `${dir}.answers.json`;
  writeFileSync(answers, JSON.stringify(opts.answers));
  const args = [TINY_VLM_SCRIPT, '--out', dir, '--answers', answers, '--family', opts.family ?? 'qwen2_vl'];
  if (opts.countByte !== undefined) args.push('--count-byte', String(opts.countByte));
  if (opts.minPixels !== undefined) args.push('--min-pixels', String(opts.minPixels));
  if (opts.maxPixels !== undefined) args.push('--max-pixels', String(opts.maxPixels));
  for (const r of opts.rename ?? []) args.push('--rename', r);
  for (const x of opts.extraInput ?? []) args.push('--extra-input', x);
  try {
    execFileSync(python(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    const hint = /No module named 'onnx'/.test(stderr) ? ' (install python3-onnx: build/install.sh does)' : '';
    throw new Error(`make_tiny_vlm.py failed${hint}: ${stderr || String(e)}`);
  }
  return dir;
}
