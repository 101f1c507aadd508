/** The run file of `bench run`, the offline planners and the progress line. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_MIGRATIONS, BenchRunStore, openDatabase } from '../../store/index.ts';
import { processStart } from '../../store/process-start.ts';
import { isForesightError } from '../../common/errors.ts';
import { parseForecast } from '../../common/formats/index.ts';
import { OraclePlanner, PredictionsPlanner, createReplayPlanner } from '../../main/replay/planners.ts';
import type { ReplayStep } from '../../main/replay/suite.ts';
import { formatProgress } from '../../main/cli/bench.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'foresight-runparts-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const row = (i: number) => ({
  stepId: `ep#${i}`,
  seq: i,
  episodeId: 'ep',
  stepIndex: i,
  truth: { id: `ep#${i}` },
  future: [],
  answers: [{ raw: 'x', latencyMs: 1 }],
  forecast: undefined,
  parseError: { code: 'PARSE_ERROR', message: 'no answer block' },
  grounding: undefined,
  groundingError: undefined,
  prediction: undefined,
  score: { success: false, metrics: {} },
  horizon: [0, null],
  reward: 0,
  rewardAccuracy: 0,
  plannerLatencyMs: 12.5,
});

describe('BenchRunStore', () => {
  test('keeps the run and its steps across reopening, in load order', () => {
    const path = join(dir, 'a', 'run.sqlite');
    const s1 = BenchRunStore.open(path);
    s1.createRun('run-1', 'screenspot', { suite: 'screenspot', limit: null });
    s1.recordStep(row(2));
    s1.recordStep(row(0));
    s1.close();
    const s2 = BenchRunStore.open(path);
    assert.equal(s2.run()?.id, 'run-1');
    assert.deepEqual(s2.run()?.config, { suite: 'screenspot', limit: null });
    assert.deepEqual([...s2.doneStepIds()].sort(), ['ep#0', 'ep#2']);
    assert.deepEqual(
      s2.steps().map((r) => r.stepId),
      ['ep#0', 'ep#2'],
    );
    assert.deepEqual(s2.steps()[0]!.horizon, [0, null]);
    assert.equal(s2.steps()[0]!.forecast, undefined);
    assert.throws(() => s2.recordStep(row(0)), /UNIQUE/, 'a step is scored once');
    s2.endSession('finished', 1500, { summary: { ok: true } });
    assert.equal(s2.run()?.status, 'finished');
    assert.equal(s2.run()?.activeMs, 1500);
    s2.close();
  });

  test('refuses a run another live process is writing', async () => {
    const path = join(dir, 'b', 'run.sqlite');
    const s = BenchRunStore.open(path);
    s.createRun('run-2', 'aitw', {});
    s.endSession('stopped', 10);
    s.close();
    // Another process claims the run and stays alive.
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      '-e',
      `import('${new URL('../../store/index.ts', import.meta.url).pathname}').then(({ BenchRunStore }) => { const s = BenchRunStore.open(${JSON.stringify(path)}); s.claimRun(); s.close(); console.log('claimed'); setTimeout(() => {}, 60000); })`,
    ]);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => (d.toString().includes('claimed') ? resolve() : undefined));
      child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    try {
      const again = BenchRunStore.open(path);
      assert.throws(
        () => again.claimRun(),
        (e: unknown) => isForesightError(e, 'BAD_INPUT') && /being written by process \d+/.test(e.message),
      );
      again.close();
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('close', r));
    const later = BenchRunStore.open(path);
    assert.equal(later.claimRun().pid, process.pid, 'once that process is gone the run can be taken over');
    later.close();
  });

  test('a run whose pid now belongs to another process can be taken over', async () => {
    const path = join(dir, 'reused', 'run.sqlite');
    const s = BenchRunStore.open(path);
    s.createRun('run-r', 'aitw', {});
    s.close();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      const raw = openDatabase(path, { migrations: BENCH_MIGRATIONS });
      // Left running by an earlier process that had this (now live) pid.
      raw.db.prepare("UPDATE bench_run SET status = 'running', pid = ?, pid_start = 'linux:earlier-boot:1', host = ?").run(other.pid, hostname());
      raw.db.close();
      const again = BenchRunStore.open(path);
      if (processStart(other.pid ?? 0) !== undefined) assert.equal(again.claimRun().pid, process.pid);
      again.close();
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('the time of a run is the sum over its sessions, a killed one up to its last scored step', () => {
    const path = join(dir, 'sessions', 'run.sqlite');
    const clock = { t: 1_000_000 };
    const now = () => clock.t;
    const s1 = BenchRunStore.open(path, { now });
    s1.createRun('run-s', 'aitw', {});
    clock.t += 700;
    s1.recordStep(row(0));
    clock.t += 5_000; // killed here: no endSession, the 5 s after the last step are not known
    s1.close();
    const s2 = BenchRunStore.open(path, { now });
    assert.deepEqual([s2.run()?.activeMs, s2.run()?.sessions], [700, 1]);
    s2.claimRun();
    clock.t += 2_000;
    s2.recordStep(row(1));
    s2.endSession('stopped', 2_500);
    s2.close();
    const s3 = BenchRunStore.open(path, { now });
    assert.deepEqual([s3.run()?.activeMs, s3.run()?.sessions], [3_200, 2]);
    s3.claimRun();
    s3.endSession('finished', 1_000);
    assert.deepEqual([s3.run()?.activeMs, s3.run()?.sessions, s3.run()?.sessionMs], [4_200, 3, 1_000]);
    s3.close();
  });

  test('a run file of the previous release opens, migrates and keeps its time', () => {
    const path = join(dir, 'old', 'run.sqlite');
    const old = openDatabase(path, { migrations: BENCH_MIGRATIONS.slice(0, 1) });
    old.db
      .prepare(
        `INSERT INTO bench_run (id, suite, config_json, status, started_at, updated_at, finished_at, active_ms, pid, host, summary_json)
         VALUES ('run-old', 'aitw', '{"suite":"aitw"}', 'finished', 1, 2, 2, 1234.5, 1, 'h', '{}')`,
      )
      .run();
    old.db.close();
    const s = BenchRunStore.open(path);
    assert.deepEqual([s.run()?.id, s.run()?.activeMs, s.run()?.sessions, s.run()?.status], ['run-old', 1234.5, 1, 'finished']);
    s.close();
  });

  test('a file that is not a database is refused with STORE_CORRUPT naming it', () => {
    const path = join(dir, 'junk.sqlite');
    writeFileSync(path, 'this is not sqlite'.repeat(200));
    assert.throws(
      () => BenchRunStore.open(path),
      (e: unknown) => isForesightError(e, 'STORE_CORRUPT') && e.message.includes(path),
    );
  });
});

const step = (id: string): ReplayStep => ({
  id,
  episodeId: 'e',
  index: 0,
  instruction: 'open the menu',
  image: { width: 400, height: 800, read: () => Promise.reject(new Error('the oracle must not read images')) },
  history: [],
  future: [
    { screenshot_abstraction: '', action: { action_type: 'click', step_instruction: 'tap Menu', point: { space: 'screenshot', x: 10, y: 20 } }, status: 'not done' },
    { screenshot_abstraction: '', action: { action_type: 'input_text', step_instruction: 'type', text: 'a "b" </answer>' }, status: 'not done' },
    { screenshot_abstraction: '', action: { action_type: 'navigate_back', step_instruction: 'back' }, status: 'done' },
  ],
  categories: {},
  gold: null,
});

describe('offline planners', () => {
  const signal = new AbortController().signal;

  test('oracle: the true future up to the horizon, exactly recovered by the parser', async () => {
    const oracle = new OraclePlanner();
    const reply = await oracle.plan(step('s1'), { horizon: 2 }, signal);
    const parsed = parseForecast(reply.raw, reply.format, { imageWidth: 400, imageHeight: 800 });
    assert.deepEqual(
      parsed.steps,
      step('s1').future.slice(0, 2),
    );
    const all = parseForecast((await oracle.plan(step('s1'), { horizon: 10 }, signal)).raw, 'tracer1');
    assert.equal(all.steps.length, 3);
  });

  test('predictions: answers by step id; a missing one is an empty (unparseable) answer', async () => {
    const file = join(dir, 'answers.jsonl');
    writeFileSync(file, `{"id":"s1","answer":"Thought: x\\nAction: click(start_box='(1,2)')","format":"uitars-1.5"}\n\n{"id":"s2","answer":"<answer></answer>"}\n`);
    const p = await createReplayPlanner(`predictions:${file}`);
    assert.equal(p.needsImage, false);
    const r1 = await p.plan(step('s1'), { horizon: 5 }, signal);
    assert.equal(r1.format, 'uitars-1.5');
    assert.match(r1.raw, /click/);
    assert.equal((await p.plan(step('s3'), { horizon: 5 }, signal)).raw, '');
  });

  test('predictions: bad files say which line and what to write', async () => {
    const bad = async (text: string, re: RegExp) => {
      const file = join(dir, `bad-${Math.random()}.jsonl`);
      writeFileSync(file, text);
      await assert.rejects(PredictionsPlanner.load(file), (e: unknown) => isForesightError(e, 'BAD_INPUT') && re.test(e.message));
    };
    await bad('{"id":"a","answer":"x"}\nnot json\n', /:2 is not JSON/);
    await bad('{"id":"a"}\n', /:1: answer: /);
    await bad('{"id":"a","answer":"x","format":"gpt"}\n', /:1: format: /);
    await bad('{"id":"a","answer":"x"}\n{"id":"a","answer":"y"}\n', /:2: a second answer for step "a"/);
    await assert.rejects(PredictionsPlanner.load(join(dir, 'missing.jsonl')), (e: unknown) => isForesightError(e, 'NOT_FOUND'));
    await assert.rejects(createReplayPlanner('gpt-4'), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /oracle/.test(e.message));
  });
});

describe('progress line', () => {
  test('bar, count, percentage, rate and ETA when the total is known', () => {
    assert.equal(
      formatProgress({ done: 250, total: 1000, resumed: 0, rate: 12.5, etaMs: 60_000 }, 10),
      '[###-------] 250/1000 25.0%  12.50 steps/s  ETA 1:00',
    );
    assert.equal(formatProgress({ done: 7, total: undefined, resumed: 3, rate: 120, etaMs: undefined }), '7 steps  120 steps/s, 3 from before');
  });
});
