/**
 * An element-detector directory as Set-of-Marks reads it: the shared model manifest
 * (native-models/manifest.ts, `foresight-model.json`, role `element-detector`) seen as the
 * fields a detector needs — its one graph, its image input, its output layout, its classes and
 * its NMS thresholds. The manifest is checked with zod when the directory is opened; every file
 * it lists is checked against its sha256 before onnxruntime sees it.
 *
 * An example, for OmniParser v2's icon detector exported to ONNX (`yolo export format=onnx`),
 * in the registry's spelling (the older `"format": "foresight-model"` one with a single
 * `"graph": "model.onnx"` and files without sizes is read as well):
 *
 *   { "schema": 1, "name": "omniparser-v2-icon-detect", "role": "element-detector", "format": "onnx",
 *     "family": "yolo", "licence": "AGPL-3.0",
 *     "files": [{ "path": "model.onnx", "sha256": "…", "size": 40550000 }],
 *     "graphs": { "detector": { "file": "model.onnx", "inputs": ["images"], "outputs": ["output0"] } },
 *     "input": { "name": "images", "size": 640 },
 *     "output": { "name": "output0", "layout": "yolov8" },
 *     "classes": ["icon"],
 *     "thresholds": { "confidence": 0.05, "iou": 0.7 } }
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ForesightError } from '../../common/errors.ts';
import { DETECTOR_FAMILIES, describeIssues, MANIFEST_FILE, ManifestSchema, rolesOf, type Manifest, type OutputLayout } from '../manifest.ts';

export { DETECTOR_FAMILIES, MANIFEST_FILE, OUTPUT_LAYOUTS, type OutputLayout } from '../manifest.ts';

/** What Set-of-Marks reads of an element detector's manifest. */
export interface ElementDetectorManifest {
  role: 'element-detector';
  family: string;
  /** The manifest's own name (free text in the element-detector spelling), if any. */
  name?: string;
  files: Manifest['files'];
  /** Which of `files` is the ONNX graph. */
  graph: string;
  input: { name: string; size: number };
  output: { name: string; layout: OutputLayout };
  classes?: string[];
  thresholds: { confidence: number; iou: number };
}

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
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw invalid(dir, `${file} is not a valid model manifest: ${describeIssues(parsed.error)}`, { file, problems: parsed.error.issues.map((i) => i.message) });
  }
  const m = detectorView(dir, parsed.data);
  for (const f of m.files) checkFile(dir, f);
  return m;
}

function checkFile(dir: string, f: Manifest['files'][number]): void {
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

/**
 * The detector's fields of a parsed manifest, or MODEL_INVALID saying what makes it no element
 * detector Set-of-Marks can run (another role, a family it cannot decode).
 */
export function detectorView(dir: string, m: Manifest): ElementDetectorManifest {
  const roles = rolesOf(m);
  if (!roles.includes('element-detector')) {
    throw invalid(dir, `${dir} holds a ${roles.join(' + ')} model, not an element detector: som:<dir> needs a directory whose manifest says "role": "element-detector"`, {
      role: roles.join(' + '),
    });
  }
  const family = m.family ?? '';
  if (!(DETECTOR_FAMILIES as readonly string[]).includes(family)) {
    throw invalid(dir, `Element detectors of the family "${family}" are not supported; supported: ${DETECTOR_FAMILIES.join(', ')} (a YOLO graph exported to ONNX)`, { family });
  }
  // The schema makes an element detector name its input and output and have one graph.
  const graph = Object.values(m.graphs)[0];
  if (graph === undefined || m.input === undefined || m.output === undefined) {
    throw invalid(dir, `${join(dir, MANIFEST_FILE)} names no graph, input or output for the element detector`);
  }
  const label = m.label ?? (m.name !== '' ? m.name : undefined);
  return {
    role: 'element-detector',
    family,
    ...(label !== undefined ? { name: label } : {}),
    files: m.files,
    graph: graph.file,
    input: m.input,
    output: m.output,
    ...(m.classes ? { classes: m.classes } : {}),
    thresholds: m.thresholds ?? { confidence: 0.25, iou: 0.45 },
  };
}
