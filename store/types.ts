/**
 * What the store gives back to readers (the CLI, the app server, dataset export): the views of
 * common/contract.ts — one declaration for the store and the renderer — plus what only
 * this machine may see (the screenshot's file path). Optional fields are absent, never
 * `undefined`.
 */
import type {
  ApprovalView,
  EpisodeSummaryView,
  EpisodeView,
  ExecutionView,
  ForecastView,
  GroundingView,
  StepView,
} from '../common/contract.ts';
import type { EpisodeStatus } from '../common/ports.ts';

export type EpisodeSummary = EpisodeSummaryView;
export type StoredForecast = ForecastView;
/** A grounding as recorded: a point (with what found it), or `error`; both shapes declare every field, `if (g.error)` narrows. */
export type StoredGrounding = GroundingView;
export type StoredApproval = ApprovalView;
export type StoredExecution = ExecutionView;

export type StoredStep = StepView & {
  /** Absolute path of the screenshot PNG. */
  screenshotPath: string;
};

export type StoredEpisode = Omit<EpisodeView, 'steps'> & {
  /** In step-number order. */
  steps: StoredStep[];
};

export interface ListEpisodesOptions {
  /** Newest first; all when absent. */
  limit?: number;
  status?: EpisodeStatus;
}
