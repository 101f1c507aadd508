/**
 * The loop and a grounder whose model worker crashed (WORKER_CRASHED, after the proxy's own
 * retries or with `--on-worker-crash fail`): the episode ends with that code at once, as it does
 * for an endpoint fault, and nothing is clicked; a grounding that merely finds nothing is still
 * a failed action the loop may recover from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForesightError } from '../../common/errors.ts';
import { click, clickAt, harness, tracer1 } from '../harness/agent-fakes.ts';

test('a grounder whose worker crashed ends the episode with WORKER_CRASHED before anything is clicked', async () => {
  const h = harness({ planner: [tracer1(click('File')), tracer1(click('File'))] });
  let grounds = 0;
  h.grounder.ground = () => {
    grounds++;
    return Promise.reject(new ForesightError('WORKER_CRASHED', 'The model worker (pid 1234) was killed by SIGKILL'));
  };
  const { outcome, episode } = await h.run();
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.error?.code, 'WORKER_CRASHED');
  assert.match(outcome.error?.message ?? '', /killed by SIGKILL/);
  assert.equal(grounds, 1, 'not asked again for the next step');
  assert.deepEqual(h.input.calls, []);
  assert.equal(episode.steps[0]?.groundings[0]?.error?.code, 'WORKER_CRASHED', 'the failed grounding is recorded');
});

test('by contrast a grounding that finds nothing is a failed action; the next step goes on', async () => {
  const h = harness({ planner: [tracer1(click('Nowhere')), tracer1({ action: click('File'), status: 'done' })] });
  const { outcome } = await h.run();
  assert.equal(outcome.status, 'finished');
  assert.deepEqual(h.input.calls, [clickAt('File')]);
});
