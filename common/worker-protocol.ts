/**
 * The protocol between the agent (main/worker/, the client) and the model worker process
 * (native-models/worker.ts): every message both ways as a zod schema, checked where it arrives.
 *
 * A screenshot crosses once per worker: the first message that needs a frame carries it whole
 * (`frame.kind: 'full'`); later ones name it (`kind: 'known'`) and the worker takes it from its
 * small frame cache, or answers NOT_FOUND with `details.missingFrame` and the client sends it
 * whole. The bytes of a full frame (the PNG and the raw pixels, never re-encoded) travel
 * - `via: 'file'`: in one file of a directory in /dev/shm that the client created for this
 *   worker (the message names the file, the worker reads it and deletes it), or
 * - `via: 'inline'`: in the message itself (structured clone), where there is no /dev/shm.
 * docs/ARCHITECTURE.md ("Decisions") says why, with figures.
 *
 * Results are `Result<T>` with an ErrorInfo, so a code survives the boundary; the client turns
 * them back into ForesightErrors.
 */
import { z } from 'zod';
import { actionSchema, FORECAST_FORMATS, spacePointSchema } from './actions.ts';
import { promptRecordSchema } from './contract.ts';
import { fail, ok, type ErrorInfo, type Result } from './errors.ts';
import { errorInfoSchema, frameGeometrySchema, historyEntrySchema, rectSchema } from './schemas.ts';

/** Bumped when a message changes shape; the worker says its version in `ready`. */
export const WORKER_PROTOCOL_VERSION = 1;

/** The environment the client starts the worker with. */
export const WORKER_ENV = {
  /** The agent's pid: a worker whose parent is another process was orphaned before it started. */
  parentPid: 'FORESIGHT_WORKER_PARENT_PID',
  /** The /dev/shm directory frame files arrive in (absent: frames come inline). */
  frameDir: 'FORESIGHT_WORKER_FRAME_DIR',
} as const;

/** How many frames the worker keeps (an observation of 1280×800 is ~4.3 MB). */
export const WORKER_FRAME_CACHE = 4;

const requestId = z.number().int().nonnegative();
const backendId = z.string().min(1).max(64);
const frameId = z.string().min(1).max(256);
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected bytes (a Uint8Array)' });
/** A frame file's name: the client's own counter, never a path. */
export const FRAME_FILE = /^f[0-9]{1,15}$/;
/**
 * What the worker renames a frame file to once it has read it: a spare, which the client claims
 * (renames back to f<n>) and writes the next frame over, so the pages of tmpfs are reused.
 */
export const SPARE_FILE = /^s[0-9]{1,15}$/;
export const spareFileOf = (file: string): string => `s${file.slice(1)}`;
const size = z.number().int().nonnegative();

const rawMetaSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  channels: z.union([z.literal(3), z.literal(4)]),
  order: z.enum(['rgba', 'bgra']),
});

export const frameBytesSchema = z.discriminatedUnion('via', [
  z.object({ via: z.literal('inline'), png: bytes, raw: bytes }),
  z.object({ via: z.literal('file'), file: z.string().regex(FRAME_FILE, 'a frame file is named f<number>'), pngBytes: size, rawBytes: size }),
]);
export type FrameBytes = z.infer<typeof frameBytesSchema>;

export const fullFrameSchema = z.object({
  kind: z.literal('full'),
  frameId,
  geometry: frameGeometrySchema,
  capturedAt: z.number().finite(),
  raw: rawMetaSchema,
  bytes: frameBytesSchema,
});
export type FullFrame = z.infer<typeof fullFrameSchema>;

export const frameSchema = z.discriminatedUnion('kind', [fullFrameSchema, z.object({ kind: z.literal('known'), frameId })]);
export type FrameMessage = z.infer<typeof frameSchema>;

export const backendOptionsSchema = z.strictObject({
  apiKey: z.string().optional(),
  timeoutMs: z.number().int().positive().optional(),
  retries: z.number().int().nonnegative().optional(),
  format: z.enum(FORECAST_FORMATS).optional(),
});
export type WorkerBackendOptions = z.infer<typeof backendOptionsSchema>;

/** Set-of-Marks (Grounder.annotate): the marked screenshot and its marks, as the grounder made them. */
export const markSchema = z.object({
  id: z.number().int().positive(),
  box: rectSchema,
  text: z.string().optional(),
  label: z.string().optional(),
  source: z.enum(['detector', 'text', 'detector+text']),
  confidence: z.number().finite(),
});
export const markedScreenshotSchema = z.object({ frameId, png: bytes, marks: z.array(markSchema) });

export const planRequestSchema = z.object({
  instruction: z.string(),
  frame: frameSchema,
  history: z.array(historyEntrySchema),
  horizon: z.number().int().positive(),
  stepNumber: z.number().int().positive(),
  feedback: z.string().optional(),
  marks: markedScreenshotSchema.optional(),
});

export const groundRequestSchema = z.object({ action: actionSchema, frame: frameSchema });

// ---------------------------------------------------------------- client → worker

export const workerRequestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('create'), id: requestId, backendId, role: z.enum(['planner', 'grounder']), spec: z.string().min(1), options: backendOptionsSchema }),
  z.object({ type: z.literal('plan'), id: requestId, backendId, request: planRequestSchema }),
  z.object({ type: z.literal('ground'), id: requestId, backendId, request: groundRequestSchema }),
  /** Set-of-Marks: numbers and draws the elements of a frame (only a grounder that `annotates`). */
  z.object({ type: z.literal('annotate'), id: requestId, backendId, frame: frameSchema }),
  /** Fire and forget, as Grounder.perceive is: no answer. */
  z.object({ type: z.literal('perceive'), backendId, frame: frameSchema }),
  /** Which backend and execution provider serve this id (recorded in the episode's settings). */
  z.object({ type: z.literal('describe'), id: requestId, backendId }),
  z.object({ type: z.literal('close'), id: requestId, backendId }),
  /** Aborts the AbortSignal of request `id`; its answer (STOPPED, or a late result) still comes. */
  z.object({ type: z.literal('cancel'), id: requestId }),
  z.object({ type: z.literal('ping'), seq: z.number().int().nonnegative() }),
  /** Closes every backend, answers, and exits. */
  z.object({ type: z.literal('shutdown'), id: requestId }),
]);
export type WorkerRequest = z.infer<typeof workerRequestSchema>;

// ---------------------------------------------------------------- worker → client

const resultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: errorInfoSchema }),
]);

export const workerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int().positive(), protocol: z.number().int() }),
  z.object({ type: z.literal('pong'), seq: z.number().int().nonnegative() }),
  z.object({ type: z.literal('result'), id: requestId, result: resultSchema }),
  /** A message the worker could not read and could not answer by id (it had none). */
  z.object({ type: z.literal('protocol_error'), error: errorInfoSchema }),
]);
export type WorkerMessage = z.infer<typeof workerMessageSchema>;

// ---------------------------------------------------------------- result values, per request

export const createdPlannerSchema = z.object({ id: z.string(), format: z.enum(FORECAST_FORMATS) });
export const createdGrounderSchema = z.object({ id: z.string(), speculative: z.boolean(), annotates: z.boolean() });
export const planReplySchema = z.object({
  raw: z.string(),
  format: z.enum(FORECAST_FORMATS),
  model: z.string(),
  prompt: promptRecordSchema,
  latencyMs: z.number().finite().nonnegative(),
});
export const groundingSchema = z.object({
  point: spacePointSchema,
  endPoint: spacePointSchema.optional(),
  confidence: z.number().finite(),
  grounder: z.string(),
  detail: z.string().optional(),
  latencyMs: z.number().finite().nonnegative(),
});
/** What serves a backend id: its backend and, for onnxruntime sessions, the execution provider used. */
export const backendDescriptionSchema = z.object({ backend: z.string(), provider: z.string().optional() });
export type BackendDescription = z.infer<typeof backendDescriptionSchema>;

/** The value schema of each request type's successful result. */
export const RESULT_VALUES = {
  createPlanner: createdPlannerSchema,
  createGrounder: createdGrounderSchema,
  plan: planReplySchema,
  ground: groundingSchema,
  annotate: markedScreenshotSchema,
  describe: backendDescriptionSchema,
  close: z.null(),
  shutdown: z.null(),
} as const;
export type ResultKind = keyof typeof RESULT_VALUES;
export type ResultValue<K extends ResultKind> = z.infer<(typeof RESULT_VALUES)[K]>;

// ---------------------------------------------------------------- parsing at arrival

/** The first problems of a failed parse, in words: `request.frame.kind: …; id: …`. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(message)'}: ${i.message}`)
    .join('; ');
}

/** The request id a malformed message carried, so the answer can name the request it refuses. */
export function looseRequestId(raw: unknown): number | undefined {
  if (raw === null || typeof raw !== 'object' || !('id' in raw)) return undefined;
  const id = (raw as { id: unknown }).id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : undefined;
}

/** Checks a message that arrived at the worker. A malformed one is BAD_INPUT saying what is wrong. */
export function parseWorkerRequest(raw: unknown): Result<WorkerRequest> {
  const r = workerRequestSchema.safeParse(raw);
  if (r.success) return ok(r.data);
  return fail({ code: 'BAD_INPUT', message: `The model worker received an invalid message: ${describeIssues(r.error)}` });
}

/** Checks a message that arrived from the worker. A malformed one is INTERNAL: the worker broke the protocol. */
export function parseWorkerMessage(raw: unknown): Result<WorkerMessage> {
  const r = workerMessageSchema.safeParse(raw);
  if (r.success) return ok(r.data);
  return fail({ code: 'INTERNAL', message: `The model worker sent an invalid message: ${describeIssues(r.error)}` });
}

/** Checks the value of a successful result against what the request asked for. */
export function parseResultValue<K extends ResultKind>(kind: K, value: unknown): Result<ResultValue<K>> {
  const r = (RESULT_VALUES[kind] as z.ZodType).safeParse(value);
  // The schema of K parsed it, so the value is a ResultValue<K>.
  if (r.success) return ok(r.data as ResultValue<K>);
  const error: ErrorInfo = { code: 'INTERNAL', message: `The model worker's answer to a ${kind} request is invalid: ${describeIssues(r.error)}` };
  return fail(error);
}
