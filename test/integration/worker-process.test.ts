/**
 * The model worker as a real process (native-models/worker.ts, started by main/worker/ through
 * child_process.fork and tsx) with real backends: the script planner, Tesseract OCR, and an
 * `openai:` planner talking HTTP to the fake endpoint (the one fake: no model runs here).
 * - a plan and a grounding through the worker equal the same made in this process;
 * - killed (SIGKILL) in the middle of an inference, the caller gets WORKER_CRASHED well within
 *   its deadline, the worker is back, the next request succeeds, and `ps` shows no defunct or
 *   orphaned worker; with the retry policy the request is sent again and answered;
 * - a worker that stops answering (SIGSTOP) is killed by the heartbeat and replaced;
 * - shutdown of a worker that does not answer is bounded; the worker dies with the agent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForesightError, isForesightError } from '../../common/errors.ts';
import type { PlanRequest } from '../../common/ports.ts';
import { parseWorkerMessage } from '../../common/worker-protocol.ts';
import { OcrGrounder } from '../../main/grounders/ocr.ts';
import { ScriptPlanner } from '../../main/planners/script-planner.ts';
import { ModelWorker, WORKER_ENTRY, WorkerGrounder, WorkerPlanner, forkWorker, type WorkerEvent } from '../../main/worker/index.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../harness/fake-openai.ts';
import { fileMenuItems, renderScreen, type Screen } from '../fixtures/grounders/screens.ts';
import { saveAsPlan } from '../fixtures/plans.ts';
import { tracer1 } from '../harness/agent-fakes.ts';

const dir = mkdtempSync(join(tmpdir(), 'foresight-worker-'));
let screen: Screen;
const never = new AbortController().signal;

before(async () => {
  screen = await renderScreen(fileMenuItems(), { order: 'bgra' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const planReq = (stepNumber = 1): PlanRequest => ({ instruction: 'Save the file', observation: screen.observation, history: [], horizon: 3, stepNumber });

/** Every process `ps` lists: pid, parent, state, command line. */
function ps(): Array<{ pid: number; ppid: number; stat: string; args: string }> {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(l)!;
      return { pid: Number(m[1]), ppid: Number(m[2]), stat: m[3]!, args: m[4]! };
    });
}

/** No defunct child of this process, and no worker of this worktree alive but the ones allowed. */
function assertNoStrayWorkers(allowed: ReadonlyArray<number | undefined>, when: string) {
  const all = ps();
  const zombies = all.filter((p) => p.ppid === process.pid && p.stat.startsWith('Z'));
  assert.deepEqual(zombies, [], `${when}: defunct children of the test`);
  const workers = all.filter((p) => p.args.includes(WORKER_ENTRY) && !p.stat.startsWith('Z'));
  assert.deepEqual(
    workers.filter((w) => !allowed.includes(w.pid)).map((w) => `${w.pid} (parent ${w.ppid}) ${w.stat}`),
    [],
    `${when}: a worker process that should be gone`,
  );
  for (const w of workers) assert.equal(w.ppid, process.pid, `${when}: the worker ${w.pid} is a child of this process`);
}

const waitFor = async (what: string, ok: () => boolean, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a plan and a grounding through the worker equal the same made in this process; frames cross once, through /dev/shm', async () => {
  const planFile = join(dir, 'plan.txt');
  writeFileSync(planFile, saveAsPlan(join(dir, 'out.txt')));
  const worker = await ModelWorker.start();
  const frameDirs = () => readdirSync('/dev/shm').filter((f) => f.startsWith(`foresight-frames-${process.pid}-`));
  try {
    assert.equal(worker.host, 'child_process');
    assert.equal(worker.frameTransfer, 'shm');
    assert.equal(frameDirs().length, 1, 'one private frame directory in /dev/shm');
    const policy = { timeoutMs: 120_000, onCrash: 'fail' as const, retries: 0 };
    const planner = await WorkerPlanner.create(worker, `script:${planFile}`, {}, policy);
    const grounder = await WorkerGrounder.create(worker, 'ocr', {}, policy);
    const local = { planner: new ScriptPlanner(planFile), grounder: new OcrGrounder() };
    try {
      assert.equal(planner.id, local.planner.id);
      assert.equal(planner.format, 'tracer1');
      assert.equal(grounder.id, 'ocr');
      assert.equal(grounder.speculative, true);
      assert.deepEqual(await planner.describe(), { backend: local.planner.id });

      grounder.perceive(screen.observation);
      for (const step of [1, 3]) assert.deepEqual(await planner.plan(planReq(step), never), await local.planner.plan(planReq(step), never));
      for (const label of ['Save As…', 'Close Window', 'Quit']) {
        const req = { action: { action_type: 'click' as const, step_instruction: `click on '${label}'` }, observation: screen.observation };
        const { latencyMs: _a, ...remote } = await grounder.ground(req, never);
        const { latencyMs: _b, ...inProcess } = await local.grounder.ground(req, never);
        assert.deepEqual(remote, inProcess, label);
      }
      // The worker read every frame file it was sent; what is left are spares to write over.
      const left = readdirSync(join('/dev/shm', frameDirs()[0]!));
      assert.deepEqual(left.filter((f) => !/^s\d+$/.test(f)), [], 'no frame file left unread');
      assert.ok(left.length <= 2, `at most two spare files: ${left.join(', ')}`);

      // A grounder error crosses with its code and its words.
      await assert.rejects(
        grounder.ground({ action: { action_type: 'click', step_instruction: "click on 'Launch the rocket'" }, observation: screen.observation }, never),
        (e) => isForesightError(e, 'GROUNDING_FAILED') && /No text on the screen matches/.test(e.message),
      );
      // So does a spec the worker cannot make.
      await assert.rejects(WorkerGrounder.create(worker, 'tesseract', {}, policy), (e) => isForesightError(e, 'BAD_INPUT') && /Unknown grounder "tesseract"/.test(e.message));
    } finally {
      await local.grounder.close();
    }
  } finally {
    await worker.close();
  }
  assert.deepEqual(frameDirs(), [], 'the frame directory is removed at shutdown');
  assertNoStrayWorkers([], 'after close');
});

test('SIGKILL during an inference: WORKER_CRASHED within the deadline, the worker comes back, the next request succeeds, no zombie', async () => {
  let heldOpen: (() => void) | undefined;
  const held = new Promise<void>((r) => (heldOpen = r));
  let fake: FakeOpenAI | undefined;
  fake = await startFakeOpenAI((_req, i) => {
    if (i === 0) {
      heldOpen!();
      return { fault: 'stall' };
    }
    return tracer1({ action_type: 'finished', step_instruction: 'done' });
  });
  const events: WorkerEvent[] = [];
  const worker = await ModelWorker.start({ onEvent: (e) => events.push(e), backoffMs: { first: 100, max: 1000 } });
  try {
    const deadline = 30_000;
    const planner = await WorkerPlanner.create(worker, `openai:${fake.baseURL}#qwen`, { timeoutMs: 60_000 }, { timeoutMs: deadline, onCrash: 'fail', retries: 2 });
    const firstPid = worker.pid!;
    const t0 = performance.now();
    const pending = planner.plan(planReq(), never);
    await held; // the worker's HTTP request is at the endpoint, waiting for an answer
    process.kill(firstPid, 'SIGKILL');
    await assert.rejects(pending, (e) => {
      assert.ok(e instanceof ForesightError);
      assert.equal(e.code, 'WORKER_CRASHED');
      assert.match(e.message, new RegExp(`The model worker \\(pid ${firstPid}\\) was killed by SIGKILL`));
      return true;
    });
    const failedAfter = performance.now() - t0;
    assert.ok(failedAfter < deadline / 2, `the caller heard of the crash after ${failedAfter.toFixed(0)} ms (deadline ${deadline})`);

    await worker.whenReady(never, 60_000);
    assert.notEqual(worker.pid, firstPid, 'a new worker process');
    assert.ok(events.some((e) => e.type === 'crashed' && e.reason.kind === 'killed' && e.reason.signal === 'SIGKILL' && e.failedRequests === 1));
    // The planner was made again in the new worker: the next request is answered.
    const reply = await planner.plan(planReq(), never);
    assert.match(reply.raw, /"action_type":"finished"/);
    assert.equal(fake.requests.length, 2);
    await waitFor('the killed worker to be reaped', () => !ps().some((p) => p.pid === firstPid));
    assertNoStrayWorkers([worker.pid], 'after the restart');
  } finally {
    await worker.close();
    await fake.close();
    fake = undefined;
  }
  assertNoStrayWorkers([], 'after close');
});

test('with the retry policy a request lost in a crash is sent again to the restarted worker and answered', async () => {
  const started: { worker?: ModelWorker } = {};
  const fake = await startFakeOpenAI((_req, i) => {
    if (i === 0) {
      // Killed while this request is open.
      setTimeout(() => process.kill(started.worker!.pid!, 'SIGKILL'), 50);
      return { fault: 'stall' };
    }
    return tracer1({ action_type: 'finished', step_instruction: 'done' });
  });
  const worker = (started.worker = await ModelWorker.start({ backoffMs: { first: 100, max: 1000 } }));
  try {
    const planner = await WorkerPlanner.create(worker, `openai:${fake.baseURL}#qwen`, { timeoutMs: 60_000 }, { timeoutMs: 60_000, onCrash: 'retry', retries: 1 });
    const reply = await planner.plan(planReq(), never);
    assert.match(reply.raw, /finished/);
    assert.equal(fake.requests.length, 2, 'the same request, twice');
    assert.equal(worker.restartCount, 1);
  } finally {
    await worker.close();
    await fake.close();
  }
});

test('a worker that stops answering is killed by the heartbeat and replaced; a cancelled request is dropped at once', async () => {
  const fake = await startFakeOpenAI(() => ({ fault: 'stall' }));
  const events: WorkerEvent[] = [];
  const worker = await ModelWorker.start({ heartbeatMs: 200, heartbeatTimeoutMs: 1500, backoffMs: { first: 100, max: 1000 }, onEvent: (e) => events.push(e) });
  try {
    const planner = await WorkerPlanner.create(worker, `openai:${fake.baseURL}#qwen`, { timeoutMs: 60_000 }, { timeoutMs: 60_000, onCrash: 'fail', retries: 0 });
    const ac = new AbortController();
    const cancelled = planner.plan(planReq(), ac.signal);
    await waitFor('the request at the endpoint', () => fake.requests.length === 1);
    ac.abort();
    await assert.rejects(cancelled, (e) => isForesightError(e, 'STOPPED'));

    const stuckPid = worker.pid!;
    process.kill(stuckPid, 'SIGSTOP');
    const pending = planner.plan(planReq(), never);
    await assert.rejects(pending, (e) => isForesightError(e, 'WORKER_CRASHED') && /stopped answering/.test(e.message));
    assert.ok(events.some((e) => e.type === 'crashed' && e.reason.kind === 'heartbeat'));
    await worker.whenReady(never, 60_000);
    assert.notEqual(worker.pid, stuckPid);
    await waitFor('the hung worker to be reaped', () => !ps().some((p) => p.pid === stuckPid));
  } finally {
    await worker.close();
    await fake.close();
  }
});

test('shutdown is bounded when the worker cannot answer (SIGSTOP): SIGTERM, then SIGKILL, and the process is reaped', async () => {
  const worker = await ModelWorker.start({ closeMs: { shutdown: 300, term: 300 } });
  const pid = worker.pid!;
  process.kill(pid, 'SIGSTOP');
  const t0 = performance.now();
  await worker.close();
  const took = performance.now() - t0;
  assert.ok(took < 5_000, `close took ${took.toFixed(0)} ms`);
  assert.ok(!ps().some((p) => p.pid === pid), 'the worker is gone and reaped');
});

test('the worker dies with its agent, even when the agent is killed with SIGKILL (parent-death signal)', async () => {
  // A stand-in agent: starts a worker and prints its pid.
  const agent = join(dir, 'agent.mts');
  writeFileSync(
    agent,
    `import { ModelWorker } from ${JSON.stringify(new URL('../../main/worker/index.ts', import.meta.url).pathname)};
const w = await ModelWorker.start();
process.stdout.write(String(w.pid) + '\\n');
setInterval(() => {}, 1000);
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', agent], { stdio: ['ignore', 'pipe', 'inherit'] });
  const workerPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.on('exit', () => reject(new Error('the agent exited early')));
  });
  assert.ok(ps().some((p) => p.pid === workerPid && p.ppid === child.pid));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  await waitFor('the worker of a killed agent to die', () => !ps().some((p) => p.pid === workerPid && !p.stat.startsWith('Z')), 3_000);
});

test('the worker answers a malformed request by its id with BAD_INPUT, and one without an id with a protocol error', async () => {
  const proc = forkWorker({ entry: WORKER_ENTRY, env: { ...(process.env as Record<string, string>), FORESIGHT_WORKER_PARENT_PID: String(process.pid) } });
  const messages: unknown[] = [];
  proc.onMessage((m) => messages.push(m));
  const exited = new Promise((r) => proc.onExit(r));
  try {
    await waitFor('ready', () => messages.some((m) => parseWorkerMessage(m).ok), 60_000);
    // Deliberately malformed: cast through unknown, as a buggy sender would send it.
    proc.send({ type: 'plan', id: 41, backendId: 'b1', request: { frame: 'nope' } } as unknown as Parameters<typeof proc.send>[0]);
    proc.send({ type: 'hello' } as unknown as Parameters<typeof proc.send>[0]);
    proc.send({ type: 'describe', id: 42, backendId: 'b9' });
    await waitFor('three answers', () => messages.length >= 4, 10_000);
    const parsed = messages.map((m) => parseWorkerMessage(m)).map((r) => (r.ok ? r.value : undefined));
    const byId = (id: number) => parsed.find((m) => m?.type === 'result' && m.id === id);
    const bad = byId(41);
    assert.ok(bad?.type === 'result' && !bad.result.ok && bad.result.error.code === 'BAD_INPUT' && /request\.instruction|request\.frame/.test(bad.result.error.message));
    const proto = parsed.find((m) => m?.type === 'protocol_error');
    assert.ok(proto?.type === 'protocol_error' && proto.error.code === 'BAD_INPUT');
    const missing = byId(42);
    assert.ok(missing?.type === 'result' && !missing.result.ok && missing.result.error.code === 'NOT_FOUND' && /hosts no backend b9/.test(missing.result.error.message));
  } finally {
    proc.kill('SIGKILL');
    await exited;
  }
});
