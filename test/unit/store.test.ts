import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { isForesightError } from '../../common/errors.ts';
import type { ApprovalRecord, ExecutionRecord, ForecastAttempt, PromptRecord } from '../../common/ports.ts';
import { MIGRATIONS, SqliteEpisodeStore, openDatabase, type StoredEpisode } from '../../store/index.ts';
import { processStart } from '../../store/process-start.ts';
import { GEOMETRY, action, forecast, observation, sha256 } from './fixtures/store-fixtures.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRITER = fileURLToPath(new URL('./fixtures/store-writer.ts', import.meta.url));

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDb(): { dir: string; dbPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'foresight-store-'));
  dirs.push(dir);
  return { dir, dbPath: join(dir, 'episodes.db') };
}

/** A clock the test sets by hand, and ids that count. */
function fixedClockAndIds(): { clock: { t: number }; opts: { now: () => number; newId: () => string } } {
  const clock = { t: 1_760_000_000_000 };
  let n = 0;
  return { clock, opts: { now: () => clock.t, newId: () => `id-${++n}` } };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Spawns a process that exits at once and returns its (now free) pid. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid;
  assert.ok(pid !== undefined);
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}

const PROMPT: PromptRecord = {
  template: 'tracer1-desktop',
  version: '1',
  system: 'You are a GUI agent operating a desktop computer.',
  user: 'Instruction: Save the document as report.txt\nHistory: No previous steps.',
};

void describe('SqliteEpisodeStore', () => {
  void it('writes a full episode and reads every record back', () => {
    const { dir, dbPath } = tempDb();
    const { clock, opts } = fixedClockAndIds();
    const store = SqliteEpisodeStore.open(dbPath, opts);
    const T0 = clock.t;

    const openFile = action('click', "click on 'File' in the menu bar");
    const saveAs = action('click', "click on 'Save As…' in the File menu");
    const typeName = action('type', 'type the file name', { text: 'report.txt' });
    const saveAsEdited = action('hotkey', 'save as with the keyboard', { keys: ['ctrl', 'shift', 's'] });
    const planned = forecast(openFile, saveAs, typeName);
    const edited = forecast(saveAsEdited, typeName);
    const finished = forecast(action('finished', 'the file is saved', { answer: 'Saved as report.txt' }));

    const episodeId = store.createEpisode({
      task: 'Save the document as report.txt',
      mode: 'agent',
      planner: 'openai:http://127.0.0.1:8000/v1#qwen',
      grounder: 'ocr',
      settings: { horizon: 5, approval: 'each', maxSteps: 30 },
    });

    clock.t = T0 + 1_000;
    const obs1 = observation(1, T0 + 900);
    const step1 = store.beginStep(episodeId, 1, obs1);
    const failedAttempt: ForecastAttempt = {
      attempt: 1,
      raw: 'I will click File.',
      error: { code: 'PARSE_ERROR', message: 'No <answer> block', details: { raw: 'I will click File.' } },
      latencyMs: 812.5,
      model: 'qwen',
      prompt: PROMPT,
      history: [],
    };
    clock.t = T0 + 2_000;
    store.recordForecast(step1, failedAttempt);
    const goodAttempt: ForecastAttempt = {
      attempt: 2,
      raw: '<think>The file menu is closed.</think><answer>Step 1: …</answer>',
      forecast: planned,
      latencyMs: 640,
      model: 'qwen',
      prompt: { ...PROMPT, user: `${PROMPT.user}\nYour previous answer could not be used: No <answer> block` },
      history: [],
    };
    clock.t = T0 + 3_000;
    store.recordForecast(step1, goodAttempt);
    clock.t = T0 + 3_100;
    store.recordGrounding(step1, 0, { point: { space: 'screenshot', x: 10.5, y: 4 }, confidence: 0.92, grounder: 'ocr', detail: 'File', latencyMs: 12 });
    clock.t = T0 + 3_200;
    store.recordGrounding(step1, 1, { error: { code: 'GROUNDING_FAILED', message: "No text 'Save As…' on the screen" } });
    clock.t = T0 + 3_300;
    store.recordGrounding(step1, 2, {
      point: { space: 'norm1000', x: 100, y: 200 },
      endPoint: { space: 'norm1000', x: 300, y: 400 },
      confidence: 0.5,
      grounder: 'uitars',
      latencyMs: 900,
    });
    // A person waited a minute and a half, then replaced the plan with a keyboard shortcut.
    const editApproval: ApprovalRecord = { policy: 'each', decision: 'edit', original: planned, edited, waitedMs: 95_000 };
    clock.t = T0 + 98_300;
    store.recordApproval(step1, editApproval);
    const exec1: ExecutionRecord = {
      action: saveAsEdited,
      result: 'ok',
      durationMs: 130,
      settle: { settled: true, waitedMs: 400, frames: 5 },
    };
    clock.t = T0 + 98_500;
    store.recordExecution(step1, exec1);

    clock.t = T0 + 99_000;
    const obs2 = observation(2, T0 + 98_950);
    const settle2 = { settled: false, waitedMs: 3000, frames: 30 };
    const step2 = store.beginStep(episodeId, 2, obs2, settle2);
    const history = [{ step: 1, action: 'hotkey ctrl+shift+s — save as with the keyboard', outcome: 'ok' }];
    const finalAttempt: ForecastAttempt = { attempt: 1, raw: 'Step 1: finished', forecast: finished, latencyMs: 500, model: 'qwen', prompt: PROMPT, history };
    clock.t = T0 + 100_000;
    store.recordForecast(step2, finalAttempt);
    const approve: ApprovalRecord = { policy: 'each', decision: 'approve', original: finished, waitedMs: 2000 };
    clock.t = T0 + 102_000;
    store.recordApproval(step2, approve);
    const clickExec: ExecutionRecord = {
      action: openFile,
      globalPoint: { x: 210, y: 100.25 },
      globalEndPoint: { x: 400, y: 300 },
      result: 'error',
      error: { code: 'OUT_OF_SCREEN', message: 'Refusing to act at (9999, 0)' },
      durationMs: 0.5,
    };
    clock.t = T0 + 102_500;
    store.recordExecution(step2, clickExec);
    clock.t = T0 + 103_000;
    store.finishEpisode(episodeId, { status: 'finished', answer: 'Saved as report.txt' });
    store.close();

    // A new process reads it.
    const reader = SqliteEpisodeStore.open(dbPath);
    const got = reader.getEpisode(episodeId);
    const blobs = join(dir, 'blobs');
    const sha1 = sha256(obs1.png);
    const sha2 = sha256(obs2.png);
    const expected: StoredEpisode = {
      id: episodeId,
      task: 'Save the document as report.txt',
      mode: 'agent',
      status: 'finished',
      planner: 'openai:http://127.0.0.1:8000/v1#qwen',
      grounder: 'ocr',
      stepCount: 2,
      startedAt: T0,
      endedAt: T0 + 103_000,
      answer: 'Saved as report.txt',
      approval: 'each',
      settings: { horizon: 5, approval: 'each', maxSteps: 30 },
      pid: process.pid,
      host: got.host,
      lastWriteAt: T0 + 103_000,
      cancelledRequests: 0,
      staleForecasts: 0,
      steps: [
        {
          id: step1,
          stepNumber: 1,
          frameSha256: sha1,
          screenshotPath: join(blobs, sha1.slice(0, 2), `${sha1}.png`),
          imageWidth: 64,
          imageHeight: 40,
          geometry: GEOMETRY,
          capturedAt: T0 + 900,
          cancelledRequests: 0,
          createdAt: T0 + 1_000,
          forecasts: [
            { ...failedAttempt, createdAt: T0 + 2_000 },
            { ...goodAttempt, createdAt: T0 + 3_000 },
          ],
          groundings: [
            {
              forecastStepIndex: 0,
              point: { space: 'screenshot', x: 10.5, y: 4 },
              confidence: 0.92,
              grounder: 'ocr',
              detail: 'File',
              latencyMs: 12,
              createdAt: T0 + 3_100,
            },
            { forecastStepIndex: 1, error: { code: 'GROUNDING_FAILED', message: "No text 'Save As…' on the screen" }, createdAt: T0 + 3_200 },
            {
              forecastStepIndex: 2,
              point: { space: 'norm1000', x: 100, y: 200 },
              endPoint: { space: 'norm1000', x: 300, y: 400 },
              confidence: 0.5,
              grounder: 'uitars',
              latencyMs: 900,
              createdAt: T0 + 3_300,
            },
          ],
          approvals: [{ ...editApproval, createdAt: T0 + 98_300 }],
          executions: [{ ...exec1, createdAt: T0 + 98_500, completedAt: T0 + 98_500 }],
          executionState: 'done',
        },
        {
          id: step2,
          stepNumber: 2,
          frameSha256: sha2,
          screenshotPath: join(blobs, sha2.slice(0, 2), `${sha2}.png`),
          imageWidth: 64,
          imageHeight: 40,
          geometry: GEOMETRY,
          capturedAt: T0 + 98_950,
          settle: settle2,
          cancelledRequests: 0,
          createdAt: T0 + 99_000,
          forecasts: [{ ...finalAttempt, createdAt: T0 + 100_000 }],
          groundings: [],
          approvals: [{ ...approve, createdAt: T0 + 102_000 }],
          executions: [{ ...clickExec, createdAt: T0 + 102_500, completedAt: T0 + 102_500 }],
          executionState: 'done',
        },
      ],
    };
    assert.deepEqual(got, expected);
    // The edit is kept as a pair: what the model proposed and what the person made of it.
    const pair = got.steps[0]?.approvals[0];
    assert.deepEqual([pair?.original, pair?.edited], [planned, edited]);

    assert.deepEqual(reader.listEpisodes(), [
      {
        id: episodeId,
        task: 'Save the document as report.txt',
        mode: 'agent',
        status: 'finished',
        planner: 'openai:http://127.0.0.1:8000/v1#qwen',
        grounder: 'ocr',
        stepCount: 2,
        startedAt: T0,
        endedAt: T0 + 103_000,
        answer: 'Saved as report.txt',
        approval: 'each',
      },
    ]);
    reader.close();
  });

  void it('stores each screenshot as a PNG file named by its sha256, before and apart from the row', () => {
    const { dir, dbPath } = tempDb();
    const store = SqliteEpisodeStore.open(dbPath);
    const episodeId = store.createEpisode({ task: 't', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
    const obs = observation(7, 1);
    const lying = observation(8, 2, 'not-the-sha-of-anything');
    const same = observation(7, 3); // the screen did not change: same bytes, one file
    store.beginStep(episodeId, 1, obs);
    store.beginStep(episodeId, 2, lying);
    store.beginStep(episodeId, 3, same);
    const steps = store.getEpisode(episodeId).steps;

    for (const [step, png] of [
      [steps[0], obs.png],
      [steps[1], lying.png],
      [steps[2], same.png],
    ] as const) {
      assert.ok(step);
      const file = readFileSync(step.screenshotPath);
      assert.equal(sha256(file), step.frameSha256);
      assert.deepEqual(new Uint8Array(file), png);
      assert.equal(step.screenshotPath, join(dir, 'blobs', step.frameSha256.slice(0, 2), `${step.frameSha256}.png`));
      assert.deepEqual(new Uint8Array(store.readScreenshot(step.frameSha256)), png);
    }
    assert.equal(steps[1]?.frameSha256, sha256(lying.png), 'a wrong frameId is replaced by the real sha256');
    assert.equal(steps[0]?.screenshotPath, steps[2]?.screenshotPath);
    const files = walk(join(dir, 'blobs'));
    assert.equal(files.length, 2, `no temporary files left behind: ${files.join(', ')}`);

    // A damaged file is reported, not returned.
    writeFileSync(steps[0]?.screenshotPath ?? '', 'not the png');
    assert.throws(
      () => store.readScreenshot(steps[0]?.frameSha256 ?? ''),
      (e) => isForesightError(e, 'STORE_CORRUPT') && e.message.includes(steps[0]?.screenshotPath ?? '?'),
    );
    store.close();
  });

  void it('keeps demonstration steps that have no forecast, and a rejection with its reason', () => {
    const { dbPath } = tempDb();
    const store = SqliteEpisodeStore.open(dbPath);
    const demo = store.createEpisode({ task: 'show how to mute', mode: 'demonstration', planner: 'human', grounder: 'none', settings: {} });
    for (let n = 1; n <= 3; n++) {
      const step = store.beginStep(demo, n, observation(100 + n, n));
      store.recordExecution(step, { action: action('click', `person clicked ${n}`), globalPoint: { x: n, y: n }, result: 'ok', durationMs: 5 });
    }
    store.finishEpisode(demo, { status: 'finished' });

    const agent = store.createEpisode({ task: 'delete everything', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
    const step = store.beginStep(agent, 1, observation(200, 1));
    const risky = forecast(action('hotkey', 'select all', { keys: ['ctrl', 'a'] }), action('key', 'delete', { keys: ['delete'] }));
    store.recordForecast(step, { attempt: 1, raw: 'x', forecast: risky, latencyMs: 1, model: 'm', history: [] });
    store.recordApproval(step, { policy: 'forecast', decision: 'reject', original: risky, reason: 'never delete my files', waitedMs: 10 });
    const error = { code: 'REJECTED' as const, message: 'A person rejected the forecast', details: { reason: 'never delete my files' } };
    store.finishEpisode(agent, { status: 'failed', error });

    const demoRead = store.getEpisode(demo);
    assert.equal(demoRead.mode, 'demonstration');
    assert.deepEqual(
      demoRead.steps.map((s) => [s.stepNumber, s.forecasts.length, s.executions[0]?.action.step_instruction]),
      [
        [1, 0, 'person clicked 1'],
        [2, 0, 'person clicked 2'],
        [3, 0, 'person clicked 3'],
      ],
    );
    const agentRead = store.getEpisode(agent);
    assert.deepEqual(agentRead.error, error);
    assert.equal(agentRead.steps[0]?.approvals[0]?.reason, 'never delete my files');
    assert.ok(!('prompt' in (agentRead.steps[0]?.forecasts[0] ?? {})), 'a planner without a prompt records none');

    assert.deepEqual(
      store.listEpisodes().map((e) => [e.id, e.status, e.stepCount]),
      [
        [agent, 'failed', 1],
        [demo, 'finished', 3],
      ],
    );
    assert.equal(store.resolveEpisodeId(agent), agent);
    assert.equal(store.resolveEpisodeId(agent.slice(0, 8)), agent);
    assert.throws(() => store.resolveEpisodeId('zzz'), (e) => isForesightError(e, 'NOT_FOUND'));
    assert.throws(() => store.resolveEpisodeId(''), (e) => isForesightError(e, 'BAD_INPUT'));
    assert.deepEqual(
      store.listEpisodes({ status: 'failed' }).map((e) => e.id),
      [agent],
    );
    assert.deepEqual(
      store.listEpisodes({ limit: 1 }).map((e) => e.id),
      [agent],
    );
    store.close();
  });

  void it('refuses what it cannot store and names what it cannot find', () => {
    const { dbPath } = tempDb();
    const store = SqliteEpisodeStore.open(dbPath);
    const ep = store.createEpisode({ task: 't', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
    const step = store.beginStep(ep, 1, observation(1, 1));
    const f = forecast(action('wait', 'wait'));
    assert.throws(() => store.getEpisode('nope'), (e) => isForesightError(e, 'NOT_FOUND') && e.message.includes('nope'));
    assert.throws(() => store.beginStep('nope', 1, observation(2, 2)), (e) => isForesightError(e, 'NOT_FOUND'));
    assert.throws(() => store.recordExecution('no-step', { action: action('wait', 'w'), result: 'ok', durationMs: 1 }), (e) =>
      isForesightError(e, 'NOT_FOUND'),
    );
    assert.throws(() => store.finishEpisode('nope', { status: 'stopped' }), (e) => isForesightError(e, 'NOT_FOUND'));
    assert.throws(() => store.beginStep(ep, 1, observation(3, 3)), (e) => isForesightError(e, 'BAD_INPUT') && /already has a step 1/.test(e.message));
    store.recordForecast(step, { attempt: 1, raw: 'x', forecast: f, latencyMs: 1, model: 'm', history: [] });
    assert.throws(
      () => store.recordForecast(step, { attempt: 1, raw: 'y', latencyMs: 1, model: 'm', history: [] }),
      (e) => isForesightError(e, 'BAD_INPUT'),
    );
    assert.throws(
      () => store.recordApproval(step, { policy: 'each', decision: 'edit', original: f, waitedMs: 1 }),
      (e) => isForesightError(e, 'BAD_INPUT') && /edited forecast/.test(e.message),
    );
    assert.throws(
      () => store.recordApproval(step, { policy: 'each', decision: 'approve', original: { format: 'tracer1', steps: [] }, waitedMs: 1 }),
      (e) => isForesightError(e, 'BAD_INPUT'),
    );
    // Nothing half-written: the failed writes left the step as it was.
    assert.deepEqual(
      store.getEpisode(ep).steps.map((s) => [s.forecasts.length, s.approvals.length]),
      [[1, 0]],
    );
    store.close();
  });

  void it('reports a damaged JSON column as STORE_CORRUPT naming the row', () => {
    const { dbPath } = tempDb();
    const store = SqliteEpisodeStore.open(dbPath);
    const ep = store.createEpisode({ task: 't', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
    const step = store.beginStep(ep, 1, observation(1, 1));
    const f = forecast(action('wait', 'wait'));
    store.recordForecast(step, { attempt: 3, raw: 'x', forecast: f, latencyMs: 1, model: 'm', history: [] });
    store.recordApproval(step, { policy: 'each', decision: 'approve', original: f, waitedMs: 1 });

    const raw = openDatabase(dbPath);
    raw.db.prepare(`UPDATE forecasts SET parsed_json = '{"format": "tracer1", "steps": [' WHERE attempt = 3`).run();
    raw.db.prepare(`UPDATE approvals SET original_json = '{"format": "tracer1", "steps": []}'`).run();
    assert.throws(
      () => store.getEpisode(ep),
      (e) => isForesightError(e, 'STORE_CORRUPT') && e.message.includes('forecasts.parsed_json') && e.message.includes(`step_id=${step} attempt=3`),
    );
    raw.db.prepare(`UPDATE forecasts SET parsed_json = NULL`).run();
    assert.throws(
      () => store.getEpisode(ep),
      (e) => isForesightError(e, 'STORE_CORRUPT') && e.message.includes('approvals.original_json') && e.message.includes(step),
    );
    raw.db.close();
    store.close();
  });
});

void describe('migrations', () => {
  void it('applies each migration once, however often the file is opened', () => {
    const { dbPath } = tempDb();
    const first = SqliteEpisodeStore.open(dbPath);
    assert.deepEqual(first.migrationsApplied, MIGRATIONS.map((m) => m.id));
    const id = first.createEpisode({ task: 't', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
    first.close();
    for (let i = 0; i < 3; i++) {
      const again = SqliteEpisodeStore.open(dbPath);
      assert.deepEqual(again.migrationsApplied, []);
      assert.equal(again.getEpisode(id).task, 't');
      again.close();
    }
    const raw = openDatabase(dbPath);
    assert.deepEqual(
      raw.db.prepare('SELECT id, name FROM schema_migrations ORDER BY id').all(),
      MIGRATIONS.map((m) => ({ id: m.id, name: m.name })),
    );
    raw.db.close();
  });

  void it('refuses a database written by a newer Foresight', () => {
    const { dbPath } = tempDb();
    const newer = [...MIGRATIONS, { id: MIGRATIONS.length + 1, name: 'from_the_future', sql: 'CREATE TABLE future_things (x INTEGER)' }];
    openDatabase(dbPath, { migrations: newer }).db.close();
    const before = readFileSync(dbPath);
    assert.throws(
      () => SqliteEpisodeStore.open(dbPath),
      (e) => isForesightError(e, 'STORE_MIGRATION') && e.message.includes(dbPath) && /newer or different version of Foresight/.test(e.message),
    );
    assert.deepEqual(readFileSync(dbPath), before, 'the refused file is left as it was');
  });

  void it('refuses a database whose migration 1 is a different one', () => {
    const { dbPath } = tempDb();
    openDatabase(dbPath, { migrations: [{ id: 1, name: 'someone_elses_schema', sql: 'CREATE TABLE things (x INTEGER)' }] }).db.close();
    assert.throws(() => SqliteEpisodeStore.open(dbPath), (e) => isForesightError(e, 'STORE_MIGRATION') && /someone_elses_schema/.test(e.message));
  });

  void it('refuses an SQLite database of some other program', () => {
    const { dbPath } = tempDb();
    const raw = openDatabase(dbPath, { migrations: [] }); // a bare SQLite file
    raw.db.exec('CREATE TABLE contacts (name TEXT)');
    raw.db.close();
    assert.throws(() => SqliteEpisodeStore.open(dbPath), (e) => isForesightError(e, 'STORE_MIGRATION') && /not written by Foresight/.test(e.message));
  });

  void it('says STORE_CORRUPT, naming the file, for a file that is not a database', () => {
    const { dbPath } = tempDb();
    const garbage = 'this is a text file, not an SQLite database\n'.repeat(100);
    writeFileSync(dbPath, garbage);
    assert.throws(
      () => SqliteEpisodeStore.open(dbPath),
      (e) => isForesightError(e, 'STORE_CORRUPT') && e.message.includes(dbPath) && /not a readable Foresight episode database/.test(e.message),
    );
    assert.equal(readFileSync(dbPath, 'utf8'), garbage);
  });
});

void describe('crash safety', () => {
  void it('marks the running episodes of dead processes interrupted at open, and leaves live ones running', async () => {
    const { dbPath } = tempDb();
    const gone = await deadPid();
    const { clock, opts } = fixedClockAndIds();
    const T0 = clock.t;

    // Another machine's episode: its pid means nothing here, so it is left alone.
    const elsewhere = SqliteEpisodeStore.open(dbPath, { ...opts, pid: gone, host: 'some-other-host' });
    const remote = elsewhere.createEpisode({ task: 'remote', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
    elsewhere.close();

    const crashed = SqliteEpisodeStore.open(dbPath, { ...opts, pid: gone });
    const dead = crashed.createEpisode({ task: 'crashed', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
    clock.t = T0 + 5_000;
    crashed.beginStep(dead, 1, observation(1, T0 + 4_000));
    crashed.close();

    clock.t = T0 + 60_000;
    const live = SqliteEpisodeStore.open(dbPath, opts);
    const alive = live.createEpisode({ task: 'alive', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
    live.close();

    clock.t = T0 + 120_000;
    const reopened = SqliteEpisodeStore.open(dbPath, opts);
    assert.equal(reopened.markInterrupted(), 0, 'the open already marked it');
    const byId = new Map(reopened.listEpisodes().map((e) => [e.id, e]));
    assert.equal(byId.get(dead)?.status, 'interrupted');
    assert.equal(byId.get(dead)?.endedAt, T0 + 5_000, 'ended at its last write');
    assert.equal(byId.get(dead)?.stepCount, 1);
    assert.equal(byId.get(alive)?.status, 'running');
    assert.equal(byId.get(alive)?.endedAt, undefined);
    assert.equal(byId.get(remote)?.status, 'running');
    reopened.close();
  });

  void it('keeps every committed step of a writer killed with SIGKILL', async () => {
    const { dbPath } = tempDb();
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dbPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const N = 25;
    let episodeId = '';
    let printed = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      const [word, value] = line.split(' ');
      if (word === 'episode') episodeId = value ?? '';
      if (word === 'step') printed = Number(value);
      if (printed >= N) {
        child.kill('SIGKILL');
        break;
      }
    }
    assert.equal(await exited, 'SIGKILL', `the writer should have been killed, not have ended: ${stderr}`);
    assert.ok(episodeId, `the writer printed no episode id: ${stderr}`);

    const store = SqliteEpisodeStore.open(dbPath);
    const episode = store.getEpisode(episodeId);
    assert.equal(episode.status, 'interrupted');
    assert.ok(episode.steps.length >= printed, `${episode.steps.length} steps stored, ${printed} were reported committed`);
    assert.deepEqual(
      episode.steps.map((s) => s.stepNumber),
      Array.from({ length: episode.steps.length }, (_, i) => i + 1),
    );
    for (const step of episode.steps.slice(0, printed)) {
      const planned = step.forecasts[0]?.forecast?.steps[0]?.action;
      assert.equal(planned?.action_type === 'type' ? planned.text : undefined, String(step.stepNumber));
      assert.equal(step.executions[0]?.result, 'ok');
      assert.equal(step.executionState, 'done');
    }
    // The step the kill fell into reads as not started, started with its outcome unknown, or done.
    for (const step of episode.steps.slice(printed)) assert.ok(['not_started', 'unknown', 'done'].includes(step.executionState));
    for (const step of episode.steps) {
      assert.ok(existsSync(step.screenshotPath));
      assert.equal(sha256(store.readScreenshot(step.frameSha256)), step.frameSha256);
    }
    store.close();
  });

  void it('a writer killed in the middle of an action leaves that step "started, outcome unknown"', async () => {
    const { dbPath } = tempDb();
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dbPath, '3'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let episodeId = '';
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('episode ')) episodeId = line.slice('episode '.length);
      if (line === 'acting 3') {
        child.kill('SIGKILL');
        break;
      }
    }
    assert.equal(await exited, 'SIGKILL', stderr);
    const store = SqliteEpisodeStore.open(dbPath);
    const episode = store.getEpisode(episodeId);
    store.close();
    assert.equal(episode.status, 'interrupted');
    assert.deepEqual(
      episode.steps.map((s) => [s.stepNumber, s.executionState, s.executions.map((x) => x.result)]),
      [
        [1, 'done', ['ok']],
        [2, 'done', ['ok']],
        [3, 'unknown', ['unknown']],
      ],
    );
    const started = episode.steps[2]?.executions[0];
    assert.equal(started?.action.action_type === 'type' ? started.action.text : undefined, '3', 'the intent names the action that was started');
    assert.equal(started?.durationMs, undefined);
    assert.equal(started?.completedAt, undefined);

    // What a person sees.
    const shown = spawnSync(process.execPath, [join(ROOT, 'bin', 'foresight.mjs'), 'episodes', 'show', episodeId, '--db', dbPath], { encoding: 'utf8' });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /Step 3 \(an action was started, outcome unknown\)/);
    assert.match(shown.stdout, /started, outcome unknown: type "3"/);
    assert.match(shown.stdout, /Step 2 \(acted\)[^]*ok: type "2"/);
  });
});

void describe('write-ahead executions', () => {
  void it('the intent is readable before the outcome, and an outcome is written once', () => {
    const { dbPath } = tempDb();
    const { clock, opts } = fixedClockAndIds();
    const store = SqliteEpisodeStore.open(dbPath, opts);
    const ep = store.createEpisode({ task: 't', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
    const step = store.beginStep(ep, 1, observation(1, 1));
    const click = action('click', 'click OK');
    const T = clock.t;
    const id = store.beginExecution(step, { action: click, globalPoint: { x: 10, y: 20 } });
    // Another reader (the app) sees the action as started while it runs.
    const reader = SqliteEpisodeStore.open(dbPath, opts);
    const during = reader.getEpisode(ep).steps[0];
    assert.equal(during?.executionState, 'unknown');
    assert.deepEqual(during?.executions, [{ action: click, globalPoint: { x: 10, y: 20 }, result: 'unknown', createdAt: T }]);
    clock.t = T + 250;
    store.completeExecution(id, { result: 'error', error: { code: 'OUT_OF_SCREEN', message: 'no' }, durationMs: 12 });
    const after = reader.getEpisode(ep).steps[0];
    assert.equal(after?.executionState, 'done');
    assert.deepEqual(after?.executions, [
      { action: click, globalPoint: { x: 10, y: 20 }, result: 'error', error: { code: 'OUT_OF_SCREEN', message: 'no' }, durationMs: 12, createdAt: T, completedAt: T + 250 },
    ]);
    assert.equal(reader.getEpisode(ep).lastWriteAt, T + 250);
    assert.throws(() => store.completeExecution(id, { result: 'ok', durationMs: 1 }), (e) => isForesightError(e, 'BAD_INPUT') && /already has its outcome/.test(e.message));
    assert.throws(() => store.completeExecution(9999, { result: 'ok', durationMs: 1 }), (e) => isForesightError(e, 'NOT_FOUND'));
    assert.throws(() => store.beginExecution('no-step', { action: click }), (e) => isForesightError(e, 'NOT_FOUND'));
    // A step whose forecast was rejected never acted.
    const step2 = store.beginStep(ep, 2, observation(2, 2));
    assert.equal(reader.getEpisode(ep).steps.find((s) => s.id === step2)?.executionState, 'not_started');
    reader.close();
    store.close();
  });
});

void describe('a database of the previous release', () => {
  /** The schema of release 1 (migration 1 only) with the rows that release wrote. */
  function releaseOneDatabase(dbPath: string, pid: number): void {
    const raw = openDatabase(dbPath, { migrations: MIGRATIONS.slice(0, 1) });
    // As SQL string literals: a quote doubled.
    const q = (v: unknown) => JSON.stringify(v).replaceAll("'", "''");
    const geometry = q(GEOMETRY);
    const f = q(forecast(action('click', "click on 'File'")));
    const exec = q(action('click', "click on 'File'"));
    raw.db.exec(`
      INSERT INTO episodes (id, task, mode, planner, grounder, settings_json, status, answer, started_at, ended_at, last_write_at, pid, host)
        VALUES ('ep-done', 'open the file menu', 'agent', 'script:plan.json', 'none', '{"horizon":5}', 'finished', 'done', 1000, 5000, 5000, ${pid}, 'old-host');
      INSERT INTO episodes (id, task, mode, planner, grounder, settings_json, status, error_code, error_message, started_at, last_write_at, pid, host, ended_at)
        VALUES ('ep-fail', 'do it', 'demonstration', 'human', 'none', '{}', 'failed', 'PARSE_ERROR', 'no answer', 6000, 7000, ${pid}, 'old-host', 7000);
      INSERT INTO steps (id, episode_id, step_number, frame_sha256, image_width, image_height, geometry_json, captured_at, settle_json, created_at)
        VALUES ('st-1', 'ep-done', 1, '${'a'.repeat(64)}', 64, 40, '${geometry}', 1100, NULL, 1200),
               ('st-2', 'ep-done', 2, '${'b'.repeat(64)}', 64, 40, '${geometry}', 3100, '{"settled":true,"waitedMs":130,"frames":4}', 3200);
      INSERT INTO forecasts (step_id, attempt, raw, parsed_json, latency_ms, model, history_json, created_at)
        VALUES ('st-1', 1, 'Step 1: …', '${f}', 420, 'script', '[]', 1300);
      INSERT INTO groundings (step_id, forecast_step_index, point_space, point_x, point_y, confidence, grounder, latency_ms, created_at)
        VALUES ('st-1', 0, 'screenshot', 10, 4, 1, 'none', 0.1, 1400);
      INSERT INTO approvals (step_id, policy, decision, original_json, waited_ms, created_at) VALUES ('st-1', 'each', 'approve', '${f}', 900, 1500);
      INSERT INTO executions (step_id, action_json, global_x, global_y, result, duration_ms, settle_json, created_at)
        VALUES ('st-1', '${exec}', 210, 100.5, 'ok', 130, '{"settled":true,"waitedMs":121,"frames":3,"method":"damage"}', 1600);
    `);
    raw.db.close();
  }

  void it('opens, migrates once, and reads every old row as it was, executions as done', () => {
    const { dbPath } = tempDb();
    releaseOneDatabase(dbPath, process.pid);
    const store = SqliteEpisodeStore.open(dbPath);
    assert.deepEqual(store.migrationsApplied, [2, 3]);
    const done = store.getEpisode('ep-done');
    assert.deepEqual([done.steps.map((s) => s.cancelledRequests), done.cancelledRequests, done.staleForecasts], [[0, 0], 0, 0]);
    assert.deepEqual(
      [done.status, done.answer, done.stepCount, done.steps.map((s) => s.executionState)],
      ['finished', 'done', 2, ['done', 'not_started']],
    );
    assert.deepEqual(done.steps[0]?.executions, [
      {
        action: action('click', "click on 'File'"),
        globalPoint: { x: 210, y: 100.5 },
        result: 'ok',
        durationMs: 130,
        settle: { settled: true, waitedMs: 121, frames: 3, method: 'damage' },
        createdAt: 1600,
        completedAt: 1600,
      },
    ]);
    assert.equal(done.steps[0]?.approvals[0]?.decision, 'approve');
    assert.deepEqual(done.steps[1]?.settle, { settled: true, waitedMs: 130, frames: 4 });
    const failed = store.getEpisode('ep-fail');
    assert.deepEqual([failed.mode, failed.error], ['demonstration', { code: 'PARSE_ERROR', message: 'no answer' }]);
    // New writes work on the migrated file.
    const step = store.beginStep('ep-done', 3, observation(3, 3));
    store.completeExecution(store.beginExecution(step, { action: action('wait', 'wait') }), { result: 'ok', durationMs: 1 });
    // …and so does migration 3's: a stale forecast (nothing sent) and the requests speculation cancelled.
    const staleStep = store.beginStep('ep-done', 4, observation(4, 4), undefined, { cancelledRequests: 2 });
    const why = { code: 'SCREEN_UNSTABLE', message: 'Not executed: the screen changed after the forecast was made' } as const;
    store.recordExecution(staleStep, { action: action('click', "click on 'File'"), result: 'stale', error: why, durationMs: 0 });
    const migrated = store.getEpisode('ep-done');
    assert.deepEqual(
      [migrated.steps[3]?.executionState, migrated.steps[3]?.executions[0]?.result, migrated.steps[3]?.executions[0]?.error, migrated.cancelledRequests, migrated.staleForecasts],
      ['not_started', 'stale', why, 2, 1],
    );
    store.close();

    // The migrated schema is the one a new database gets.
    const fresh = tempDb().dbPath;
    SqliteEpisodeStore.open(fresh).close();
    const schemaOf = (path: string) => {
      const raw = openDatabase(path);
      try {
        return raw.db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name <> 'schema_migrations' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
      } finally {
        raw.db.close();
      }
    };
    assert.deepEqual(schemaOf(dbPath), schemaOf(fresh));
    const again = SqliteEpisodeStore.open(dbPath);
    assert.deepEqual(again.migrationsApplied, []);
    again.close();
  });

  void it('a database with a migration this version does not know is refused with what to do', () => {
    const { dbPath } = tempDb();
    releaseOneDatabase(dbPath, process.pid);
    const future = [...MIGRATIONS, { id: MIGRATIONS.length + 1, name: 'episode_tags', sql: 'ALTER TABLE episodes ADD COLUMN tags TEXT' }];
    openDatabase(dbPath, { migrations: future }).db.close();
    const before = readFileSync(dbPath);
    assert.throws(
      () => SqliteEpisodeStore.open(dbPath),
      (e) =>
        isForesightError(e, 'STORE_MIGRATION') &&
        e.message.includes(dbPath) &&
        e.message.includes(`${MIGRATIONS.length + 1} episode_tags`) &&
        /written by a newer or different version of Foresight.*Upgrade Foresight, or use another database file/.test(e.message),
    );
    assert.deepEqual(readFileSync(dbPath), before, 'the refused file is left as it was');
  });
});

void describe('interrupted episodes and reused pids', () => {
  void it('an episode whose pid now belongs to another process is marked interrupted; its own process keeps it running', async () => {
    const { dbPath } = tempDb();
    // A real, live process: the pid the episode recorded, now running something else.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      const pid = other.pid;
      assert.ok(pid !== undefined);
      await new Promise((r) => other.once('spawn', r));
      const actual = processStart(pid);
      if (process.platform === 'linux') assert.match(actual ?? '', /^linux:[0-9a-f-]+:\d+$/);
      const ours = processStart(process.pid);
      assert.notEqual(actual, ours, 'two processes have two starts');

      // Written by an earlier process that had this pid: same pid, another start.
      const earlier = SqliteEpisodeStore.open(dbPath, { pid, pidStart: `${actual ?? 'ps:'}-earlier` });
      const reused = earlier.createEpisode({ task: 'pid reused', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
      earlier.close();
      // Written by that very process (its start as recorded): still running.
      const same = SqliteEpisodeStore.open(dbPath, { pid });
      const live = same.createEpisode({ task: 'still running', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
      same.close();
      // Written before starts were recorded: the pid alone decides (alive: running).
      const old = SqliteEpisodeStore.open(dbPath, { pid });
      const unknownStart = old.createEpisode({ task: 'no start known', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
      old.close();
      const raw = openDatabase(dbPath);
      raw.db.prepare('UPDATE episodes SET pid_start = NULL WHERE id = ?').run(unknownStart);
      raw.db.close();

      const next = SqliteEpisodeStore.open(dbPath);
      const status = new Map(next.listEpisodes().map((e) => [e.id, e.status]));
      next.close();
      if (actual === undefined) return; // a platform that does not tell process starts: nothing to compare
      assert.equal(status.get(reused), 'interrupted');
      assert.equal(status.get(live), 'running');
      assert.equal(status.get(unknownStart), 'running');
    } finally {
      other.kill('SIGKILL');
    }
  });
});
