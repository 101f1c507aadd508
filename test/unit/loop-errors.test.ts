/**
 * The loop in-process, over the fakes of test/harness/agent-fakes.ts: failed actions in a row
 * (grounding and execution errors, each ending with its own code), a success between them,
 * and loop detection with its one re-ask.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForesightError } from '../../common/errors.ts';
import { globalOf, harness, LABELS, tracer1 } from '../harness/agent-fakes.ts';

const click = (label: string) => ({ action_type: 'click', step_instruction: `click on '${label}'` });

test('three grounding errors in a row fail the episode with GROUNDING_FAILED; nothing is clicked', async (t) => {
  const h = harness(t, { planner: [tracer1(click('Print')), tracer1(click('Export')), tracer1(click('Share'))] });
  const { outcome, episode } = await h.run();
  assert.equal(episode.status, 'failed');
  assert.equal(episode.error?.code, 'GROUNDING_FAILED');
  assert.match(episode.error?.message ?? '', /3 actions in a row failed; last: failed: No text "Share" on the screen/);
  assert.equal(outcome.steps, 3);
  assert.deepEqual(h.input.calls, []);
  assert.deepEqual(
    episode.steps.map((s) => [s.groundings[0]?.error?.code, s.executions[0]?.result, s.executions[0]?.error?.code]),
    [
      ['GROUNDING_FAILED', 'error', 'GROUNDING_FAILED'],
      ['GROUNDING_FAILED', 'error', 'GROUNDING_FAILED'],
      ['GROUNDING_FAILED', 'error', 'GROUNDING_FAILED'],
    ],
  );
  // each failure reaches the planner in the history of its next request
  assert.deepEqual(
    h.planner.requests.map((r) => r.history.map((e) => e.outcome.replace(/:.*/, ''))),
    [[], ['failed'], ['failed', 'failed']],
  );
});

test('three execution errors in a row fail the episode with the error of the action, not INTERNAL', async (t) => {
  const h = harness(t, { planner: [tracer1(click('File')), tracer1(click('Edit')), tracer1(click('View'))] });
  h.input.fail = (call) =>
    call.kind === 'click' ? new ForesightError('DISPLAY_UNAVAILABLE', 'The X server at :99 went away') : undefined;
  const { episode } = await h.run();
  assert.equal(episode.status, 'failed');
  assert.equal(episode.error?.code, 'DISPLAY_UNAVAILABLE');
  assert.match(episode.error?.message ?? '', /3 actions in a row failed; last: failed: The X server at :99 went away/);
  assert.deepEqual(
    episode.steps.map((s) => [s.executions[0]?.result, s.executions[0]?.error?.code, s.executions[0]?.globalPoint]),
    [
      ['error', 'DISPLAY_UNAVAILABLE', globalOf(LABELS.File!)],
      ['error', 'DISPLAY_UNAVAILABLE', globalOf(LABELS.Edit!)],
      ['error', 'DISPLAY_UNAVAILABLE', globalOf(LABELS.View!)],
    ],
  );
});

test('an action the desktop cannot do ends, after three in a row, with its own BAD_INPUT', async (t) => {
  const h = harness(t, {
    planner: [
      tracer1({ action_type: 'open_app', app: 'Mousepad', step_instruction: 'open Mousepad' }),
      tracer1({ action_type: 'open_app', app: 'gedit', step_instruction: 'open gedit' }),
      tracer1({ action_type: 'navigate_home', step_instruction: 'go to the home screen' }),
    ],
  });
  const { episode } = await h.run();
  assert.equal(episode.error?.code, 'BAD_INPUT');
  assert.match(episode.error?.message ?? '', /navigate_home is not available on a desktop/);
  assert.deepEqual(h.input.calls, []);
});

test('a point off every display is refused with OUT_OF_SCREEN before anything moves', async (t) => {
  // The grounder finds the label, but far off the 128x80 frame: the executor refuses the point.
  const h = harness(t, {
    planner: [tracer1(click('Ghost')), tracer1({ action_type: 'double_click', step_instruction: "open 'Ghost'" }), tracer1({ action_type: 'right_click', step_instruction: "right-click 'Ghost'" })],
    labels: { Ghost: { x: 1000, y: 40 } },
  });
  const { episode } = await h.run();
  assert.equal(episode.error?.code, 'OUT_OF_SCREEN');
  assert.match(episode.steps[0]?.executions[0]?.error?.message ?? '', /Refusing to act at \(10000, 400\)/);
  assert.deepEqual(h.input.calls, []);
});

test('a success between failures starts the count again', async (t) => {
  const h = harness(t, {
    planner: [
      tracer1(click('Print')),
      tracer1(click('Export')),
      tracer1(click('File')),
      tracer1(click('Share')),
      tracer1(click('Send')),
      tracer1({ action_type: 'finished', step_instruction: 'done', answer: 'gave up on sharing' }),
    ],
  });
  const { episode } = await h.run();
  assert.equal(episode.status, 'finished');
  assert.equal(episode.answer, 'gave up on sharing');
  assert.deepEqual(
    episode.steps.map((s) => s.executions[0]?.result),
    ['error', 'error', 'ok', 'error', 'error', 'ok'],
  );
  assert.deepEqual(h.input.calls, [{ kind: 'click', point: globalOf(LABELS.File!), button: 'left', count: 1 }]);
});

test('a repeated action is re-asked once with feedback, then the episode fails with LOOP_DETECTED', async (t) => {
  const next = tracer1(click('Next'));
  const h = harness(t, { planner: [next, next, next, next] });
  const { episode } = await h.run();
  assert.equal(episode.status, 'failed');
  assert.equal(episode.error?.code, 'LOOP_DETECTED');
  assert.match(episode.error?.message ?? '', /kept repeating "click — click on 'Next'" 3 times/);
  // two clicks went out; the third was caught before it was sent, and again after the re-ask
  assert.equal(h.input.calls.length, 2);
  assert.equal(episode.steps.length, 3);
  assert.deepEqual(episode.steps[2]?.forecasts.map((f) => f.attempt), [1, 2]);
  assert.equal(episode.steps[2]?.executions.length, 0);
  const reask = h.planner.requests[3];
  assert.equal(reask?.stepNumber, 3);
  assert.match(reask?.feedback ?? '', /You are repeating "click — click on 'Next'" without progress/);
});

test('after the re-ask a different action goes on as usual', async (t) => {
  const next = tracer1(click('Next'));
  const h = harness(t, {
    planner: [next, next, next, tracer1(click('Save')), tracer1({ action_type: 'finished', step_instruction: 'saved' })],
  });
  const { episode } = await h.run();
  assert.equal(episode.status, 'finished');
  assert.equal(episode.error, undefined);
  assert.deepEqual(
    h.input.calls.map((c) => (c.kind === 'click' ? c.point : c.kind)),
    [globalOf(LABELS.Next!), globalOf(LABELS.Next!), globalOf(LABELS.Save!)],
  );
});

test('waiting again and again is not a loop; the step budget bounds it', async (t) => {
  const wait = tracer1({ action_type: 'wait', duration_ms: 2000, step_instruction: 'wait for the download' });
  const h = harness(t, { planner: [], plannerOtherwise: () => wait });
  const { episode } = await h.run({ maxSteps: 5 });
  assert.equal(episode.error?.code, 'STEP_BUDGET');
  assert.deepEqual(h.clock.sleeps, [2000, 2000, 2000, 2000, 2000], 'each wait waited its 2 s (on the fake clock)');
});
