/**
 * The kill switch in-process, over the fakes of test/harness/agent-fakes.ts: it fires while the
 * loop awaits each of its ports in turn (observe, plan, ground, review, the displays, an input,
 * the settle and the pause after typed text). Each time the episode ends `stopped` with STOPPED,
 * and no input begins after the switch fired, both when the port honours the signal (rejects,
 * as the real adapters do) and when its answer was already on the way (resolves anyway).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { click, clickAt, harness, tracer1, type AwaitPoint, type InputCall, type KillPlan } from '../harness/agent-fakes.ts';


/**
 * File → Save As… → type the name and submit → finished, each step approved. Step 2 awaits
 * observe, plan, ground, review, displays and input #2 for the first time as the 2nd call;
 * step 3 types (input #3), pauses for the app (sleep #1), settles (#1), then presses Enter.
 */
function saveAs() {
  return harness({
    planner: [
      tracer1(click('File'), click('Save As…')),
      tracer1(click('Save As…')),
      tracer1({ action_type: 'type', text: 'report.txt\n', step_instruction: 'type the name and save' }),
      tracer1({ action_type: 'finished', step_instruction: 'saved' }),
    ],
  });
}

/** `acted`: the steps whose action went through before the switch fired. */
const CASES: Array<{ at: AwaitPoint; call: number; before: InputCall[]; inFlight?: InputCall; acted: number }> = [
  { at: 'observe', call: 2, before: [clickAt('File')], acted: 1 },
  { at: 'plan', call: 2, before: [clickAt('File')], acted: 1 },
  { at: 'ground', call: 2, before: [clickAt('File')], acted: 1 },
  { at: 'review', call: 2, before: [clickAt('File')], acted: 1 },
  { at: 'displays', call: 2, before: [clickAt('File')], acted: 1 },
  { at: 'input', call: 2, before: [clickAt('File')], inFlight: clickAt('Save As…'), acted: 1 },
  { at: 'input', call: 3, before: [clickAt('File'), clickAt('Save As…')], inFlight: { kind: 'type', text: 'report.txt' }, acted: 2 },
  { at: 'sleep', call: 1, before: [clickAt('File'), clickAt('Save As…'), { kind: 'type', text: 'report.txt' }], acted: 2 },
  { at: 'settle', call: 1, before: [clickAt('File'), clickAt('Save As…'), { kind: 'type', text: 'report.txt' }], acted: 2 },
];

for (const c of CASES) {
  for (const then of ['reject', 'resolve'] as const) {
    const plan: KillPlan = { at: c.at, call: c.call, then };
    test(`the kill switch during ${c.at} #${c.call} (the port then ${then}s): stopped, nothing acted after it`, async () => {
      const h = saveAs();
      h.kill.arm(plan);
      const { outcome, episode } = await h.run({ approval: 'each', typingDebounceMs: 300 });
      assert.ok(h.kill.signal.aborted, 'the switch fired');
      assert.equal(outcome.status, 'stopped');
      assert.equal(episode.status, 'stopped');
      assert.equal(episode.error?.code, 'STOPPED');
      assert.deepEqual(h.input.callsAfterAbort, []);
      // What reached the desktop: the actions before the switch, and the one in flight if its port finished it.
      const expected = c.inFlight && then === 'resolve' ? [...c.before, c.inFlight] : c.before;
      assert.deepEqual(h.input.calls, expected);
      assert.ok(!h.log.includes('keys enter'), 'the submit Enter was never pressed');
      // The store agrees: the steps before went through; the one the switch caught, if it had
      // begun to act, is recorded as stopped (or ok, when its input had already gone out).
      const results = episode.steps.flatMap((s) => s.executions.map((e) => e.result));
      assert.deepEqual(results.slice(0, c.acted), Array(c.acted).fill('ok'));
      assert.ok(results.length <= c.acted + 1, results.join(', '));
      if (results.length > c.acted) assert.equal(results.at(-1), c.inFlight && then === 'resolve' && c.at === 'input' && c.call === 2 ? 'ok' : 'stopped');
    });
  }
}

test('the kill switch while the planner thinks is recorded on the forecast as STOPPED, whatever the client threw', async () => {
  const h = saveAs();
  h.kill.arm({ at: 'plan', call: 1, then: 'reject' });
  const { episode } = await h.run();
  assert.equal(episode.status, 'stopped');
  assert.deepEqual(episode.error, { code: 'STOPPED', message: 'Stopped while the planner was thinking' });
  assert.equal(episode.steps[0]?.forecasts[0]?.error?.code, 'STOPPED');
});

test('the kill switch while a person approves a finished step: the episode is stopped, not finished', async () => {
  const h = harness({ planner: [tracer1({ action_type: 'finished', answer: 'done', step_instruction: 'all saved' })] });
  h.kill.arm({ at: 'review', then: 'resolve' });
  const { episode } = await h.run({ approval: 'each' });
  assert.equal(episode.status, 'stopped');
  assert.equal(episode.error?.code, 'STOPPED');
  assert.equal(episode.answer, undefined);
});
