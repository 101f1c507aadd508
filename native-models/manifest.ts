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
  size: z.number().int().nonnegative(),
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
  /** Decoder settings (thresholds, the character list's file, …), read by the backend that runs the graph. */
  postprocessing: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export const ManifestSchema = z
  .object({
    schema: z.literal(1).default(1),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" and "-", at most 64'),
    description: z.string().optional(),
    role: z.union([Role, z.array(Role).min(1)]),
    format: z.enum(MODEL_FORMATS),
    files: z.array(FileEntry).min(1),
    graphs: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), Graph).default({}),
    licence: z.string().min(1),
    source: z.object({
      url: z.string().optional(),
      package: z.string().optional(),
      version: z.string().optional(),
      hub: z.string().optional(),
      revision: z.string().optional(),
    }),
  })
  .superRefine((m, ctx) => {
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
    if (m.format === 'onnx' && Object.keys(m.graphs).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['graphs'], message: 'an onnx model names at least one graph' });
    }
  });

export type Manifest = z.output<typeof ManifestSchema>;
export type ManifestGraph = Manifest['graphs'][string];

export const rolesOf = (m: Manifest): ModelRole[] => (Array.isArray(m.role) ? m.role : [m.role]);

/** zod's issues as one line a user can fix the file from: `files.1.sha256: must be 64 lowercase hex digits`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ');
}
