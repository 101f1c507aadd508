/**
 * A YOLO-style element detector on onnxruntime (CPU here; the session's default providers
 * elsewhere): screenshot → letterbox → graph → candidates → confidence filter → NMS → boxes in
 * screenshot pixels. The directory's manifest says what the graph takes and gives; a graph
 * whose inputs or outputs do not match it is refused with MODEL_INVALID before any inference.
 */
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { Rect } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import { decodeCandidates, nonMaxSuppression, outputShape } from './boxes.ts';
import { letterboxGeometry, letterboxTensor, toScreenshot } from './letterbox.ts';
import { readDetectorManifest, type ElementDetectorManifest } from './manifest.ts';

export interface Detection {
  /** In screenshot pixels, clamped to the image. */
  box: Rect;
  score: number;
  cls: number;
  /** The class's name, when the manifest names the classes. */
  label?: string;
}

export interface DetectionResult {
  detections: Detection[];
  /** Candidates above the confidence threshold, before NMS. */
  candidates: number;
  timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
}

/** Where the manifest and the graph disagree, in words, or undefined when they agree. */
function graphMismatch(session: ort.InferenceSession, m: ElementDetectorManifest, graph: string): string | undefined {
  const inputs = session.inputMetadata;
  const input = inputs.find((i) => i.name === m.input.name);
  if (!input) {
    return `the graph ${graph} has no input "${m.input.name}" (its inputs: ${inputs.map((i) => `"${i.name}"`).join(', ')}); set input.name in the manifest`;
  }
  const others = inputs.filter((i) => i.name !== m.input.name).map((i) => `"${i.name}"`);
  if (others.length) return `the graph ${graph} has inputs besides "${m.input.name}" (${others.join(', ')}); an element detector takes only the image`;
  if (!input.isTensor || input.type !== 'float32') {
    return `the input "${input.name}" of ${graph} is ${input.isTensor ? input.type : 'not a tensor'}, an element detector's image is float32`;
  }
  const want = [1, 3, m.input.size, m.input.size];
  if (input.shape.length !== 4 || input.shape.some((d, i) => typeof d === 'number' && d > 0 && d !== want[i])) {
    return `the input "${input.name}" of ${graph} has the shape [${input.shape.join(', ')}], the manifest says [${want.join(', ')}] (input.size ${m.input.size})`;
  }
  const output = session.outputMetadata.find((o) => o.name === m.output.name);
  if (!output) {
    return `the graph ${graph} has no output "${m.output.name}" (its outputs: ${session.outputMetadata.map((o) => `"${o.name}"`).join(', ')}); set output.name in the manifest`;
  }
  if (output.isTensor && output.shape.length && output.shape.every((d) => typeof d === 'number' && d > 0)) {
    const shape = outputShape(m.output.layout, output.shape as number[], m.classes?.length);
    if (typeof shape === 'string') return `the output "${output.name}" of ${graph} does not fit the ${m.output.layout} layout: ${shape}`;
  }
  return undefined;
}

export class ElementDetector {
  private constructor(
    readonly dir: string,
    readonly manifest: ElementDetectorManifest,
    private readonly session: ort.InferenceSession,
  ) {}

  /**
   * Opens a detector directory: the manifest and its files' sha256 (readDetectorManifest), then
   * the session, then the graph against the manifest.
   */
  static async open(dir: string, manifest: ElementDetectorManifest = readDetectorManifest(dir)): Promise<ElementDetector> {
    const graph = join(dir, manifest.graph);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(graph);
    } catch (e) {
      throw new ForesightError('MODEL_INVALID', `onnxruntime cannot load the graph ${graph}: ${(e as Error).message}`, { dir, file: graph });
    }
    const problem = graphMismatch(session, manifest, graph);
    if (problem) {
      await session.release();
      throw new ForesightError('MODEL_INVALID', `The element detector in ${dir} does not match its manifest: ${problem}`, {
        dir,
        file: graph,
        input: manifest.input.name,
      });
    }
    return new ElementDetector(dir, manifest, session);
  }

  /** Detects the elements of a screenshot (PNG, width × height pixels). */
  async detect(png: Uint8Array, width: number, height: number): Promise<DetectionResult> {
    const m = this.manifest;
    const t0 = performance.now();
    const lb = letterboxGeometry(width, height, m.input.size);
    const pixels = await letterboxTensor(png, lb);
    const t1 = performance.now();
    const feeds = { [m.input.name]: new ort.Tensor('float32', pixels, [1, 3, m.input.size, m.input.size]) };
    const out = (await this.session.run(feeds, [m.output.name]))[m.output.name];
    const t2 = performance.now();
    if (!out || out.type !== 'float32') {
      throw new ForesightError('MODEL_INVALID', `The element detector in ${this.dir} gave no float32 output "${m.output.name}"`, { dir: this.dir });
    }
    const shape = outputShape(m.output.layout, out.dims, m.classes?.length);
    if (typeof shape === 'string') {
      throw new ForesightError('MODEL_INVALID', `The output "${m.output.name}" of the element detector in ${this.dir} does not fit the ${m.output.layout} layout: ${shape}`, {
        dir: this.dir,
        dims: [...out.dims],
      });
    }
    const candidates = decodeCandidates(out.data as Float32Array, m.output.layout, shape.boxes, shape.classes, m.thresholds.confidence);
    const kept = nonMaxSuppression(candidates, m.thresholds.iou);
    const detections: Detection[] = [];
    for (const c of kept) {
      const box = toScreenshot(lb, c);
      if (!box) continue;
      const label = m.classes?.[c.cls];
      detections.push({ box, score: c.score, cls: c.cls, ...(label !== undefined ? { label } : {}) });
    }
    return {
      detections,
      candidates: candidates.length,
      timings: { preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: performance.now() - t2 },
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Whether an element-detector directory can run here, for `foresight models add` and `doctor`
 * (h/registry): the manifest, the files' sha256 and the graph against the manifest, through a
 * real session that is closed again. Throws MODEL_INVALID saying what is wrong.
 */
export async function checkElementDetector(dir: string): Promise<{ dir: string; name?: string; inputSize: number; layout: string; classes?: string[]; provider: 'cpu' }> {
  const det = await ElementDetector.open(dir);
  await det.close();
  const m = det.manifest;
  // onnxruntime-node's sessions run on its bundled CPU provider unless told otherwise.
  return { dir, ...(m.name ? { name: m.name } : {}), inputSize: m.input.size, layout: m.output.layout, ...(m.classes ? { classes: m.classes } : {}), provider: 'cpu' };
}
