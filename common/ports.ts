/**
 * The ports of the agent core. The loop in main/agent talks only to these; nut.js, model
 * endpoints, OCR and SQLite are adapters wired in the process entry point (main/cli).
 * Everything here is serializable or plain so a port can cross a process boundary: planners
 * and grounders run in the model worker (common/worker-protocol.ts, main/worker/).
 */
import type { Action, Direction, Forecast, ForecastFormat } from './actions.ts';
import type { Display, FrameGeometry, Point, Rect, SpacePoint } from './coords.ts';
import type { ErrorInfo } from './errors.ts';

// ---------------------------------------------------------------- screen and input

export interface RawImage {
  width: number;
  height: number;
  channels: 3 | 4;
  /** Pixel order of the buffer. nut.js on every platform gives BGRA. */
  order: 'rgba' | 'bgra';
  data: Uint8Array;
}

export interface Capture {
  display: Display;
  image: RawImage;
  capturedAt: number;
}

export interface Screen {
  displays(): Promise<Display[]>;
  /** Captures one display (the primary one when no id is given) in physical pixels. */
  capture(displayId?: string): Promise<Capture>;
}

export type MouseButton = 'left' | 'right' | 'middle';

/** Input in global logical coordinates. Callers check points with assertOnScreen first. */
export interface Input {
  move(p: Point): Promise<void>;
  click(p: Point, button: MouseButton, count: 1 | 2): Promise<void>;
  longPress(p: Point, durationMs: number): Promise<void>;
  drag(from: Point, to: Point): Promise<void>;
  /** Scrolls `amount` notches; at the point when given, else where the pointer is. */
  scroll(at: Point | undefined, direction: Direction, amount: number): Promise<void>;
  /** Types text exactly (any Unicode). Stops between characters when the signal aborts. */
  type(text: string, signal?: AbortSignal): Promise<void>;
  /** Presses keys together (['ctrl', 's']) or one key (['enter']). */
  hotkey(keys: readonly string[]): Promise<void>;
  /** Lets go of every key and button this adapter may hold (kill switch). */
  releaseAll(): Promise<void>;
}

/** A captured, encoded screenshot: what the planner sees and the store keeps. */
export interface Observation {
  /** sha256 of the PNG bytes: the content address of the screenshot. */
  frameId: string;
  png: Uint8Array;
  geometry: FrameGeometry;
  /** The pixels the PNG was made from (for OCR and settle comparison). */
  raw: RawImage;
  capturedAt: number;
}

export interface ObserveOptions {
  /**
   * Speculative observation: called with each frame captured and encoded while the screen looks
   * quiet but does not count as settled yet, so the planner can start on it. `invalidated`
   * aborts when anything but a caret draws after that frame was captured (it will not be the
   * answer). The frame observe() answers with may be one of these (the same object) — then
   * its signal never aborts.
   */
  onCandidate?: (observation: Observation, invalidated: AbortSignal) => void;
  /**
   * When the action this observation follows began (Date.now()): its effect may be drawn before
   * the action has ended (typed text ~1 ms after the key), and the speculative capture waits
   * for that first drawing (SettleOptions.firstDrawMs).
   */
  actionStartedAt?: number;
}

/** What drew on the screen after a frame was captured (a blinking caret and the pointer aside). */
export type ScreenChange =
  | { changed: false; method: SettleMethod }
  | {
      changed: true;
      method: SettleMethod;
      /** What drew, in words: where, how often, how long after the frame. */
      what: string;
      /** From the first drawing after the frame to the last one seen (0 when compared by pixels). */
      drawingMs: number;
    };

/**
 * Eyes of the loop: waits for the screen to settle after an action, captures and encodes it.
 * Implemented in main/desktop over Screen + SettleDetector.
 */
export interface Observer {
  displays(): Promise<Display[]>;
  /** afterAction: wait until the screen stops changing first. */
  observe(afterAction: boolean, signal: AbortSignal, opts?: ObserveOptions): Promise<{ observation: Observation; settle?: SettleInfo }>;
  /**
   * The check before acting: did the screen change after this observation's frame was captured?
   * Not changed also means it has held still long enough to count as settled (it may wait for that).
   */
  changesSince(observation: Observation, signal: AbortSignal): Promise<ScreenChange>;
  /** Waits until the screen stops changing, without encoding a frame (between parts of one action). */
  settle(signal: AbortSignal): Promise<SettleInfo>;
}

// ---------------------------------------------------------------- planner

export interface HistoryEntry {
  /** 1-based step number in the episode. */
  step: number;
  /** What was done, in words (describeAction). */
  action: string;
  /** How it went: 'ok', or the error that stopped it. */
  outcome: string;
}

export interface PlanRequest {
  instruction: string;
  observation: Observation;
  history: readonly HistoryEntry[];
  /** How many steps to forecast. */
  horizon: number;
  /** 1-based step number being planned. */
  stepNumber: number;
  /** When re-asking after malformed output: what was wrong with the last answer. */
  feedback?: string;
  /**
   * Set-of-Marks, when the grounder draws them (Grounder.annotate): a planner whose prompt can
   * name marks sends `marks.png` instead of `observation.png` and lists `marks.marks`.
   */
  marks?: MarkedScreenshot;
}

/** The exact text a planner sent, so the model's input can be rebuilt (ROADMAP 3). */
export interface PromptRecord {
  template: string;
  version: string;
  system: string;
  user: string;
}

export interface PlanReply {
  raw: string;
  format: ForecastFormat;
  model: string;
  prompt: PromptRecord;
  latencyMs: number;
}

export interface Planner {
  /** The spec it was made from, e.g. `openai:http://127.0.0.1:8000/v1#qwen`. */
  readonly id: string;
  readonly format: ForecastFormat;
  plan(req: PlanRequest, signal: AbortSignal): Promise<PlanReply>;
}

// ---------------------------------------------------------------- grounder

export interface GroundRequest {
  action: Action;
  observation: Observation;
}

export interface Grounding {
  /** Where to act, in screenshot pixels of the observation. */
  point: SpacePoint;
  /** drag: where to release. */
  endPoint?: SpacePoint;
  /** 0..1, the grounder's own belief. */
  confidence: number;
  grounder: string;
  /** What matched (the OCR text, the model's raw answer). */
  detail?: string;
  latencyMs: number;
}

/** A numbered element on the screenshot (Set-of-Marks), in screenshot pixels. */
export interface Mark {
  /** 1-based, in reading order: what the planner writes ("click mark 12"). */
  id: number;
  box: Rect;
  /** The text OCR read inside it, when any. */
  text?: string;
  /** The detector's class name (`icon`), for marks it found. */
  label?: string;
  /** `detector`, `text` (OCR only) or `detector+text` (OCR text inside a detector box). */
  source: 'detector' | 'text' | 'detector+text';
  /** 0..1: the detector's score, or OCR's confidence for a text-only mark. */
  confidence: number;
}

/** The screenshot with its marks drawn (same size as the observation) and the marks. */
export interface MarkedScreenshot {
  /** sha256 of the observation the marks were made for. */
  frameId: string;
  png: Uint8Array;
  marks: readonly Mark[];
}

export interface Grounder {
  readonly id: string;
  /**
   * True when ground() is a cheap lookup in perceived data (OCR, the planner's own point), so
   * the loop grounds every forecast step speculatively; false when each call costs a model call.
   */
  readonly speculative?: boolean;
  /**
   * Starts perceiving a new observation (OCR, a detector) in the background while the planner
   * thinks. Idempotent per frameId; ground() awaits it when it is still running.
   */
  perceive(observation: Observation): void;
  ground(req: GroundRequest, signal: AbortSignal): Promise<Grounding>;
  /**
   * Set-of-Marks: numbers the elements of an observation and draws them. When a grounder has
   * it, the loop calls it before planning and the planner sees the marked screenshot; ground()
   * then resolves "mark 12" on the same marks.
   */
  annotate?(observation: Observation, signal: AbortSignal): Promise<MarkedScreenshot>;
  close?(): Promise<void>;
}

// ---------------------------------------------------------------- human gate

export const APPROVAL_POLICIES = ['never', 'each', 'forecast'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];

export type GateDecision =
  | { kind: 'approve' }
  | { kind: 'edit'; forecast: Forecast; note?: string }
  | { kind: 'reject'; reason: string };

export interface GateRequest {
  episodeId: string;
  stepNumber: number;
  forecast: Forecast;
  /** Grounding of the first step, when there is one. */
  grounding?: Grounding;
  observation: Observation;
}

/** Asynchronous: a person may take minutes (ROADMAP 2). */
export interface HumanGate {
  review(req: GateRequest, signal: AbortSignal): Promise<GateDecision>;
}

// ---------------------------------------------------------------- store

// The one declaration of each enumerated value the store keeps: the contract's views and the
// store's write checks use these, and store/episode-store.ts fails to compile when a
// migration's CHECK constraint and the list here disagree.
export const EPISODE_STATUSES = ['running', 'finished', 'failed', 'stopped', 'interrupted', 'needs_user'] as const;
export type EpisodeStatus = (typeof EPISODE_STATUSES)[number];

/** 'agent' (a model planned), 'demonstration' (a person acted), 'replay'. */
export const EPISODE_MODES = ['agent', 'demonstration', 'replay'] as const;
export type EpisodeMode = (typeof EPISODE_MODES)[number];

export const APPROVAL_DECISIONS = ['approve', 'edit', 'reject'] as const satisfies readonly GateDecision['kind'][];

/** 'stale': not executed, because the screen changed after the forecast's frame was captured. */
export const EXECUTION_RESULTS = ['ok', 'error', 'stopped', 'stale'] as const;
export type ExecutionResult = (typeof EXECUTION_RESULTS)[number];

export interface NewEpisode {
  task: string;
  mode: EpisodeMode;
  planner: string;
  grounder: string;
  settings: Record<string, unknown>;
}

/** How a settle wait knew the screen was still: X damage events, or equal captures. */
export type SettleMethod = 'damage' | 'pixels';

export interface SettleInfo {
  settled: boolean;
  waitedMs: number;
  /** Captures taken while waiting. */
  frames: number;
  /** Absent in steps recorded before the damage method existed (they polled pixels). */
  method?: SettleMethod;
}

/** What speculative observation cost in one step. */
export interface StepSpeculation {
  /** Planner requests made on earlier frames and cancelled because the screen drew over them. */
  cancelledRequests: number;
}

export interface ForecastAttempt {
  attempt: number;
  raw: string;
  forecast?: Forecast;
  error?: ErrorInfo;
  latencyMs: number;
  model: string;
  prompt?: PromptRecord;
  history: readonly HistoryEntry[];
}

export interface ApprovalRecord {
  policy: ApprovalPolicy;
  decision: (typeof APPROVAL_DECISIONS)[number];
  original: Forecast;
  edited?: Forecast;
  reason?: string;
  waitedMs: number;
}

/** What is about to be done: recorded before any input is sent (write-ahead). */
export interface ExecutionIntent {
  action: Action;
  /** Where it acts, in global logical pixels, when it points somewhere. */
  globalPoint?: { x: number; y: number };
  globalEndPoint?: { x: number; y: number };
}

/** How it went: recorded after acting. */
export interface ExecutionOutcome {
  result: ExecutionResult;
  error?: ErrorInfo;
  durationMs: number;
  settle?: SettleInfo;
}

export type ExecutionRecord = ExecutionIntent & ExecutionOutcome;

export interface EpisodeEnd {
  status: Exclude<EpisodeStatus, 'running' | 'interrupted'>;
  error?: ErrorInfo;
  answer?: string;
}

/** What the loop writes. Synchronous: each call is one transaction, durable when it returns. */
export interface EpisodeStore {
  createEpisode(e: NewEpisode): string;
  /**
   * Starts a step with its observation; the screenshot is written as a content-addressed file.
   * speculation: the planner requests cancelled while this observation settled.
   */
  beginStep(episodeId: string, stepNumber: number, observation: Observation, settle?: SettleInfo, speculation?: StepSpeculation): string;
  recordForecast(stepId: string, attempt: ForecastAttempt): void;
  recordGrounding(stepId: string, forecastStepIndex: number, grounding: Grounding | { error: ErrorInfo }): void;
  recordApproval(stepId: string, approval: ApprovalRecord): void;
  /** Records an action that sends no input (a terminal action, a person's), intent and outcome at once. */
  recordExecution(stepId: string, execution: ExecutionRecord): void;
  /**
   * Write-ahead: commits the intent before any input is sent and returns its id for
   * completeExecution. After a crash between the two the step reads "started, outcome unknown".
   */
  beginExecution(stepId: string, intent: ExecutionIntent): number;
  completeExecution(executionId: number, outcome: ExecutionOutcome): void;
  finishEpisode(episodeId: string, end: EpisodeEnd): void;
}
