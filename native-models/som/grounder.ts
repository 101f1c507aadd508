/**
 * `som:<detector-dir>[?ocr=off]`: Set-of-Marks grounding. While the planner waits for its
 * screenshot, the element detector and OCR (the `ocr` grounder's own Tesseract perception)
 * read the frame; their boxes become numbered marks (marks.ts), drawn on the screenshot the
 * planner sees (annotate). Grounding a step is then a lookup: "click mark 12" is the centre of
 * mark 12; a quoted label ("click on 'Save'") or the instruction's words are matched against
 * the marks' text (text-match.ts) and give the centre of the mark that carries it — the whole
 * button rather than only its label when the label lies inside a detected element.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { needsPoint } from '../../common/actions.ts';
import { convertPoint, type Rect } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Grounder, GroundRequest, Grounding, Mark, MarkedScreenshot, Observation } from '../../common/ports.ts';
import { OcrGrounder } from '../../main/grounders/ocr.ts';
import { rankMatches, targetsOf, type TextLine, type TextTarget } from '../../main/grounders/text-match.ts';
import { ElementDetector, type DetectionResult } from './detector.ts';
import { readDetectorManifest, type ElementDetectorManifest } from './manifest.ts';
import { buildMarks, markRange, markRefs, type MarkOptions } from './marks.ts';
import { drawMarks } from './overlay.ts';

/** Where the text of a frame comes from; by default the OCR grounder's perception. */
export interface TextReader {
  read(observation: Observation, signal: AbortSignal): Promise<readonly TextLine[]>;
  close?(): Promise<void>;
}

export class OcrTextReader implements TextReader {
  constructor(readonly ocr: OcrGrounder = new OcrGrounder()) {}
  async read(observation: Observation, signal: AbortSignal): Promise<readonly TextLine[]> {
    return (await this.ocr.text(observation, signal)).lines;
  }
  close(): Promise<void> {
    return this.ocr.close();
  }
}

export interface SomGrounderOptions {
  /** The text marks come from; `false`: detector marks only. Default: Tesseract OCR. */
  text?: TextReader | false;
  marks?: MarkOptions;
  /** Frames whose marks are kept. */
  cacheSize?: number;
  /** Lowest score of a quoted label / of an unquoted instruction's words (as the OCR grounder's). */
  minQuotedScore?: number;
  minWordsScore?: number;
}

/** What was perceived on one frame. */
export interface FrameMarks {
  frameId: string;
  marks: Mark[];
  detection: DetectionResult;
  textLines: number;
  timings: { detectMs: number; textMs: number; totalMs: number };
}

interface CacheEntry {
  marks: Promise<FrameMarks>;
  drawn?: Promise<MarkedScreenshot>;
}

/** `som:<dir>` or `som:<dir>?ocr=off` → the directory and options. */
export function parseSomSpec(spec: string): { dir: string; ocr: boolean } {
  const s = spec.trim();
  if (!s.startsWith('som:')) throw new ForesightError('BAD_INPUT', `The grounder spec "${spec}" names no directory: write som:<detector-dir>`);
  const body = s.slice('som:'.length);
  const q = body.lastIndexOf('?');
  const path = q >= 0 && /^[a-z]+=/.test(body.slice(q + 1)) ? body.slice(0, q) : body;
  const params = new URLSearchParams(path === body ? '' : body.slice(q + 1));
  for (const key of params.keys()) {
    if (key !== 'ocr') throw new ForesightError('BAD_INPUT', `Unknown option "${key}" in the grounder spec "${spec}"; som:<detector-dir> takes ?ocr=off only`);
  }
  const ocr = params.get('ocr');
  if (ocr !== null && ocr !== 'on' && ocr !== 'off') throw new ForesightError('BAD_INPUT', `?ocr= takes on or off, not "${ocr}" (in "${spec}")`);
  if (!path) throw new ForesightError('BAD_INPUT', `The grounder spec "${spec}" names no directory: write som:<detector-dir>`);
  // The shell expands ~ only at the start of a word, not after "som:".
  const expanded = path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
  return { dir: resolve(expanded), ocr: ocr !== 'off' };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ForesightError('STOPPED', 'Set-of-Marks grounding was stopped'));
  return new Promise<T>((res, rej) => {
    const onAbort = () => rej(new ForesightError('STOPPED', 'Set-of-Marks grounding was stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        res(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        rej(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

const centre = (r: Rect) => ({ x: r.x + r.width / 2, y: r.y + r.height / 2 });
const sameRect = (a: Rect, b: Rect) => a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;

export class SomGrounder implements Grounder {
  readonly id: string;
  readonly speculative = true;
  readonly manifest: ElementDetectorManifest;
  private detector: Promise<ElementDetector> | undefined;
  private readonly text: TextReader | undefined;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly opts: { cacheSize: number; minQuotedScore: number; minWordsScore: number; marks: MarkOptions };
  /** Never aborted by a caller: perception is shared by every request for its frame. */
  private closing = new AbortController();

  /** Reads and checks the manifest and the files' sha256 now; the graph is opened at the first frame. */
  constructor(
    readonly dir: string,
    opts: SomGrounderOptions = {},
  ) {
    this.manifest = readDetectorManifest(dir);
    this.id = `som:${dir}`;
    this.text = opts.text === false ? undefined : (opts.text ?? new OcrTextReader());
    this.opts = {
      cacheSize: opts.cacheSize ?? 8,
      minQuotedScore: opts.minQuotedScore ?? 0.75,
      minWordsScore: opts.minWordsScore ?? 0.5,
      marks: opts.marks ?? {},
    };
  }

  /** Opens the graph (once) and checks it against the manifest. */
  open(): Promise<ElementDetector> {
    this.detector ??= ElementDetector.open(this.dir, this.manifest);
    return this.detector;
  }

  perceive(observation: Observation): void {
    // Failures surface in annotate() and ground(); an unused perception must not be an unhandled rejection.
    this.entry(observation).marks.catch(() => {});
  }

  /** The marks of a frame (perceiving it now unless perceive() did). */
  marks(observation: Observation, signal: AbortSignal): Promise<FrameMarks> {
    return abortable(this.entry(observation).marks, signal);
  }

  async annotate(observation: Observation, signal: AbortSignal): Promise<MarkedScreenshot> {
    const entry = this.entry(observation);
    entry.drawn ??= entry.marks.then(async (f) => ({
      frameId: observation.frameId,
      png: await drawMarks(observation.png, f.marks, observation.geometry.imageWidth, observation.geometry.imageHeight),
      marks: f.marks,
    }));
    const drawn = entry.drawn;
    // A failed drawing is tried again next time rather than remembered.
    drawn.catch(() => {
      if (entry.drawn === drawn) delete entry.drawn;
    });
    return abortable(drawn, signal);
  }

  async ground(req: GroundRequest, signal: AbortSignal): Promise<Grounding> {
    const t0 = performance.now();
    const { action, observation } = req;
    if (!needsPoint(action)) {
      throw new ForesightError('BAD_INPUT', `A ${action.action_type} action needs no point; the Set-of-Marks grounder only grounds pointed actions`);
    }
    const instruction = action.step_instruction;
    const frame = await this.marks(observation, signal);
    const refs = markRefs(instruction);
    const drag = action.action_type === 'drag';
    const texts = targetsOf(instruction, { drag, ...(action.action_type === 'select' && action.value ? { value: action.value } : {}) });

    let start: Found;
    if (refs[0] !== undefined) start = this.byNumber(frame, refs[0]);
    else if (texts.start) start = this.byText(frame, texts.start, instruction);
    else {
      throw new ForesightError(
        'GROUNDING_FAILED',
        `The instruction "${instruction}" names no mark and no text: write "click mark 12" with a number from the screenshot, or quote the label`,
        { instruction, marks: frame.marks.length },
      );
    }

    let endPoint: Grounding['endPoint'];
    let endDetail = '';
    if (action.action_type === 'drag') {
      let end: Found | undefined;
      if (refs[1] !== undefined) end = this.byNumber(frame, refs[1]);
      else if (refs.length === 0 && texts.end) end = this.byText(frame, texts.end, instruction);
      if (end) {
        endPoint = end.point;
        endDetail = ` → ${end.detail}`;
      } else if (action.end_point) {
        const p = convertPoint(action.end_point, 'screenshot', observation.geometry);
        endPoint = { space: 'screenshot', x: p.x, y: p.y };
        endDetail = " → the planner's end point";
      } else {
        throw new ForesightError('GROUNDING_FAILED', `The drag "${instruction}" names no end: write "drag mark 3 to mark 7"`, { instruction });
      }
    }
    return {
      point: start.point,
      ...(endPoint ? { endPoint } : {}),
      confidence: start.confidence,
      grounder: this.id,
      detail: start.detail + endDetail,
      latencyMs: performance.now() - t0,
    };
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.closing = new AbortController();
    this.cache.clear();
    const detector = this.detector;
    this.detector = undefined;
    await Promise.all([detector?.then((d) => d.close()).catch(() => {}), this.text?.close?.()]);
  }

  // ---------------------------------------------------------------- lookup

  private byNumber(frame: FrameMarks, n: number): Found {
    const mark = frame.marks.find((m) => m.id === n);
    if (!mark) {
      const exist = frame.marks.length
        ? `its marks are ${markRange(frame.marks)}`
        : 'it has no marks (the detector found no element and OCR read no text)';
      throw new ForesightError('GROUNDING_FAILED', `There is no mark ${n} on this screenshot: ${exist}. Name a mark drawn on the screenshot.`, {
        mark: n,
        marks: frame.marks.length,
        frameId: frame.frameId,
      });
    }
    const c = centre(mark.box);
    return {
      point: { space: 'screenshot', x: c.x, y: c.y },
      confidence: Math.min(1, mark.confidence),
      detail: `mark ${mark.id}${mark.text ? ` "${mark.text}"` : mark.label ? ` (${mark.label})` : ''}`,
    };
  }

  private byText(frame: FrameMarks, target: TextTarget, instruction: string): Found {
    const lines: TextLine[] = frame.marks
      .filter((m): m is Mark & { text: string } => m.text !== undefined)
      .map((m) => ({
        text: m.text,
        bbox: m.box,
        confidence: m.confidence * 100,
        words: m.text.split(' ').map((w) => ({ text: w, bbox: m.box, confidence: m.confidence * 100 })),
      }));
    const ranked = rankMatches(lines, target);
    const best = ranked[0];
    const min = target.kind === 'quoted' ? this.opts.minQuotedScore : this.opts.minWordsScore;
    const wanted = target.kind === 'quoted' ? `'${target.text}'` : `the words of "${instruction}"`;
    const mark = best && best.score >= min ? frame.marks.find((m) => m.text === best.line && sameRect(m.box, best.bbox)) : undefined;
    if (!best || !mark) {
      const seen = lines.slice(0, 12).map((l) => `"${l.text}"`);
      throw new ForesightError(
        'GROUNDING_FAILED',
        `No mark's text matches ${wanted}${seen.length ? `; marks with text: ${seen.join(', ')}` : ': no mark carries text'}. Name a mark by number ("click mark 12") instead.`,
        { target: target.text, frameId: frame.frameId },
      );
    }
    const c = centre(mark.box);
    const kind = target.kind === 'quoted' ? 1 : 0.8;
    return {
      point: { space: 'screenshot', x: c.x, y: c.y },
      confidence: Math.min(1, best.score * kind * (0.5 + 0.5 * Math.min(1, mark.confidence))),
      detail: `${wanted} → mark ${mark.id} "${mark.text ?? ''}"`,
    };
  }

  // ---------------------------------------------------------------- perception

  private entry(observation: Observation): CacheEntry {
    const id = observation.frameId;
    const hit = this.cache.get(id);
    if (hit) {
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const entry: CacheEntry = { marks: this.perceiveFrame(observation) };
    entry.marks.catch(() => {
      // Failed: forget it so the next call tries again.
      if (this.cache.get(id) === entry) this.cache.delete(id);
    });
    this.cache.set(id, entry);
    while (this.cache.size > this.opts.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return entry;
  }

  private async perceiveFrame(observation: Observation): Promise<FrameMarks> {
    const t0 = performance.now();
    const { imageWidth: width, imageHeight: height } = observation.geometry;
    let detectMs = 0;
    let textMs = 0;
    const [detection, lines] = await Promise.all([
      this.open()
        .then((d) => d.detect(observation.png, width, height))
        .then((r) => {
          detectMs = performance.now() - t0;
          return r;
        }),
      this.text
        ? this.text.read(observation, this.closing.signal).then((l) => {
            textMs = performance.now() - t0;
            return l;
          })
        : Promise.resolve([]),
    ]);
    const marks = buildMarks(detection.detections, lines, { width, height }, this.opts.marks);
    return { frameId: observation.frameId, marks, detection, textLines: lines.length, timings: { detectMs, textMs, totalMs: performance.now() - t0 } };
  }
}

interface Found {
  point: Grounding['point'];
  confidence: number;
  detail: string;
}

/** The grounder of a `som:` spec. */
export function createSomGrounder(spec: string): SomGrounder {
  const { dir, ocr } = parseSomSpec(spec);
  return new SomGrounder(dir, ocr ? {} : { text: false });
}
