/**
 * `foresight-model.json`: what a model directory holds and how to feed it. Read at the boundary
 * (a user's folder, a download) and checked here; everything past this file sees a typed Manifest.
 */
import { z } from 'zod';

export const MANIFEST_FILE = 'foresight-model.json';

export const MODEL_ROLES = ['planner', 'grounder', 'text-detector', 'text-recognizer', 'element-detector'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

export const MODEL_FORMATS = ['onnx', 'transformers.js'] as const;

const Role = z.enum(MODEL_ROLES);

/** A path inside the model directory: relative, forward slashes, never leaving it. */
const InsidePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p) && !p.includes('\\'), 'must be a relative path with forward slashes')
  .refine((p) => !p.split('/').some((seg) => seg === '..' || seg === '.' || seg === ''), 'must stay inside the model directory (no "..", ".", or empty segments)');

const FileEntry = z.object({
  path: InsidePath,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  /** Checked before the sha256 (a truncated download is told apart without reading it); the element-detector spelling leaves it out. */
  size: z.number().int().nonnegative().optional(),
  /** What the file is for, when it is no graph (a character list, a tokenizer). */
  purpose: z.string().optional(),
});

const Preprocessing = z.object({
  /** Channel order the graph expects. */
  channels: z.enum(['rgb', 'bgr']).optional(),
  layout: z.enum(['nchw', 'nhwc']).optional(),
  /** Pixel values are multiplied by `scale`, then `(v - mean) / std` per channel. */
  scale: z.number().positive().optional(),
  mean: z.array(z.number()).optional(),
  std: z.array(z.number().positive()).optional(),
  size: z
    .object({
      height: z.number().int().positive().optional(),
      width: z.number().int().positive().optional(),
      /** Longest (or shortest, per limitType) side after resizing. */
      limitSide: z.number().int().positive().optional(),
      limitType: z.enum(['max', 'min']).optional(),
      /** Both sides rounded to a multiple of this. */
      multipleOf: z.number().int().positive().optional(),
    })
    .optional(),
});

const WarmupShape = z.object({
  dims: z.array(z.number().int().positive()).min(1),
  type: z.enum(['float32', 'int64', 'int32', 'uint8']).optional(),
});

const Graph = z.object({
  /** One of `files`: the .onnx file of this graph. */
  file: InsidePath,
  role: Role.optional(),
  inputs: z.array(z.string().min(1)).min(1),
  outputs: z.array(z.string().min(1)).min(1),
  /** A zero-filled input of this shape per graph input, run once when the session opens. */
  warmup: z.record(z.string(), WarmupShape).optional(),
  preprocessing: Preprocessing.optional(),
  /** A VLM graph's precision (fp32, fp16, q8, q4, q4f16, …: the export's file suffix) and the other precisions the folder holds. */
  dtype: z.string().min(1).optional(),
  variants: z.array(z.string().min(1)).optional(),
  /** Decoder settings (thresholds, the character list's file, …), read by the backend that runs the graph. */
  postprocessing: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

/** Element-detector families whose output native-models/som/ can decode. */
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

/** A registry name: what `models list` shows and `models verify <name>` takes. */
export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A free-text name ("OmniParser v2 icon_detect") as a registry name ("omniparser-v2-icon_detect"); '' when nothing is left. */
export function slugName(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
}

/** The element detector's image input: float32 [1, 3, size, size], RGB in 0..1, letterboxed (centred, grey 114). */
const DetectorInput = z.object({
  name: z.string().min(1).default('images'),
  size: z.number().int().min(32).max(4096),
});
const DetectorOutput = z.object({
  name: z.string().min(1).default('output0'),
  layout: z.enum(OUTPUT_LAYOUTS).default('yolov8'),
});
const Thresholds = z.object({
  /** Boxes scoring below this are dropped before NMS. */
  confidence: z.number().gt(0).lt(1).default(0.25),
  /** NMS: a box overlapping a better one by more than this IoU is dropped (class-agnostic). */
  iou: z.number().gt(0).lte(1).default(0.45),
});

/**
 * The one manifest of every model directory and registry entry. Two spellings are read:
 *  - the registry's (`"schema": 1`, `"format": "onnx" | "transformers.js"`, `graphs` by name,
 *    files with their sizes, `licence`, `source`);
 *  - the first element-detector spelling (`"format": "foresight-model"`, `"version": 1`, one
 *    `graph` file, files without sizes, a free-text `name`), which comes out as the former: its
 *    graph as `graphs.detector`, its name as `label` and, made a registry name, as `name`.
 * An element detector (role `element-detector`) also says its `family`, its `input` (name and
 * square size), its `output` (name and layout), its `classes` and its NMS `thresholds`; a VLM
 * entry the registry describes from a Hugging Face folder says its `family` (config.json's model_type).
 */
export const ManifestSchema = z
  .object({
    schema: z.literal(1).optional(),
    version: z.literal(1).optional(),
    name: z.string().min(1).max(200).optional(),
    description: z.string().optional(),
    role: z.union([Role, z.array(Role).min(1)]),
    format: z.enum([...MODEL_FORMATS, 'foresight-model']),
    /** An element detector's decoder family (`yolo`), a VLM's model type (`qwen2-vl`). */
    family: z.string().min(1).optional(),
    files: z.array(FileEntry).min(1),
    graphs: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), Graph).default({}),
    /** The element-detector spelling: which of `files` is its one graph. */
    graph: InsidePath.optional(),
    input: DetectorInput.optional(),
    output: DetectorOutput.optional(),
    /** An element detector's class names in output order; their count is checked against the graph's output. */
    classes: z.array(z.string().min(1)).min(1).optional(),
    thresholds: Thresholds.optional(),
    licence: z.string().min(1).optional(),
    source: z
      .object({
        url: z.string().optional(),
        package: z.string().optional(),
        version: z.string().optional(),
        hub: z.string().optional(),
        revision: z.string().optional(),
      })
      .default({}),
  })
  .superRefine((m, ctx) => {
    const legacy = m.format === 'foresight-model';
    if (!legacy) {
      if (m.name === undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'is missing (lowercase letters, digits, ".", "_" and "-", at most 64)' });
      else if (!MODEL_NAME.test(m.name)) ctx.addIssue({ code: 'custom', path: ['name'], message: 'lowercase letters, digits, ".", "_" and "-", at most 64' });
      if (m.licence === undefined) ctx.addIssue({ code: 'custom', path: ['licence'], message: 'is missing: name the licence the model comes under' });
      if (m.graph !== undefined) ctx.addIssue({ code: 'custom', path: ['graph'], message: 'name the graph under "graphs" ("graph" is the "format": "foresight-model" spelling)' });
    } else if (m.graph === undefined) {
      ctx.addIssue({ code: 'custom', path: ['graph'], message: 'is missing: which of the files is the ONNX graph' });
    }
    const seen = new Set<string>();
    for (const [i, f] of m.files.entries()) {
      if (seen.has(f.path)) ctx.addIssue({ code: 'custom', path: ['files', i, 'path'], message: `${f.path} is listed twice` });
      seen.add(f.path);
    }
    for (const [name, g] of Object.entries(m.graphs)) {
      if (!seen.has(g.file)) ctx.addIssue({ code: 'custom', path: ['graphs', name, 'file'], message: `${g.file} is not one of the manifest's files` });
      if (!g.file.endsWith('.onnx')) ctx.addIssue({ code: 'custom', path: ['graphs', name, 'file'], message: `${g.file} is no .onnx file` });
      for (const input of Object.keys(g.warmup ?? {})) {
        if (!g.inputs.includes(input)) ctx.addIssue({ code: 'custom', path: ['graphs', name, 'warmup', input], message: `"${input}" is not one of the graph's inputs` });
      }
    }
    if (m.graph !== undefined && !seen.has(m.graph)) ctx.addIssue({ code: 'custom', path: ['graph'], message: `${m.graph} is not among the files: list it with its sha256` });
    if (m.format !== 'transformers.js' && Object.keys(m.graphs).length === 0 && m.graph === undefined) {
      ctx.addIssue({ code: 'custom', path: ['graphs'], message: 'an onnx model names at least one graph' });
    }
    const roles = Array.isArray(m.role) ? m.role : [m.role];
    if (roles.includes('element-detector')) {
      if (m.family === undefined) ctx.addIssue({ code: 'custom', path: ['family'], message: `is missing: an element detector says its family (${DETECTOR_FAMILIES.join(', ')})` });
      if (m.input === undefined) ctx.addIssue({ code: 'custom', path: ['input'], message: 'is missing: an element detector says its image input ({"name": "images", "size": 640})' });
      if (m.output === undefined) ctx.addIssue({ code: 'custom', path: ['output'], message: 'is missing: an element detector says its output ({"name": "output0", "layout": "yolov8"})' });
      const graphs = Object.entries(m.graphs);
      if (!legacy && graphs.length !== 1) ctx.addIssue({ code: 'custom', path: ['graphs'], message: 'an element detector has exactly one graph' });
      const [only] = graphs;
      if (!legacy && graphs.length === 1 && only !== undefined && m.input !== undefined && m.output !== undefined) {
        const [name, g] = only;
        // The detector's fields and its graph's entry name the same tensors (the graph itself is compared when the folder is added).
        if (g.inputs.length !== 1 || g.inputs[0] !== m.input.name) {
          ctx.addIssue({ code: 'custom', path: ['graphs', name, 'inputs'], message: `an element detector's graph takes only its image, input.name "${m.input.name}"` });
        }
        if (!g.outputs.includes(m.output.name)) ctx.addIssue({ code: 'custom', path: ['graphs', name, 'outputs'], message: `does not name output.name "${m.output.name}"` });
      }
    }
  })
  .transform((m) => {
    const { schema: _schema, version: _version, graph, format, name, ...rest } = m;
    const legacy = format === 'foresight-model';
    const graphs =
      legacy && graph !== undefined
        ? { detector: { file: graph, role: 'element-detector' as const, inputs: [m.input?.name ?? 'images'], outputs: [m.output?.name ?? 'output0'] } }
        : m.graphs;
    return {
      ...rest,
      schema: 1 as const,
      format: legacy ? ('onnx' as const) : format,
      // A free-text name (allowed in the element-detector spelling) is kept to show; the registry name is derived from it.
      name: legacy ? slugName(name ?? '') : (name ?? ''),
      label: legacy ? name : undefined,
      graphs,
    };
  });

export type Manifest = z.output<typeof ManifestSchema>;
export type ManifestGraph = Manifest['graphs'][string];

export const rolesOf = (m: Manifest): ModelRole[] => (Array.isArray(m.role) ? m.role : [m.role]);

/**
 * The three kinds of registry entry: a folder of ONNX graphs described by its manifest (PP-OCR),
 * an element detector for Set-of-Marks (also ONNX, with the detector's fields), and a VLM in the
 * Hugging Face layout transformers.js loads (its manifest written by the registry from config.json).
 */
export const MODEL_KINDS = ['onnx', 'element-detector', 'vlm'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export function kindOf(m: Manifest): ModelKind {
  if (m.format === 'transformers.js') return 'vlm';
  return rolesOf(m).includes('element-detector') ? 'element-detector' : 'onnx';
}

/**
 * What a model is, in a few words: "vlm qwen2-vl (planner + grounder), fp32 graphs",
 * "element-detector yolo, 640×640 yolov8, 1 class", "onnx (text-detector + text-recognizer)".
 */
export function describeModel(m: Manifest): string {
  const kind = kindOf(m);
  const roles = rolesOf(m);
  const head = `${kind}${m.family !== undefined ? ` ${m.family}` : ''}`;
  const parts = [roles.length === 1 && roles[0] === kind ? head : `${head} (${roles.join(' + ')})`];
  if (kind === 'vlm') {
    const dtypes = [...new Set(Object.values(m.graphs).map((g) => g.dtype ?? 'fp32'))];
    parts.push(`${dtypes.join('/')} graphs`);
  }
  if (kind === 'element-detector' && m.input !== undefined && m.output !== undefined) {
    parts.push(`${m.input.size}×${m.input.size} ${m.output.layout}`);
    if (m.classes) parts.push(`${m.classes.length} class${m.classes.length === 1 ? '' : 'es'}`);
  }
  return parts.join(', ');
}

/** zod's issues as one line a user can fix the file from: `files.1.sha256: must be 64 lowercase hex digits`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ');
}
