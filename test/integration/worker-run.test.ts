/**
 * `foresight run` on Xvfb with its planner and grounder in the model worker process:
 * - a script plan with the OCR grounder types into Mousepad and opens its File menu by the
 *   label OCR read; the episode's settings say which process hosted the models and what serves
 *   each;
 * - the worker is killed (SIGKILL) while the planner's request is at the endpoint: with
 *   `--on-worker-crash retry` (the default) the request is sent again to the restarted worker and
 *   the episode finishes; with `fail` it ends with WORKER_CRASHED (exit 1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { WORKER_ENTRY } from '../../main/worker/index.ts';
import { runCli } from '../harness/cli.ts';
import { startFakeOpenAI } from '../harness/fake-openai.ts';
import { tracer1 } from '../harness/agent-fakes.ts';
import { startXDesktop, freshHomeEnv, type XDesktop } from '../harness/xdesktop.ts';
import { actedSteps } from '../harness/episodes.ts';

let desk: XDesktop;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-worker-run-'));
});
after(async () => {
  await desk.stop();
});

/** Live model workers started from this worktree, by pid. */
function workerPids(): number[] {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && !m[2]!.startsWith('Z') && m[3]!.includes(WORKER_ENTRY))
    .map((m) => Number(m[1]));
}

function episodeOf(db: string, stdout: string) {
  const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { status: string; episodeId: string; error?: { code: string } };
  const store = SqliteEpisodeStore.open(db);
  try {
    return { summary, episode: store.getEpisode(summary.episodeId) };
  } finally {
    store.close();
  }
}

test('a script plan with the OCR grounder runs with both in the model worker; the settings say so', async () => {
  desk.launch('mousepad', [], freshHomeEnv());
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
  const planFile = join(dir, 'plan.txt');
  writeFileSync(
    planFile,
    tracer1(
      { action_type: 'type', text: 'hosted elsewhere', step_instruction: 'type the words into the document' },
      { action_type: 'click', step_instruction: "click on 'File' in the menu bar" },
      { action_type: 'key', keys: ['escape'], step_instruction: 'close the menu' },
      { action: { action_type: 'finished', step_instruction: 'done' }, status: 'done' },
    ),
  );
  const db = join(dir, 'ocr.db');
  const res = await runCli(['run', 'Type and open the File menu', '--planner', `script:${planFile}`, '--grounder', 'ocr', '--db', db, '--json'], desk.env);
  assert.equal(res.code, 0, `foresight run failed:\n${res.stdout}\n${res.stderr}`);
  const { summary, episode } = episodeOf(db, res.stdout);
  assert.equal(summary.status, 'finished');
  assert.equal(actedSteps(episode).length, 4);
  const clickFile = actedSteps(episode)[1]!;
  assert.equal(clickFile.groundings[0]?.grounder, 'ocr');
  const models = episode.settings.models as Record<string, unknown>;
  assert.equal(models.host, 'worker');
  assert.equal(models.process, 'child_process');
  assert.equal(models.frames, 'shm');
  assert.equal(models.onWorkerCrash, 'retry');
  assert.deepEqual(models.planner, { backend: `script:${planFile}` });
  assert.deepEqual(models.grounder, { backend: 'ocr' });
  assert.equal(typeof models.pid, 'number');
  assert.deepEqual(workerPids(), [], 'no worker outlives the run');
});

/** A planner endpoint whose second request is met by killing the worker that sent it. */
async function crashingEndpoint() {
  return startFakeOpenAI((_req, i) => {
    if (i === 1) {
      for (const pid of workerPids()) process.kill(pid, 'SIGKILL');
      return { fault: 'stall' };
    }
    if (i === 0) return tracer1({ action_type: 'wait', duration_ms: 10, step_instruction: 'wait for the desktop' });
    return tracer1({ action: { action_type: 'finished', step_instruction: 'done' }, status: 'done' });
  });
}

test('the worker killed mid-request: retry (default) sends the step again and the episode finishes; fail ends it with WORKER_CRASHED', async () => {
  for (const policy of ['retry', 'fail'] as const) {
    const server = await crashingEndpoint();
    try {
      const db = join(dir, `crash-${policy}.db`);
      const res = await runCli(
        ['run', 'Wait, then finish', '--planner', `openai:${server.baseURL}#m`, '--grounder', 'none', '--db', db, '--json', '--retries', '1', '--on-worker-crash', policy],
        desk.env,
      );
      assert.match(res.stderr, /the model worker \(pid \d+\) was killed by SIGKILL; 1 request\(s\) lost/, policy);
      const { summary, episode } = episodeOf(db, res.stdout);
      if (policy === 'retry') {
        assert.equal(res.code, 0, `run failed:\n${res.stdout}\n${res.stderr}`);
        assert.equal(summary.status, 'finished');
        assert.equal(server.requests.length, 3, 'the lost request was sent again');
        assert.match(res.stderr, /the model worker is back/);
      } else {
        assert.equal(res.code, 1, `run should fail:\n${res.stdout}\n${res.stderr}`);
        assert.equal(summary.status, 'failed');
        assert.equal(episode.error?.code, 'WORKER_CRASHED');
        assert.equal(server.requests.length, 2, 'nothing was sent again');
      }
      assert.equal((episode.settings.models as { onWorkerCrash: string }).onWorkerCrash, policy);
      assert.deepEqual(workerPids(), [], 'no worker outlives the run');
    } finally {
      await server.close();
    }
  }
});
