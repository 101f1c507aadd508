/**
 * Issue 13, acceptance 1: on Xvfb, an OpenAI-compatible planner that answers after 500 ms while a
 * window appears 200 ms after the screen was observed. The forecast made before the window
 * appeared is not executed: it is stored as stale, the screen is observed again, and the step
 * acts on a forecast made from the new screen (its screenshot shows the window). The task — type
 * a line into Mousepad and save it through File → Save As… — still finishes: the file holds the
 * line. `foresight episodes show` says so.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseForecast, serializeTraceR1 } from '../../common/formats/index.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { saveAsPlan, LINE } from '../fixtures/plans.ts';
import { runCli } from '../harness/cli.ts';
import { startFakeOpenAI, userParts } from '../harness/fake-openai.ts';
import { freshHomeEnv, startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { openTestWindow, type TestWindow } from '../harness/x-window.ts';

let desk: XDesktop;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-speculate-'));
});
after(async () => {
  await desk.stop();
});

/** Where the window appears: bottom right, clear of Mousepad's menu and of the Save As dialog's name field. */
const POP = { x: 1000, y: 620, width: 240, height: 140 };

/** The colour of the screenshot's pixel at (x, y), as 0xRRGGBB. */
async function pixel(png: Buffer, x: number, y: number): Promise<number> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
}

test('a window that appears while the model thinks: the forecast is stored as stale, the step acts on one made from the new screen', async () => {
  const mousepad = desk.launch('mousepad', [], freshHomeEnv());
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
  const target = join(dir, 'saved.txt');
  const plan = parseForecast(saveAsPlan(target), 'tracer1').steps;
  // Made (unmapped) before the run, so that it appears on time even on a busy machine.
  const popup: TestWindow = await openTestWindow(desk.display, { ...POP, mapped: false });
  let popped = false;
  let shownAt = 0;
  const server = await startFakeOpenAI((req) => {
    // The steps done so far, from the text history: the plan goes on from there.
    const done = userParts(req).text.split('\n').filter((l) => /^Step \d+: .* → /.test(l)).length;
    if (done === 1 && !popped) {
      // Asked about the screen after the line was typed: 200 ms later a window opens.
      popped = true;
      setTimeout(() => void popup.show().then(() => (shownAt = Date.now())), 200);
    }
    return { delayMs: 500, content: serializeTraceR1(plan.slice(done), 'following the plan') };
  });
  try {
    const db = join(dir, 'a.db');
    const res = await runCli(['run', 'Type the line and save it', '--planner', `openai:${server.baseURL}#tracer1-test`, '--grounder', 'ocr', '--db', db, '--horizon', '3'], desk.env);
    assert.equal(res.code, 0, `run failed:\n${res.stdout}\n${res.stderr}`);
    assert.ok(popped, 'the window appeared');
    assert.equal(existsSync(target) ? readFileSync(target, 'utf8') : '(no file)', LINE);

    let staleCount = 0;
    const store = SqliteEpisodeStore.open(db);
    const episodeId = store.listEpisodes({ limit: 1 })[0]!.id;
    try {
      const episode = store.getEpisode(episodeId);
      // The first forecast made after the line was typed (click on File) is the one the window overtook.
      const clickFile = "click on 'File' in the menu bar";
      const staleAt = episode.steps.findIndex((s) => s.forecasts.some((f) => f.forecast?.steps[0]?.action.step_instruction === clickFile));
      const stale = episode.steps[staleAt]!;
      assert.equal(stale.executions[0]?.result, 'stale', `window shown at ${shownAt}; steps: ${JSON.stringify(episode.steps.map((x) => [x.stepNumber, x.capturedAt, x.executions[0]?.createdAt]))}\n${res.stdout}`);
      assert.equal(stale.executions[0]?.action.step_instruction, clickFile);
      assert.equal(stale.executionState, 'not_started', 'nothing was sent for it');
      assert.match(stale.executions[0]?.error?.message ?? '', /screen changed after the forecast's frame was captured \(\d+ drawings? over /);
      // The click on File that was acted on came from a forecast made on the new screen: its screenshot shows the window.
      const acted = episode.steps.find((s) => s.executions.some((x) => x.result === 'ok' && x.action.step_instruction === clickFile))!;
      assert.ok(acted.stepNumber > stale.stepNumber);
      const cx = POP.x + POP.width / 2;
      const cy = POP.y + POP.height / 2;
      assert.notEqual(await pixel(readFileSync(stale.screenshotPath), cx, cy), 0x3366cc, 'the stale forecast was made without the window');
      assert.equal(await pixel(readFileSync(acted.screenshotPath), cx, cy), 0x3366cc, 'the acted-on forecast was made on the screen with the window');
      assert.ok(episode.staleForecasts >= 1);
      staleCount = episode.staleForecasts;
    } finally {
      store.close();
    }
    const show = await runCli(['episodes', 'show', episodeId, '--db', db], desk.env);
    assert.match(show.stdout, new RegExp(`speculation on: \\d+ requests? cancelled, ${staleCount} stale forecasts?\\b`));
    assert.match(show.stdout, /stale, not executed: click — click on 'File' in the menu bar — Not executed: the screen changed/);
    assert.equal(popup.clicks, 0, 'nothing clicked the window');
  } finally {
    popup.close();
    await server.close();
    mousepad.kill();
  }
});
