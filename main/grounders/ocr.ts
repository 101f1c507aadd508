/**
 * The OCR grounder: Tesseract (tesseract.js, offline with @tesseract.js-data/eng) reads the
 * screen while the planner thinks; grounding a step is then a lookup of the text the step
 * instruction names ("click on 'Save As…'") among the lines and words seen.
 *
 * Why the preprocessing: on a raw 1280×800 screenshot Tesseract misses most items of an
 * open GTK menu. Grayscale, 2× upscaling and sparse-text segmentation (PSM 11) find the
 * dark-on-light labels (pass `grey`). Tesseract's global threshold loses the rest: a
 * highlighted row (white on blue), greyed-out items, light text on dark panels, a small light
 * button on a dark background. So a second pass (`background`) binarises the image itself:
 * the median of each pixel's 13×13 neighbourhood (screen pixels) is the background there,
 * since text covers less than half of it, and a pixel is text when it differs from that
 * background by more than 48 grey levels — whatever the polarity, and without the frames a
 * tile-wise threshold draws around small boxes. On Mousepad's File menu, its Save As dialog,
 * an xterm and synthetic menus the two passes together found 102 of 105 labels; `grey` alone
 * 86, `background` alone 99. They run on two workers at once and their lines are merged.
 */
import { FrameCache } from './frame-cache.ts';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import Tesseract from 'tesseract.js';
import type { Rect } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Grounder, GroundRequest, Grounding, Observation } from '../../common/ports.ts';
import { groundInText, samePlace, stepTargets, TEXT_GROUNDING_DEFAULTS, type TextBox, type TextLine } from './text-match.ts';

export const OCR_PASSES = ['grey', 'background'] as const;
/** `grey`: the upscaled luma, Tesseract's Otsu threshold. `background`: text told from its local background, see above. */
export type OcrPassName = (typeof OCR_PASSES)[number];

export interface OcrGrounderOptions {
  /** Folder holding eng.traineddata.gz; default: the LSTM model of @tesseract.js-data/eng. */
  langPath?: string;
  /** Upscaling before OCR (2 finds small UI text); lowered for large screens, see maxOcrPixels. */
  scale?: number;
  /** Upper bound on the upscaled image's pixels (keeps 4K screens from taking seconds per pass). */
  maxOcrPixels?: number;
  /** Which passes to run, each on its own worker. Default: both. */
  passes?: readonly OcrPassName[];
  /** How many frames' OCR results to keep. */
  cacheSize?: number;
  /** Lowest score a quoted label may match with (1 exact, ~0.96 same letters, 0.9×similarity fuzzy). */
  minQuotedScore?: number;
  /**
   * Lowest score an unquoted instruction's words may match with (weighted F1 of shared words).
   * 0.5: "click the blue icon next to Firefox" must not land on a "Next" button.
   */
  minWordsScore?: number;
}

/** What OCR read on one frame, boxes in screenshot pixels. */
export interface OcrText {
  frameId: string;
  width: number;
  height: number;
  /** The factor the image was upscaled by for OCR. */
  scale: number;
  lines: TextLine[];
  /** prepareMs: grey, upscale, background; passMs: each pass's Tesseract time (they run at once). */
  timings: { prepareMs: number; recognizeMs: number; totalMs: number; passMs: Partial<Record<OcrPassName, number>> };
}

/** The LSTM-only model that tesseract.js would otherwise download from a CDN. */
export function defaultLangPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
}

const WORKER_START_TIMEOUT_MS = 60_000;

export class OcrGrounder implements Grounder {
  readonly id = 'ocr';
  readonly speculative = true;
  /** Frames recognised so far (each frame once, however often it is perceived or grounded). */
  readonly stats = { recognitions: 0, lookups: 0 };

  private readonly opts: Required<OcrGrounderOptions>;
  private workers: Promise<Tesseract.Worker[]> | undefined;
  /** One job at a time per worker: a chain per worker. */
  private queues: Promise<unknown>[] = [];
  private closing = new AbortController();
  private readonly cache: FrameCache<OcrText>;

  constructor(opts: OcrGrounderOptions = {}) {
    this.opts = {
      langPath: opts.langPath ?? defaultLangPath(),
      scale: opts.scale ?? 2,
      maxOcrPixels: opts.maxOcrPixels ?? 12_000_000,
      passes: opts.passes ?? OCR_PASSES,
      cacheSize: opts.cacheSize ?? 8,
      minQuotedScore: opts.minQuotedScore ?? TEXT_GROUNDING_DEFAULTS.minQuotedScore,
      minWordsScore: opts.minWordsScore ?? TEXT_GROUNDING_DEFAULTS.minWordsScore,
    };
    if (!this.opts.passes.length) throw new ForesightError('BAD_INPUT', 'The OCR grounder needs at least one pass');
    this.cache = new FrameCache(this.opts.cacheSize);
  }

  perceive(observation: Observation): void {
    // Failures surface in ground(); a perception nobody grounds must not be an unhandled rejection.
    this.perception(observation).catch(() => {});
  }

  /** What OCR read on a frame (the last frame perceived when none is named), once it is done. */
  lastText(frameId?: string): OcrText | undefined {
    return this.cache.result(frameId);
  }

  /**
   * What OCR reads on a frame, awaited (started now unless perceive() started it): other
   * grounders (Set-of-Marks) build on the same perception instead of running their own.
   */
  text(observation: Observation, signal: AbortSignal): Promise<OcrText> {
    return abortable(this.perception(observation), signal);
  }

  /** Frame ids whose OCR is cached or running, oldest first. */
  cachedFrames(): string[] {
    return this.cache.ids();
  }

  async ground(req: GroundRequest, signal: AbortSignal): Promise<Grounding> {
    const t0 = performance.now();
    const targets = stepTargets(req.action, 'OCR');
    const text = await abortable(this.perception(req.observation), signal);
    this.stats.lookups++;
    const found = groundInText(req.action, req.observation, text, targets, this.opts);
    return { ...found, grounder: this.id, latencyMs: performance.now() - t0 };
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.closing = new AbortController();
    const workers = this.workers;
    this.workers = undefined;
    this.queues = [];
    this.cache.clear();
    if (workers) {
      const ws = await workers.catch(() => []);
      await Promise.all(ws.map((w) => w.terminate()));
    }
  }

  // ---------------------------------------------------------------- perception

  private perception(observation: Observation): Promise<OcrText> {
    return this.cache.get(observation.frameId, () =>
      this.recognize(observation).catch((e: unknown) => {
        throw e instanceof ForesightError ? e : new ForesightError('INTERNAL', `OCR failed: ${String(e)}`, undefined, { cause: e });
      }),
    );
  }

  private async recognize(observation: Observation): Promise<OcrText> {
    this.stats.recognitions++;
    const t0 = performance.now();
    // Taken before yielding: a close() in between must not let this start new workers.
    const closed = this.closing.signal;
    // perceive() returns at once; the grey conversion below is synchronous work.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (closed.aborted) throw new ForesightError('STOPPED', 'The OCR grounder was closed');
    // Preparing the image overlaps with starting the workers (the first time only).
    let prepareMs = 0;
    const withMask = this.opts.passes.includes('background');
    const prepared = prepareImage(observation, this.opts.scale, this.opts.maxOcrPixels, withMask).then((img) => {
      prepareMs = performance.now() - t0;
      return img;
    });
    const [workers, image] = await abortable(Promise.all([this.startWorkers(), prepared]), closed, 'The OCR grounder was closed');
    const passMs: OcrText['timings']['passMs'] = {};
    const pages = await abortable(
      Promise.all(
        this.opts.passes.map((name, i) => {
          const input = pgm(image.width, image.height, name === 'background' ? image.textMask : image.data);
          return this.enqueue(i, async () => {
            const started = performance.now();
            const page = await workers[i]!.recognize(input, {}, { blocks: true, text: false });
            passMs[name] = performance.now() - started;
            return page;
          });
        }),
      ),
      closed,
      'The OCR grounder was closed',
    );
    const fx = observation.geometry.imageWidth / image.width;
    const fy = observation.geometry.imageHeight / image.height;
    const lines = mergePasses(pages.map((p) => linesOf(p.data, fx, fy)));
    const totalMs = performance.now() - t0;
    return {
      frameId: observation.frameId,
      width: observation.geometry.imageWidth,
      height: observation.geometry.imageHeight,
      scale: image.scale,
      lines,
      timings: { prepareMs, recognizeMs: totalMs - prepareMs, totalMs, passMs },
    };
  }

  private enqueue<T>(i: number, job: () => Promise<T>): Promise<T> {
    const run = (this.queues[i] ?? Promise.resolve()).then(job, job);
    this.queues[i] = run.catch(() => {});
    return run;
  }

  private startWorkers(): Promise<Tesseract.Worker[]> {
    if (this.workers) return this.workers;
    const file = join(this.opts.langPath, 'eng.traineddata.gz');
    if (!existsSync(file)) {
      return Promise.reject(
        new ForesightError('TOOL_MISSING', `Tesseract's English model is missing at ${file}: reinstall @tesseract.js-data/eng`, { file }),
      );
    }
    const dpi = String(Math.round(96 * this.opts.scale));
    const start = async () => {
      const w = await Tesseract.createWorker('eng', Tesseract.OEM.LSTM_ONLY, {
        langPath: this.opts.langPath,
        cachePath: this.opts.langPath,
        // Read the model from langPath, never write a copy into the working directory.
        cacheMethod: 'none',
        gzip: true,
        // Without a handler tesseract.js throws job errors out of its message listener.
        errorHandler: () => {},
      });
      await w.setParameters({
        tessedit_pageseg_mode: Tesseract.PSM.SPARSE_TEXT,
        user_defined_dpi: dpi,
        // 0: Otsu over the whole image (a no-op on the background pass, which is binary already)
        thresholding_method: '0',
      });
      return w;
    };
    const all = Promise.all(this.opts.passes.map(start));
    const timed = withTimeout(all, WORKER_START_TIMEOUT_MS, `Tesseract did not start within ${WORKER_START_TIMEOUT_MS / 1000} s`);
    this.workers = timed;
    timed.catch(() => {
      if (this.workers === timed) this.workers = undefined;
      void all.then((ws) => Promise.all(ws.map((w) => w.terminate()))).catch(() => {});
    });
    return timed;
  }
}

// ---------------------------------------------------------------- helpers

/** The promise, or STOPPED as soon as the signal aborts (the work itself goes on, cached for a later call). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal, message = 'Grounding was stopped'): Promise<T> {
  if (signal.aborted) return Promise.reject(new ForesightError('STOPPED', message));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ForesightError('STOPPED', message));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new ForesightError('INTERNAL', message)), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof ForesightError ? e : new ForesightError('INTERNAL', `Tesseract failed to start: ${String(e)}`));
      },
    );
  });
}

export interface OcrImage {
  width: number;
  height: number;
  /** The factor the screenshot was upscaled by. */
  scale: number;
  /** Upscaled luma. */
  data: Uint8Array;
  /** Upscaled, binarised against the local background: text 0, the rest 255 (empty without the background pass). */
  textMask: Uint8Array;
}

/** Text differs from the median of its neighbourhood by more than this many grey levels. */
const TEXT_CONTRAST = 48;
/** Neighbourhood for the background estimate, in screen pixels: wider than a stroke, narrower than a button. */
const BACKGROUND_WINDOW = 13;

/** Luma of the observation's pixels (honouring RGBA/BGRA order), upscaled for OCR, plus the text mask. */
export async function prepareImage(observation: Observation, wantScale: number, maxPixels: number, withMask: boolean): Promise<OcrImage> {
  const raw = observation.raw;
  let grey: Uint8Array;
  let width: number;
  let height: number;
  if (raw && raw.width > 0 && raw.height > 0 && raw.data.length >= raw.width * raw.height * raw.channels) {
    ({ width, height } = raw);
    const n = width * height;
    const ch = raw.channels;
    const [ri, bi] = raw.order === 'bgra' ? [2, 0] : [0, 2];
    const d = raw.data;
    grey = new Uint8Array(n);
    for (let p = 0, q = 0; p < n; p++, q += ch) grey[p] = (77 * d[q + ri]! + 150 * d[q + 1]! + 29 * d[q + bi]!) >> 8;
  } else {
    const { data, info } = await sharp(observation.png).removeAlpha().toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    ({ width, height } = info);
    grey = new Uint8Array(data.buffer, data.byteOffset, width * height);
  }
  const scale = Math.max(1, Math.min(wantScale, Math.sqrt(maxPixels / (width * height))));
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  const oneChannel = async (img: Sharp): Promise<Uint8Array> => {
    const { data, info } = await img.toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 || info.width !== w || info.height !== h) {
      throw new ForesightError('INTERNAL', `OCR preprocessing gave ${info.width}x${info.height}x${info.channels}, expected ${w}x${h}x1`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  };
  const src = () => sharp(grey, { raw: { width, height, channels: 1 } });
  const [up, background] = await Promise.all([
    scale === 1 ? Promise.resolve(grey) : oneChannel(src().resize(w, h, { kernel: 'lanczos3' })),
    withMask
      ? src()
          .median(BACKGROUND_WINDOW)
          .toColourspace('b-w')
          .raw()
          .toBuffer({ resolveWithObject: true })
          .then(({ data, info }) => {
            // sharp's median would otherwise hand back three channels
            if (info.channels !== 1) throw new ForesightError('INTERNAL', `The background estimate has ${info.channels} channels`);
            return oneChannel(sharp(data, { raw: { width, height, channels: 1 } }).resize(w, h, { kernel: 'nearest' }));
          })
      : Promise.resolve(undefined),
  ]);
  const textMask = new Uint8Array(background ? up.length : 0);
  if (background) {
    for (let i = 0; i < up.length; i++) textMask[i] = Math.abs(up[i]! - background[i]!) > TEXT_CONTRAST ? 0 : 255;
  }
  return { width: w, height: h, scale, data: up, textMask };
}

/** An 8-bit greymap (PGM): Leptonica reads it without decoding work. */
function pgm(width: number, height: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`), data]);
}

function toRect(b: Tesseract.Bbox, fx: number, fy: number): Rect {
  return { x: b.x0 * fx, y: b.y0 * fy, width: (b.x1 - b.x0) * fx, height: (b.y1 - b.y0) * fy };
}

/** Lines and words of a Tesseract page, boxes mapped back to screenshot pixels. */
function linesOf(page: Tesseract.Page, fx: number, fy: number): TextLine[] {
  const out: TextLine[] = [];
  for (const block of page.blocks ?? []) {
    for (const para of block.paragraphs) {
      for (const line of para.lines) {
        const words: TextBox[] = line.words
          .filter((w) => w.text.trim().length > 0)
          .map((w) => ({ text: w.text.trim(), bbox: toRect(w.bbox, fx, fy), confidence: w.confidence }));
        if (!words.length) continue;
        out.push({ text: words.map((w) => w.text).join(' '), bbox: toRect(line.bbox, fx, fy), confidence: line.confidence, words });
      }
    }
  }
  return out;
}

/** The lines of all passes; a line that another pass read identically at the same place is kept once. */
function mergePasses(passes: TextLine[][]): TextLine[] {
  const merged: TextLine[] = [];
  for (const lines of passes) {
    for (const line of lines) {
      const i = merged.findIndex((m) => m.text === line.text && samePlace(m.bbox, line.bbox));
      if (i < 0) merged.push(line);
      else if (line.confidence > merged[i]!.confidence) merged[i] = line;
    }
  }
  return merged.sort((a, b) => a.bbox.y - b.bbox.y || a.bbox.x - b.bbox.x);
}
