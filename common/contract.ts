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
 * defined here because the renderer may not import store/. Live events (run view: observation,
 * forecast, grounding, the gate waiting, …) are the sibling map `EVENTS`, checked the same way.
 *
 * Platform-free: zod and common/ only.
 */
import { z } from 'zod';
import { ACTION_TYPES, actionFromFields, actionSchema, coordSpaceSchema, forecastSchema, type ActionFields, type ActionType, type Forecast } from './actions.ts';
import { type Result } from './errors.ts';
import { displaySchema, errorInfoSchema, frameGeometrySchema, historyEntrySchema, jsonObjectSchema as jsonObject, rectSchema, settleInfoSchema } from './schemas.ts';
import { GATE_DECISION_KINDS, gateDecisionSchema, groundingInfoSchema } from './run-protocol.ts';

export { gateDecisionSchema, groundingInfoSchema, type AppGateDecision, type GroundingInfo } from './run-protocol.ts';

export { displaySchema, errorInfoSchema, frameGeometrySchema, historyEntrySchema, settleInfoSchema };
import { APPROVAL_DECISIONS, APPROVAL_POLICIES, EPISODE_MODES, EPISODE_STATUSES, EXECUTION_RESULTS } from './ports.ts';

// ---------------------------------------------------------------- building blocks

// As loose as the store's own write checks (store/episode-store.ts): whatever it accepted must
// be viewable, so these check shape, not policy.
const timestamp = z.number().finite();
const durationMs = z.number().finite().nonnegative();

export const SHA256_HEX = /^[0-9a-f]{64}$/;

const ACTION_TYPE_NAMES = ACTION_TYPES as [ActionType, ...ActionType[]];

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
  /** The approval mode the episode ran with (from its settings; absent for episodes without one). */
  approval: z.enum(APPROVAL_POLICIES).optional(),
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
  /** Which shell the page is in: a browser tab, or the Electron window (whose preload offers the calls too). */
  shell: z.enum(['browser', 'electron']).optional(),
  /** Absolute path of the episode database the app reads. */
  dbPath: z.string(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

// ---------------------------------------------------------------- runs and the human gate

/** How often a person is asked: never (automatic), before each step, when the forecast changes. */
export const RUN_MODES = APPROVAL_POLICIES;
export type RunMode = (typeof RUN_MODES)[number];

const id = z.string().min(1).max(200);
const frameIdSchema = z.string().regex(SHA256_HEX);

/**
 * Which model plans or grounds. `endpoint`: one of the settings' endpoints (its base URL, model,
 * format and key); `builtin`: a grounder that needs no endpoint; `spec`: a `foresight run` spec
 * as written on the command line (`script:plan.txt`, `openai:http://…#model`).
 */
export const modelChoiceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('endpoint'), endpointId: id }),
  z.strictObject({ kind: z.literal('builtin'), id: z.enum(['ocr', 'none']) }),
  z.strictObject({ kind: z.literal('spec'), spec: z.string().min(1).max(2000) }),
]);
export type ModelChoice = z.infer<typeof modelChoiceSchema>;

export const runStartRequestSchema = z.strictObject({
  task: z.string().trim().min(1, 'say what to do').max(4000),
  mode: z.enum(RUN_MODES),
  planner: modelChoiceSchema,
  grounder: modelChoiceSchema,
  maxSteps: z.number().int().min(1).max(500).optional(),
  horizon: z.number().int().min(1).max(100).optional(),
  /**
   * Global logical pixels the agent must never click into: the app's own window. Electron main
   * fills this in (it knows the window's rectangle); a browser page cannot know it.
   */
  noClickZones: z.array(rectSchema).max(16).optional(),
});
export type RunStartRequest = z.infer<typeof runStartRequestSchema>;

/** Where the app's window goes while a run acts (Electron; a browser tab cannot be moved). */
export const WINDOW_POLICIES = ['panel', 'other_display', 'stay'] as const;
export type WindowPolicy = (typeof WINDOW_POLICIES)[number];

export const RUN_STATUSES = ['starting', 'running', 'paused', 'waiting', 'stopping', 'ended'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A forecast waiting for a person. Survives a page reload: the server holds it until decided. */
export const pendingReviewSchema = z.object({
  runId: id,
  reviewId: id,
  episodeId: z.string(),
  step: z.number().int().positive(),
  forecast: forecastSchema,
  /** The first step's point (in the space it names, usually screenshot pixels of the frame). */
  grounding: groundingInfoSchema.optional(),
  frameId: frameIdSchema,
  geometry: frameGeometrySchema,
  /** When the gate began to wait. */
  since: timestamp,
});
export type PendingReview = z.infer<typeof pendingReviewSchema>;

export const frameRefSchema = z.object({
  step: z.number().int().positive(),
  frameId: frameIdSchema,
  geometry: frameGeometrySchema,
  capturedAt: timestamp,
  /** When the agent had the observation (settled, encoded): the start of the live view's latency. */
  observedAt: timestamp.optional(),
});
export type FrameRef = z.infer<typeof frameRefSchema>;

export const runOutcomeSchema = z.object({
  status: z.enum(EPISODE_STATUSES),
  error: errorInfoSchema.optional(),
  answer: z.string().optional(),
  steps: z.number().int().nonnegative(),
});

/** Everything a page needs to draw the current run after a reload. */
export const runStateSchema = z.object({
  runId: id,
  episodeId: z.string().optional(),
  task: z.string(),
  mode: z.enum(RUN_MODES),
  planner: z.string(),
  grounder: z.string(),
  status: z.enum(RUN_STATUSES),
  /** The step being worked on (0 before the first observation). */
  step: z.number().int().nonnegative(),
  frame: frameRefSchema.optional(),
  /** The latest forecast of this step and its groundings by forecast index. */
  forecast: forecastSchema.optional(),
  groundings: z.array(z.object({ index: z.number().int().nonnegative(), grounding: groundingInfoSchema.optional(), error: errorInfoSchema.optional() })),
  pending: pendingReviewSchema.optional(),
  /** Set by `approve_rest` until the forecast stops continuing the approved one. */
  approvingRest: z.boolean(),
  startedAt: timestamp,
  endedAt: timestamp.optional(),
  outcome: runOutcomeSchema.optional(),
  /** The last lines the agent wrote on stderr (when a run fails to start, the reason is there). */
  log: z.array(z.string()).max(50),
  /**
   * In an answer (runs.current, runs.start, gate.decide, …): the number of the last live event
   * this state already includes. An answer can reach the page after later events (a re-plan
   * that waits again while the decision's answer travels); the page then keeps what it has.
   */
  seq: z.number().int().nonnegative().optional(),
});
export type RunState = z.infer<typeof runStateSchema>;

// ---------------------------------------------------------------- episodes: search, export

export const episodeQuerySchema = z.strictObject({
  /** Newest first; all when absent. */
  limit: z.number().int().positive().max(10_000).optional(),
  offset: z.number().int().nonnegative().optional(),
  status: z.enum(EPISODE_STATUSES).optional(),
  /** Words the task must contain (case-insensitive). */
  text: z.string().max(500).optional(),
  /** Started at or after / before (ms since the epoch). */
  from: timestamp.optional(),
  to: timestamp.optional(),
  /** The approval mode the episode ran with. */
  approval: z.enum(APPROVAL_POLICIES).optional(),
  /** A part of the planner's or grounder's id (model name, endpoint). */
  model: z.string().max(500).optional(),
});

export const exportInfoSchema = z.object({
  /** GET this path (same origin, same sign-in) for the zip: episode.json + frames/<sha256>.png. */
  downloadPath: z.string().startsWith('/exports/'),
  fileName: z.string(),
});

// ---------------------------------------------------------------- benchmarks

export const benchRunViewSchema = z.object({
  /** Opaque id for this listing (the report is served by it, never by a path from the page). */
  id: id,
  dir: z.string(),
  name: z.string(),
  suite: z.string(),
  status: z.string(),
  scoredSteps: z.number().int().nonnegative(),
  totalSteps: z.number().int().nonnegative().optional(),
  /** Headline figures from summary.json (name → value, fractions as 0–1). */
  figures: z.record(z.string(), z.number()),
  /** GET this path for report.html, when the run has one. */
  reportPath: z.string().startsWith('/bench-reports/').optional(),
  /** The command that continues the run (the same command: finished steps are skipped). */
  resumeCommand: z.string().optional(),
  error: errorInfoSchema.optional(),
  updatedAt: timestamp,
});
export type BenchRunView = z.infer<typeof benchRunViewSchema>;

// ---------------------------------------------------------------- settings

export const ENDPOINT_FORMATS = ['tracer1', 'uitars-1.5'] as const;

/** A model endpoint as the page sees it: never the key, only whether one is stored. */
export const endpointViewSchema = z.object({
  id: id,
  label: z.string().max(200),
  baseUrl: z.string().url(),
  model: z.string().min(1).max(500),
  /** The answer format when it is not read from the model's name. */
  format: z.enum(ENDPOINT_FORMATS).optional(),
  /** As a grounder: how its points are written. */
  convention: z.enum(['uitars', 'qwen25vl']).optional(),
  hasKey: z.boolean(),
});
export type EndpointView = z.infer<typeof endpointViewSchema>;

/** What the page may write about an endpoint (the key goes through settings.setApiKey alone). */
export const endpointInputSchema = endpointViewSchema.omit({ hasKey: true }).strict();

export const presetSchema = z.object({
  id: id,
  label: z.string(),
  description: z.string(),
  role: z.enum(['planner', 'grounder']),
  format: z.enum(ENDPOINT_FORMATS).optional(),
  convention: z.enum(['uitars', 'qwen25vl']).optional(),
  /** A typical model name, to prefill the endpoint form. */
  modelHint: z.string().optional(),
});
export type Preset = z.infer<typeof presetSchema>;

export const settingsViewSchema = z.object({
  endpoints: z.array(endpointViewSchema),
  presets: z.array(presetSchema),
  killKey: z.string(),
  windowPolicy: z.enum(WINDOW_POLICIES),
  /** Where episodes, screenshots and settings live. */
  dataDir: z.string(),
  dbPath: z.string(),
  /** No run has been started and no endpoint saved yet: show the first-start screen. */
  firstStart: z.boolean(),
  /** Where API keys are kept: a file only this user can read (browser mode), or the OS keychain via Electron's safeStorage. */
  keyStorage: z.enum(['file', 'safeStorage', 'memory']),
});
export type SettingsView = z.infer<typeof settingsViewSchema>;

export const settingsUpdateSchema = z.strictObject({
  endpoints: z.array(endpointInputSchema).max(50).optional(),
  killKey: z.string().min(1).max(100).optional(),
  windowPolicy: z.enum(WINDOW_POLICIES).optional(),
  /** Takes effect at the next start of the app. */
  dataDir: z.string().min(1).max(4096).optional(),
});

export const connectionTestSchema = z.object({
  ok: z.boolean(),
  latencyMs: durationMs,
  /** Models the endpoint lists (GET <baseUrl>/models), when it does. */
  models: z.array(z.string()).optional(),
  error: errorInfoSchema.optional(),
});

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
    request: episodeQuerySchema,
    response: z.array(episodeSummarySchema),
  },
  'episodes.get': {
    request: z.strictObject({
      /** An episode id or a unique prefix of one. */
      id: z.string().min(1).max(200),
    }),
    response: episodeViewSchema,
  },
  'episodes.export': {
    request: z.strictObject({ id }),
    response: exportInfoSchema,
  },
  'episodes.delete': {
    /** A running episode is refused (BAD_INPUT). Its screenshots go when no other episode uses them. */
    request: z.strictObject({ id }),
    response: z.object({ deleted: id }),
  },
  'runs.start': {
    /** One run at a time: BAD_INPUT while another one is not ended. */
    request: runStartRequestSchema,
    response: runStateSchema,
  },
  'runs.current': {
    /** The current (or last) run, for a page that was reloaded; null before the first run. */
    request: z.strictObject({}),
    response: z.object({ run: runStateSchema.nullable() }),
  },
  'runs.pause': {
    /** The agent finishes what it does and waits before its next observation. */
    request: z.strictObject({ runId: id }),
    response: runStateSchema,
  },
  'runs.resume': {
    request: z.strictObject({ runId: id }),
    response: runStateSchema,
  },
  'runs.stop': {
    /** The kill switch: what Ctrl+C does in `foresight run` (the episode is recorded as stopped). */
    request: z.strictObject({ runId: id }),
    response: runStateSchema,
  },
  'runs.noClickZones': {
    /** Replaces the rectangles the running agent must never act in (the app window moved). */
    request: z.strictObject({ runId: id, rects: z.array(rectSchema).max(16) }),
    response: runStateSchema,
  },
  'gate.decide': {
    /**
     * The person's decision on the pending review. A stale reviewId (already decided, or of an
     * ended run) is NOT_FOUND and changes nothing.
     */
    request: z.strictObject({ runId: id, reviewId: id, decision: gateDecisionSchema }),
    response: runStateSchema,
  },
  'benchmarks.list': {
    /** The runs in `folder` (a `--out` folder itself, or a folder of them, one level deep). */
    request: z.strictObject({ folder: z.string().min(1).max(4096) }),
    response: z.object({ folder: z.string(), runs: z.array(benchRunViewSchema) }),
  },
  'settings.get': {
    request: z.strictObject({}),
    response: settingsViewSchema,
  },
  'settings.update': {
    request: settingsUpdateSchema,
    response: settingsViewSchema,
  },
  'settings.setApiKey': {
    /** Write-only: the key is stored and never sent back; the answer says `hasKey`. */
    request: z.strictObject({ endpointId: id, key: z.string().min(1).max(4096) }),
    response: z.object({ endpointId: id, hasKey: z.boolean() }),
  },
  'settings.clearApiKey': {
    request: z.strictObject({ endpointId: id }),
    response: z.object({ endpointId: id, hasKey: z.boolean() }),
  },
  'settings.testConnection': {
    /** A saved endpoint (with its stored key), or an unsaved one from the form (no key). */
    request: z.union([z.strictObject({ endpointId: id }), z.strictObject({ baseUrl: z.string().url(), model: z.string().max(500).optional() })]),
    response: connectionTestSchema,
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

// ---------------------------------------------------------------- live events

/**
 * Every live event, by name: the server sends them on its live channel (browser mode:
 * server-sent events at `GET /events`, each `event: <name>`, `id: <seq>`, `data: <JSON>`;
 * Electron: the preload's `onEvent`). A page that reconnects sends `Last-Event-ID` and gets the
 * events it missed while the server still holds them, else it calls runs.current.
 */
export const EVENTS = {
  'run.started': runStateSchema,
  /** The agent began its episode (the id the store keeps it under). */
  'run.episode': z.object({ runId: id, episodeId: z.string() }),
  /** A new screenshot: fetch `/blobs/<frameId>.png` (or a thumbnail, see frameUrl) and draw it with `geometry`. */
  'run.observation': frameRefSchema.extend({ runId: id, settle: settleInfoSchema.optional() }),
  'run.forecast': z.object({ runId: id, step: z.number().int().positive(), attempt: z.number().int().positive(), forecast: forecastSchema, latencyMs: durationMs }),
  'run.parseError': z.object({ runId: id, step: z.number().int().positive(), attempt: z.number().int().positive(), error: errorInfoSchema }),
  'run.grounding': z.object({
    runId: id,
    step: z.number().int().positive(),
    index: z.number().int().nonnegative(),
    grounding: groundingInfoSchema.optional(),
    error: errorInfoSchema.optional(),
  }),
  /** The gate waits for a person (raise a desktop notification: they may have looked away). */
  'gate.waiting': pendingReviewSchema,
  'gate.decided': z.object({
    runId: id,
    reviewId: id,
    step: z.number().int().positive(),
    decision: z.enum(GATE_DECISION_KINDS),
    reason: z.string().optional(),
    /** Approved by an earlier `approve_rest`, not by a click now. */
    auto: z.boolean(),
  }),
  'run.action': z.object({
    runId: id,
    step: z.number().int().positive(),
    description: z.string(),
    action: actionSchema.optional(),
    globalPoint: pointSchema.optional(),
    result: z.enum(EXECUTION_RESULTS),
    error: errorInfoSchema.optional(),
    durationMs,
  }),
  /** pause, resume, stopping: the run's status changed. */
  'run.status': z.object({ runId: id, status: z.enum(RUN_STATUSES) }),
  'run.ended': z.object({ runId: id, episodeId: z.string().optional(), outcome: runOutcomeSchema }),
  /** Something went wrong that is not the end of the run (a line the agent wrote that did not fit, a refused decision). */
  'run.error': z.object({ runId: id.optional(), error: errorInfoSchema }),
} as const satisfies Record<string, z.ZodType>;

export type EventName = keyof typeof EVENTS;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];
export type EventPayload<N extends EventName> = z.output<(typeof EVENTS)[N]>;

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(EVENTS, name);
}

/** One event as the live channel carries it. */
export interface LiveEvent<N extends EventName = EventName> {
  seq: number;
  name: N;
  data: EventPayload<N>;
}

/** Checks an event that arrived (the renderer does, for each one). */
export function parseEvent(name: string, data: unknown): { ok: true; event: { name: EventName; data: unknown } } | { ok: false; message: string } {
  if (!isEventName(name)) return { ok: false, message: `unknown event "${name}"` };
  const r = EVENTS[name].safeParse(data);
  return r.success ? { ok: true, event: { name, data: r.data } } : { ok: false, message: `event ${name}: ${describeIssues(r.error)}` };
}

/** Where the live channel is (browser mode). */
export const EVENTS_PATH = '/events';

// ---------------------------------------------------------------- screenshots

/** Widths a thumbnail may have: a bounded set, so the server's cache stays bounded. */
export const THUMBNAIL_WIDTHS = [160, 320, 640, 1280] as const;
export type ThumbnailWidth = (typeof THUMBNAIL_WIDTHS)[number];

/**
 * The URL of a screenshot: the PNG itself, or a JPEG at most `width` pixels wide (never wider
 * than the original). A timeline shows thumbnails, so a long episode does not hold every
 * screenshot at full size.
 */
export function frameUrl(sha256: string, width?: ThumbnailWidth): string {
  return width === undefined ? `/blobs/${sha256}.png` : `/thumbs/${width}/${sha256}.jpg`;
}

// ---------------------------------------------------------------- edits

/** What a person may change in one forecast step (the edit form's fields and the dragged point). */
export const stepEditSchema = z.strictObject({
  action_type: z.enum(ACTION_TYPE_NAMES).optional(),
  step_instruction: z.string().max(4000).optional(),
  text: z.string().max(100_000).optional(),
  keys: z.array(z.string().min(1).max(50)).min(1).max(10).optional(),
  /** Where the step acts, in screenshot pixels of the frame under review (a dragged point). */
  point: pointSchema.optional(),
});
export type StepEdit = z.infer<typeof stepEditSchema>;

/**
 * The forecast with step `index` changed as the person said; the union decides which fields the
 * new type keeps and which it needs (an error names what is missing). Both sides use it: the
 * page to build the `edit` decision, tests to check it.
 */
export function applyStepEdit(forecast: Forecast, index: number, edit: StepEdit): { ok: true; forecast: Forecast } | { ok: false; problems: string[] } {
  const steps = forecast.steps;
  const original = steps[index];
  if (!original) return { ok: false, problems: [`there is no step ${index + 1}`] };
  const fields: Record<string, unknown> = { ...original.action };
  if (edit.action_type !== undefined) fields.action_type = edit.action_type;
  if (edit.step_instruction !== undefined) fields.step_instruction = edit.step_instruction;
  if (edit.text !== undefined) fields.text = edit.text;
  if (edit.keys !== undefined) fields.keys = edit.keys;
  if (edit.point !== undefined) fields.point = { space: 'screenshot', x: edit.point.x, y: edit.point.y };
  const built = actionFromFields(fields as ActionFields);
  if (!built.ok) return built;
  const next = steps.map((s, i) => (i === index ? { ...s, action: built.action } : s));
  return { ok: true, forecast: { ...forecast, steps: next } };
}
