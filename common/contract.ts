/**
 * The contract between the renderer and the process behind it: every call the renderer can
 * make, with zod schemas for its request and its answer. Both transports serve exactly this
 * map — the browser-mode HTTP server now (main/shell/server.ts), Electron IPC later (a
 * preload exposing one function per call) — and both sides check payloads at run time:
 * the server checks every request and every answer before it leaves, the renderer checks
 * every answer it receives.
 *
 * Answers travel as `Result<T>` (common/errors.ts), so an error crosses the boundary with its
 * code and the renderer can say what to do about it.
 *
 * The view types below mirror what store/ reads back (store/types.ts), minus what the renderer
 * must not depend on (file-system paths: screenshots are fetched by their sha256). They are
 * defined here because the renderer may not import store/. Events (the live view: step,
 * forecast, approval requests) will get a sibling map `EVENTS` of the same shape.
 *
 * Platform-free: zod and common/ only.
 */
import { z } from 'zod';
import { actionSchema, coordSpaceSchema, forecastSchema } from './actions.ts';
import { type Result } from './errors.ts';
import { displaySchema, errorInfoSchema, frameGeometrySchema, historyEntrySchema, jsonObjectSchema as jsonObject, settleInfoSchema } from './schemas.ts';

export { displaySchema, errorInfoSchema, frameGeometrySchema, historyEntrySchema, settleInfoSchema };
import { APPROVAL_DECISIONS, APPROVAL_POLICIES, EPISODE_MODES, EPISODE_STATUSES, EXECUTION_RESULTS } from './ports.ts';

// ---------------------------------------------------------------- building blocks

// As loose as the store's own write checks (store/episode-store.ts): whatever it accepted must
// be viewable, so these check shape, not policy.
const timestamp = z.number().finite();
const durationMs = z.number().finite().nonnegative();

export const SHA256_HEX = /^[0-9a-f]{64}$/;

const pointSchema = z.object({ x: z.number().finite(), y: z.number().finite() });

const spacePointSchema = z.object({ space: coordSpaceSchema, x: z.number().finite(), y: z.number().finite() });


export const promptRecordSchema = z.object({
  template: z.string(),
  version: z.string(),
  system: z.string(),
  user: z.string(),
});

// ---------------------------------------------------------------- episode views

export const episodeSummarySchema = z.object({
  id: z.string().min(1),
  task: z.string(),
  mode: z.enum(EPISODE_MODES),
  status: z.enum(EPISODE_STATUSES),
  planner: z.string(),
  grounder: z.string(),
  stepCount: z.number().int().nonnegative(),
  startedAt: timestamp,
  endedAt: timestamp.optional(),
  error: errorInfoSchema.optional(),
  answer: z.string().optional(),
});
export type EpisodeSummaryView = z.infer<typeof episodeSummarySchema>;

/** One planner call: a parsed forecast, or the error that made its answer unusable. */
export const forecastViewSchema = z.object({
  attempt: z.number().int().nonnegative(),
  raw: z.string(),
  forecast: forecastSchema.optional(),
  error: errorInfoSchema.optional(),
  latencyMs: durationMs,
  model: z.string(),
  prompt: promptRecordSchema.optional(),
  // readonly: the store hands out ForecastAttempt.history as a readonly array.
  history: z.array(historyEntrySchema).readonly(),
  createdAt: timestamp,
});
export type ForecastView = z.infer<typeof forecastViewSchema>;

const groundingBase = {
  /** Index into the step's forecast (0: the step that is executed). */
  forecastStepIndex: z.number().int().nonnegative(),
  createdAt: timestamp,
};

const groundingFound = {
  point: spacePointSchema,
  endPoint: spacePointSchema.optional(),
  /** The grounder's own belief, normally 0..1. */
  confidence: z.number().finite(),
  grounder: z.string(),
  detail: z.string().optional(),
  latencyMs: durationMs,
};

/** Fields of the other shape, declared absent: `g.error` or `g.grounder` read without narrowing first. */
const absent = <const K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, z.undefined().optional()])) as Record<K, z.ZodOptional<z.ZodUndefined>>;

/** A point found for a forecast step (in the space it names, usually screenshot pixels), or why none was. */
export const groundingViewSchema = z.union([
  z.object({ ...groundingBase, error: errorInfoSchema, ...absent(['point', 'endPoint', 'confidence', 'grounder', 'detail', 'latencyMs']) }),
  z.object({ ...groundingBase, ...groundingFound, ...absent(['error']) }),
]);
export type GroundingView = z.infer<typeof groundingViewSchema>;

export const approvalViewSchema = z.object({
  policy: z.enum(APPROVAL_POLICIES),
  decision: z.enum(APPROVAL_DECISIONS),
  original: forecastSchema,
  edited: forecastSchema.optional(),
  reason: z.string().optional(),
  waitedMs: durationMs,
  createdAt: timestamp,
});
export type ApprovalView = z.infer<typeof approvalViewSchema>;

/**
 * An execution's result as read back. The intent is recorded before any input is sent and the
 * outcome after (write-ahead), so 'unknown' means the action was started and no outcome was
 * recorded: the process died during it (or, while the episode runs, is still in it).
 */
export const EXECUTION_VIEW_RESULTS = [...EXECUTION_RESULTS, 'unknown'] as const;

export const executionViewSchema = z.object({
  action: actionSchema,
  /** Global logical pixels (convert with the step's geometry to draw it on the screenshot). */
  globalPoint: pointSchema.optional(),
  globalEndPoint: pointSchema.optional(),
  result: z.enum(EXECUTION_VIEW_RESULTS),
  error: errorInfoSchema.optional(),
  /** Absent while the outcome is unknown. */
  durationMs: durationMs.optional(),
  settle: settleInfoSchema.optional(),
  /** When the intent was recorded, before acting. */
  createdAt: timestamp,
  /** When the outcome was recorded; absent while it is unknown. */
  completedAt: timestamp.optional(),
});
export type ExecutionView = z.infer<typeof executionViewSchema>;

/**
 * Whether a step acted, from its execution records: 'not_started' (no input was attempted: the
 * forecast was rejected, failed or stale, or the process died before acting), 'done' (every action it
 * started has an outcome), 'unknown' (an action was started and its outcome never recorded).
 */
export const STEP_EXECUTION_STATES = ['not_started', 'done', 'unknown'] as const;

export const stepViewSchema = z.object({
  id: z.string().min(1),
  stepNumber: z.number().int().positive(),
  /** The screenshot's content address; fetch it as a blob by this sha256. */
  frameSha256: z.string().regex(SHA256_HEX),
  imageWidth: z.number().int().positive(),
  imageHeight: z.number().int().positive(),
  geometry: frameGeometrySchema,
  capturedAt: timestamp,
  settle: settleInfoSchema.optional(),
  /**
   * Planner requests made on earlier frames while this observation settled, cancelled because
   * the screen drew over them (speculative observation). 0 in steps recorded before it existed.
   */
  cancelledRequests: z.number().int().nonnegative().default(0),
  createdAt: timestamp,
  forecasts: z.array(forecastViewSchema),
  groundings: z.array(groundingViewSchema),
  approvals: z.array(approvalViewSchema),
  executions: z.array(executionViewSchema),
  executionState: z.enum(STEP_EXECUTION_STATES),
});
export type StepView = z.infer<typeof stepViewSchema>;

export const episodeViewSchema = episodeSummarySchema.extend({
  settings: jsonObject,
  pid: z.number().int(),
  host: z.string(),
  lastWriteAt: timestamp,
  /** The sum of the steps' cancelledRequests. */
  cancelledRequests: z.number().int().nonnegative().default(0),
  /** Forecasts not executed because the screen changed after their frame (executions with result 'stale'). */
  staleForecasts: z.number().int().nonnegative().default(0),
  steps: z.array(stepViewSchema),
});
export type EpisodeView = z.infer<typeof episodeViewSchema>;

export const appInfoSchema = z.object({
  version: z.string(),
  /** Absolute path of the episode database the app reads. */
  dbPath: z.string(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

// ---------------------------------------------------------------- the calls

interface CallSpec {
  request: z.ZodType;
  response: z.ZodType;
}

/**
 * Every call, by name. Requests are strict objects: an unknown field is a mistake, not
 * something to ignore. Answers may carry more than the view (the server strips it).
 */
export const CALLS = {
  'app.info': {
    request: z.strictObject({}),
    response: appInfoSchema,
  },
  'episodes.list': {
    request: z.strictObject({
      /** Newest first; all when absent. */
      limit: z.number().int().positive().max(10_000).optional(),
      status: z.enum(EPISODE_STATUSES).optional(),
    }),
    response: z.array(episodeSummarySchema),
  },
  'episodes.get': {
    request: z.strictObject({
      /** An episode id or a unique prefix of one. */
      id: z.string().min(1).max(200),
    }),
    response: episodeViewSchema,
  },
} as const satisfies Record<string, CallSpec>;

export type CallName = keyof typeof CALLS;
export const CALL_NAMES = Object.keys(CALLS) as CallName[];

export function isCallName(name: string): name is CallName {
  return Object.hasOwn(CALLS, name);
}

/** What a caller passes. */
export type CallRequest<N extends CallName> = z.input<(typeof CALLS)[N]['request']>;
/** What a caller gets back inside `{ ok: true, value }`. */
export type CallResponse<N extends CallName> = z.output<(typeof CALLS)[N]['response']>;
/** What a handler may return: anything the response schema accepts (extra fields are stripped). */
export type CallResponseInput<N extends CallName> = z.input<(typeof CALLS)[N]['response']>;

/** The one function every transport gives the renderer. */
export type Caller = <N extends CallName>(name: N, request: CallRequest<N>) => Promise<Result<CallResponse<N>>>;

/** The wire form of an answer: `Result<T>` with T checked by `value`. */
export function resultSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: errorInfoSchema }),
  ]);
}

/** zod's complaint, in one line a person can read (for BAD_INPUT messages). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}
