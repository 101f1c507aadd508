/**
 * Acceptance 2: `foresight run` with a script: plan and the OCR grounder types a line with
 * punctuation and non-ASCII letters into Mousepad and saves it through File → Save As… to a
 * given path; the saved file holds exactly that line. Also: the episode is in the database.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { actedSteps } from '../harness/episodes.ts';
import { runSaveAsTask } from '../harness/save-as-run.ts';

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
  const ep = await runSaveAsTask(desk, dir, 'ocr', 'saved-line.txt');
  const acted = actedSteps(ep);
  assert.equal(acted.length, 6);
  const clickSaveAs = acted[2]!;
  assert.equal(clickSaveAs.groundings[0]?.grounder, 'ocr');
  assert.ok(existsSync(clickSaveAs.screenshotPath), 'the screenshot of each step is kept');
});
