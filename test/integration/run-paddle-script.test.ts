/**
 * Acceptance 1 of issue 10: `foresight run --grounder ocr:paddle` completes a task on Xvfb. A
 * script plan names its targets in quotes ('File', 'Save As…'); PP-OCR on onnxruntime finds them
 * on the live screen; the line typed into Mousepad is saved through File → Save As… to a given
 * path, and the saved file holds exactly that line.
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
  dir = mkdtempSync(join(tmpdir(), 'foresight-run-paddle-'));
});
after(async () => {
  await desk.stop();
});

test('script plan + the ocr:paddle grounder save a typed line through File → Save As…', async () => {
  desk.launch('mousepad', []);
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
  const target = join(dir, 'saved-by-paddle.txt');
  const planFile = join(dir, 'plan.txt');
  writeFileSync(planFile, saveAsPlan(target));
  const db = join(dir, 'episodes.db');

  const res = await runCli(
    ['run', 'Type the line and save it', '--planner', `script:${planFile}`, '--grounder', 'ocr:paddle', '--db', db, '--json'],
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
    const [clickFile, clickSaveAs] = [actedSteps(ep)[1]!, actedSteps(ep)[2]!];
    assert.equal(clickFile.groundings[0]?.grounder, 'ocr:paddle');
    assert.equal(clickSaveAs.groundings[0]?.grounder, 'ocr:paddle');
    assert.match(clickSaveAs.groundings[0]?.detail ?? '', /Save As/);
    // The models ran in the worker, and the episode names the provider PP-OCR's sessions run on.
    const models = ep.settings.models as { host: string; grounder: { backend: string; provider?: string } };
    assert.equal(models.host, 'worker');
    assert.deepEqual(models.grounder, { backend: 'ocr:paddle', provider: 'cpu' });
  } finally {
    store.close();
  }
});
