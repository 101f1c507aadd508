/**
 * `foresight bench run` / `bench compare` as a user runs them: the real CLI in a child process,
 * native-format data written by the fixtures, a real SQLite run file, an OpenAI-compatible
 * server on 127.0.0.1 where a model is needed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli } from '../harness/cli.ts';
import { startFakeOpenAI, userParts, type FakeOpenAI } from '../harness/fake-openai.ts';
import { freshHomeEnv } from '../harness/xdesktop.ts';
import sharp from 'sharp';
import { makePng } from '../unit/fixtures/store-fixtures.ts';
import { BenchRunStore } from '../../store/index.ts';
import type { RunSummary } from '../../main/replay/run-summary.ts';
import type { SuiteId } from '../../main/replay/suite.ts';
import { buildAndroidControlFixture } from '../fixtures/replay/androidcontrol.ts';
import { buildAitwFixture } from '../fixtures/replay/aitw.ts';
import { buildGuiOdysseyFixture } from '../fixtures/replay/guiodyssey.ts';
import { buildMind2WebFixture } from '../fixtures/replay/mind2web.ts';
import { buildScreenSpotFixture } from '../fixtures/replay/screenspot.ts';
import { buildEpisodesFixture } from '../fixtures/replay/episodes.ts';

const env = { ...process.env, ...freshHomeEnv() };
let root: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'foresight-bench-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

function readSummary(out: string): RunSummary {
  return JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;
}

/** The summary without what depends on the clock or on the session. */
function scoresOf(s: RunSummary): unknown {
  return { steps: s.steps, suite: s.suite, forecast: s.forecast };
}

describe('bench run --planner oracle scores 100% on every suite', () => {
  const cases: { suite: SuiteId; build: (dir: string) => Promise<{ dataPath: string; steps: number; split?: string }>; mode?: string }[] = [
    { suite: 'androidcontrol', build: buildAndroidControlFixture },
    { suite: 'androidcontrol', build: buildAndroidControlFixture, mode: 'low' },
    { suite: 'aitw', build: buildAitwFixture },
    { suite: 'gui-odyssey', build: buildGuiOdysseyFixture },
    { suite: 'mind2web', build: buildMind2WebFixture },
    { suite: 'screenspot', build: (d) => buildScreenSpotFixture(d, 'screenspot') },
    { suite: 'screenspot-v2', build: (d) => buildScreenSpotFixture(d, 'screenspot-v2') },
    { suite: 'screenspot-pro', build: (d) => buildScreenSpotFixture(d, 'screenspot-pro') },
    { suite: 'episodes', build: buildEpisodesFixture },
  ];
  for (const c of cases) {
    test(`${c.suite}${c.mode ? ` (${c.mode})` : ''}`, async () => {
      const dir = mkdtempSync(join(root, `${c.suite}-`));
      const fx = await c.build(join(dir, 'data'));
      const out = join(dir, 'run');
      const args = ['bench', 'run', '--suite', c.suite, '--data', fx.dataPath, '--planner', 'oracle', '--out', out, '--json'];
      if (fx.split) args.push('--split', fx.split);
      if (c.mode) args.push('--mode', c.mode);
      const res = await runCli(args, env);
      assert.equal(res.code, 0, res.stderr);
      const printed = JSON.parse(res.stdout) as RunSummary;
      const s = readSummary(out);
      assert.deepEqual(scoresOf(printed), scoresOf(s), 'the printed summary is summary.json');
      assert.equal(s.steps.scored, fx.steps);
      assert.equal(s.steps.unparsed, 0);
      assert.ok(Object.keys(s.suite.metrics).length > 0);
      for (const [name, v] of Object.entries(s.suite.metrics)) assert.equal(v, 1, `${c.suite}: ${name} is ${v}`);
      for (const b of s.suite.breakdowns) for (const row of b.rows) for (const [name, v] of Object.entries(row.metrics)) assert.equal(v, 1, `${b.name}/${row.key}: ${name}`);
      for (const h of s.forecast.horizon) if (h.accuracy !== null) assert.equal(h.accuracy, 1, `horizon ${h.k}`);
      assert.ok(existsSync(join(out, 'report.html')));
      assert.ok(readdirSync(join(out, 'predictions')).length > 0, 'the official-format predictions are written');
    });
  }
});

describe('bench run with a mistake in the command', () => {
  test('a wrong --data says what to give; the corrected command then runs in the same --out', async () => {
    const dir = mkdtempSync(join(root, 'wrong-data-'));
    const out = join(dir, 'run');
    const bad = await runCli(['bench', 'run', '--suite', 'aitw', '--data', join(dir, 'nowhere'), '--planner', 'oracle', '--out', out], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /AITW data not found at .*nowhere; give the folder with the dataset folders/);
    assert.doesNotMatch(bad.stderr, /resume/, 'nothing was scored, so there is nothing to resume');
    const fx = await buildAitwFixture(join(dir, 'data'));
    const ok = await runCli(['bench', 'run', '--suite', 'aitw', '--data', fx.dataPath, '--planner', 'oracle', '--out', out, '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(readSummary(out).steps.scored, fx.steps);
  });
});

describe('bench status after a failure while counting the steps', () => {
  // The count runs before any step: each of these failures used to leave `INTERNAL the run ended unexpectedly`.
  const cases: { name: string; spoil: (data: string) => void; args?: string[]; code: string; message: RegExp }[] = [
    {
      name: 'a malformed annotation',
      spoil: (data) => writeFileSync(join(data, 'annotations', '1000000000000003.json'), JSON.stringify({ episode_id: 'x', steps: 'none' })),
      code: 'BAD_INPUT',
      message: /GUI-Odyssey annotation \S+1000000000000003\.json does not follow introduction\.md/,
    },
    {
      name: 'a missing split file',
      spoil: (data) => rmSync(join(data, 'splits', 'task_split.json')),
      args: ['--split', 'task_split'],
      code: 'NOT_FOUND',
      message: /GUI-Odyssey split file \S+task_split\.json is missing or unreadable/,
    },
    {
      name: 'an empty folder',
      spoil: (data) => {
        rmSync(data, { recursive: true });
        mkdirSync(data);
      },
      code: 'NOT_FOUND',
      message: /No GUI-Odyssey data at \S+: expected annotations\/, screenshots\/ and splits\/ there/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const dir = mkdtempSync(join(root, 'count-fail-'));
      const fx = await buildGuiOdysseyFixture(join(dir, 'data'));
      c.spoil(fx.dataPath);
      const out = join(dir, 'run');
      const res = await runCli(['bench', 'run', '--suite', 'gui-odyssey', '--data', fx.dataPath, '--planner', 'oracle', '--out', out, ...(c.args ?? [])], env);
      assert.notEqual(res.code, 0);
      const printed = new RegExp(`foresight: ${c.code}: (.*)$`, 'm').exec(res.stderr)?.[1];
      assert.ok(printed, res.stderr);
      assert.match(printed, c.message);
      const status = await runCli(['bench', 'status', out], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /gui-odyssey run \S+: failed\n/);
      assert.ok(status.stdout.includes(`  stopped by: ${c.code} ${printed}\n`), status.stdout);
      assert.doesNotMatch(status.stdout, /INTERNAL/);
      const json = await runCli(['bench', 'status', out, '--json'], env);
      const { error } = JSON.parse(json.stdout) as { error: { code: string; message: string } };
      assert.deepEqual([error.code, error.message], [c.code, printed]);
    });
  }
});

describe('bench run with the OCR grounder', () => {
  test('answers without points are grounded by the text they quote, then scored by the official rule', async () => {
    const dir = mkdtempSync(join(root, 'ocr-'));
    const labels = [
      { text: 'Save As', x: 100, y: 100 },
      { text: 'Open Recent', x: 700, y: 200 },
      { text: 'Print Preview', x: 300, y: 500 },
      { text: 'Close Window', x: 900, y: 650 },
    ];
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="800"><rect width="100%" height="100%" fill="white"/>${labels
      .map((l) => `<text x="${l.x}" y="${l.y}" font-family="DejaVu Sans" font-size="28" fill="black">${l.text}</text>`)
      .join('')}</svg>`;
    mkdirSync(join(dir, 'screenspot_imgs'), { recursive: true });
    writeFileSync(join(dir, 'screenspot_imgs', 'menu.png'), await sharp(Buffer.from(svg)).png().toBuffer());
    // Generous boxes around each label (28 px text: from ~24 px above the baseline to ~8 below).
    const entries = labels.map((l) => ({ img_filename: 'menu.png', bbox: [l.x - 6, l.y - 30, l.text.length * 18, 42], instruction: `open ${l.text}`, data_type: 'text', data_source: 'linux' }));
    writeFileSync(join(dir, 'screenspot_desktop.json'), JSON.stringify(entries));
    // Three answers quote the right label; the third quotes another one (a miss). None has a point.
    const quoted = ['Save As', 'Open Recent', 'Close Window', 'Close Window'];
    const file = join(dir, 'answers.jsonl');
    writeFileSync(
      file,
      quoted
        .map((q, i) => {
          const action = { action_type: 'click', step_instruction: `click on '${q}'` };
          return JSON.stringify({ id: `screenspot_desktop.json#${i}`, answer: `<answer>\nStep 1: "screenshot_abstraction": "a menu", "action": ${JSON.stringify(action)}, "status": "done"\n</answer>` });
        })
        .join('\n') + '\n',
    );
    const out = join(dir, 'run');
    const res = await runCli(['bench', 'run', '--suite', 'screenspot', '--data', dir, '--planner', `predictions:${file}`, '--grounder', 'ocr', '--out', out, '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const s = readSummary(out);
    assert.equal(s.steps.failed, 0, 'every quoted label was found');
    assert.equal(s.suite.metrics.accuracy, 0.75);
    const store = BenchRunStore.open(join(out, 'run.sqlite'));
    const grounders = store.steps().map((r) => (r.grounding as { grounder?: string } | undefined)?.grounder);
    store.close();
    assert.deepEqual(grounders, ['ocr', 'ocr', 'ocr', 'ocr']);
  });
});

describe('bench run --planner predictions: with known mistakes', () => {
  test('AndroidControl: the OS-Atlas figures computed by hand', async () => {
    const dir = mkdtempSync(join(root, 'ac-pred-'));
    const fx = await buildAndroidControlFixture(join(dir, 'data'));
    const step = (action: Record<string, unknown>) =>
      `<answer>\nStep 1: "screenshot_abstraction": "", "action": ${JSON.stringify({ step_instruction: 'do it', ...action })}, "status": "not done"\n</answer>`;
    const px = (x: number, y: number) => ({ space: 'screenshot', x, y });
    // Screenshots are 540x1200; the same answers as the unit test, here through the CLI and the parser.
    const answers: Record<string, string> = {
      '101#0': step({ action_type: 'open_app', app: 'Keep Notes app' }), // ✓ "[Keep" = "[Keep"
      '101#1': step({ action_type: 'click', point: px(345, 1100) }), // ✓ 138.9 on the grid
      '101#2': step({ action_type: 'input_text', text: 'Milk' }), // type ✓, "[milk]" ≠ "[milk"
      '101#3': step({ action_type: 'scroll', direction: 'up' }), // type ✓, direction ✗
      '101#4': step({ action_type: 'navigate_home' }), // type ✗
      // 102#0 missing: no answer, wrong
      '102#1': step({ action_type: 'long_press', point: px(177, 300) }), // type ✓, 142.6: miss
      '102#2': 'Thought: search\nAction: type(content=\'pizza near me\')', // UI-TARS format ✓
      '102#3': step({ action_type: 'wait' }), // ✓
      '102#4': 'this is not an answer', // unparseable: wrong
    };
    const file = join(dir, 'answers.jsonl');
    writeFileSync(
      file,
      Object.entries(answers)
        .map(([id, answer]) => JSON.stringify(answer.startsWith('Thought') ? { id, answer, format: 'uitars-1.0' } : { id, answer }))
        .join('\n') + '\n',
    );
    const out = join(dir, 'run');
    const res = await runCli(['bench', 'run', '--suite', 'androidcontrol', '--data', fx.dataPath, '--planner', `predictions:${file}`, '--out', out, '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const s = readSummary(out);
    // Success: 101#0, 101#1, 102#2, 102#3 → 4/10. Type match: 101#0–3, 102#1–3 → 7/10. Grounding: 1 click, hit.
    assert.deepEqual(s.suite.metrics, { 'type accuracy': 0.7, 'step SR': 0.4, 'grounding accuracy': 1 });
    assert.equal(s.steps.unparsed, 2, 'the missing answer and the garbage one');
    const lines = readFileSync(join(out, 'predictions', 'androidcontrol_high.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, fx.steps);
  });
});

// ------------------------------------------------------------------------------------------
// A ScreenSpot set made here, so the model's answers and their verdicts are known.

const N = 24;
const BOX = (i: number) => ({ x: 10 + ((i * 37) % 300), y: 20 + ((i * 53) % 700), w: 40, h: 30 });

function writeScreenSpotSet(dir: string): string {
  mkdirSync(join(dir, 'screenspot_imgs'), { recursive: true });
  for (let k = 0; k < 3; k++) writeFileSync(join(dir, 'screenspot_imgs', `shot${k}.png`), makePng(400, 800, k + 1));
  const entries = Array.from({ length: N }, (_, i) => {
    const b = BOX(i);
    return { img_filename: `shot${i % 3}.png`, bbox: [b.x, b.y, b.w, b.h], instruction: `tap item ${i}`, data_type: i % 4 === 0 ? 'icon' : 'text', data_source: 'android' };
  });
  writeFileSync(join(dir, 'screenspot_mobile.json'), JSON.stringify(entries));
  return dir;
}

/** Even items: the centre of the box (a hit). Odd items: one pixel right of the box's right edge (a miss). */
function answerFor(i: number): string {
  const b = BOX(i);
  const x = i % 2 === 0 ? b.x + b.w / 2 : b.x + b.w + 1;
  const y = b.y + b.h / 2;
  const action = { action_type: 'click', point: { space: 'screenshot', x, y }, step_instruction: `tap item ${i}` };
  return `<think>item ${i}</think><answer>\nStep 1: "screenshot_abstraction": "a list", "action": ${JSON.stringify(action)}, "status": "done"\n</answer>`;
}

function itemOf(text: string): number {
  const m = /tap item (\d+)/.exec(text);
  assert.ok(m, `the request names the item: ${text.slice(0, 200)}`);
  return Number(m[1]);
}

describe('bench run with answers of odd shapes: every step scored, the run finishes', () => {
  test('ScreenSpot: scroll, type and drag with points, a point in global space, UI-TARS scroll(start_box), a click without a point', async () => {
    const dir = mkdtempSync(join(root, 'ss-odd-'));
    const data = writeScreenSpotSet(join(dir, 'data'));
    const centre = (i: number) => ({ x: BOX(i).x + BOX(i).w / 2, y: BOX(i).y + BOX(i).h / 2 });
    const step = (action: Record<string, unknown>) =>
      `<think>t</think><answer>\nStep 1: "screenshot_abstraction": "", "action": ${JSON.stringify({ step_instruction: 'do it', ...action })}, "status": "done"\n</answer>`;
    // The screenshots are 400 x 800: the box centres on the 0–1000 grid.
    const grid = (i: number) => ({ space: 'norm1000', x: (centre(i).x / 400) * 1000, y: (centre(i).y / 800) * 1000 });
    const answers: Record<string, { answer: string; format?: string }> = {
      0: { answer: step({ action_type: 'click', point: { space: 'screenshot', ...centre(0) } }) }, // hit
      1: { answer: step({ action_type: 'scroll', direction: 'down', point: grid(1) }) }, // hit: the script reads any point
      2: { answer: step({ action_type: 'type', text: 'x', point: { space: 'screenshot', ...centre(2) } }) }, // hit
      3: { answer: step({ action_type: 'drag', point: { space: 'screenshot', ...centre(3) } }) }, // drag without end: its point, a hit
      4: { answer: step({ action_type: 'click', point: { space: 'global', ...centre(4) } }) }, // global on a replay image = its pixels: hit
      5: { answer: step({ action_type: 'click' }) }, // no point: a miss with its reason
      6: { answer: `Thought: t\nAction: scroll(start_box='(${Math.round(grid(6).x)},${Math.round(grid(6).y)})', direction='down')`, format: 'uitars-1.0' }, // hit
    };
    const ids = readSummaryIds(data);
    const file = join(dir, 'answers.jsonl');
    writeFileSync(
      file,
      Object.entries(answers)
        .map(([i, a]) => JSON.stringify({ id: ids[Number(i)], answer: a.answer, ...(a.format ? { format: a.format } : {}) }))
        .join('\n') + '\n',
    );
    const out = join(dir, 'run');
    const res = await runCli(['bench', 'run', '--suite', 'screenspot', '--data', data, '--planner', `predictions:${file}`, '--out', out, '--json'], env);
    assert.equal(res.code, 0, res.stderr);
    const s = readSummary(out);
    assert.equal(s.suite.count, N, 'every step scored');
    assert.equal(s.suite.metrics.accuracy, 6 / N);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /the answer has no point/);
  });
});

/** The sample ids of writeScreenSpotSet's data in load order, as the loader names them. */
function readSummaryIds(data: string): string[] {
  const entries = JSON.parse(readFileSync(join(data, 'screenspot_mobile.json'), 'utf8')) as unknown[];
  return entries.map((_, i) => `screenspot_mobile.json#${i}`);
}

describe('bench run with a model endpoint', () => {
  let data: string;
  let server: FakeOpenAI;
  const asked: number[] = [];
  let down = false;

  before(async () => {
    data = writeScreenSpotSet(join(root, 'ss-data'));
    server = await startFakeOpenAI((req) => {
      const i = itemOf(userParts(req).text);
      if (down) return { status: 503, body: { error: { message: 'the model is loading' } } };
      asked.push(i);
      return { delayMs: 40, content: answerFor(i) };
    });
  });
  after(() => server.close());

  const run = (out: string, extra: string[] = []) =>
    ['bench', 'run', '--suite', 'screenspot', '--data', data, '--planner', `openai:${server.baseURL}#fake-vl`, '--out', out, '--json', ...extra];

  test('the official rule on known answers: half the clicks are one pixel outside the box', async () => {
    asked.length = 0;
    const out = join(root, 'ss-full');
    const res = await runCli(run(out, ['--concurrency', '4']), env);
    assert.equal(res.code, 0, res.stderr);
    const s = readSummary(out);
    assert.equal(s.steps.scored, N);
    assert.equal(asked.length, N, 'one request per step');
    const accuracy = Object.entries(s.suite.metrics).find(([k]) => /accuracy/i.test(k))?.[1];
    assert.equal(accuracy, 0.5);
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(report, /<caption>All 12, in load order<\/caption>/, 'the report lists the wrong steps');
    // Every request carried the screenshot.
    assert.ok(server.requests.slice(-N).every((r) => userParts(r).images[0]?.startsWith('data:image/png;base64,')));
  });

  test('kill -9 half-way, then the same command: same summary, finished steps never asked again', async () => {
    const out = join(root, 'ss-resume');
    asked.length = 0;
    const first = startCli(run(out, ['--concurrency', '1']), env);
    while (asked.length < N / 2) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    await first.done;
    const store = BenchRunStore.open(join(out, 'run.sqlite'));
    const kept = store.steps().map((r) => itemOf(JSON.stringify(r.answers)));
    assert.equal(store.run()?.status, 'running', 'a killed run is left as it was');
    store.close();
    assert.ok(kept.length >= N / 2 - 2 && kept.length < N, `steps kept: ${kept.length}`);
    const status = await runCli(['bench', 'status', out], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`screenspot run \\S+: interrupted\\n  steps scored ${kept.length} of ${N}`));
    const resume = /to go on: npx foresight (.*)$/m.exec(status.stdout)?.[1];
    assert.ok(resume, status.stdout);
    assert.deepEqual(resume.split(' '), ['bench', 'run', '--suite', 'screenspot', '--data', data, '--planner', `openai:${server.baseURL}#fake-vl`, '--horizon', '5', '--out', out]);

    asked.length = 0;
    const res = await runCli(run(out, ['--concurrency', '3']), env);
    assert.equal(res.code, 0, res.stderr);
    for (const i of kept) assert.ok(!asked.includes(i), `item ${i} was finished before the kill and must not be asked again`);
    assert.equal(asked.length + kept.length, N);
    assert.deepEqual(scoresOf(readSummary(out)), scoresOf(readSummary(join(root, 'ss-full'))));
  });

  test('a run killed, then stopped, then finished reports the time of all three sessions', async () => {
    const out = join(root, 'ss-sessions');
    const file = join(out, 'run.sqlite');
    const timeOf = () => {
      const store = BenchRunStore.open(file);
      try {
        const run = store.run();
        assert.ok(run);
        return { activeMs: run.activeMs, sessions: run.sessions, scored: store.countSteps() };
      } finally {
        store.close();
      }
    };
    // Session 1: kill -9 after a third of the steps; it never gets to end its session.
    asked.length = 0;
    const first = startCli(run(out, ['--concurrency', '1']), env);
    while (asked.length < N / 3) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    await first.done;
    const afterKill = timeOf();
    // Each step waited 40 ms for the model: the killed session's time is kept up to its last step.
    assert.ok(afterKill.activeMs >= 40 * afterKill.scored, `session 1: ${afterKill.activeMs} ms for ${afterKill.scored} steps`);
    const status = await runCli(['bench', 'status', out], env);
    assert.match(status.stdout, /active \d+\.\d s\n/, 'one session so far');

    // Session 2: Ctrl+C after a few more steps.
    asked.length = 0;
    const second = startCli(run(out, ['--concurrency', '1']), env);
    while (asked.length < 4) await new Promise((r) => setTimeout(r, 10));
    second.child.kill('SIGINT');
    assert.equal((await second.done).code, 130);
    const afterStop = timeOf();
    assert.equal(afterStop.sessions, 2);
    assert.ok(afterStop.activeMs >= afterKill.activeMs + 40 * (afterStop.scored - afterKill.scored), JSON.stringify({ afterKill, afterStop }));
    const stopped = await runCli(['bench', 'status', out], env);
    assert.match(stopped.stdout, new RegExp(`active ${(afterStop.activeMs / 1000).toFixed(1)} s over 2 sessions\\n`), stopped.stdout);

    // Session 3 finishes the run.
    const last = await runCli(run(out, ['--concurrency', '1']), env);
    assert.equal(last.code, 0, last.stderr);
    const s = readSummary(out);
    assert.equal(s.timing.sessions, 3);
    const total = timeOf();
    assert.equal(total.sessions, 3);
    assert.ok(s.timing.wallMs >= afterStop.activeMs + 40 * (N - afterStop.scored), `${s.timing.wallMs} ms over the three sessions`);
    assert.ok(Math.abs(s.timing.wallMs - total.activeMs) < 1000, 'summary.json and the run file agree');
    assert.ok(s.timing.wallMs >= 40 * N, 'every step of every session is counted');
    const done = await runCli(['bench', 'status', out], env);
    assert.match(done.stdout, / over 3 sessions\n/);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /steps\/s over \d+\.\d s in 3 sessions/);
  });

  test('Ctrl+C stops after the steps in flight (exit 130); the same command finishes the run', async () => {
    const out = join(root, 'ss-sigint');
    asked.length = 0;
    const first = startCli(run(out, ['--concurrency', '2']), env);
    while (asked.length < 4) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGINT');
    const r1 = await first.done;
    assert.equal(r1.code, 130, r1.stderr);
    assert.match(r1.stderr, /run the same command again to resume/);
    const store = BenchRunStore.open(join(out, 'run.sqlite'));
    assert.equal(store.run()?.status, 'stopped');
    store.close();
    const res = await runCli(run(out), env);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(scoresOf(readSummary(out)), scoresOf(readSummary(join(root, 'ss-full'))));
  });

  test('a failing endpoint ends the run as failed with what to do; nothing is scored as wrong for it', async () => {
    const out = join(root, 'ss-down');
    down = true;
    try {
      const res = await runCli(run(out, ['--timeout', '2000']), env);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /ENDPOINT_ERROR/);
      assert.match(res.stderr, /Nothing was scored; run the same command again when the endpoint answers/);
    } finally {
      down = false;
    }
    const res = await runCli(run(out), env);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(scoresOf(readSummary(out)), scoresOf(readSummary(join(root, 'ss-full'))));
  });

  test('answers.jsonl re-scored through predictions: gives the same numbers without the model', async () => {
    const before = server.requests.length;
    const out = join(root, 'ss-rescore');
    const res = await runCli(
      ['bench', 'run', '--suite', 'screenspot', '--data', data, '--planner', `predictions:${join(root, 'ss-full', 'answers.jsonl')}`, '--out', out, '--json'],
      env,
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(server.requests.length, before, 'the model was not asked');
    assert.deepEqual(readSummary(out).suite, readSummary(join(root, 'ss-full')).suite);
  });

  test('a predictions file with a broken line is refused with the line number', async () => {
    const file = join(root, 'bad.jsonl');
    writeFileSync(file, `{"id": "a", "answer": "x"}\n{"id": 3}\n`);
    const res = await runCli(['bench', 'run', '--suite', 'screenspot', '--data', data, '--planner', `predictions:${file}`, '--out', join(root, 'ss-bad')], env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /bad\.jsonl:2: id: /);
  });

  test('another configuration in the same --out is refused; --fresh starts over', async () => {
    const out = join(root, 'ss-full');
    const res = await runCli(['bench', 'run', '--suite', 'screenspot', '--data', data, '--planner', 'oracle', '--out', out], env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /holds a run with another configuration \(planner: .*Use another --out, or --fresh/);
    const copy = join(root, 'ss-oracle');
    const ok = await runCli(['bench', 'run', '--suite', 'screenspot', '--data', data, '--planner', 'oracle', '--out', copy, '--fresh', '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(Object.values(readSummary(copy).suite.metrics).every((v) => v === 1), true);
  });

  test('a run tried with --limit grows into the full run without asking again', async () => {
    const out = join(root, 'ss-limit');
    asked.length = 0;
    const small = await runCli(run(out, ['--limit', '8']), env);
    assert.equal(small.code, 0, small.stderr);
    assert.equal(readSummary(out).steps.scored, 8);
    const firstAsked = [...asked];
    asked.length = 0;
    const lower = await runCli(run(out, ['--limit', '4']), env);
    assert.equal(lower.code, 2, 'a lower limit would leave scored steps out of the summary');
    assert.match(lower.stderr, /another configuration \(limit: 8 there, 4 now\)/);
    const full = await runCli(run(out), env);
    assert.equal(full.code, 0, full.stderr);
    assert.equal(asked.length, N - 8);
    for (const i of firstAsked) assert.ok(!asked.includes(i), `item ${i} was asked again`);
    assert.deepEqual(scoresOf(readSummary(out)), scoresOf(readSummary(join(root, 'ss-full'))));
  });

  test('bench compare lines the runs up with the difference', async () => {
    const html = join(root, 'compare.html');
    const res = await runCli(['bench', 'compare', join(root, 'ss-full'), join(root, 'ss-oracle'), '--out', html], env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /accuracy\s+50\.0%\s+100\.0%\s+\+50\.0 pt/i);
    assert.ok(readFileSync(html, 'utf8').includes('<svg'));
    const missing = await runCli(['bench', 'compare', join(root, 'ss-full'), join(root, 'nope')], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No run at .*nope/);
  });
});
