/**
 * The loop in-process, over the fakes of test/harness/agent-fakes.ts: the approval policies
 * (never, each, forecast) and what a person can answer (approve, edit, reject, stop), with the
 * rejection limit. What is checked is what the store keeps and what reached the desktop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Forecast } from '../../common/actions.ts';
import { globalOf, harness, LABELS, tracer1, type InputCall } from '../harness/agent-fakes.ts';

const click = (label: string) => ({ action_type: 'click', step_instruction: `click on '${label}'` });
const clickAt = (label: keyof typeof LABELS): InputCall => ({ kind: 'click', point: globalOf(LABELS[label]!), button: 'left', count: 1 });
const finished = { action: { action_type: 'finished', step_instruction: 'the document is saved' }, status: 'done' as const };

/** File → Save As… → Save, then finished: at step t the planner forecasts the rest. */
const SAVE_PLAN = [click('File'), click('Save As…'), click('Save')];
const rest = (stepNumber: number) => tracer1(...SAVE_PLAN.slice(stepNumber - 1), finished);

test('never: the person is not asked and no approval is stored', async (t) => {
  const h = harness(t, { planner: [], plannerOtherwise: (req) => rest(req.stepNumber) });
  const { episode } = await h.run({ approval: 'never' });
  assert.equal(episode.status, 'finished');
  assert.equal(h.gate.requests.length, 0);
  assert.deepEqual(episode.steps.flatMap((s) => s.approvals), []);
  assert.deepEqual(h.input.calls, [clickAt('File'), clickAt('Save As…'), clickAt('Save')]);
});

test('each: the person approves every step, the last one too, with the grounded point shown', async (t) => {
  const h = harness(t, { planner: [], plannerOtherwise: (req) => rest(req.stepNumber) });
  h.gate.thinkMs = 4_000;
  const { episode } = await h.run({ approval: 'each' });
  assert.equal(episode.status, 'finished');
  assert.deepEqual(h.gate.requests.map((r) => r.stepNumber), [1, 2, 3, 4]);
  assert.deepEqual(h.gate.requests[0]?.grounding?.point, { space: 'screenshot', ...LABELS.File! });
  const approvals = episode.steps.flatMap((s) => s.approvals);
  assert.deepEqual(
    approvals.map((a) => [a.policy, a.decision, a.original.steps[0]?.action.step_instruction, a.waitedMs]),
    [
      ['each', 'approve', "click on 'File'", 4000],
      ['each', 'approve', "click on 'Save As…'", 4000],
      ['each', 'approve', "click on 'Save'", 4000],
      ['each', 'approve', 'the document is saved', 4000],
    ],
  );
  assert.deepEqual(h.input.calls, [clickAt('File'), clickAt('Save As…'), clickAt('Save')]);
});

test('forecast: a plan approved once runs while the planner continues it; a change is asked again', async (t) => {
  const h = harness(t, {
    planner: [
      rest(1),
      rest(2),
      // the model changes its mind at step 3: Name field first
      tracer1(click('Name'), click('Save'), finished),
      tracer1(click('Save'), finished),
      tracer1(finished),
    ],
  });
  const { episode } = await h.run({ approval: 'forecast' });
  assert.equal(episode.status, 'finished');
  assert.deepEqual(h.gate.requests.map((r) => r.stepNumber), [1, 3]);
  assert.deepEqual(
    episode.steps.map((s) => s.approvals.map((a) => a.original.steps.map((x) => x.action.step_instruction).join(' → '))),
    [["click on 'File' → click on 'Save As…' → click on 'Save' → the document is saved"], [], ["click on 'Name' → click on 'Save' → the document is saved"], [], []],
  );
  assert.deepEqual(h.input.calls, [clickAt('File'), clickAt('Save As…'), clickAt('Name'), clickAt('Save')]);
});

test('edit: the edited step is grounded and acted; the original and the edit are both stored', async (t) => {
  const edited: Forecast = {
    format: 'tracer1',
    steps: [
      {
        screenshot_abstraction: 'the document',
        action: { action_type: 'hotkey', keys: ['ctrl', 'shift', 's'], step_instruction: 'open Save As with the keyboard' },
        status: 'not done',
      },
    ],
  };
  const h = harness(t, {
    planner: [tracer1(click('File'), click('Save As…')), tracer1(click('Save'), finished), tracer1(finished)],
    gate: [{ kind: 'edit', forecast: edited, note: 'use the shortcut' }],
  });
  const { episode } = await h.run({ approval: 'each' });
  assert.equal(episode.status, 'finished');
  const first = episode.steps[0]?.approvals[0];
  assert.equal(first?.decision, 'edit');
  assert.deepEqual(first?.original.steps.map((s) => s.action.step_instruction), ["click on 'File'", "click on 'Save As…'"]);
  assert.deepEqual(first?.edited, edited);
  assert.deepEqual(episode.steps[0]?.executions[0]?.action, edited.steps[0]?.action);
  assert.deepEqual(h.input.calls, [{ kind: 'hotkey', keys: ['ctrl', 'shift', 's'] }, clickAt('Save')], 'File was never clicked');
});

test('edit to another target: the new step instruction is grounded before it is acted', async (t) => {
  const edited: Forecast = {
    format: 'tracer1',
    steps: [{ screenshot_abstraction: '', action: { action_type: 'click', step_instruction: "click on 'Edit'" }, status: 'done' }],
  };
  const h = harness(t, { planner: [tracer1(click('File'))], gate: [{ kind: 'edit', forecast: edited }] });
  const { episode } = await h.run({ approval: 'each' });
  assert.equal(episode.status, 'finished', 'the edited step was marked done');
  assert.deepEqual(h.input.calls, [clickAt('Edit')]);
  assert.deepEqual(
    episode.steps[0]?.groundings.map((g) => g.detail),
    ['File', 'Edit'],
    'both the planned and the edited step were grounded',
  );
});

test('reject: the reason reaches the planner, whose next forecast is acted on', async (t) => {
  const h = harness(t, {
    planner: [tracer1(click('File')), tracer1({ action: { action_type: 'hotkey', keys: ['ctrl', 's'], step_instruction: 'save' }, status: 'done' })],
    gate: [{ kind: 'reject', reason: 'use Ctrl+S, the file has a name already' }],
  });
  const { episode } = await h.run({ approval: 'each' });
  assert.equal(episode.status, 'finished');
  assert.equal(h.planner.requests[1]?.stepNumber, 1, 'the same step is planned again');
  assert.equal(h.planner.requests[1]?.feedback, 'A person rejected your forecast: use Ctrl+S, the file has a name already');
  assert.deepEqual(
    episode.steps[0]?.approvals.map((a) => [a.decision, a.reason]),
    [
      ['reject', 'use Ctrl+S, the file has a name already'],
      ['approve', undefined],
    ],
  );
  assert.deepEqual(h.input.calls, [{ kind: 'hotkey', keys: ['ctrl', 's'] }]);
});

test('the rejection limit: three rejections in a row stop the episode with REJECTED; nothing is acted', async (t) => {
  const h = harness(t, {
    planner: [tracer1(click('File')), tracer1(click('Edit')), tracer1(click('View'))],
    gate: [
      { kind: 'reject', reason: 'not that menu' },
      { kind: 'reject', reason: '' },
      { kind: 'reject', reason: 'stop guessing' },
    ],
  });
  const { outcome, episode } = await h.run({ approval: 'each', maxRejections: 3 });
  assert.equal(outcome.status, 'stopped');
  assert.equal(episode.status, 'stopped');
  assert.deepEqual(episode.error, { code: 'REJECTED', message: 'A person rejected 3 forecasts in a row: stop guessing' });
  assert.deepEqual(h.input.calls, []);
  assert.deepEqual(episode.steps[0]?.approvals.map((a) => a.reason), ['not that menu', '', 'stop guessing']);
  assert.deepEqual(
    h.planner.requests.map((r) => r.feedback),
    [undefined, 'A person rejected your forecast: not that menu', 'A person rejected your forecast: no reason given'],
  );
});

test('stop at the gate: the episode is stopped and nothing is acted', async (t) => {
  const h = harness(t, { planner: [tracer1(click('File'))], gate: ['stop'] });
  const { outcome, episode } = await h.run({ approval: 'each' });
  assert.equal(outcome.status, 'stopped');
  assert.equal(episode.status, 'stopped');
  assert.equal(episode.error?.code, 'STOPPED');
  assert.deepEqual(h.input.calls, []);
  assert.deepEqual(episode.steps[0]?.executions, []);
});
