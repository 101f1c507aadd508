/**
 * The contract between the benchmark replay runner (main/replay/runner.ts) and each benchmark.
 *
 * A suite turns a benchmark's native release into `ReplayStep`s (loader), scores one predicted
 * action against a step exactly as the benchmark's official script does (`score`), aggregates
 * per-step scores with the script's denominators and the papers' breakdowns (`summarize`), and
 * writes predictions in the benchmark's own prediction format (`writePredictions`) so the
 * official script can be run on them.
 *
 * Coordinates: a loader converts the benchmark's convention (pixels, 0–1000, 0–1, y-first) into
 * screenshot pixels of the step's own image, once. Predictions reach `score` in the space the
 * model or grounder wrote them (screenshot pixels, 0–1000 or 0–1); a suite converts them straight
 * into its official convention inside `score`/`writePredictions`.
 *
 * Everything in `ReplayStep` except `image` is JSON-serializable: the runner stores `gold`,
 * `categories`, `future` per step in SQLite so a run can be summarised, resumed and re-scored
 * without reloading the data.
 */
import type { Action, ForecastStep } from '../../common/actions.ts';
import type { FrameGeometry } from '../../common/coords.ts';
import type { HistoryEntry } from '../../common/ports.ts';

export const SUITE_IDS = [
  'androidcontrol',
  'aitw',
  'gui-odyssey',
  'mind2web',
  'screenspot',
  'screenspot-v2',
  'screenspot-pro',
  'episodes',
] as const;
export type SuiteId = (typeof SUITE_IDS)[number];

/** A step's screenshot: its size is known at load; its bytes are read only when needed. */
export interface ReplayImage {
  width: number;
  height: number;
  /** PNG or JPEG bytes. */
  read(): Promise<Uint8Array>;
}

export interface ReplayStep<Gold = unknown> {
  /** Unique and stable across loads of the same data: runs are resumed by it. */
  id: string;
  episodeId: string;
  /** 0-based position of the step in its episode (0 for single-step suites such as ScreenSpot). */
  index: number;
  /** What the planner is asked at this step (the goal, or goal + step instruction for low-level modes). */
  instruction: string;
  image: ReplayImage;
  /** Teacher-forced history: the true actions before this step, in words (describeAction). */
  history: HistoryEntry[];
  /**
   * The true actions from this step to the end of its episode, in our action space. The first
   * is this step's truth, with its point (if any) in screenshot pixels of this step's image;
   * later ones only need action_type and their arguments (horizon scoring compares types).
   * The last step of an episode has status "done", the others "not done". The `oracle` planner
   * answers with these.
   */
  future: ForecastStep[];
  /** Breakdown keys the papers report, e.g. { platform: 'mobile', uiType: 'icon' }. */
  categories: Record<string, string>;
  /** The suite's own truth for its official scoring; JSON-serializable. */
  gold: Gold;
}

export interface LoadOptions {
  /** A split the suite knows (see `ReplaySuite.splits`); undefined = the suite's default. */
  split?: string;
  /** Stop after this many steps. */
  limit?: number;
  /** Suite-specific mode, e.g. AndroidControl 'high' | 'low'. */
  mode?: string;
}

/** One step's verdict under the official rules. */
export interface StepScore {
  /** The step counts as correct for the suite's step success rate / accuracy. */
  success: boolean;
  /** The suite's per-step figures (e.g. typeMatch, groundingMatch, opF1); null = not applicable. */
  metrics: Record<string, boolean | number | null>;
  /** Why a prediction could not be scored as the benchmark expects it (no point, a shape the suite does not take): shown in report.html. */
  reason?: string;
}

/** What scoring needs of a step (all JSON; the runner stores it per step). */
export interface StepTruth<Gold = unknown> {
  id: string;
  episodeId: string;
  index: number;
  categories: Record<string, string>;
  gold: Gold;
  /** Size of the step's screenshot (for converting points back to the suite's convention). */
  imageWidth: number;
  imageHeight: number;
}

export function stepTruth<Gold>(step: ReplayStep<Gold>): StepTruth<Gold> {
  return {
    id: step.id,
    episodeId: step.episodeId,
    index: step.index,
    categories: step.categories,
    gold: step.gold,
    imageWidth: step.image.width,
    imageHeight: step.image.height,
  };
}

/** A step with its prediction and verdict; `summarize` and `writePredictions` get these. */
export interface ScoredStep<Gold = unknown> extends StepTruth<Gold> {
  /** The grounded first action (points in screenshot pixels); undefined = no usable answer. */
  prediction: Action | undefined;
  score: StepScore;
}

export interface BreakdownRow {
  key: string;
  count: number;
  /** Same names as `SuiteSummary.metrics`, values in 0..1 (NaN-free: a metric with no denominator is left out). */
  metrics: Record<string, number>;
}

export interface Breakdown {
  /** What the rows are split by, e.g. "platform", "category". */
  name: string;
  rows: BreakdownRow[];
}

export interface SuiteSummary {
  /** Steps scored. */
  count: number;
  /** The headline figures, named as the papers name them ("step SR", "type accuracy"), in 0..1. */
  metrics: Record<string, number>;
  breakdowns: Breakdown[];
  /** What the reader of the figures must know (where the official script prints NaN, say); shown in the report. */
  notes?: string[];
}

export interface ReplaySuite<Gold = unknown> {
  id: SuiteId;
  /** Human name, e.g. "AndroidControl". */
  title: string;
  /** Splits the loader understands; the first is the default. Empty when the data has none. */
  splits: readonly string[];
  /** Modes (e.g. 'high', 'low'); the first is the default. Empty when there are none. */
  modes: readonly string[];
  /** Yields steps in a stable order (episode by episode, step by step). Throws BAD_INPUT / NOT_FOUND with the file at fault. */
  load(dataPath: string, opts: LoadOptions): AsyncIterable<ReplayStep<Gold>>;
  /** Optional: how many steps `load` will yield (for the progress bar's ETA), when that is cheap to know. */
  count?(dataPath: string, opts: LoadOptions): Promise<number>;
  /**
   * Whether the benchmark scores a target for this predicted action (its point): the runner then
   * grounds it when the planner gave no point. Default: the actions that need a point to run.
   */
  scoresTarget?(action: Action): boolean;
  /**
   * Scores one grounded prediction (undefined = no usable answer: always wrong) by the official
   * rules. Points arrive in the space the model (or the grounder) wrote them; the suite converts
   * them into the space its official script compares in, with that script's arithmetic (a trip
   * through pixels can carry a point across a box edge). Never throws on an odd prediction: a
   * shape it cannot score is a miss with a `reason`.
   */
  score(prediction: Action | undefined, step: StepTruth<Gold>): StepScore;
  /**
   * Optional: the episodes the official script counts though it scores none of their steps (in
   * data order), e.g. Mind2Web tasks whose every step it skips; the runner asks once a whole split
   * has been run (not with --limit) and hands them to `summarize` and `writePredictions`.
   */
  emptyEpisodes?(dataPath: string, opts: LoadOptions): Promise<string[]>;
  summarize(scored: readonly ScoredStep<Gold>[], ctx?: RunContext): SuiteSummary;
  /** Writes the predictions in the benchmark's own format into outDir; returns the paths written. */
  writePredictions(scored: readonly ScoredStep<Gold>[], outDir: string, ctx?: RunContext): Promise<string[]>;
}

/** What a summary needs beyond the scored steps. */
export interface RunContext {
  /** See `ReplaySuite.emptyEpisodes`. */
  emptyEpisodes: readonly string[];
}

/**
 * A benchmark screenshot as a frame of its own: one display of the image's size at the origin,
 * scale 1, so `convertPoint` maps between screenshot pixels, 0–1000 and 0–1 of that image.
 */
export function replayGeometry(width: number, height: number): FrameGeometry {
  return {
    display: { id: 'replay', bounds: { x: 0, y: 0, width, height }, scaleFactor: 1, primary: true },
    imageWidth: width,
    imageHeight: height,
  };
}
