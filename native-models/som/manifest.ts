/**
 * The manifest of an element-detector directory (`foresight-model.json`): what the detector's
 * graph expects and how to read what it gives. Checked with zod when the directory is opened;
 * every file it lists is checked against its sha256 before onnxruntime sees it.
 *
 * `ElementDetectorManifest` holds only the fields Set-of-Marks needs. The general manifest of
 * every model directory (native-models/registry.ts, h/registry) is meant to absorb it as its
 * `element-detector` role: the shared fields (`format`, `role`, `family`, `name`, `files`) are
 * named as a registry would name them; the rest (`input`, `output`, `classes`, `thresholds`)
 * is this role's own.
 *
 * An example, for OmniParser v2's icon detector exported to ONNX (`yolo export format=onnx`):
 *
 *   { "format": "foresight-model", "version": 1, "role": "element-detector", "family": "yolo",
 *     "name": "OmniParser v2 icon_detect",
 *     "files": [{ "path": "model.onnx", "sha256": "…" }],
 *     "graph": "model.onnx",
 *     "input": { "name": "images", "size": 640 },
 *     "output": { "name": "output0", "layout": "yolov8" },
 *     "classes": ["icon"],
 *     "thresholds": { "confidence": 0.05, "iou": 0.7 } }
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { z } from 'zod';
import { ForesightError } from '../../common/errors.ts';

export const MANIFEST_FILE = 'foresight-model.json';

/** The roles a model directory can have; this folder reads `element-detector` only. */
export const MODEL_ROLES = ['planner', 'grounder', 'element-detector', 'ocr'] as const;

/** Detector families whose output this folder can decode. */
export const DETECTOR_FAMILIES = ['yolo'] as const;

/**
 * How a YOLO graph lays out its output. N candidate boxes, C classes; a box is cx, cy, w, h in
 * letterboxed input pixels, then its scores.
 *  - `yolov8`: [1, 4+C, N], one column per box (YOLOv8 and YOLO11 exports, OmniParser's icon detector)
 *  - `yolov8-transposed`: [1, N, 4+C], one row per box
 *  - `yolov5`: [1, N, 5+C], one row per box, the fifth value the objectness (score = objectness × class score)
 * Graphs with non-maximum suppression inside (`nms=True`, YOLOv10's end-to-end heads) are not read.
 */
export const OUTPUT_LAYOUTS = ['yolov8', 'yolov8-transposed', 'yolov5'] as const;
export type OutputLayout = (typeof OUTPUT_LAYOUTS)[number];

const SHA256 = /^[0-9a-f]{64}$/;

/** A path inside the directory: relative, without `..`. */
const relativePath = z
  .string()
  .min(1)
  .refine((p) => !isAbsolute(p) && !normalize(p).split(/[\\/]/).includes('..'), { message: 'must be a path inside the model directory' });

export const modelFileSchema = z.object({
  path: relativePath,
  sha256: z.string().regex(SHA256, 'must be the file\'s sha256 in lower-case hex'),
});

export const elementDetectorManifestSchema = z.object({
  format: z.literal('foresight-model'),
  version: z.literal(1),
  role: z.enum(MODEL_ROLES),
  family: z.string().min(1),
  name: z.string().min(1).optional(),
  files: z.array(modelFileSchema).min(1),
  /** Which of `files` is the ONNX graph. */
  graph: relativePath,
  input: z.object({
    /** The graph's image input: float32 [1, 3, size, size], RGB in 0..1, letterboxed (centred, grey 114). */
    name: z.string().min(1).default('images'),
    size: z.number().int().min(32).max(4096),
  }),
  output: z.object({
    name: z.string().min(1).default('output0'),
    layout: z.enum(OUTPUT_LAYOUTS).default('yolov8'),
  }),
  /** Class names in output order; their count is checked against the graph's output when it is known. */
  classes: z.array(z.string().min(1)).min(1).optional(),
  thresholds: z
    .object({
      /** Boxes scoring below this are dropped before NMS. */
      confidence: z.number().gt(0).lt(1).default(0.25),
      /** NMS: a box overlapping a better one by more than this IoU is dropped (class-agnostic). */
      iou: z.number().gt(0).lte(1).default(0.45),
    })
    .default({ confidence: 0.25, iou: 0.45 }),
});

export type ElementDetectorManifest = z.infer<typeof elementDetectorManifestSchema>;

function invalid(dir: string, message: string, details: Record<string, unknown> = {}): ForesightError {
  return new ForesightError('MODEL_INVALID', message, { dir, ...details });
}

/**
 * Reads and checks `foresight-model.json` of an element-detector directory: the schema, the
 * role and family, and every listed file's sha256. Synchronous, so a bad directory is refused
 * when the grounder is made, before any episode starts.
 */
export function readDetectorManifest(dir: string): ElementDetectorManifest {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw invalid(
      dir,
      missing
        ? `${dir} has no ${MANIFEST_FILE}: an element-detector directory holds the ONNX graph and a manifest naming it (see README, "Set-of-Marks")`
        : `Cannot read ${file}: ${(e as Error).message}`,
      { file },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalid(dir, `${file} is not valid JSON: ${(e as Error).message}`, { file });
  }
  const parsed = elementDetectorManifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw invalid(dir, `${file} is not a valid model manifest: ${problems.join('; ')}`, { file, problems });
  }
  const m = parsed.data;
  if (m.role !== 'element-detector') {
    throw invalid(dir, `${dir} holds a ${m.role} model, not an element detector: som:<dir> needs a directory whose manifest says "role": "element-detector"`, {
      role: m.role,
    });
  }
  if (!(DETECTOR_FAMILIES as readonly string[]).includes(m.family)) {
    throw invalid(dir, `Element detectors of the family "${m.family}" are not supported; supported: ${DETECTOR_FAMILIES.join(', ')} (a YOLO graph exported to ONNX)`, {
      family: m.family,
    });
  }
  if (!m.files.some((f) => normalize(f.path) === normalize(m.graph))) {
    throw invalid(dir, `${file} names the graph ${m.graph}, which is not among its files: list it with its sha256`, { graph: m.graph });
  }
  for (const f of m.files) checkFile(dir, f);
  return m;
}

function checkFile(dir: string, f: z.infer<typeof modelFileSchema>): void {
  const path = join(dir, f.path);
  let bytes: Buffer;
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    bytes = readFileSync(path);
  } catch (e) {
    throw invalid(dir, `${path}, listed in ${MANIFEST_FILE}, cannot be read (${(e as Error).message}): copy the whole model directory`, { file: path });
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== f.sha256) {
    throw invalid(dir, `${path} is not the file ${MANIFEST_FILE} lists: its sha256 is ${actual}, the manifest says ${f.sha256}; download it again`, {
      file: path,
      expected: f.sha256,
      actual,
    });
  }
}
