/**
 * The `ocr:paddle` grounder: PP-OCRv4 (pipeline.ts) reads each new frame in the background
 * while the planner thinks; grounding a step is then a lookup of the text its instruction
 * quotes, with the same matching, scores and errors as Tesseract's `ocr` grounder
 * (main/grounders/text-match.ts). The sessions are opened on first use, once per grounder.
 */
import { FrameCache } from '../../main/grounders/frame-cache.ts';
import { setTimeout as delay } from 'node:timers/promises';
import { ForesightError } from '../../common/errors.ts';
import type { Grounder, GroundRequest, Grounding, Observation } from '../../common/ports.ts';
import { abortable } from '../../main/grounders/ocr.ts';
import { groundInText, stepTargets, TEXT_GROUNDING_DEFAULTS, type TextGroundingOptions, type TextLine, type TextReading } from '../../main/grounders/text-match.ts';
import { PaddleOcr, type OcrReading, type PaddleOcrOptions } from './pipeline.ts';

export const PADDLE_GROUNDER_ID = 'ocr:paddle';

export interface PaddleGrounderOptions extends PaddleOcrOptions, Partial<TextGroundingOptions> {
  /** How many frames' readings to keep. */
  cacheSize?: number;
}

/** What PP-OCR read on a frame, as the text matcher takes it (confidences 0..100), plus its own figures. */
export interface PaddleReading extends TextReading {
  reading: OcrReading;
}

/** How long describe() waits for the sessions to open (the worker client allows 10 s). */
const DESCRIBE_WAIT_MS = 6_000;

export class PaddleOcrGrounder implements Grounder {
  readonly id = PADDLE_GROUNDER_ID;
  readonly speculative = true;
  /** Frames read so far (each once, however often it is perceived or grounded), and lookups. */
  readonly stats = { recognitions: 0, lookups: 0 };

  private readonly matching: TextGroundingOptions;
  private readonly cache: FrameCache<PaddleReading>;
  private engine: Promise<PaddleOcr> | undefined;
  private closing = new AbortController();

  constructor(private readonly opts: PaddleGrounderOptions = {}) {
    this.matching = {
      minQuotedScore: opts.minQuotedScore ?? TEXT_GROUNDING_DEFAULTS.minQuotedScore,
      minWordsScore: opts.minWordsScore ?? TEXT_GROUNDING_DEFAULTS.minWordsScore,
    };
    this.cache = new FrameCache(opts.cacheSize ?? 8);
  }

  perceive(observation: Observation): void {
    // Failures surface in ground(); a perception nobody grounds must not be an unhandled rejection.
    this.perception(observation).catch(() => {});
  }

  /** What was read on a frame (the last one perceived when none is named), once it is done. */
  lastReading(frameId?: string): PaddleReading | undefined {
    return this.cache.result(frameId);
  }

  /** Reads a frame (or returns the cached reading): for benchmarks and tests. */
  read(observation: Observation): Promise<PaddleReading> {
    return this.perception(observation);
  }

  async ground(req: GroundRequest, signal: AbortSignal): Promise<Grounding> {
    const t0 = performance.now();
    const targets = stepTargets(req.action, PADDLE_GROUNDER_ID);
    const text = await abortable(this.perception(req.observation), signal);
    this.stats.lookups++;
    const found = groundInText(req.action, req.observation, text, targets, this.matching);
    return { ...found, grounder: this.id, latencyMs: performance.now() - t0 };
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.closing = new AbortController();
    const engine = this.engine;
    this.engine = undefined;
    this.cache.clear();
    if (engine) await (await engine.catch(() => undefined))?.close();
  }

  private perception(observation: Observation): Promise<PaddleReading> {
    return this.cache.get(observation.frameId, () => this.recognize(observation));
  }

  private async recognize(observation: Observation): Promise<PaddleReading> {
    // Taken before yielding: a close() in between must not let this open new sessions.
    const closed = this.closing.signal;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (closed.aborted) throw new ForesightError('STOPPED', 'The ocr:paddle grounder was closed');
    this.stats.recognitions++;
    try {
      const engine = await abortable(this.startEngine(), closed, 'The ocr:paddle grounder was closed');
      const reading = await engine.read(observation.raw);
      return { frameId: observation.frameId, lines: reading.lines.map(toTextLine), reading };
    } catch (e) {
      throw e instanceof ForesightError ? e : new ForesightError('INTERNAL', `PP-OCR failed: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
    }
  }

  /**
   * Which backend and execution provider serve this grounder (the episode's settings). Opens the
   * sessions now, so the first frame does not wait for them; a model that cannot load is left to
   * the first frame to report, and a slow open (a loaded machine) leaves the provider unnamed.
   */
  async describe(): Promise<{ backend: string; provider?: string }> {
    const engine = this.startEngine().then(
      (e) => e,
      () => undefined,
    );
    const waited = new AbortController();
    const late = delay(DESCRIBE_WAIT_MS, undefined, { signal: waited.signal }).catch(() => undefined);
    const ready = await Promise.race([engine, late]);
    waited.abort();
    return ready ? { backend: this.id, provider: ready.describe().provider } : { backend: this.id };
  }

  private startEngine(): Promise<PaddleOcr> {
    if (this.engine) return this.engine;
    const started = PaddleOcr.create(this.opts);
    this.engine = started;
    started.catch(() => {
      // A refused model folder is reported by this call; the next frame tries again.
      if (this.engine === started) this.engine = undefined;
    });
    return started;
  }
}

function toTextLine(l: OcrReading['lines'][number]): TextLine {
  return {
    text: l.text,
    bbox: l.bbox,
    confidence: l.score * 100,
    words: l.words.map((w) => ({ text: w.text, bbox: w.bbox, confidence: w.score * 100 })),
  };
}

/** `ocr:paddle` (the bundled PP-OCRv4), or `ocr:paddle:<folder>` holding the same three files. */
export function createPaddleGrounder(spec: string): PaddleOcrGrounder {
  const rest = spec.slice(PADDLE_GROUNDER_ID.length);
  if (rest === '') return new PaddleOcrGrounder();
  const dir = rest.slice(1).trim();
  if (!rest.startsWith(':') || !dir) {
    throw new ForesightError('BAD_INPUT', `Unknown grounder "${spec}": write ocr:paddle, or ocr:paddle:<folder with the PP-OCR det/rec models and dictionary>`);
  }
  return new PaddleOcrGrounder({ modelDir: dir });
}
