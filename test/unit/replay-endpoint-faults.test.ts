/**
 * `foresight bench run` and endpoint faults, in process over real HTTP on 127.0.0.1: a planner
 * endpoint that answers with no choices, or a grounder endpoint that stalls after its headers,
 * stops the run as ENDPOINT_ERROR (what `bench status` shows) after the back-off retries, and
 * no step is scored as a wrong answer or a miss for it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isForesightError } from '../../common/errors.ts';
import { runBench } from '../../main/replay/runner.ts';
import { BenchRunStore } from '../../store/index.ts';
import { buildScreenSpotFixture } from '../fixtures/replay/screenspot.ts';
import { startFakeOpenAI, type FakeOpenAI, type Reply } from '../harness/fake-openai.ts';

let root: string;
let data: string;
let server: FakeOpenAI;
let reply: Reply = 'unused';

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'foresight-bench-faults-'));
  data = (await buildScreenSpotFixture(join(root, 'data'), 'screenspot')).dataPath;
  server = await startFakeOpenAI(() => reply);
});
after(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

async function runAndExpectStop(planner: string, grounder: string, out: string, fault: string): Promise<void> {
  const before = server.requests.length;
  await assert.rejects(
    runBench({ suite: 'screenspot', data, planner, grounder, horizon: 1, limit: 2, concurrency: 1, out, retries: 1, timeoutMs: 300 }),
    (e) => {
      assert.ok(isForesightError(e, 'ENDPOINT_ERROR'), String(e));
      assert.equal(e.details?.fault, fault);
      assert.match(e.message, /Nothing was scored; run the same command again when the endpoint answers/);
      return true;
    },
  );
  assert.equal(server.requests.length - before, 4, 'the first step was asked 4 times (3 retries, 1 s, 2 s, 4 s apart), then the run stopped');
  const store = BenchRunStore.open(join(out, 'run.sqlite'));
  try {
    assert.equal(store.countSteps(), 0, 'nothing scored for an endpoint fault');
    const run = store.run()!;
    assert.equal(run.status, 'failed');
    assert.equal((run.error as { code?: string }).code, 'ENDPOINT_ERROR', 'bench status shows the endpoint error');
  } finally {
    store.close();
  }
}

test('a planner endpoint with empty choices stops the run; no step is scored unparsed', async () => {
  reply = { fault: 'empty_choices' };
  await runAndExpectStop(`openai:${server.baseURL}#vl`, 'none', join(root, 'planner'), 'no_choices');
});

test('a grounder endpoint that stalls after its headers stops the run; no step is scored a miss', async () => {
  reply = { fault: 'stall' };
  await runAndExpectStop('oracle', `openai:${server.baseURL}#ui-tars-7b`, join(root, 'grounder'), 'timeout');
});
