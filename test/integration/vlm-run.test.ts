/**
 * Issue 11, acceptance 1: `foresight run --planner onnx:<dir> --grounder onnx:<dir>` on Xvfb with
 * generated tiny models in the layout @huggingface/transformers loads (Qwen2-VL as the planner,
 * Qwen2.5-VL as the grounder). The planner model reads its history from the prompt and forecasts
 * the rest of the Save As task in the TraceR1 format; the grounder model points at Mousepad's
 * document (in pixels of its resized image). The saved file holds the typed line, and the
 * episode's stored forecasts and grounding are the models' known answers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseForecast, serializeTraceR1 } from '../../common/formats/index.ts';
import { smartResize } from '../../common/image-resize.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { runCli } from '../harness/cli.ts';
import { buildTinyVlm } from '../harness/tiny-vlm.ts';
import { freshHomeEnv, startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { LINE } from '../fixtures/plans.ts';
import { actedSteps } from '../harness/episodes.ts';

let desk: XDesktop;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-vlm-run-'));
});
after(async () => {
  await desk.stop();
});

const q = (s: string) => JSON.stringify(s);

/** Click into the document, type the line, Save As with its shortcut, type the path and submit. */
function plan(path: string): string {
  return `<think>Mousepad is open. I click into the document, type the line and save it under the path.</think>
<answer>
Step 1: "screenshot_abstraction": "An empty Mousepad window", "action": {"action_type": "click", "step_instruction": "click into the document's text area"}, "status": "not done"
Step 2: "screenshot_abstraction": "The document has the focus", "action": {"action_type": "type", "text": ${q(LINE)}, "step_instruction": "type the line into the document"}, "status": "not done"
Step 3: "screenshot_abstraction": "The document holds the line", "action": {"action_type": "hotkey", "keys": ["ctrl", "shift", "s"], "step_instruction": "open Save As"}, "status": "not done"
Step 4: "screenshot_abstraction": "The Save As dialog with the Name field focused", "action": {"action_type": "type", "text": ${q(`${path}\n`)}, "step_instruction": "type the file path into the Name field and submit"}, "status": "not done"
Step 5: "screenshot_abstraction": "The document is saved", "action": {"action_type": "finished", "step_instruction": "the line is saved"}, "status": "done"
</answer>`;
}

test('a local Qwen2-VL planner and a local Qwen2.5-VL grounder complete the Save As task in Mousepad', async () => {
  desk.launch('mousepad', [], freshHomeEnv());
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
  const target = join(dir, 'local-vlm.txt');

  // The planner forecasts steps t..end at step t: answer i is the one for a history of i steps.
  const steps = parseForecast(plan(target), 'tracer1').steps;
  const answers = steps.map((_, i) => serializeTraceR1(steps.slice(i), `${steps.length - i} steps remain`));
  const plannerDir = buildTinyVlm({ answers, dir: join(dir, 'planner') });

  // The grounder points at the middle of Mousepad's window, in pixels of the image as its
  // processor resizes the screenshot (Qwen2.5-VL's convention).
  const wid = desk.x('xdotool', ['search', '--onlyvisible', '--name', 'Mousepad']).trim().split('\n')[0]!;
  const geo = Object.fromEntries(
    desk.x('xdotool', ['getwindowgeometry', '--shell', wid]).trim().split('\n').map((l) => l.split('=') as [string, string]),
  );
  const cx = Number(geo.X) + Number(geo.WIDTH) / 2;
  const cy = Number(geo.Y) + Number(geo.HEIGHT) / 2;
  const budget = { minPixels: 28 * 28 * 4, maxPixels: 28 * 28 * 64 };
  const resized = smartResize(desk.width, desk.height, 28, budget.minPixels, budget.maxPixels);
  const px = Math.round((cx * resized.width) / desk.width);
  const py = Math.round((cy * resized.height) / desk.height);
  const grounderDir = buildTinyVlm({ family: 'qwen2_5_vl', answers: [`{"point_2d": [${px}, ${py}]}`], ...budget, dir: join(dir, 'grounder') });

  const db = join(dir, 'episodes.db');
  const res = await runCli(
    ['run', 'Type the line and save it', '--planner', `onnx:${plannerDir}`, '--grounder', `onnx:${grounderDir}`, '--db', db, '--horizon', '5', '--json'],
    desk.env,
  );
  assert.equal(res.code, 0, `foresight run failed:\n${res.stdout}\n${res.stderr}`);
  for (let i = 0; i < 50 && !existsSync(target); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(existsSync(target) ? readFileSync(target, 'utf8') : '(no file)', LINE);

  const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; episodeId: string };
  assert.equal(summary.status, 'finished');
  const store = SqliteEpisodeStore.open(db);
  try {
    const ep = store.getEpisode(summary.episodeId);
    const acted = actedSteps(ep);
    assert.equal(acted.length, steps.length);
    // Each step's forecast is the model's answer for that history, read by parseForecast.
    acted.forEach((s, i) => {
      const f = s.forecasts.at(-1)!;
      assert.equal(f.raw, answers[i]);
      assert.equal(f.model, 'planner');
      assert.equal(f.prompt?.template, 'tracer1-desktop');
      assert.deepEqual(f.forecast?.steps.map((x) => x.action.action_type), steps.slice(i).map((x) => x.action.action_type));
    });
    // The click was grounded by the local grounder at its known point (one pixel of its resized image).
    const g = acted[0]!.groundings[0]!;
    assert.ok(!('error' in g && g.error), `the click was grounded: ${JSON.stringify(g)}`);
    assert.equal(g.grounder, `onnx:${grounderDir}`);
    assert.equal(g.detail, `{"point_2d": [${px}, ${py}]}`);
    assert.equal(g.point?.space, 'screenshot');
    const tol = desk.width / resized.width;
    assert.ok(Math.abs(g.point!.x - cx) <= tol && Math.abs(g.point!.y - cy) <= tol, `(${g.point!.x}, ${g.point!.y}) is within ${tol} px of (${cx}, ${cy})`);
  } finally {
    store.close();
  }
});
