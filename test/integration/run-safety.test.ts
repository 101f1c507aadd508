/**
 * Acceptance 4–6: the kill switch stops a long typing action within 200 ms and the episode
 * ends as stopped; a planner answering garbage is re-asked, then the episode fails with its
 * reason and earlier steps kept; `kill -9` leaves an interrupted episode with its steps.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY_RECORDER_PY } from '../harness/key-recorder.ts';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { runCli, startCli } from '../harness/cli.ts';
import { startFakeOpenAI, userParts } from '../harness/fake-openai.ts';
import { serializeTraceR1 } from '../../common/formats/index.ts';
import type { ForecastStep } from '../../common/actions.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';

let desk: XDesktop;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-safety-'));
});
after(async () => {
  await desk.stop();
});

const step = (action: ForecastStep['action'], status: ForecastStep['status'] = 'not done'): ForecastStep => ({
  screenshot_abstraction: '',
  action,
  status,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


test('the kill switch stops a long typing action within 200 ms; the episode ends as stopped', async () => {
  const log = join(dir, 'keys.log');
  writeFileSync(join(dir, 'recorder.py'), KEY_RECORDER_PY);
  desk.launch('xterm', ['-T', 'recorder', '-e', 'python3', join(dir, 'recorder.py'), log]);
  await desk.focusWindow(await desk.waitForWindow('recorder'));
  await sleep(500);
  const long = 'the quick brown fox jumps over the lazy dog '.repeat(60);
  const planFile = join(dir, 'long.txt');
  writeFileSync(planFile, serializeTraceR1([step({ action_type: 'type', text: long, step_instruction: 'type a long text' }, 'done')]));
  const db = join(dir, 'kill.db');
  const run = startCli(['run', 'Type a long text', '--planner', `script:${planFile}`, '--grounder', 'none', '--db', db, '--kill-key', 'ctrl+alt+k'], desk.env);
  // Let it type for a while, then press the kill switch from outside, as a person would. The run
  // first starts its model worker (seconds under load), so typing may begin late.
  for (let i = 0; i < 400 && (!existsSync(log) || readFileSync(log, 'utf8').split('\n').length < 40); i++) await sleep(50);
  const typedBefore = readFileSync(log, 'utf8').trim().split('\n').length;
  assert.ok(typedBefore >= 40, 'typing had started');
  const trigger = Date.now();
  desk.x('xdotool', ['key', 'ctrl+alt+k']);
  const res = await run.done;
  await sleep(300);
  const rows = readFileSync(log, 'utf8').trim().split('\n');
  const last = Number(rows.at(-1)!.split(' ')[0]);
  assert.ok(rows.length < long.length, 'typing did not finish');
  assert.ok(last - trigger <= 200, `last character arrived ${last - trigger} ms after the trigger`);
  assert.equal(res.code, 130, `exit code of a stopped run\n${res.stdout}\n${res.stderr}`);
  const store = SqliteEpisodeStore.open(db);
  try {
    const [ep] = store.listEpisodes({ limit: 1 });
    assert.equal(ep?.status, 'stopped');
    const full = store.getEpisode(ep.id);
    assert.equal(full.steps[0]?.executions[0]?.result, 'stopped');
  } finally {
    store.close();
  }
});

test('garbage from the planner is re-asked N times, then the episode fails with its reason; earlier steps stay', async () => {
  const good = serializeTraceR1([step({ action_type: 'wait', duration_ms: 50, step_instruction: 'wait for the screen' })]);
  const server = await startFakeOpenAI((_req, i) => (i === 0 ? good : 'I think we should click somewhere nice.'));
  const db = join(dir, 'garbage.db');
  try {
    const res = await runCli(
      ['run', 'Do something', '--planner', `openai:${server.baseURL}#junk`, '--grounder', 'none', '--db', db, '--retries', '2', '--speculate', 'off', '--json'],
      desk.env,
    );
    assert.equal(res.code, 1);
    assert.equal(server.requests.length, 1 + 3, 'step 1, then step 2 asked 1 + 2 times');
    assert.match(userParts(server.requests[2]!).text, /previous answer could not be used: .*answer/i, 'the retry says what was wrong');
    const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; error: { code: string; message: string } };
    assert.equal(summary.status, 'failed');
    assert.equal(summary.error.code, 'PARSE_ERROR');
    assert.match(summary.error.message, /after 3 attempts/);
    const store = SqliteEpisodeStore.open(db);
    try {
      const [ep] = store.listEpisodes({ limit: 1 });
      const full = store.getEpisode(ep!.id);
      assert.equal(full.status, 'failed');
      assert.equal(full.error?.code, 'PARSE_ERROR');
      assert.equal(full.steps.length, 2);
      assert.equal(full.steps[0]!.executions[0]?.result, 'ok');
      assert.deepEqual(full.steps[1]!.forecasts.map((f) => f.error?.code), ['PARSE_ERROR', 'PARSE_ERROR', 'PARSE_ERROR']);
      assert.equal(full.steps[1]!.forecasts[0]!.raw, 'I think we should click somewhere nice.');
    } finally {
      store.close();
    }
  } finally {
    await server.close();
  }
});

test('kill -9 of a running `foresight run`: the episode shows as interrupted with its finished steps', async () => {
  const waits = Array.from({ length: 40 }, () => step({ action_type: 'wait', duration_ms: 150, step_instruction: 'wait' }));
  const planFile = join(dir, 'waits.txt');
  writeFileSync(planFile, serializeTraceR1(waits));
  const db = join(dir, 'kill9.db');
  const run = startCli(['run', 'Wait a lot', '--planner', `script:${planFile}`, '--grounder', 'none', '--db', db, '--json'], desk.env);
  let actions = 0;
  for (const t0 = Date.now(); actions < 3; await sleep(20)) {
    actions = run.lines.filter((l) => l.includes('"type":"action"')).length;
    assert.ok(Date.now() - t0 < 30_000 && run.child.exitCode === null, `the run did not reach 3 actions:\n${run.lines.join('\n')}`);
  }
  run.child.kill('SIGKILL');
  await run.done;
  const shown = await runCli(['episodes', 'list', '--db', db, '--json'], desk.env);
  assert.equal(shown.code, 0, shown.stderr);
  const [ep] = JSON.parse(shown.stdout) as Array<{ id: string; status: string }>;
  assert.equal(ep?.status, 'interrupted');
  const detail = await runCli(['episodes', 'show', ep.id, '--db', db, '--json'], desk.env);
  const full = JSON.parse(detail.stdout) as { steps: Array<{ executions: Array<{ result: string }> }> };
  const executed = full.steps.filter((s) => s.executions.length > 0).length;
  assert.ok(executed >= actions, `all ${actions} finished steps are in the database (found ${executed})`);
});

test('a planner that repeats the same click is asked once to change course, then the episode fails as a loop', async () => {
  const same = serializeTraceR1([step({ action_type: 'click', step_instruction: 'click the middle of the desktop', point: { space: 'norm1000', x: 500, y: 500 } })]);
  const server = await startFakeOpenAI(() => same);
  const db = join(dir, 'loop.db');
  try {
    const res = await runCli(['run', 'Click forever', '--planner', `openai:${server.baseURL}#looper`, '--grounder', 'none', '--db', db, '--speculate', 'off', '--json'], desk.env);
    assert.equal(res.code, 1, res.stdout);
    const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; error: { code: string }; steps: number };
    assert.deepEqual([summary.status, summary.error.code, summary.steps], ['failed', 'LOOP_DETECTED', 2]);
    assert.equal(server.requests.length, 4, 'two clicks, the third forecast, and one re-ask');
    assert.match(userParts(server.requests[3]!).text, /You are repeating "click/);
  } finally {
    await server.close();
  }
});

test('a dead endpoint fails the episode with ENDPOINT_ERROR naming the URL', async () => {
  const server = await startFakeOpenAI(() => 'unused');
  const baseURL = server.baseURL;
  await server.close(); // nothing listens on that port any more
  const db = join(dir, 'dead.db');
  const res = await runCli(['run', 'Anything', '--planner', `openai:${baseURL}#gone`, '--grounder', 'none', '--db', db, '--json'], desk.env);
  assert.equal(res.code, 1);
  const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; error: { code: string; message: string } };
  assert.equal(summary.status, 'failed');
  assert.equal(summary.error.code, 'ENDPOINT_ERROR');
  assert.ok(summary.error.message.includes(baseURL), summary.error.message);
  const store = SqliteEpisodeStore.open(db);
  try {
    const ep = store.getEpisode(store.listEpisodes({ limit: 1 })[0]!.id);
    assert.equal(ep.steps[0]!.forecasts[0]!.error?.code, 'ENDPOINT_ERROR', 'the failed call is recorded');
  } finally {
    store.close();
  }
});

test('Ctrl+C (SIGINT) stops a run at once and records the episode as stopped', async () => {
  const planFile = join(dir, 'long-wait.txt');
  writeFileSync(planFile, serializeTraceR1([step({ action_type: 'wait', duration_ms: 20_000, step_instruction: 'wait for a slow download' })]));
  const db = join(dir, 'sigint.db');
  const run = startCli(['run', 'Wait for a download', '--planner', `script:${planFile}`, '--grounder', 'none', '--db', db, '--json'], desk.env);
  await run.waitForLine(/"type":"forecast"/);
  const t0 = Date.now();
  run.child.kill('SIGINT');
  const res = await run.done;
  assert.ok(Date.now() - t0 < 5000, 'the 20 s wait was cut short');
  assert.equal(res.code, 130, res.stderr);
  const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; error: { code: string } };
  assert.deepEqual([summary.status, summary.error.code], ['stopped', 'STOPPED']);
});
