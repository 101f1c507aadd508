/**
 * The store of one benchmark replay run (`foresight bench run`): a SQLite file in the run's
 * output folder (`<out>/run.sqlite`), so a run is one self-contained folder that can be resumed,
 * re-summarised, copied and compared. One row per scored step, written in its own transaction
 * as soon as the step is scored: a crash or Ctrl-C loses at most the steps in flight, and a
 * restart skips every step that has a row (the planner is never asked twice).
 *
 * The JSON columns hold the replay module's own types (main/replay); this module only keeps
 * them and checks they are JSON.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { ForesightError } from '../common/errors.ts';
import { jsonObjectSchema } from '../common/schemas.ts';
import { BENCH_MIGRATIONS, openDatabase, type SqliteDatabase } from './migrations.ts';
import { ROWS, type Row } from './schema.generated.ts';

export { BENCH_MIGRATIONS };
import { isWriterAlive } from './episode-store.ts';
import { processStart } from './process-start.ts';



export type BenchRunStatus = Row<'bench_run'>['status'];

export interface BenchRunRow {
  id: string;
  suite: string;
  config: Record<string, unknown>;
  status: BenchRunStatus;
  error: unknown;
  totalSteps: number | null;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** Time spent running, summed over every session (the one in progress up to its last scored step). */
  activeMs: number;
  /** Sessions the run has had: the first one and every resume. */
  sessions: number;
  /** The part of activeMs that is the latest session's. */
  sessionMs: number;
  pid: number;
  /** The start of that process (store/process-start.ts); null when unknown. */
  pidStart: string | null;
  host: string;
  summary: unknown;
}

export interface BenchStepRow {
  stepId: string;
  seq: number;
  episodeId: string;
  stepIndex: number;
  truth: unknown;
  future: unknown;
  answers: unknown;
  forecast: unknown;
  parseError: unknown;
  grounding: unknown;
  groundingError: unknown;
  prediction: unknown;
  score: unknown;
  horizon: unknown;
  reward: number;
  rewardAccuracy: number;
  plannerLatencyMs: number | null;
  createdAt: number;
}

type RawRun = Row<'bench_run'>;
type RawStep = Row<'bench_steps'>;

const j = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

export class BenchRunStore {
  /** When this process's session of the run began (createRun / claimRun), on the `now` clock. */
  private sessionStart: number | undefined;

  private constructor(
    private readonly db: SqliteDatabase,
    readonly path: string,
    private readonly now: () => number,
  ) {}

  /** Opens (creating when missing) a run file. Throws STORE_CORRUPT / STORE_MIGRATION like the episode store. */
  static open(path: string, opts: { now?: () => number } = {}): BenchRunStore {
    const opened = openDatabase(path, { migrations: BENCH_MIGRATIONS, ...(opts.now ? { now: opts.now } : {}) });
    return new BenchRunStore(opened.db, opened.path, opts.now ?? Date.now);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  run(): BenchRunRow | undefined {
    const r = this.db.prepare<[]>('SELECT * FROM bench_run LIMIT 1').get();
    return r === undefined ? undefined : toRun(checkedRow(ROWS.bench_run, r, this.path, 'bench_run'));
  }

  createRun(id: string, suite: string, config: Record<string, unknown>): BenchRunRow {
    if (this.run()) throw new ForesightError('INTERNAL', `${this.path} already holds a run`);
    const t = this.now();
    this.db
      .prepare(
        `INSERT INTO bench_run (id, suite, config_json, status, started_at, updated_at, pid, pid_start, host)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
      )
      .run(id, suite, JSON.stringify(config), t, t, process.pid, processStart(process.pid) ?? null, hostname());
    this.sessionStart = t;
    return this.run()!;
  }

  /**
   * Takes over a run for this process. A run marked running whose process is still alive on
   * this host is refused (two processes must not write one run).
   */
  claimRun(): BenchRunRow {
    const r = this.run();
    if (!r) throw new ForesightError('INTERNAL', `${this.path} holds no run`);
    if (r.status === 'running' && r.pid !== process.pid && r.host === hostname() && isWriterAlive(r.pid, r.pidStart)) {
      throw new ForesightError('BAD_INPUT', `The run in ${this.path} is being written by process ${r.pid}; stop it first or use another --out`, {
        pid: r.pid,
      });
    }
    const t = this.now();
    // The previous session's time (ended cleanly or killed after its last step) joins the total.
    this.db
      .prepare(
        `UPDATE bench_run SET status = 'running', error_json = NULL, pid = ?, pid_start = ?, host = ?, updated_at = ?, finished_at = NULL,
           active_ms = active_ms + session_ms, session_ms = 0, sessions = sessions + 1`,
      )
      .run(process.pid, processStart(process.pid) ?? null, hostname(), t);
    this.sessionStart = t;
    return this.run()!;
  }

  /** null: not known yet. */
  setTotal(total: number | null): void {
    this.db.prepare('UPDATE bench_run SET total_steps = ?, updated_at = ?').run(total, this.now());
  }

  /** Replaces the run's configuration (the runner allows this only when a limit is raised). */
  setConfig(config: Record<string, unknown>): void {
    this.db.prepare('UPDATE bench_run SET config_json = ?, total_steps = NULL, updated_at = ?').run(JSON.stringify(config), this.now());
  }

  /** Ends this session of the run, which took `sessionMs`. */
  endSession(status: Exclude<BenchRunStatus, 'running'>, sessionMs: number, extra: { error?: unknown; summary?: unknown } = {}): void {
    const t = this.now();
    this.db
      .prepare(
        `UPDATE bench_run SET status = ?, error_json = ?, session_ms = max(session_ms, ?), updated_at = ?,
           finished_at = CASE WHEN ? = 'finished' THEN ? ELSE finished_at END,
           summary_json = COALESCE(?, summary_json)`,
      )
      .run(status, j(extra.error), Math.max(0, sessionMs), t, status, t, j(extra.summary));
  }

  /** Ids of the steps already scored (skipped on resume). */
  doneStepIds(): Set<string> {
    const ids = this.db.prepare<[]>('SELECT step_id FROM bench_steps').pluck().all();
    return new Set(ids.map((id) => checkedRow(ROWS.bench_steps.shape.step_id, id, this.path, 'bench_steps.step_id')));
  }

  countSteps(): number {
    return Number(this.db.prepare<[]>('SELECT count(*) FROM bench_steps').pluck().get() ?? 0);
  }

  recordStep(row: Omit<BenchStepRow, 'createdAt'>): void {
    this.db
      .prepare(
        `INSERT INTO bench_steps (step_id, seq, episode_id, step_index, truth_json, future_json, answers_json, forecast_json,
           parse_error_json, grounding_json, grounding_error_json, prediction_json, score_json, horizon_json, reward,
           reward_accuracy, planner_latency_ms, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.stepId,
        row.seq,
        row.episodeId,
        row.stepIndex,
        JSON.stringify(row.truth),
        JSON.stringify(row.future),
        JSON.stringify(row.answers),
        j(row.forecast),
        j(row.parseError),
        j(row.grounding),
        j(row.groundingError),
        j(row.prediction),
        JSON.stringify(row.score),
        JSON.stringify(row.horizon),
        row.reward,
        row.rewardAccuracy,
        row.plannerLatencyMs,
        this.now(),
      );
    const t = this.now();
    // The session's time so far: what is left of it if the process is killed now.
    const sessionMs = this.sessionStart === undefined ? 0 : Math.max(0, t - this.sessionStart);
    this.db.prepare('UPDATE bench_run SET updated_at = ?, session_ms = max(session_ms, ?)').run(t, sessionMs);
  }

  /** Every scored step in the loader's order. */
  steps(): BenchStepRow[] {
    return this.db
      .prepare<[]>('SELECT * FROM bench_steps ORDER BY seq')
      .all()
      .map((r) => toStep(checkedRow(ROWS.bench_steps, r, this.path, 'bench_steps')));
  }
}

function parse(text: string | null, path: string, what: string): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ForesightError('STORE_CORRUPT', `${what} in ${path} is not valid JSON`, { text: text.slice(0, 200) }, { cause: e });
  }
}

/** A row as the generated schema says it is, or STORE_CORRUPT naming the table. */
function checkedRow<T>(schema: z.ZodType<T>, value: unknown, path: string, table: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ForesightError('STORE_CORRUPT', `A row of ${table} in ${path} does not hold what the schema allows: ${z.prettifyError(r.error)}`, { path, table });
  return r.data;
}

function config(text: string): Record<string, unknown> {
  const r = jsonObjectSchema.safeParse(parse(text, 'bench_run', 'config_json'));
  if (!r.success) throw new ForesightError('STORE_CORRUPT', 'config_json in bench_run is not a JSON object');
  return r.data;
}

function toRun(r: RawRun): BenchRunRow {
  return {
    id: r.id,
    suite: r.suite,
    config: config(r.config_json),
    status: r.status,
    error: parse(r.error_json, 'bench_run', 'error_json'),
    totalSteps: r.total_steps,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    activeMs: r.active_ms + r.session_ms,
    sessions: r.sessions,
    sessionMs: r.session_ms,
    pid: r.pid,
    pidStart: r.pid_start,
    host: r.host,
    summary: parse(r.summary_json, 'bench_run', 'summary_json'),
  };
}

function toStep(r: RawStep): BenchStepRow {
  const p = (t: string | null, w: string): unknown => parse(t, 'bench_steps', `${w} of ${r.step_id}`);
  return {
    stepId: r.step_id,
    seq: r.seq,
    episodeId: r.episode_id,
    stepIndex: r.step_index,
    truth: p(r.truth_json, 'truth'),
    future: p(r.future_json, 'future'),
    answers: p(r.answers_json, 'answers'),
    forecast: p(r.forecast_json, 'forecast'),
    parseError: p(r.parse_error_json, 'parse error'),
    grounding: p(r.grounding_json, 'grounding'),
    groundingError: p(r.grounding_error_json, 'grounding error'),
    prediction: p(r.prediction_json, 'prediction'),
    score: p(r.score_json, 'score'),
    horizon: p(r.horizon_json, 'horizon'),
    reward: r.reward,
    rewardAccuracy: r.reward_accuracy,
    plannerLatencyMs: r.planner_latency_ms,
    createdAt: r.created_at,
  };
}
