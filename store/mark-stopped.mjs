// @ts-check
/**
 * One write for the supervisor of `foresight run` (main/cli/supervisor.mjs), which kills an
 * agent too busy to answer the kill switch and then records its episode as stopped, as the
 * agent would have (SqliteEpisodeStore.finishEpisode). Plain JavaScript, so the supervisor need
 * not load tsx, zod and the whole store (seconds on a loaded machine) while the user waits for
 * the prompt; it lives here because only store/ touches better-sqlite3 and the schema.
 */
import { createRequire } from 'node:module';

/**
 * @param {string} dbPath
 * @param {string} episodeId
 * @param {{ code: string, message: string }} error
 * @returns {boolean} whether the episode was found
 */
export function markEpisodeStopped(dbPath, episodeId, error) {
  const Database = createRequire(import.meta.url)('better-sqlite3');
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const t = Date.now();
    const changed = db
      .prepare(
        `UPDATE episodes SET status = 'stopped', error_code = ?, error_message = ?, error_details_json = NULL, answer = NULL,
           ended_at = ?, last_write_at = max(last_write_at, ?)
         WHERE id = ? AND status IN ('running', 'interrupted')`,
      )
      .run(error.code, error.message, t, t, episodeId).changes;
    return changed > 0;
  } finally {
    db.close();
  }
}
