/**
 * The episode store over SQLite: what the agent loop writes (EpisodeStore of common/ports.ts)
 * and what the CLI, the renderer and dataset export read back.
 *
 * Durability: every write method is one transaction, committed when it returns; the database
 * is in WAL mode, so a process killed at any moment loses at most the write it was in.
 * Screenshots are written as files before the row that names them. An episode whose process
 * died while it was `running` is marked `interrupted` the next time the store is opened.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { spacePointSchema } from '../common/actions.ts';
import type { CoordSpace } from '../common/coords.ts';
import { ForesightError, type ErrorInfo } from '../common/errors.ts';
import {
  APPROVAL_DECISIONS,
  APPROVAL_POLICIES,
  EPISODE_MODES,
  EPISODE_STATUSES,
  EXECUTION_RESULTS,
  type ApprovalPolicy,
  type ApprovalRecord,
  type EpisodeEnd,
  type EpisodeMode,
  type EpisodeStatus,
  type EpisodeStore,
  type ExecutionIntent,
  type ExecutionOutcome,
  type ExecutionRecord,
  type ExecutionResult,
  type ForecastAttempt,
  type Grounding,
  type NewEpisode,
  type Observation,
  type SettleInfo,
  type StepSpeculation,
} from '../common/ports.ts';
import { FrameFiles, pngSize } from './frames.ts';
import {
  isCorruptionError,
  openDatabase,
  sqliteErrorCode,
  translateSqliteError,
  type Migration,
  type SqliteDatabase,
} from './migrations.ts';
import { processStart } from './process-start.ts';
import { ROWS, type Row } from './schema.generated.ts';
import {
  actionSchema,
  errorInfoSchema,
  forecastSchema,
  frameGeometrySchema,
  historySchema,
  jsonObjectSchema,
  settleInfoSchema,
  wireActionSchema,
  wireForecastSchema,
} from './schemas.ts';
import type {
  EpisodeSummary,
  ListEpisodesOptions,
  StoredApproval,
  StoredEpisode,
  StoredExecution,
  StoredForecast,
  StoredGrounding,
  StoredStep,
} from './types.ts';

export interface OpenOptions {
  /** Where screenshots go; default `<directory of dbPath>/blobs`. */
  blobDir?: string;
  /** Clock for every timestamp the store makes (ms since the epoch). */
  now?: () => number;
  /** Id generator for episodes and steps (default: random UUIDs). */
  newId?: () => string;
  /** The process recorded as the writer of new episodes (default: this one). */
  pid?: number;
  /** The host recorded with the pid (default: os.hostname()). */
  host?: string;
  /** The start of that process as store/process-start.ts names it (default: looked up for the pid). */
  pidStart?: string;
  /** Only for tests that simulate another version of Foresight. */
  migrations?: readonly Migration[];
}

const END_STATUSES = ['finished', 'failed', 'stopped', 'needs_user'] as const satisfies readonly EpisodeStatus[];

/**
 * Whether a process exists on this host. EPERM means it exists but belongs to someone else;
 * only ESRCH proves it is gone, so anything else counts as alive (never interrupt a live run).
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether the process that recorded itself as `pid` (started at `recordedStart`, when known)
 * still runs on this host: the pid exists and was not reused by another process since.
 */
export function isWriterAlive(pid: number, recordedStart: string | null): boolean {
  return isProcessAlive(pid) && !isReused(pid, recordedStart);
}

/**
 * Whether the live process with this pid is another one than the one that started at
 * `recordedStart`. Unknown on either side (rows of earlier versions, a platform that does not
 * say) counts as the same process: a live run is never interrupted on a guess.
 */
function isReused(pid: number, recordedStart: string | null): boolean {
  if (recordedStart === null) return false;
  const now = processStart(pid);
  return now !== undefined && now !== recordedStart;
}

// ---------------------------------------------------------------- rows as SQLite returns them

// The row types come from the migrations (store/schema.generated.ts, `npm run gen:store-schema`);
// every row read is checked against them, so a value the schema does not allow is reported as
// STORE_CORRUPT naming the row, never cast into a type it does not have.
const episodeListRow = ROWS.episodes.extend({ step_count: z.number().int() });
type EpisodeRow = z.infer<typeof episodeListRow>;
type StepRow = Row<'steps'>;
type ForecastRow = Row<'forecasts'>;
type GroundingRow = Row<'groundings'>;
type ApprovalRow = Row<'approvals'>;
type ExecutionRow = Row<'executions'>;
const runningRow = ROWS.episodes.pick({ id: true, pid: true, pid_start: true });
const stepEpisodeRow = ROWS.steps.pick({ episode_id: true });
const executionStepRow = ROWS.executions.pick({ step_id: true, result: true });

// The CHECK constraints of the migrations and the declarations in common/ must list the same
// values: a value added on one side only makes this fail to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaAgrees: [
  Same<Row<'episodes'>['mode'], EpisodeMode>,
  Same<Row<'episodes'>['status'], EpisodeStatus>,
  Same<Row<'approvals'>['policy'], ApprovalPolicy>,
  Same<Row<'approvals'>['decision'], ApprovalRecord['decision']>,
  Same<NonNullable<Row<'executions'>['result']>, ExecutionResult>,
  Same<NonNullable<Row<'groundings'>['point_space']>, CoordSpace>,
] = [true, true, true, true, true, true];
void schemaAgrees;

/** Names a row in a STORE_CORRUPT message. */
interface RowRef {
  table: string;
  column: string;
  row: string;
}

// ---------------------------------------------------------------- checks on the way in

function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ForesightError('BAD_INPUT', `Refusing to store ${what}: ${z.prettifyError(r.error)}`);
  return r.data;
}

function toJson(value: unknown, what: string): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    throw new ForesightError('BAD_INPUT', `Refusing to store ${what}: it is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

const nonNegativeInt = z.number().int().nonnegative();
const positiveInt = z.number().int().positive();
const duration = z.number().finite().nonnegative();
const finite = z.number().finite();
const globalPointSchema = z.object({ x: finite, y: finite });

/** Timestamps are whole milliseconds (INTEGER columns). */
function ms(t: number): number {
  return Math.round(t);
}

function isConstraint(e: unknown, code: string): boolean {
  return sqliteErrorCode(e) === code;
}

// ---------------------------------------------------------------- the store

const approvalInSettings = z.object({ approval: z.enum(APPROVAL_POLICIES) });

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class SqliteEpisodeStore implements EpisodeStore {
  /** Absolute path of the database file. */
  readonly path: string;
  /** Where the screenshot files are. */
  readonly blobDir: string;
  /** Ids of the migrations this open applied (empty when the file was up to date). */
  readonly migrationsApplied: readonly number[];

  private readonly db: SqliteDatabase;
  private readonly frames: FrameFiles;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly pid: number;
  private readonly host: string;
  private readonly pidStart: string | null;
  private readonly stmt: ReturnType<typeof prepareStatements>;

  private constructor(db: SqliteDatabase, path: string, migrationsApplied: number[], opts: OpenOptions) {
    this.db = db;
    this.path = path;
    this.migrationsApplied = migrationsApplied;
    this.blobDir = resolve(opts.blobDir ?? join(dirname(path), 'blobs'));
    this.frames = new FrameFiles(this.blobDir);
    this.now = opts.now ?? Date.now;
    this.newId = opts.newId ?? randomUUID;
    this.pid = opts.pid ?? process.pid;
    this.host = opts.host ?? hostname();
    this.pidStart = opts.pidStart ?? processStart(this.pid) ?? null;
    this.stmt = prepareStatements(db);
  }

  /**
   * Opens (creating when missing) the database at dbPath, applies pending migrations and
   * marks the episodes of dead processes `interrupted`.
   * Throws STORE_CORRUPT (not a database), STORE_MIGRATION (written by a newer Foresight).
   */
  static open(dbPath: string, opts: OpenOptions = {}): SqliteEpisodeStore {
    const opened = openDatabase(dbPath, { ...(opts.migrations ? { migrations: opts.migrations } : {}), ...(opts.now ? { now: opts.now } : {}) });
    try {
      const store = new SqliteEpisodeStore(opened.db, opened.path, opened.migrationsApplied, opts);
      store.markInterrupted();
      return store;
    } catch (e) {
      opened.db.close();
      throw translateSqliteError(e, opened.path);
    }
  }

  /** Closes the database; safe to call twice. */
  close(): void {
    if (!this.db.open) return;
    try {
      // SQLite's advice for long-lived connections: refresh query-planner statistics on close.
      this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }

  // ------------------------------------------------------------ writes (EpisodeStore)

  createEpisode(e: NewEpisode): string {
    return this.guard(() => {
      const mode = checked(z.enum(EPISODE_MODES), e.mode, 'the episode mode');
      const settings = toJson(checked(jsonObjectSchema, e.settings, 'the episode settings'), 'the episode settings');
      const row = {
        id: this.newId(),
        task: checked(z.string(), e.task, 'the task'),
        mode,
        planner: checked(z.string(), e.planner, 'the planner'),
        grounder: checked(z.string(), e.grounder, 'the grounder'),
        settings_json: settings,
        started_at: ms(this.now()),
        pid: this.pid,
        pid_start: this.pidStart,
        host: this.host,
      };
      this.db.transaction(() => this.stmt.insertEpisode.run(row))();
      return row.id;
    });
  }

  /**
   * The screenshot file is written first, under the sha256 of the PNG bytes; a frameId that
   * is not that sha is not trusted (the row holds the real one).
   */
  beginStep(episodeId: string, stepNumber: number, observation: Observation, settle?: SettleInfo, speculation?: StepSpeculation): string {
    return this.guard(() => {
      checked(positiveInt, stepNumber, 'the step number');
      const cancelledRequests = checked(nonNegativeInt, speculation?.cancelledRequests ?? 0, 'the count of cancelled requests');
      const geometry = checked(frameGeometrySchema, observation.geometry, 'the frame geometry');
      const settleJson = settle === undefined ? null : toJson(checked(settleInfoSchema, settle, 'the settle info'), 'the settle info');
      const capturedAt = ms(checked(finite, observation.capturedAt, 'the capture time'));
      if (!this.stmt.episodeExists.get(episodeId)) throw this.notFound('episode', episodeId);
      const sha = this.frames.put(observation.png);
      const size = pngSize(observation.png) ?? { width: geometry.imageWidth, height: geometry.imageHeight };
      const id = this.newId();
      const t = ms(this.now());
      try {
        this.db.transaction(() => {
          this.stmt.insertStep.run({
            id,
            episode_id: episodeId,
            step_number: stepNumber,
            frame_sha256: sha,
            image_width: size.width,
            image_height: size.height,
            geometry_json: toJson(geometry, 'the frame geometry'),
            captured_at: capturedAt,
            settle_json: settleJson,
            cancelled_requests: cancelledRequests,
            created_at: t,
          });
          this.stmt.touchEpisode.run(t, episodeId);
        })();
      } catch (e) {
        if (isConstraint(e, 'SQLITE_CONSTRAINT_UNIQUE')) {
          throw new ForesightError('BAD_INPUT', `Episode ${episodeId} already has a step ${stepNumber}`, { episodeId, stepNumber });
        }
        throw e;
      }
      return id;
    });
  }

  recordForecast(stepId: string, attempt: ForecastAttempt): void {
    this.guard(() => {
      const row: Omit<ForecastRow, 'id' | 'created_at'> = {
        step_id: stepId,
        attempt: checked(nonNegativeInt, attempt.attempt, 'the attempt number'),
        raw: checked(z.string(), attempt.raw, 'the raw model output'),
        parsed_json: attempt.forecast === undefined ? null : toJson(checked(forecastSchema, attempt.forecast, 'the forecast'), 'the forecast'),
        error_json: this.errorJson(attempt.error),
        latency_ms: checked(duration, attempt.latencyMs, 'the latency'),
        model: checked(z.string(), attempt.model, 'the model name'),
        prompt_template: attempt.prompt?.template ?? null,
        prompt_version: attempt.prompt?.version ?? null,
        system_text: attempt.prompt?.system ?? null,
        user_text: attempt.prompt?.user ?? null,
        history_json: toJson(checked(historySchema, attempt.history, 'the history'), 'the history'),
      };
      try {
        this.writeToStep(stepId, (t) => this.stmt.insertForecast.run({ ...row, created_at: t }));
      } catch (e) {
        if (isConstraint(e, 'SQLITE_CONSTRAINT_UNIQUE')) {
          throw new ForesightError('BAD_INPUT', `Step ${stepId} already has a forecast attempt ${attempt.attempt}`, { stepId, attempt: attempt.attempt });
        }
        throw e;
      }
    });
  }

  recordGrounding(stepId: string, forecastStepIndex: number, grounding: Grounding | { error: ErrorInfo }): void {
    this.guard(() => {
      const index = checked(nonNegativeInt, forecastStepIndex, 'the forecast step index');
      const row: Omit<GroundingRow, 'id' | 'created_at'> = {
        step_id: stepId,
        forecast_step_index: index,
        point_space: null,
        point_x: null,
        point_y: null,
        end_space: null,
        end_x: null,
        end_y: null,
        confidence: null,
        grounder: null,
        detail: null,
        latency_ms: null,
        error_json: null,
      };
      if ('error' in grounding) {
        row.error_json = this.errorJson(grounding.error);
      } else {
        const point = checked(spacePointSchema, grounding.point, 'the grounded point');
        row.point_space = point.space;
        row.point_x = point.x;
        row.point_y = point.y;
        row.confidence = checked(finite, grounding.confidence, 'the grounding confidence');
        row.grounder = checked(z.string(), grounding.grounder, 'the grounder name');
        row.detail = grounding.detail ?? null;
        row.latency_ms = checked(duration, grounding.latencyMs, 'the grounding latency');
        if (grounding.endPoint !== undefined) {
          const end = checked(spacePointSchema, grounding.endPoint, 'the grounded end point');
          row.end_space = end.space;
          row.end_x = end.x;
          row.end_y = end.y;
        }
      }
      this.writeToStep(stepId, (t) => this.stmt.insertGrounding.run({ ...row, created_at: t }));
    });
  }

  recordApproval(stepId: string, approval: ApprovalRecord): void {
    this.guard(() => {
      const decision = checked(z.enum(APPROVAL_DECISIONS), approval.decision, 'the decision');
      if (decision === 'edit' && approval.edited === undefined) {
        throw new ForesightError('BAD_INPUT', `Refusing to store an edit of step ${stepId} without the edited forecast`, { stepId });
      }
      const row = {
        step_id: stepId,
        policy: checked(z.enum(APPROVAL_POLICIES), approval.policy, 'the approval policy'),
        decision,
        original_json: toJson(checked(forecastSchema, approval.original, 'the original forecast'), 'the original forecast'),
        edited_json:
          approval.edited === undefined ? null : toJson(checked(forecastSchema, approval.edited, 'the edited forecast'), 'the edited forecast'),
        reason: approval.reason ?? null,
        waited_ms: checked(duration, approval.waitedMs, 'the waiting time'),
      };
      this.writeToStep(stepId, (t) => this.stmt.insertApproval.run({ ...row, created_at: t }));
    });
  }

  /** An action that sends no input (a terminal action, a person's): intent and outcome in one transaction. */
  recordExecution(stepId: string, execution: ExecutionRecord): void {
    this.guard(() => {
      const intent = this.intentRow(stepId, execution);
      const outcome = this.outcomeRow(execution);
      this.writeToStep(stepId, (t) => this.stmt.insertExecution.run({ ...intent, ...outcome, created_at: t, completed_at: t }));
    });
  }

  /**
   * Write-ahead: the intent is committed (and durable) before this returns, so it must be
   * called before any input is sent. Returns the id that completeExecution takes.
   */
  beginExecution(stepId: string, intent: ExecutionIntent): number {
    return this.guard(() => {
      const row = this.intentRow(stepId, intent);
      let id = 0;
      this.writeToStep(stepId, (t) => {
        id = Number(
          this.stmt.insertExecution.run({ ...row, result: null, error_json: null, duration_ms: null, settle_json: null, created_at: t, completed_at: null })
            .lastInsertRowid,
        );
      });
      return id;
    });
  }

  /** Records how a begun execution went. NOT_FOUND for an unknown id, BAD_INPUT for one already completed. */
  completeExecution(executionId: number, outcome: ExecutionOutcome): void {
    this.guard(() => {
      const row = this.outcomeRow(outcome);
      const t = ms(this.now());
      this.db.transaction(() => {
        const found = this.stmt.executionStep.get(executionId);
        if (found === undefined) throw new ForesightError('NOT_FOUND', `No execution ${executionId} in ${this.path}`, { executionId });
        const x = this.row(executionStepRow, found, { table: 'executions', column: '*', row: `id=${executionId}` });
        if (x.result !== null) {
          throw new ForesightError('BAD_INPUT', `Execution ${executionId} already has its outcome (${x.result})`, { executionId });
        }
        this.stmt.completeExecution.run({ ...row, id: executionId, completed_at: t });
        const step = this.stmt.stepEpisode.get(x.step_id);
        if (step !== undefined) this.stmt.touchEpisode.run(t, this.row(stepEpisodeRow, step, { table: 'steps', column: 'episode_id', row: `id=${x.step_id}` }).episode_id);
      })();
    });
  }

  private intentRow(stepId: string, intent: ExecutionIntent) {
    const at = intent.globalPoint === undefined ? undefined : checked(globalPointSchema, intent.globalPoint, 'the global point');
    const end = intent.globalEndPoint === undefined ? undefined : checked(globalPointSchema, intent.globalEndPoint, 'the global end point');
    return {
      step_id: stepId,
      action_json: toJson(checked(actionSchema, intent.action, 'the executed action'), 'the executed action'),
      global_x: at?.x ?? null,
      global_y: at?.y ?? null,
      global_end_x: end?.x ?? null,
      global_end_y: end?.y ?? null,
    };
  }

  private outcomeRow(outcome: ExecutionOutcome) {
    return {
      result: checked(z.enum(EXECUTION_RESULTS), outcome.result, 'the execution result'),
      error_json: this.errorJson(outcome.error),
      duration_ms: checked(duration, outcome.durationMs, 'the execution duration'),
      settle_json: outcome.settle === undefined ? null : toJson(checked(settleInfoSchema, outcome.settle, 'the settle info'), 'the settle info'),
    };
  }

  finishEpisode(episodeId: string, end: EpisodeEnd): void {
    this.guard(() => {
      const status = checked(z.enum(END_STATUSES), end.status, 'the end status');
      const error = end.error === undefined ? undefined : checked(errorInfoSchema, end.error, 'the episode error');
      const t = ms(this.now());
      const changed = this.db.transaction(
        () =>
          this.stmt.finishEpisode.run({
            id: episodeId,
            status,
            error_code: error?.code ?? null,
            error_message: error?.message ?? null,
            error_details_json: error?.details === undefined ? null : toJson(error.details, 'the error details'),
            answer: end.answer ?? null,
            t,
          }).changes,
      )();
      if (changed === 0) throw this.notFound('episode', episodeId);
    });
  }

  /**
   * Marks every `running` episode of this host whose process is gone as `interrupted`, ended
   * at its last write. Gone: no process has the pid, or the one that has it started at another
   * time than the writer did (the pid was reused). Episodes of other hosts are left alone: their
   * processes cannot be checked from here. Returns how many were marked.
   */
  markInterrupted(): number {
    return this.guard(() => {
      const running = this.stmt.runningOnHost.all(this.host).map((r) => this.row(runningRow, r, { table: 'episodes', column: '*', row: 'status=running' }));
      const dead = running.filter((r) => !isWriterAlive(r.pid, r.pid_start));
      if (dead.length === 0) return 0;
      return this.db.transaction(() => dead.reduce((n, r) => n + this.stmt.interrupt.run(r.id).changes, 0))();
    });
  }

  // ------------------------------------------------------------ reads

  /** Episodes, newest first. */
  listEpisodes(opts: ListEpisodesOptions = {}): EpisodeSummary[] {
    return this.guard(() => {
      const limit = opts.limit === undefined ? -1 : checked(positiveInt, opts.limit, 'the limit');
      const rows =
        opts.status === undefined
          ? this.stmt.listEpisodes.all(limit)
          : this.stmt.listEpisodesByStatus.all(checked(z.enum(EPISODE_STATUSES), opts.status, 'the status'), limit);
      return rows.map((r) => this.summaryOf(this.row(episodeListRow, r, { table: 'episodes', column: '*', row: rowId(r) })));
    });
  }

  /** One episode with all its steps and their records. Throws NOT_FOUND for an unknown id. */
  getEpisode(id: string): StoredEpisode {
    return this.guard(() =>
      // One read transaction: a consistent snapshot while the agent keeps writing.
      this.db.transaction((): StoredEpisode => {
        const found = this.stmt.getEpisode.get(id);
        if (found === undefined) throw this.notFound('episode', id);
        const e = this.row(episodeListRow, found, { table: 'episodes', column: '*', row: `id=${id}` });
        const rows = <T>(table: string, schema: z.ZodType<T>, list: unknown[]): T[] =>
          list.map((r) => this.row(schema, r, { table, column: '*', row: rowId(r) }));
        const forecasts = groupByStep(rows('forecasts', ROWS.forecasts, this.stmt.forecastsOf.all(id)), (r) => this.forecastOf(r));
        const groundings = groupByStep(rows('groundings', ROWS.groundings, this.stmt.groundingsOf.all(id)), (r) => this.groundingOf(r));
        const approvals = groupByStep(rows('approvals', ROWS.approvals, this.stmt.approvalsOf.all(id)), (r) => this.approvalOf(r));
        const executions = groupByStep(rows('executions', ROWS.executions, this.stmt.executionsOf.all(id)), (r) => this.executionOf(r));
        const steps = rows('steps', ROWS.steps, this.stmt.stepsOf.all(id)).map((s): StoredStep => {
          const done = executions.get(s.id) ?? [];
          return {
            ...this.stepOf(s),
            forecasts: forecasts.get(s.id) ?? [],
            groundings: groundings.get(s.id) ?? [],
            approvals: approvals.get(s.id) ?? [],
            executions: done,
            executionState: executionState(done),
          };
        });
        const ref = { table: 'episodes', column: 'settings_json', row: `id=${e.id}` };
        return {
          ...this.summaryOf(e),
          settings: this.decode(jsonObjectSchema, e.settings_json, ref),
          pid: e.pid,
          host: e.host,
          lastWriteAt: e.last_write_at,
          cancelledRequests: steps.reduce((n, s) => n + s.cancelledRequests, 0),
          staleForecasts: steps.reduce((n, s) => n + s.executions.filter((x) => x.result === 'stale').length, 0),
          steps,
        };
      })(),
    );
  }

  /**
   * The episode an id, or a unique prefix of one, names (for `foresight episodes show 3f2a`).
   * NOT_FOUND when none matches, BAD_INPUT when the prefix fits several.
   */
  resolveEpisodeId(idOrPrefix: string): string {
    return this.guard(() => {
      if (idOrPrefix === '') throw new ForesightError('BAD_INPUT', 'An empty episode id names no episode');
      if (this.stmt.episodeExists.get(idOrPrefix)) return idOrPrefix;
      const ids = this.stmt.episodesWithPrefix.all(idOrPrefix, idOrPrefix).map((v) => String(v));
      const [only, other] = ids;
      if (only === undefined) throw this.notFound('episode', idOrPrefix);
      if (other !== undefined) {
        throw new ForesightError('BAD_INPUT', `"${idOrPrefix}" is the start of several episode ids (${ids.join(', ')}, …); give more of it`, {
          prefix: idOrPrefix,
        });
      }
      return only;
    });
  }

  /**
   * Deletes an episode with its steps and records (the foreign keys cascade), then the screenshot
   * files no other step uses. A running episode whose process is alive is refused (BAD_INPUT):
   * stop the run first.
   */
  deleteEpisode(id: string): void {
    this.guard(() => {
      const shas = this.db.transaction((): string[] => {
        const row = this.db.prepare<[string]>('SELECT status, pid, pid_start FROM episodes WHERE id = ?').get(id) as
          | { status: string; pid: number; pid_start: string | null }
          | undefined;
        if (row === undefined) throw this.notFound('episode', id);
        if (row.status === 'running' && isWriterAlive(row.pid, row.pid_start)) {
          throw new ForesightError('BAD_INPUT', `Episode ${id} is still running (process ${row.pid}); stop the run before deleting it`, { id });
        }
        const frames = this.db.prepare<[string]>('SELECT DISTINCT frame_sha256 FROM steps WHERE episode_id = ?').pluck().all(id) as string[];
        this.db.prepare<[string]>('DELETE FROM episodes WHERE id = ?').run(id);
        const used = this.db.prepare<[string]>('SELECT 1 FROM steps WHERE frame_sha256 = ? LIMIT 1').pluck();
        return frames.filter((sha) => used.get(sha) === undefined);
      })();
      // After the commit: a crash in between leaves an unused file, never a row without its file.
      for (const sha of shas) rmSync(this.frames.pathOf(sha), { force: true });
    });
  }

  /** Absolute path of the screenshot file of a sha256 (whether or not it exists). */
  screenshotPath(sha256: string): string {
    return this.frames.pathOf(sha256);
  }

  /** The screenshot's PNG bytes, checked against the sha (STORE_CORRUPT) and present (NOT_FOUND). */
  readScreenshot(sha256: string): Buffer {
    return this.frames.read(sha256);
  }

  // ------------------------------------------------------------ helpers

  /** Maps SQLite's corruption errors to STORE_CORRUPT naming the file. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw isCorruptionError(e) ? translateSqliteError(e, this.path) : e;
    }
  }

  /** One transaction: checks the step exists, writes, and stamps the episode's last write. */
  private writeToStep(stepId: string, write: (t: number) => void): void {
    const t = ms(this.now());
    this.db.transaction(() => {
      const found = this.stmt.stepEpisode.get(stepId);
      if (found === undefined) throw this.notFound('step', stepId);
      const step = this.row(stepEpisodeRow, found, { table: 'steps', column: 'episode_id', row: `id=${stepId}` });
      write(t);
      this.stmt.touchEpisode.run(t, step.episode_id);
    })();
  }

  private errorJson(error: ErrorInfo | undefined): string | null {
    return error === undefined ? null : toJson(checked(errorInfoSchema, error, 'the error'), 'the error');
  }

  private notFound(what: 'episode' | 'step', id: string): ForesightError {
    return new ForesightError('NOT_FOUND', `No ${what} ${id} in ${this.path}`, { [`${what}Id`]: id });
  }

  private corrupt(ref: RowRef, problem: string): ForesightError {
    return new ForesightError(
      'STORE_CORRUPT',
      `Damaged row in ${this.path}: ${ref.table}.${ref.column} of the row ${ref.row} ${problem}`,
      { path: this.path, table: ref.table, column: ref.column, row: ref.row },
    );
  }

  /** A row as the schema says it is, or STORE_CORRUPT naming it. */
  private row<T>(schema: z.ZodType<T>, value: unknown, ref: RowRef): T {
    const r = schema.safeParse(value);
    if (!r.success) throw this.corrupt(ref, `does not hold what the schema allows: ${z.prettifyError(r.error)}`);
    return r.data;
  }

  private decode<T>(schema: z.ZodType<T>, text: string, ref: RowRef): T {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw this.corrupt(ref, `is not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    const r = schema.safeParse(value);
    if (!r.success) throw this.corrupt(ref, `does not hold what it should: ${z.prettifyError(r.error)}`);
    return r.data;
  }

  private need<T>(value: T | null, ref: RowRef): T {
    if (value === null) throw this.corrupt(ref, 'is empty');
    return value;
  }

  private summaryOf(r: EpisodeRow): EpisodeSummary {
    const s: EpisodeSummary = {
      id: r.id,
      task: r.task,
      mode: r.mode,
      status: r.status,
      planner: r.planner,
      grounder: r.grounder,
      stepCount: r.step_count,
      startedAt: r.started_at,
    };
    if (r.ended_at !== null) s.endedAt = r.ended_at;
    if (r.answer !== null) s.answer = r.answer;
    // The approval mode lives in the settings; the list shows and filters it (no schema change).
    const approval = approvalInSettings.safeParse(safeJson(r.settings_json));
    if (approval.success) s.approval = approval.data.approval;
    if (r.error_code !== null) {
      const row = `id=${r.id}`;
      const error: Record<string, unknown> = { code: r.error_code, message: r.error_message };
      if (r.error_details_json !== null) {
        error.details = this.decode(jsonObjectSchema, r.error_details_json, { table: 'episodes', column: 'error_details_json', row });
      }
      const parsed = errorInfoSchema.safeParse(error);
      if (!parsed.success) throw this.corrupt({ table: 'episodes', column: 'error_code', row }, `is not a known error: ${r.error_code}`);
      s.error = parsed.data;
    }
    return s;
  }

  private stepOf(s: StepRow): Omit<StoredStep, 'forecasts' | 'groundings' | 'approvals' | 'executions' | 'executionState'> {
    const ref = (column: string): RowRef => ({ table: 'steps', column, row: `id=${s.id}` });
    const step: Omit<StoredStep, 'forecasts' | 'groundings' | 'approvals' | 'executions' | 'executionState'> = {
      id: s.id,
      stepNumber: s.step_number,
      frameSha256: s.frame_sha256,
      screenshotPath: this.frames.pathOf(s.frame_sha256),
      imageWidth: s.image_width,
      imageHeight: s.image_height,
      geometry: this.decode(frameGeometrySchema, s.geometry_json, ref('geometry_json')),
      capturedAt: s.captured_at,
      cancelledRequests: s.cancelled_requests,
      createdAt: s.created_at,
    };
    if (s.settle_json !== null) step.settle = this.decode(settleInfoSchema, s.settle_json, ref('settle_json'));
    return step;
  }

  private forecastOf(r: ForecastRow): StoredForecast {
    const ref = (column: string): RowRef => ({ table: 'forecasts', column, row: `step_id=${r.step_id} attempt=${r.attempt}` });
    const f: StoredForecast = {
      attempt: r.attempt,
      raw: r.raw,
      latencyMs: r.latency_ms,
      model: r.model,
      history: this.decode(historySchema, r.history_json, ref('history_json')),
      createdAt: r.created_at,
    };
    if (r.parsed_json !== null) f.forecast = this.decode(wireForecastSchema, r.parsed_json, ref('parsed_json'));
    if (r.error_json !== null) f.error = this.decode(errorInfoSchema, r.error_json, ref('error_json'));
    if (r.prompt_template !== null) {
      f.prompt = {
        template: r.prompt_template,
        version: this.need(r.prompt_version, ref('prompt_version')),
        system: this.need(r.system_text, ref('system_text')),
        user: this.need(r.user_text, ref('user_text')),
      };
    }
    return f;
  }

  private groundingOf(r: GroundingRow): StoredGrounding {
    const ref = (column: string): RowRef => ({
      table: 'groundings',
      column,
      row: `id=${r.id} (step_id=${r.step_id} forecast_step_index=${r.forecast_step_index})`,
    });
    const base = { forecastStepIndex: r.forecast_step_index, createdAt: r.created_at };
    if (r.error_json !== null) return { ...base, error: this.decode(errorInfoSchema, r.error_json, ref('error_json')) };
    const g: Grounding = {
      point: { space: this.need(r.point_space, ref('point_space')), x: this.need(r.point_x, ref('point_x')), y: this.need(r.point_y, ref('point_y')) },
      confidence: this.need(r.confidence, ref('confidence')),
      grounder: this.need(r.grounder, ref('grounder')),
      latencyMs: this.need(r.latency_ms, ref('latency_ms')),
    };
    if (r.end_space !== null) {
      g.endPoint = { space: r.end_space, x: this.need(r.end_x, ref('end_x')), y: this.need(r.end_y, ref('end_y')) };
    }
    if (r.detail !== null) g.detail = r.detail;
    return { ...base, ...g };
  }

  private approvalOf(r: ApprovalRow): StoredApproval {
    const ref = (column: string): RowRef => ({ table: 'approvals', column, row: `id=${r.id} (step_id=${r.step_id})` });
    const a: StoredApproval = {
      policy: r.policy,
      decision: r.decision,
      original: this.decode(wireForecastSchema, r.original_json, ref('original_json')),
      waitedMs: r.waited_ms,
      createdAt: r.created_at,
    };
    if (r.edited_json !== null) a.edited = this.decode(wireForecastSchema, r.edited_json, ref('edited_json'));
    if (r.reason !== null) a.reason = r.reason;
    return a;
  }

  private executionOf(r: ExecutionRow): StoredExecution {
    const ref = (column: string): RowRef => ({ table: 'executions', column, row: `id=${r.id} (step_id=${r.step_id})` });
    const x: StoredExecution = {
      action: this.decode(wireActionSchema, r.action_json, ref('action_json')),
      // No outcome: the intent was committed before acting and nothing after it.
      result: r.result ?? 'unknown',
      createdAt: r.created_at,
    };
    if (r.duration_ms !== null) x.durationMs = r.duration_ms;
    if (r.completed_at !== null) x.completedAt = r.completed_at;
    if (r.global_x !== null) x.globalPoint = { x: r.global_x, y: this.need(r.global_y, ref('global_y')) };
    if (r.global_end_x !== null) x.globalEndPoint = { x: r.global_end_x, y: this.need(r.global_end_y, ref('global_end_y')) };
    if (r.error_json !== null) x.error = this.decode(errorInfoSchema, r.error_json, ref('error_json'));
    if (r.settle_json !== null) x.settle = this.decode(settleInfoSchema, r.settle_json, ref('settle_json'));
    return x;
  }
}

/**
 * How far a step got with acting. A stale forecast's record sent nothing: it alone leaves the
 * step 'not_started'.
 */
function executionState(executions: readonly StoredExecution[]): StoredStep['executionState'] {
  const tried = executions.filter((x) => x.result !== 'stale');
  if (tried.length === 0) return 'not_started';
  return tried.some((x) => x.result === 'unknown') ? 'unknown' : 'done';
}

function groupByStep<R extends { step_id: string }, T>(rows: readonly R[], map: (r: R) => T): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const list = out.get(r.step_id);
    if (list) list.push(map(r));
    else out.set(r.step_id, [map(r)]);
  }
  return out;
}

const EPISODE_COLUMNS = `e.*, (SELECT count(*) FROM steps s WHERE s.episode_id = e.id) AS step_count`;

/** "id=…" for a STORE_CORRUPT message about a row that failed its schema. */
function rowId(r: unknown): string {
  const id: unknown = typeof r === 'object' && r !== null && 'id' in r ? r.id : undefined;
  return `id=${String(id)}`;
}

type Insert<T extends Record<string, unknown>> = Omit<T, 'id'>;

// Statements declare what they bind, typed from the generated rows; what they return is
// `unknown` until a row schema has checked it.
function prepareStatements(db: SqliteDatabase) {
  return {
    insertEpisode: db.prepare<
      Pick<Row<'episodes'>, 'id' | 'task' | 'mode' | 'planner' | 'grounder' | 'settings_json' | 'started_at' | 'pid' | 'pid_start' | 'host'>
    >(
      `INSERT INTO episodes (id, task, mode, planner, grounder, settings_json, status, started_at, last_write_at, pid, pid_start, host)
       VALUES (@id, @task, @mode, @planner, @grounder, @settings_json, 'running', @started_at, @started_at, @pid, @pid_start, @host)`,
    ),
    episodeExists: db.prepare<[string]>('SELECT 1 AS one FROM episodes WHERE id = ?'),
    // substr, not LIKE: ids may hold '_' or '%'.
    episodesWithPrefix: db.prepare<[string, string]>('SELECT id FROM episodes WHERE substr(id, 1, length(?)) = ? ORDER BY id LIMIT 3').pluck(),
    touchEpisode: db.prepare<[number, string]>('UPDATE episodes SET last_write_at = max(last_write_at, ?) WHERE id = ?'),
    finishEpisode: db.prepare<
      Pick<Row<'episodes'>, 'id' | 'error_code' | 'error_message' | 'error_details_json' | 'answer'> & { status: EpisodeEnd['status']; t: number }
    >(
      `UPDATE episodes SET status = @status, error_code = @error_code, error_message = @error_message,
         error_details_json = @error_details_json, answer = @answer, ended_at = @t, last_write_at = max(last_write_at, @t)
       WHERE id = @id`,
    ),
    runningOnHost: db.prepare<[string]>("SELECT id, pid, pid_start FROM episodes WHERE status = 'running' AND host = ?"),
    interrupt: db.prepare<[string]>("UPDATE episodes SET status = 'interrupted', ended_at = last_write_at WHERE id = ? AND status = 'running'"),
    insertStep: db.prepare<StepRow>(
      `INSERT INTO steps (id, episode_id, step_number, frame_sha256, image_width, image_height, geometry_json, captured_at, settle_json,
         cancelled_requests, created_at)
       VALUES (@id, @episode_id, @step_number, @frame_sha256, @image_width, @image_height, @geometry_json, @captured_at, @settle_json,
         @cancelled_requests, @created_at)`,
    ),
    stepEpisode: db.prepare<[string]>('SELECT episode_id FROM steps WHERE id = ?'),
    insertForecast: db.prepare<Insert<ForecastRow>>(
      `INSERT INTO forecasts (step_id, attempt, raw, parsed_json, error_json, latency_ms, model, prompt_template, prompt_version,
         system_text, user_text, history_json, created_at)
       VALUES (@step_id, @attempt, @raw, @parsed_json, @error_json, @latency_ms, @model, @prompt_template, @prompt_version,
         @system_text, @user_text, @history_json, @created_at)`,
    ),
    insertGrounding: db.prepare<Insert<GroundingRow>>(
      `INSERT INTO groundings (step_id, forecast_step_index, point_space, point_x, point_y, end_space, end_x, end_y, confidence,
         grounder, detail, latency_ms, error_json, created_at)
       VALUES (@step_id, @forecast_step_index, @point_space, @point_x, @point_y, @end_space, @end_x, @end_y, @confidence,
         @grounder, @detail, @latency_ms, @error_json, @created_at)`,
    ),
    insertApproval: db.prepare<Insert<ApprovalRow>>(
      `INSERT INTO approvals (step_id, policy, decision, original_json, edited_json, reason, waited_ms, created_at)
       VALUES (@step_id, @policy, @decision, @original_json, @edited_json, @reason, @waited_ms, @created_at)`,
    ),
    insertExecution: db.prepare<Insert<ExecutionRow>>(
      `INSERT INTO executions (step_id, action_json, global_x, global_y, global_end_x, global_end_y, result, error_json, duration_ms,
         settle_json, created_at, completed_at)
       VALUES (@step_id, @action_json, @global_x, @global_y, @global_end_x, @global_end_y, @result, @error_json, @duration_ms,
         @settle_json, @created_at, @completed_at)`,
    ),
    executionStep: db.prepare<[number]>('SELECT step_id, result FROM executions WHERE id = ?'),
    // Only a row without an outcome is completed: an outcome is written once.
    completeExecution: db.prepare<Pick<ExecutionRow, 'id' | 'error_json' | 'duration_ms' | 'settle_json' | 'completed_at'> & { result: ExecutionResult }>(
      `UPDATE executions SET result = @result, error_json = @error_json, duration_ms = @duration_ms, settle_json = @settle_json,
         completed_at = @completed_at
       WHERE id = @id AND result IS NULL`,
    ),
    listEpisodes: db.prepare<[number]>(`SELECT ${EPISODE_COLUMNS} FROM episodes e ORDER BY e.started_at DESC, e.rowid DESC LIMIT ?`),
    listEpisodesByStatus: db.prepare<[string, number]>(
      `SELECT ${EPISODE_COLUMNS} FROM episodes e WHERE e.status = ? ORDER BY e.started_at DESC, e.rowid DESC LIMIT ?`,
    ),
    getEpisode: db.prepare<[string]>(`SELECT ${EPISODE_COLUMNS} FROM episodes e WHERE e.id = ?`),
    stepsOf: db.prepare<[string]>('SELECT * FROM steps WHERE episode_id = ? ORDER BY step_number'),
    forecastsOf: db.prepare<[string]>('SELECT f.* FROM forecasts f JOIN steps s ON s.id = f.step_id WHERE s.episode_id = ? ORDER BY f.step_id, f.attempt'),
    groundingsOf: db.prepare<[string]>('SELECT g.* FROM groundings g JOIN steps s ON s.id = g.step_id WHERE s.episode_id = ? ORDER BY g.id'),
    approvalsOf: db.prepare<[string]>('SELECT a.* FROM approvals a JOIN steps s ON s.id = a.step_id WHERE s.episode_id = ? ORDER BY a.id'),
    executionsOf: db.prepare<[string]>('SELECT x.* FROM executions x JOIN steps s ON s.id = x.step_id WHERE s.episode_id = ? ORDER BY x.id'),
  };
}
