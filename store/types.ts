/**
 * What the store gives back to readers (the CLI now; the renderer and dataset export later).
 * Plain, JSON-serializable objects: the write-side records of common/ports.ts plus when they
 * were written. Optional fields are absent, never `undefined`.
 */
import type { FrameGeometry } from '../common/coords.ts';
import type { ErrorInfo } from '../common/errors.ts';
import type {
  ApprovalRecord,
  EpisodeStatus,
  ExecutionRecord,
  ForecastAttempt,
  Grounding,
  NewEpisode,
  SettleInfo,
} from '../common/ports.ts';

export interface EpisodeSummary {
  id: string;
  task: string;
  mode: NewEpisode['mode'];
  status: EpisodeStatus;
  planner: string;
  grounder: string;
  stepCount: number;
  startedAt: number;
  /** Absent while running. For an interrupted episode: its last write. */
  endedAt?: number;
  error?: ErrorInfo;
  answer?: string;
}

export interface StoredForecast extends ForecastAttempt {
  createdAt: number;
}

/**
 * A grounding as recorded: the Grounding's own fields when a point was found, else `error`.
 * Both shapes declare every field, so `g.grounder` or `g.error?.code` can be read without
 * narrowing first; `if (g.error)` narrows.
 */
export type StoredGrounding = {
  /** Index into the step's forecast (0: the step that is executed). */
  forecastStepIndex: number;
  createdAt: number;
} & ((Grounding & { error?: undefined }) | ({ error: ErrorInfo } & { [K in keyof Grounding]?: undefined }));

export interface StoredApproval extends ApprovalRecord {
  createdAt: number;
}

export interface StoredExecution extends ExecutionRecord {
  createdAt: number;
}

export interface StoredStep {
  id: string;
  stepNumber: number;
  /** sha256 of the screenshot PNG. */
  frameSha256: string;
  /** Absolute path of the screenshot PNG. */
  screenshotPath: string;
  imageWidth: number;
  imageHeight: number;
  geometry: FrameGeometry;
  capturedAt: number;
  settle?: SettleInfo;
  createdAt: number;
  /** Planner calls in attempt order; empty for a demonstration step. */
  forecasts: StoredForecast[];
  groundings: StoredGrounding[];
  approvals: StoredApproval[];
  executions: StoredExecution[];
}

export interface StoredEpisode extends EpisodeSummary {
  settings: Record<string, unknown>;
  pid: number;
  host: string;
  lastWriteAt: number;
  /** In step-number order. */
  steps: StoredStep[];
}

export interface ListEpisodesOptions {
  /** Newest first; all when absent. */
  limit?: number;
  status?: EpisodeStatus;
}
