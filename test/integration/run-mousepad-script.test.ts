/**
 * Acceptance 2: `foresight run` with a script: plan and the OCR grounder types a line with
 * punctuation and non-ASCII letters into Mousepad and saves it through File → Save As… to a
 * given path; the saved file holds exactly that line. Also: the episode is in the database.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { runCli } from '../harness/cli.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { saveAsPlan, LINE } from '../fixtures/plans.ts';
import { actedSteps } from '../harness/episodes.ts';

let desk: XDesktop;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-run-'));
});
after(async () => {
  await desk.stop();
});

test('script plan + OCR grounder types a Unicode line into Mousepad and saves it with File → Save As…', async () => {
  desk.launch('mousepad', []);
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
  const target = join(dir, 'saved-line.txt');
  const planFile = join(dir, 'plan.txt');
  writeFileSync(planFile, saveAsPlan(target));
  const db = join(dir, 'episodes.db');

  const res = await runCli(
    ['run', 'Type the line and save it', '--planner', `script:${planFile}`, '--grounder', 'ocr', '--db', db, '--json'],
    desk.env,
  );
  assert.equal(res.code, 0, `foresight run failed:\n${res.stdout}\n${res.stderr}`);
  for (let i = 0; i < 50 && !existsSync(target); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(readFileSync(target, 'utf8'), LINE);

  const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; episodeId: string };
  assert.equal(summary.status, 'finished');
  const store = SqliteEpisodeStore.open(db);
  try {
    const ep = store.getEpisode(summary.episodeId);
    assert.equal(ep.status, 'finished');
    const acted = actedSteps(ep);
    assert.equal(acted.length, 6);
    const clickSaveAs = acted[2]!;
    assert.equal(clickSaveAs.groundings[0]?.grounder, 'ocr');
    assert.ok(existsSync(clickSaveAs.screenshotPath), 'the screenshot of each step is kept');
  } finally {
    store.close();
  }
});
