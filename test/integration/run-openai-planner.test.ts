/**
 * Acceptance 3: the Save As task through `openai:` planners against an OpenAI-compatible
 * server on 127.0.0.1, once answering in the TraceR1 format and once in UI-TARS-1.5's. The
 * server records what it received: the screenshot, the text history and the prompt.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import sharp from 'sharp';
import { freshHomeEnv, startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { runCli } from '../harness/cli.ts';
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
  // The server forecasts steps t..end at step t, as a planner that stays on its plan would.
  const server = await startFakeOpenAI((_req, i) => serializeTraceR1(plan.slice(i), 'following the plan'));
  try {
    const res = await runCli(
      ['run', 'Type the line and save it', '--planner', `openai:${server.baseURL}#tracer1-test`, '--grounder', 'ocr', '--db', join(dir, 'a.db'), '--horizon', '4'],
      { ...desk.env, FORESIGHT_API_KEY: 'sk-test' },
    );
    assert.equal(res.code, 0, `run failed:\n${res.stdout}\n${res.stderr}`);
    assert.equal(await waitForFile(target), LINE);
    assert.equal(server.requests.length, plan.length);
    for (const req of server.requests) {
      assert.equal(req.model, 'tracer1-test');
      await checkScreenshot(req);
      const { system, text } = userParts(req);
      assert.match(system, /<answer>/, 'the TraceR1 prompt asks for an <answer> block');
      assert.match(system, /forecast the next 4 steps/i);
      assert.match(text, /Instruction: Type the line and save it/);
    }
    const first = userParts(server.requests[0]!).text;
    const third = userParts(server.requests[2]!).text;
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
  const server = await startFakeOpenAI((_req, i) => answers[i] ?? 'Action: finished()');
  try {
    const res = await runCli(
      ['run', 'Type the line and save it', '--planner', `openai:${server.baseURL}#ui-tars-1.5-7b`, '--grounder', 'none', '--db', join(dir, 'b.db'), '--json'],
      desk.env,
    );
    assert.equal(res.code, 0, `run failed:\n${res.stdout}\n${res.stderr}`);
    assert.equal(await waitForFile(target), LINE, res.stdout);
    assert.equal(server.requests.length, answers.length);
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
    assert.match(userParts(server.requests[4]!).text, /Step 3: hotkey ctrl\+shift\+s/);
    const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; answer?: string };
    assert.deepEqual([summary.status, summary.answer], ['finished', 'saved']);
  } finally {
    await server.close();
  }
});
