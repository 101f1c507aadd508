/**
 * The schema of the episode database, as numbered migrations, and the code that opens a
 * database file and brings it up to date.
 *
 * Rules: a migration, once released, is never edited or renumbered — add a new one. A
 * database whose applied migrations are not a prefix of MIGRATIONS was written by a newer
 * (or a different) Foresight, and opening it is refused rather than guessed at.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ForesightError } from '../common/errors.ts';
import { ROWS } from './schema.generated.ts';

export interface Migration {
  /** 1, 2, 3, … with no gaps: the order they are applied in. */
  id: number;
  /** snake_case, unique; recorded with the id so a different migration under the same id is caught. */
  name: string;
  sql: string;
}

export type SqliteDatabase = Database.Database;

/** The header's application_id ('FRST'): marks a file as a Foresight database. */
export const FORESIGHT_APPLICATION_ID = 0x46525354;

export const BUSY_TIMEOUT_MS = 5000;

// Conventions: ids are TEXT (UUIDs), timestamps INTEGER milliseconds since the epoch,
// durations REAL milliseconds, JSON as TEXT validated on read. STRICT tables reject values of
// the wrong type instead of silently storing them. Child rows of a step carry an INTEGER
// rowid only to keep their insertion order; they are addressed through their step.
const INITIAL_SCHEMA = `
CREATE TABLE episodes (
  id                 TEXT PRIMARY KEY,
  task               TEXT NOT NULL,
  mode               TEXT NOT NULL CHECK (mode IN ('agent', 'demonstration', 'replay')),
  planner            TEXT NOT NULL,
  grounder           TEXT NOT NULL,
  settings_json      TEXT NOT NULL,
  status             TEXT NOT NULL
                     CHECK (status IN ('running', 'finished', 'failed', 'stopped', 'interrupted', 'needs_user')),
  error_code         TEXT,
  error_message      TEXT,
  error_details_json TEXT,
  answer             TEXT,
  started_at         INTEGER NOT NULL,
  ended_at           INTEGER,
  -- Time of the last committed write to the episode or any of its rows: the end time of an
  -- episode whose process died.
  last_write_at      INTEGER NOT NULL,
  -- Which process writes it, so an episode left 'running' by a crash can be told apart.
  pid                INTEGER NOT NULL,
  host               TEXT NOT NULL,
  CHECK ((error_code IS NULL) = (error_message IS NULL))
) STRICT;
CREATE INDEX episodes_by_start ON episodes (started_at DESC);
CREATE INDEX episodes_by_status ON episodes (status, started_at DESC);

-- One observation of the screen and everything decided and done from it. A step of a
-- demonstration has no forecast (ROADMAP 4); nothing here requires one.
CREATE TABLE steps (
  id            TEXT PRIMARY KEY,
  episode_id    TEXT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
  step_number   INTEGER NOT NULL CHECK (step_number >= 1),
  -- sha256 of the PNG: the file <blobDir>/<sha[0..2]>/<sha>.png.
  frame_sha256  TEXT NOT NULL CHECK (length(frame_sha256) = 64),
  image_width   INTEGER NOT NULL,
  image_height  INTEGER NOT NULL,
  geometry_json TEXT NOT NULL,
  captured_at   INTEGER NOT NULL,
  settle_json   TEXT,
  created_at    INTEGER NOT NULL,
  UNIQUE (episode_id, step_number)
) STRICT;
CREATE INDEX steps_by_frame ON steps (frame_sha256);

-- Every planner call of a step, failed ones included, with the exact text sent (ROADMAP 3).
CREATE TABLE forecasts (
  id              INTEGER PRIMARY KEY,
  step_id         TEXT NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
  attempt         INTEGER NOT NULL CHECK (attempt >= 0),
  raw             TEXT NOT NULL,
  parsed_json     TEXT,
  error_json      TEXT,
  latency_ms      REAL NOT NULL,
  model           TEXT NOT NULL,
  prompt_template TEXT,
  prompt_version  TEXT,
  system_text     TEXT,
  user_text       TEXT,
  history_json    TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  UNIQUE (step_id, attempt),
  -- The prompt is recorded whole or not at all (a scripted planner has none).
  CHECK ((prompt_template IS NULL) = (prompt_version IS NULL)
     AND (prompt_template IS NULL) = (system_text IS NULL)
     AND (prompt_template IS NULL) = (user_text IS NULL))
) STRICT;

-- A point found for one step of the forecast (index 0 is the step executed), or why none was.
CREATE TABLE groundings (
  id                  INTEGER PRIMARY KEY,
  step_id             TEXT NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
  forecast_step_index INTEGER NOT NULL CHECK (forecast_step_index >= 0),
  point_space         TEXT,
  point_x             REAL,
  point_y             REAL,
  end_space           TEXT,
  end_x               REAL,
  end_y               REAL,
  confidence          REAL,
  grounder            TEXT,
  detail              TEXT,
  latency_ms          REAL,
  error_json          TEXT,
  created_at          INTEGER NOT NULL,
  CHECK (point_space IS NULL OR point_space IN ('screenshot', 'norm1000', 'norm1', 'global')),
  CHECK (end_space IS NULL OR end_space IN ('screenshot', 'norm1000', 'norm1', 'global')),
  -- Either a point (with what found it) or the error that said why there is none.
  CHECK (CASE WHEN error_json IS NULL
    THEN point_space IS NOT NULL AND point_x IS NOT NULL AND point_y IS NOT NULL
         AND confidence IS NOT NULL AND grounder IS NOT NULL AND latency_ms IS NOT NULL
    ELSE point_space IS NULL AND point_x IS NULL AND point_y IS NULL END),
  CHECK ((end_space IS NULL) = (end_x IS NULL) AND (end_x IS NULL) = (end_y IS NULL))
) STRICT;
CREATE INDEX groundings_by_step ON groundings (step_id);

-- What a person (or the policy) decided about a forecast; an edit keeps both forecasts.
CREATE TABLE approvals (
  id            INTEGER PRIMARY KEY,
  step_id       TEXT NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
  policy        TEXT NOT NULL CHECK (policy IN ('never', 'each', 'forecast')),
  decision      TEXT NOT NULL CHECK (decision IN ('approve', 'edit', 'reject')),
  original_json TEXT NOT NULL,
  edited_json   TEXT,
  reason        TEXT,
  waited_ms     REAL NOT NULL,
  created_at    INTEGER NOT NULL,
  CHECK (decision <> 'edit' OR edited_json IS NOT NULL)
) STRICT;
CREATE INDEX approvals_by_step ON approvals (step_id);

-- What was actually done to the computer, by the agent or by a person.
CREATE TABLE executions (
  id           INTEGER PRIMARY KEY,
  step_id      TEXT NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
  action_json  TEXT NOT NULL,
  global_x     REAL,
  global_y     REAL,
  global_end_x REAL,
  global_end_y REAL,
  result       TEXT NOT NULL CHECK (result IN ('ok', 'error', 'stopped')),
  error_json   TEXT,
  duration_ms  REAL NOT NULL,
  settle_json  TEXT,
  created_at   INTEGER NOT NULL,
  CHECK ((global_x IS NULL) = (global_y IS NULL)),
  CHECK ((global_end_x IS NULL) = (global_end_y IS NULL))
) STRICT;
CREATE INDEX executions_by_step ON executions (step_id);
`;

// Write-ahead execution records (a crash must never leave an action the database does not
// know was attempted): the intent (action, target) is committed before any input is sent, with
// result NULL, and completed after (result, error, duration, completed_at). A row whose result
// is still NULL after its process died reads as "started, outcome unknown". SQLite cannot
// change a column's constraints in place, so the table is rebuilt; every row written before
// was written after acting, so it is complete (completed_at = created_at).
//
// With the pid, the start of that process as the OS reports it (see store/process-start.ts):
// after a reboot or a long time the pid may belong to another process, and only both together
// tell that the writer is still alive. NULL in rows of earlier versions: the pid alone decides.
const WRITE_AHEAD_EXECUTIONS = `
CREATE TABLE executions_new (
  id           INTEGER PRIMARY KEY,
  step_id      TEXT NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
  action_json  TEXT NOT NULL,
  global_x     REAL,
  global_y     REAL,
  global_end_x REAL,
  global_end_y REAL,
  -- NULL: the intent is recorded, the outcome is not (yet).
  result       TEXT CHECK (result IN ('ok', 'error', 'stopped')),
  error_json   TEXT,
  duration_ms  REAL,
  settle_json  TEXT,
  -- When the intent was committed, before acting.
  created_at   INTEGER NOT NULL,
  completed_at INTEGER,
  CHECK ((global_x IS NULL) = (global_y IS NULL)),
  CHECK ((global_end_x IS NULL) = (global_end_y IS NULL)),
  CHECK ((result IS NULL) = (completed_at IS NULL) AND (result IS NULL) = (duration_ms IS NULL)),
  CHECK (result IS NOT NULL OR (error_json IS NULL AND settle_json IS NULL))
) STRICT;
INSERT INTO executions_new (id, step_id, action_json, global_x, global_y, global_end_x, global_end_y, result, error_json,
    duration_ms, settle_json, created_at, completed_at)
  SELECT id, step_id, action_json, global_x, global_y, global_end_x, global_end_y, result, error_json,
    duration_ms, settle_json, created_at, created_at
  FROM executions;
DROP TABLE executions;
ALTER TABLE executions_new RENAME TO executions;
CREATE INDEX executions_by_step ON executions (step_id);

ALTER TABLE episodes ADD COLUMN pid_start TEXT;
`;

// Speculative observation (issue 13). A forecast made on a frame the screen no longer showed when
// it was about to be acted on is not executed: its first action is recorded with the result
// 'stale' (nothing was sent; error_json says what drew). The CHECK on result can only change by
// rebuilding the table, as in migration 2; every row is copied as it was.
// steps.cancelled_requests: planner requests made on earlier frames of the step's observation
// and cancelled because the screen drew over them before it settled. Those requests are not
// rows of `forecasts`: their frames were never an observation (not stored), and an aborted
// request has no answer; the count says what speculation cost. 0 in steps written before.
const STALE_FORECASTS = `
CREATE TABLE executions_new (
  id           INTEGER PRIMARY KEY,
  step_id      TEXT NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
  action_json  TEXT NOT NULL,
  global_x     REAL,
  global_y     REAL,
  global_end_x REAL,
  global_end_y REAL,
  -- NULL: the intent is recorded, the outcome is not (yet). 'stale': not executed, the screen
  -- changed after the forecast's frame.
  result       TEXT CHECK (result IN ('ok', 'error', 'stopped', 'stale')),
  error_json   TEXT,
  duration_ms  REAL,
  settle_json  TEXT,
  created_at   INTEGER NOT NULL,
  completed_at INTEGER,
  CHECK ((global_x IS NULL) = (global_y IS NULL)),
  CHECK ((global_end_x IS NULL) = (global_end_y IS NULL)),
  CHECK ((result IS NULL) = (completed_at IS NULL) AND (result IS NULL) = (duration_ms IS NULL)),
  CHECK (result IS NOT NULL OR (error_json IS NULL AND settle_json IS NULL))
) STRICT;
INSERT INTO executions_new (id, step_id, action_json, global_x, global_y, global_end_x, global_end_y, result, error_json,
    duration_ms, settle_json, created_at, completed_at)
  SELECT id, step_id, action_json, global_x, global_y, global_end_x, global_end_y, result, error_json,
    duration_ms, settle_json, created_at, completed_at
  FROM executions;
DROP TABLE executions;
ALTER TABLE executions_new RENAME TO executions;
CREATE INDEX executions_by_step ON executions (step_id);

ALTER TABLE steps ADD COLUMN cancelled_requests INTEGER NOT NULL DEFAULT 0 CHECK (cancelled_requests >= 0);
`;

export const MIGRATIONS: readonly Migration[] = [
  { id: 1, name: 'initial_schema', sql: INITIAL_SCHEMA },
  { id: 2, name: 'write_ahead_executions', sql: WRITE_AHEAD_EXECUTIONS },
  { id: 3, name: 'stale_forecasts', sql: STALE_FORECASTS },
];

// ---------------------------------------------------------------- the run file of `foresight bench run`

// One `run.sqlite` per --out folder (store/bench-store.ts), with migrations of its own.
const BENCH_SCHEMA = `
CREATE TABLE bench_run (
  id           TEXT PRIMARY KEY,
  suite        TEXT NOT NULL,
  -- What makes two runs the same run: resuming with another configuration is refused.
  config_json  TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('running', 'finished', 'stopped', 'failed', 'interrupted')),
  error_json   TEXT,
  -- Steps the loader will yield (after --limit), once known.
  total_steps  INTEGER,
  started_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  -- Wall time spent running, summed over every (resumed) session.
  active_ms    REAL NOT NULL DEFAULT 0,
  pid          INTEGER NOT NULL,
  host         TEXT NOT NULL,
  summary_json TEXT
) STRICT;

CREATE TABLE bench_steps (
  step_id             TEXT PRIMARY KEY,
  -- Position in the loader's order: summaries and prediction files follow it.
  seq                 INTEGER NOT NULL UNIQUE,
  episode_id          TEXT NOT NULL,
  step_index          INTEGER NOT NULL,
  truth_json          TEXT NOT NULL,
  future_json         TEXT NOT NULL,
  -- The planner's answers (every attempt) and what came of the last one.
  answers_json        TEXT NOT NULL,
  forecast_json       TEXT,
  parse_error_json    TEXT,
  grounding_json      TEXT,
  grounding_error_json TEXT,
  prediction_json     TEXT,
  score_json          TEXT NOT NULL,
  horizon_json        TEXT NOT NULL,
  reward              REAL NOT NULL,
  reward_accuracy     REAL NOT NULL,
  planner_latency_ms  REAL,
  created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX bench_steps_by_episode ON bench_steps (episode_id, step_index);
`;

// A run's time is the sum over its sessions, and a session killed with SIGKILL never reaches
// endSession: so the time of the session in progress is written with every scored step
// (session_ms) and folded into active_ms when the next session claims the run. Runs written
// before this migration count as one session (how many there were is not known).
// With the pid, the start of its process, as for episodes (store/process-start.ts).
const BENCH_SESSIONS = `
ALTER TABLE bench_run ADD COLUMN sessions INTEGER NOT NULL DEFAULT 1 CHECK (sessions >= 1);
ALTER TABLE bench_run ADD COLUMN session_ms REAL NOT NULL DEFAULT 0 CHECK (session_ms >= 0);
ALTER TABLE bench_run ADD COLUMN pid_start TEXT;
`;

export const BENCH_MIGRATIONS: readonly Migration[] = [
  { id: 1, name: 'bench_run_schema', sql: BENCH_SCHEMA },
  { id: 2, name: 'bench_run_sessions', sql: BENCH_SESSIONS },
];

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

export interface AppliedMigration {
  id: number;
  name: string;
  appliedAt: number;
}

function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.id !== i + 1) {
      throw new ForesightError('INTERNAL', `Migration "${m.name}" has id ${m.id}; expected ${i + 1} (ids run 1, 2, 3, … without gaps)`);
    }
  });
}

function describeApplied(applied: readonly AppliedMigration[]): string {
  return applied.map((a) => `${a.id} ${a.name}`).join(', ') || 'none';
}

/** The migrations recorded in a database, in order. */
export function appliedMigrations(db: SqliteDatabase): AppliedMigration[] {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!hasTable) return [];
  return db
    .prepare('SELECT * FROM schema_migrations ORDER BY id')
    .all()
    .map((row) => {
      const r = ROWS.schema_migrations.safeParse(row);
      if (!r.success) throw new ForesightError('STORE_CORRUPT', `A row of schema_migrations is damaged: ${JSON.stringify(row)}`);
      return { id: r.data.id, name: r.data.name, appliedAt: r.data.applied_at };
    });
}

/**
 * Refuses a file that is not a Foresight database, or whose applied migrations are not a
 * prefix of `migrations`. Returns the applied ones.
 */
function checkApplied(db: SqliteDatabase, dbPath: string, migrations: readonly Migration[]): AppliedMigration[] {
  const appId: unknown = db.pragma('application_id', { simple: true });
  if (appId !== 0 && appId !== FORESIGHT_APPLICATION_ID) {
    throw new ForesightError(
      'STORE_MIGRATION',
      `${dbPath} is an SQLite database of another application (application_id ${appId}), not a Foresight episode database; refusing to open it`,
      { path: dbPath, applicationId: appId },
    );
  }
  const applied = appliedMigrations(db);
  if (applied.length === 0) {
    const tables = db
      .prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all();
    if (tables.length > 0) {
      throw new ForesightError(
        'STORE_MIGRATION',
        `${dbPath} holds tables (${tables.join(', ')}) but no schema_migrations table: it was not written by Foresight; refusing to open it`,
        { path: dbPath, tables },
      );
    }
  }
  const known = migrations.map((m) => `${m.id} ${m.name}`);
  const isPrefix = applied.length <= migrations.length && applied.every((a, i) => known[i] === `${a.id} ${a.name}`);
  if (!isPrefix) {
    throw new ForesightError(
      'STORE_MIGRATION',
      `${dbPath} was written by a newer or different version of Foresight: its schema has migrations [${describeApplied(applied)}], ` +
        `this version knows [${known.join(', ') || 'none'}]. Upgrade Foresight, or use another database file.`,
      { path: dbPath, applied: applied.map((a) => ({ id: a.id, name: a.name })), known: migrations.map((m) => ({ id: m.id, name: m.name })) },
    );
  }
  return applied;
}

/**
 * Applies the pending migrations, all in one IMMEDIATE transaction (so two processes opening
 * the same new file do not both migrate it; a failing migration leaves the file as it was).
 * An up-to-date file is only read. Returns the ids applied now.
 */
export function migrate(
  db: SqliteDatabase,
  dbPath: string,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => number = Date.now,
): number[] {
  checkMigrationList(migrations);
  if (checkApplied(db, dbPath, migrations).length === migrations.length) return [];
  const run = db.transaction((): number[] => {
    // Again under the write lock: another process may have migrated it meanwhile.
    const applied = checkApplied(db, dbPath, migrations);
    db.exec(MIGRATIONS_TABLE);
    const record = db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)');
    const done: number[] = [];
    for (const m of migrations.slice(applied.length)) {
      db.exec(m.sql);
      record.run(m.id, m.name, Math.round(now()));
      done.push(m.id);
    }
    db.pragma(`application_id = ${FORESIGHT_APPLICATION_ID}`);
    return done;
  });
  return run.immediate();
}

/** SQLite's extended result code of an error thrown by better-sqlite3 ('SQLITE_NOTADB', …). */
export function sqliteErrorCode(e: unknown): string | undefined {
  const code: unknown = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** True for the errors SQLite gives when a file is not (or no longer) a readable database. */
export function isCorruptionError(e: unknown): boolean {
  const code = sqliteErrorCode(e);
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || (code?.startsWith('SQLITE_CORRUPT_') ?? false);
}

/** Maps SQLite's own errors about the file to ForesightErrors that name the path. */
export function translateSqliteError(e: unknown, dbPath: string): unknown {
  if (e instanceof ForesightError) return e;
  const code = sqliteErrorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  if (isCorruptionError(e)) {
    return new ForesightError(
      'STORE_CORRUPT',
      `${dbPath} is not a readable Foresight episode database (SQLite says: ${message}). Move it aside to start a new one.`,
      { path: dbPath, sqlite: code },
      { cause: e },
    );
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code?.startsWith('SQLITE_READONLY') || code?.startsWith('SQLITE_IOERR')) {
    return new ForesightError('BAD_INPUT', `Cannot open the episode database ${dbPath}: ${message}`, { path: dbPath, sqlite: code }, { cause: e });
  }
  return e;
}

export interface OpenedDatabase {
  db: SqliteDatabase;
  /** Absolute path of the file. */
  path: string;
  /** Migrations applied by this open (empty when the file was up to date). */
  migrationsApplied: number[];
}

/**
 * Opens (creating when missing) an episode database: WAL, foreign keys, busy timeout, and
 * the pending migrations applied. Throws STORE_CORRUPT for a file that is not an SQLite
 * database and STORE_MIGRATION for one written by a newer or different Foresight.
 */
export function openDatabase(
  dbPath: string,
  opts: { migrations?: readonly Migration[]; now?: () => number } = {},
): OpenedDatabase {
  const path = resolve(dbPath);
  let db: SqliteDatabase | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // The first statement that reads the file: a non-database fails here with SQLITE_NOTADB.
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL loses no committed transaction when the process dies, only (at
    // worst) the last ones when the machine loses power; it syncs far less than FULL.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const migrationsApplied = migrate(db, path, opts.migrations ?? MIGRATIONS, opts.now ?? Date.now);
    return { db, path, migrationsApplied };
  } catch (e) {
    db?.close();
    throw translateSqliteError(e, path);
  }
}
