/**
 * The loop in-process, over the fakes of test/harness/agent-fakes.ts: how an episode ends (the
 * step budget, each terminal action, a step marked done, a planner that cannot be reached,
 * answers that cannot be parsed), and a whole Save As run with the pacing after typed text
 * measured on a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ForesightError } from '../../common/errors.ts';
import { ScriptPlanner } from '../../main/planners/script-planner.ts';
import { LINE, saveAsPlan } from '../fixtures/plans.ts';
import { globalOf, harness, LABELS, tracer1, type InputCall } from '../harness/agent-fakes.ts';

const click = (label: string) => ({ action_type: 'click', step_instruction: `click on '${label}'` });
const clickAt = (label: keyof typeof LABELS): InputCall => ({ kind: 'click', point: globalOf(LABELS[label]!), button: 'left', count: 1 });

test('the step budget: an episode that never ends fails with STEP_BUDGET after max steps, each acted', async (t) => {
  const menus = ['File', 'Edit', 'View', 'Name'];
  const h = harness(t, { planner: [], plannerOtherwise: (req) => tracer1(click(menus[(req.stepNumber - 1) % menus.length]!)) });
  const { outcome, episode } = await h.run({ maxSteps: 4 });
  assert.equal(outcome.status, 'failed');
  assert.equal(episode.status, 'failed');
  assert.deepEqual(episode.error, { code: 'STEP_BUDGET', message: 'The task was not finished within 4 steps' });
  assert.equal(episode.steps.length, 4);
  assert.deepEqual(h.input.calls, [clickAt('File'), clickAt('Edit'), clickAt('View'), clickAt('Name')]);
  assert.equal(h.planner.requests.length, 4, 'no fifth step was planned');
  // every step after the first was observed once the screen settled, and says how long that took
  assert.equal(episode.steps[0]?.settle, undefined);
  assert.deepEqual(episode.steps[1]?.settle, { settled: true, waitedMs: 140, frames: 2, method: 'damage' });
  assert.equal(new Set(episode.steps.map((s) => s.frameSha256)).size, 4, 'each step kept its own screenshot');
});

test('finished ends the episode with its answer; nothing is sent to the desktop', async (t) => {
  const h = harness(t, {
    planner: [tracer1({ action: { action_type: 'finished', answer: '42 files', step_instruction: 'the folder is counted' }, status: 'done' })],
  });
  const { outcome, episode } = await h.run();
  assert.deepEqual([outcome.status, outcome.answer, outcome.steps], ['finished', '42 files', 1]);
  assert.equal(episode.status, 'finished');
  assert.equal(episode.answer, '42 files');
  assert.equal(episode.error, undefined);
  assert.equal(episode.steps[0]?.executions[0]?.action.action_type, 'finished');
  assert.equal(episode.steps[0]?.executions[0]?.result, 'ok');
  assert.deepEqual(h.input.calls, []);
});

test('finished may carry its answer as text', async (t) => {
  const h = harness(t, { planner: [tracer1({ action_type: 'finished', text: 'Tuesday', step_instruction: 'read the date' })] });
  const { episode } = await h.run();
  assert.equal(episode.status, 'finished');
  assert.equal(episode.answer, 'Tuesday');
});

test('call_user ends the episode as needs_user, saying why', async (t) => {
  const h = harness(t, { planner: [tracer1({ action_type: 'call_user', step_instruction: 'the file exists: overwrite it?' })] });
  const { outcome, episode } = await h.run();
  assert.equal(outcome.status, 'needs_user');
  assert.equal(episode.status, 'needs_user');
  assert.equal(episode.error?.message, 'The agent asks for a person: the file exists: overwrite it?');
  assert.deepEqual(h.input.calls, []);
});

test('fail ends the episode as failed with TASK_FAILED and the reason', async (t) => {
  const h = harness(t, {
    planner: [tracer1(click('File')), tracer1({ action_type: 'fail', step_instruction: 'there is no Export entry in this app' })],
  });
  const { episode } = await h.run();
  assert.equal(episode.status, 'failed');
  assert.deepEqual(episode.error, { code: 'TASK_FAILED', message: 'The agent gave up: there is no Export entry in this app' });
  assert.deepEqual(h.input.calls, [clickAt('File')]);
});

test('a step whose status is done ends the episode as finished once it was acted', async (t) => {
  const h = harness(t, {
    planner: [tracer1({ action: { action_type: 'hotkey', keys: ['ctrl', 's'], step_instruction: 'save the document' }, status: 'done' })],
  });
  const { episode } = await h.run();
  assert.equal(episode.status, 'finished');
  assert.equal(episode.answer, undefined);
  assert.deepEqual(h.input.calls, [{ kind: 'hotkey', keys: ['ctrl', 's'] }]);
  assert.equal(h.planner.requests.length, 1, 'nothing was planned after the last step');
});

test('a step marked done that fails does not finish the episode', async (t) => {
  const h = harness(t, {
    planner: [tracer1({ action: click('Print'), status: 'done' }), tracer1({ action_type: 'finished', step_instruction: 'printed' })],
  });
  const { episode } = await h.run();
  assert.equal(episode.status, 'finished');
  assert.equal(episode.steps.length, 2, 'the failed step was planned again');
  assert.equal(episode.steps[0]?.executions[0]?.error?.code, 'GROUNDING_FAILED');
});

test('a planner that cannot be reached fails the episode with its own code, asked once', async (t) => {
  const h = harness(t, {
    planner: [new ForesightError('ENDPOINT_UNREACHABLE', 'No model endpoint at http://127.0.0.1:8000/v1 (connection refused)')],
  });
  const { episode } = await h.run();
  assert.equal(episode.status, 'failed');
  assert.deepEqual(episode.error, { code: 'ENDPOINT_UNREACHABLE', message: 'No model endpoint at http://127.0.0.1:8000/v1 (connection refused)' });
  assert.equal(h.planner.requests.length, 1);
  assert.equal(episode.steps[0]?.forecasts[0]?.error?.code, 'ENDPOINT_UNREACHABLE');
  assert.deepEqual(h.input.calls, []);
});

test('a malformed answer is re-asked with what was wrong, and the good answer is acted on', async (t) => {
  const h = harness(t, {
    planner: ['I think I should click File now.', tracer1({ action: click('File'), status: 'done' })],
  });
  const { episode } = await h.run();
  assert.equal(episode.status, 'finished');
  const [bad, good] = episode.steps[0]?.forecasts ?? [];
  assert.equal(bad?.raw, 'I think I should click File now.');
  assert.equal(bad?.error?.code, 'PARSE_ERROR');
  assert.equal(bad?.forecast, undefined);
  assert.equal(good?.forecast?.steps[0]?.action.step_instruction, "click on 'File'");
  assert.equal(h.planner.requests[0]?.feedback, undefined);
  assert.ok(bad?.error?.message && h.planner.requests[1]?.feedback?.includes(bad.error.message), 'the re-ask carries the parse error');
  assert.deepEqual(h.input.calls, [clickAt('File')]);
});

test('answers that stay malformed end the episode with PARSE_ERROR after the retries; each is stored', async (t) => {
  const answers = [
    'Sure! Let me help you with that.',
    '<answer>Step 1: "screenshot_abstraction": "x", "action": {"action_type": "teleport", "step_instruction": "go"}, "status": "not done"</answer>',
    '<answer>\nStep 1: "action": {"action_type": "click"}\n</answer>',
  ];
  const h = harness(t, { planner: answers });
  const { episode } = await h.run({ maxParseRetries: 2 });
  assert.equal(episode.status, 'failed');
  assert.equal(episode.error?.code, 'PARSE_ERROR');
  assert.match(episode.error?.message ?? '', /could not be used after 3 attempts/);
  const stored = episode.steps[0]?.forecasts ?? [];
  assert.deepEqual(stored.map((f) => f.raw), answers, 'every raw answer is kept');
  assert.deepEqual(stored.map((f) => f.error?.code), ['PARSE_ERROR', 'PARSE_ERROR', 'PARSE_ERROR']);
  assert.deepEqual(
    h.planner.requests.map((r) => r.feedback),
    [undefined, stored[0]?.error?.message, stored[1]?.error?.message],
  );
  assert.deepEqual(h.input.calls, []);
});

test('a Save As run from the scripted plan: every input in order, Enter only after the typing debounce', async (t) => {
  const path = '/tmp/report.txt';
  const signal = new AbortController().signal;
  const h = harness(t, { planner: [] });
  const planFile = join(h.dir, 'plan.txt');
  writeFileSync(planFile, saveAsPlan(path));
  const script = new ScriptPlanner(planFile);
  h.planner.otherwise = async (req) => (await script.plan(req, signal)).raw;
  const { episode } = await h.run({ typingDebounceMs: 300 });
  assert.equal(episode.status, 'finished');
  assert.deepEqual(h.input.calls, [
    { kind: 'type', text: LINE },
    clickAt('File'),
    clickAt('Save As…'),
    { kind: 'type', text: path },
    { kind: 'hotkey', keys: ['enter'] },
  ]);
  // After each typed text the next input waited out the debounce on the fake clock, then a settle.
  const log = h.log.filter((l) => !/^(observe|plan|ground)/.test(l));
  assert.deepEqual(log.slice(0, 4), [`type ${JSON.stringify(LINE)}`, 'sleep 300', 'settle', 'click 40,20']);
  assert.deepEqual(log.slice(-4), [`type ${JSON.stringify(path)}`, 'sleep 300', 'settle', 'keys enter']);
  assert.deepEqual(episode.steps.map((s) => s.executions[0]?.action.action_type), ['type', 'click', 'click', 'type', 'key', 'finished']);
});

test('a model that thinks longer than the debounce owes the app nothing', async (t) => {
  const h = harness(t, {
    planner: [
      tracer1({ action_type: 'type', text: 'hello', step_instruction: 'type the greeting' }),
      () => {
        h.clock.advance(2_000); // the model took 2 s
        return tracer1({ action: { action_type: 'key', keys: ['enter'], step_instruction: 'press Enter' }, status: 'done' });
      },
    ],
  });
  await h.run({ typingDebounceMs: 300 });
  assert.deepEqual(h.clock.sleeps, []);
  assert.deepEqual(h.input.calls, [{ kind: 'type', text: 'hello' }, { kind: 'hotkey', keys: ['enter'] }]);
});
