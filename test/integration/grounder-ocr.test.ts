/**
 * The OCR grounder on a real desktop: Mousepad on Xvfb with its File menu open, the screen
 * captured with ImageMagick's `import`. The point it finds for 'Save As…' must be the menu
 * item: clicking there opens the Save As dialog. The document is a named file, so that
 * "Save" (just above) would save silently and only "Save As…" opens the dialog.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertPoint } from '../../common/coords.ts';
import type { Observation } from '../../common/ports.ts';
import { OcrGrounder } from '../../main/grounders/ocr.ts';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { observationFromImage } from '../fixtures/grounders/screens.ts';

let desk: XDesktop;
let grounder: OcrGrounder;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  desk = await startXDesktop();
  grounder = new OcrGrounder();
});
after(async () => {
  await grounder.close();
  await desk.stop();
});

async function captureScreen(): Promise<Observation> {
  const png = execFileSync('import', ['-window', 'root', 'png:-'], { env: desk.env, maxBuffer: 64 * 1024 * 1024, timeout: 10_000 });
  return observationFromImage(png);
}

/** Captures until the screen is the same twice in a row (the menu has finished drawing). */
async function settledScreen(): Promise<Observation> {
  let last = await captureScreen();
  for (let i = 0; i < 20; i++) {
    await sleep(150);
    const next = await captureScreen();
    if (next.frameId === last.frameId) return next;
    last = next;
  }
  return last;
}

test("Mousepad's File menu: 'Save As…' is grounded on the menu item, and clicking there opens Save As", async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'foresight-ocr-')), 'notes.txt');
  writeFileSync(file, 'a named file\n');
  desk.launch('mousepad', [file]);
  const win = await desk.waitForWindow('notes.txt');
  await sleep(500);
  desk.x('xdotool', ['windowactivate', '--sync', win]);
  desk.x('xdotool', ['key', 'alt+f']);
  const observation = await settledScreen();
  assert.equal(observation.geometry.imageWidth, desk.width);

  grounder.perceive(observation);
  const signal = new AbortController().signal;
  const g = await grounder.ground({ action: { action_type: 'click', step_instruction: "click on 'Save As…'" }, observation }, signal);
  assert.match(g.detail ?? '', /Save As/);
  assert.ok(g.confidence > 0.8, `confident on an exact match (${g.confidence})`);

  // the other items are told apart from it
  const save = await grounder.ground({ action: { action_type: 'click', step_instruction: 'click "Save"' }, observation }, signal);
  const saveAll = await grounder.ground({ action: { action_type: 'click', step_instruction: 'click on “Save All”' }, observation }, signal);
  assert.ok(save.point.y < g.point.y && g.point.y < saveAll.point.y, 'Save, Save As…, Save All from top to bottom');
  assert.equal(grounder.stats.recognitions, 1);

  const p = convertPoint(g.point, 'global', observation.geometry);
  desk.x('xdotool', ['mousemove', String(Math.round(p.x)), String(Math.round(p.y)), 'click', '1']);
  const dialog = await desk.waitForWindow('^Save As$', 10_000);
  assert.ok(dialog, 'the Save As dialog opened');
});
