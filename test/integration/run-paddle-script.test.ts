/**
 * Acceptance 1 of issue 10: `foresight run --grounder ocr:paddle` completes a task on Xvfb. A
 * script plan names its targets in quotes ('File', 'Save As…'); PP-OCR on onnxruntime finds them
 * on the live screen; the line typed into Mousepad is saved through File → Save As… to a given
 * path, and the saved file holds exactly that line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { actedSteps } from '../harness/episodes.ts';
import { runSaveAsTask } from '../harness/save-as-run.ts';

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
  const ep = await runSaveAsTask(desk, dir, 'ocr:paddle', 'saved-by-paddle.txt');
  const [clickFile, clickSaveAs] = [actedSteps(ep)[1]!, actedSteps(ep)[2]!];
  assert.equal(clickFile.groundings[0]?.grounder, 'ocr:paddle');
  assert.equal(clickSaveAs.groundings[0]?.grounder, 'ocr:paddle');
  assert.match(clickSaveAs.groundings[0]?.detail ?? '', /Save As/);
  // The models ran in the worker, and the episode names the provider PP-OCR's sessions run on.
  const models = ep.settings.models as { host: string; grounder: { backend: string; provider?: string } };
  assert.equal(models.host, 'worker');
  assert.deepEqual(models.grounder, { backend: 'ocr:paddle', provider: 'cpu' });
});
