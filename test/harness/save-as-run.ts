/**
 * The Save As task of the run tests: Mousepad on the test desktop, the script plan of
 * test/fixtures/plans.ts, `foresight run … --grounder <grounder> --json`. Checks what any such
 * run must give — exit 0, the saved file holds exactly the line, the summary and the episode say
 * finished — and returns the episode for the grounder's own checks.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEpisodeStore, type StoredEpisode } from '../../store/index.ts';
import { LINE, saveAsPlan } from '../fixtures/plans.ts';
import { runCli } from './cli.ts';
import type { XDesktop } from './xdesktop.ts';

export async function runSaveAsTask(desk: XDesktop, dir: string, grounder: string, fileName: string): Promise<StoredEpisode> {
  desk.launch('mousepad', []);
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
  const target = join(dir, fileName);
  const planFile = join(dir, 'plan.txt');
  writeFileSync(planFile, saveAsPlan(target));
  const db = join(dir, 'episodes.db');

  const res = await runCli(['run', 'Type the line and save it', '--planner', `script:${planFile}`, '--grounder', grounder, '--db', db, '--json'], desk.env);
  assert.equal(res.code, 0, `foresight run failed:\n${res.stdout}\n${res.stderr}`);
  for (let i = 0; i < 50 && !existsSync(target); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(readFileSync(target, 'utf8'), LINE);

  const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; episodeId: string };
  assert.equal(summary.status, 'finished');
  const store = SqliteEpisodeStore.open(db);
  try {
    const ep = store.getEpisode(summary.episodeId);
    assert.equal(ep.status, 'finished');
    return ep;
  } finally {
    store.close();
  }
}
