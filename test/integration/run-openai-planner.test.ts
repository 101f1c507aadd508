/**
 * Acceptance 3: the Save As task through `openai:` planners against an OpenAI-compatible
 * server on 127.0.0.1, once answering in the TraceR1 format and once in UI-TARS-1.5's. The
 * server records what it received: the screenshot, the text history and the prompt. And an
 * endpoint that sends its headers and then stalls: the run ends, within --timeout per attempt.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import sharp from 'sharp';
import { freshHomeEnv, startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { runCli, startCli } from '../harness/cli.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { startFakeOpenAI, userParts, type ChatRequest } from '../harness/fake-openai.ts';
import { parseForecast, serializeTraceR1 } from '../../common/formats/index.ts';
import { smartResize } from '../../common/image-resize.ts';
import { saveAsPlan, LINE } from '../fixtures/plans.ts';

let desk: XDesktop;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-openai-'));
});
after(async () => {
  await desk.stop();
});

async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 50 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 100));
  return existsSync(path) ? readFileSync(path, 'utf8') : '(no file)';
}

async function checkScreenshot(req: ChatRequest): Promise<void> {
  const { images } = userParts(req);
  assert.equal(images.length, 1, 'each request carries one screenshot');
  const m = /^data:image\/png;base64,(.+)$/.exec(images[0]!);
  assert.ok(m, 'the screenshot is a PNG data URL');
  const meta = await sharp(Buffer.from(m[1]!, 'base64')).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', desk.width, desk.height]);
}

/** Steps already done, from the request's text history ("Step N: … → ok"). */
function stepsDone(req: ChatRequest): number {
  return userParts(req).text.split('\n').filter((l) => /^Step \d+: .* → /.test(l)).length;
}

let mousepad: ChildProcess | undefined;

/** A new Mousepad with a fresh HOME, so no killed earlier session is offered for restoring. */
async function restartMousepad(): Promise<void> {
  if (mousepad) {
    const exited = new Promise((r) => mousepad!.once('exit', r));
    mousepad.kill();
    await exited;
  }
  mousepad = desk.launch('mousepad', [], freshHomeEnv());
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
}

test('TraceR1 answers from an OpenAI-compatible server drive the Save As task', async () => {
  await restartMousepad();
  const target = join(dir, 'tracer1.txt');
  const plan = parseForecast(saveAsPlan(target), 'tracer1').steps;
  // The server forecasts steps t..end at step t, as a planner that stays on its plan would; t is
  // read from the text history (speculation and stale forecasts make more requests than steps).
  const server = await startFakeOpenAI((req) => serializeTraceR1(plan.slice(stepsDone(req)), 'following the plan'));
  try {
    const res = await runCli(
      ['run', 'Type the line and save it', '--planner', `openai:${server.baseURL}#tracer1-test`, '--grounder', 'ocr', '--db', join(dir, 'a.db'), '--horizon', '4'],
      { ...desk.env, FORESIGHT_API_KEY: 'sk-test' },
    );
    assert.equal(res.code, 0, `run failed:\n${res.stdout}\n${res.stderr}`);
    assert.equal(await waitForFile(target), LINE);
    assert.ok(server.requests.length >= plan.length, `${server.requests.length} requests for ${plan.length} steps`);
    for (const req of server.requests) {
      assert.equal(req.model, 'tracer1-test');
      await checkScreenshot(req);
      const { system, text } = userParts(req);
      assert.match(system, /<answer>/, 'the TraceR1 prompt asks for an <answer> block');
      assert.match(system, /forecast the next 4 steps/i);
      assert.match(text, /Instruction: Type the line and save it/);
    }
    const first = userParts(server.requests[0]!).text;
    const third = userParts(server.requests.find((r) => stepsDone(r) === 2)!).text;
    assert.match(first, /No previous steps/);
    assert.ok(third.includes(`Step 1: type ${JSON.stringify(LINE)}`), `history of step 3 names the typed text:\n${third}`);
    assert.match(third, /Step 2: click — click on 'File' in the menu bar → ok/);
  } finally {
    await server.close();
  }
});

test('UI-TARS-1.5 answers (one step, smart-resized pixel coordinates) drive the same task', async () => {
  await restartMousepad();
  const target = join(dir, 'uitars.txt');
  // Where to click to focus the document: the middle of Mousepad's window, in screen pixels,
  // sent as the model would: in pixels of the smart-resized image.
  const wid = desk.x('xdotool', ['search', '--onlyvisible', '--name', 'Mousepad']).trim().split('\n')[0]!;
  const geo = Object.fromEntries(
    desk.x('xdotool', ['getwindowgeometry', '--shell', wid]).trim().split('\n').map((l) => l.split('=') as [string, string]),
  );
  const cx = Number(geo.X) + Number(geo.WIDTH) / 2;
  const cy = Number(geo.Y) + Number(geo.HEIGHT) / 2;
  const r = smartResize(desk.width, desk.height);
  const px = Math.round((cx * r.width) / desk.width);
  const py = Math.round((cy * r.height) / desk.height);
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const answers = [
    `Thought: Click into the document to focus it.\nAction: click(start_box='<|box_start|>(${px},${py})<|box_end|>')`,
    `Thought: Type the line.\nAction: type(content='${esc(LINE)}')`,
    `Thought: Open Save As with its shortcut.\nAction: hotkey(key='ctrl shift s')`,
    `Thought: Type the path and submit.\nAction: type(content='${esc(target)}\\n')`,
    `Thought: The file is saved.\nAction: finished(content='saved')`,
  ];
  const server = await startFakeOpenAI((req) => answers[stepsDone(req)] ?? 'Action: finished()');
  try {
    const res = await runCli(
      ['run', 'Type the line and save it', '--planner', `openai:${server.baseURL}#ui-tars-1.5-7b`, '--grounder', 'none', '--db', join(dir, 'b.db'), '--json'],
      desk.env,
    );
    assert.equal(res.code, 0, `run failed:\n${res.stdout}\n${res.stderr}`);
    assert.equal(await waitForFile(target), LINE, res.stdout);
    assert.ok(server.requests.length >= answers.length, `${server.requests.length} requests for ${answers.length} steps`);
    const clicked = res.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { type: string; target?: { globalPoint?: { x: number; y: number } } }).find((e) => e.type === 'action');
    assert.ok(clicked?.target?.globalPoint, 'the click landed on a point');
    assert.ok(Math.abs(clicked.target.globalPoint.x - cx) <= 2 && Math.abs(clicked.target.globalPoint.y - cy) <= 2, `smart-resized point maps back to (${cx}, ${cy})`);
    for (const req of server.requests) {
      await checkScreenshot(req);
      const { system, text } = userParts(req);
      assert.match(system, /## Action Space/);
      assert.match(system, /start_box/);
      assert.match(text, /## User Instruction\nType the line and save it/);
    }
    assert.match(userParts(server.requests.find((r) => stepsDone(r) === 4)!).text, /Step 3: hotkey ctrl\+shift\+s/);
    const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; answer?: string };
    assert.deepEqual([summary.status, summary.answer], ['finished', 'saved']);
  } finally {
    await server.close();
  }
});

test('an endpoint that sends headers and then stalls ends the run with ENDPOINT_ERROR within --timeout × attempts', async () => {
  const server = await startFakeOpenAI(() => ({ fault: 'stall' }));
  const db = join(dir, 'stall.db');
  const timeout = 1500;
  try {
    const run = startCli(
      ['run', 'Anything', '--planner', `openai:${server.baseURL}#stalls`, '--grounder', 'none', '--db', db, '--timeout', String(timeout), '--retries', '1', '--json'],
      desk.env,
    );
    await run.waitForLine(/"type":"observation"/);
    const t0 = Date.now();
    const res = await run.done;
    const ms = Date.now() - t0;
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.doesNotMatch(res.stderr, /handles were left open/);
    const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; error: { code: string; message: string; details?: { fault?: string } } };
    assert.equal(summary.status, 'failed');
    assert.equal(summary.error.code, 'ENDPOINT_ERROR');
    assert.equal(summary.error.details?.fault, 'timeout');
    assert.match(summary.error.message, /sent its headers \(HTTP 200\) but not the whole body within 1500 ms/);
    assert.match(summary.error.message, /2 attempts/);
    assert.equal(server.requests.length, 2, 'sent once, then once more (--retries 1)');
    // Two deadlines and one back-off of 1 s, plus the end of the run.
    assert.ok(ms < 2 * timeout + 1000 + 2500, `the run ended ${ms} ms after its first observation`);
    const store = SqliteEpisodeStore.open(db);
    try {
      const ep = store.getEpisode(store.listEpisodes({ limit: 1 })[0]!.id);
      const forecasts = ep.steps[0]!.forecasts;
      assert.equal(forecasts.length, 1, 'recorded once, not re-asked as a parse error');
      assert.equal(forecasts[0]!.error?.code, 'ENDPOINT_ERROR');
    } finally {
      store.close();
    }
  } finally {
    await server.close();
  }
});
