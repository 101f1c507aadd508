/**
 * The episode store: the one module that owns better-sqlite3. The agent loop sees it only
 * as the EpisodeStore port of common/ports.ts; the CLI and, later, the renderer's backend
 * and dataset export use the read API here.
 */
export { SqliteEpisodeStore, isProcessAlive, isWriterAlive, type OpenOptions } from './episode-store.ts';
export { FrameFiles, pngSize, sha256Hex } from './frames.ts';
export {
  MIGRATIONS,
  FORESIGHT_APPLICATION_ID,
  appliedMigrations,
  migrate,
  openDatabase,
  type AppliedMigration,
  type Migration,
  type OpenedDatabase,
} from './migrations.ts';
export type {
  EpisodeSummary,
  ListEpisodesOptions,
  StoredApproval,
  StoredEpisode,
  StoredExecution,
  StoredForecast,
  StoredGrounding,
  StoredStep,
} from './types.ts';
export { BenchRunStore, BENCH_MIGRATIONS, type BenchRunRow, type BenchRunStatus, type BenchStepRow } from './bench-store.ts';
