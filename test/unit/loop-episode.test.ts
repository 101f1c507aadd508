/**
 * The agent loop (main/agent/loop.ts) in-process, over the fakes of test/harness/agent-fakes.ts
 * and a real episode database: how an episode ends (the step budget, each terminal action, a
 * step marked done, a planner that cannot be reached, answers that cannot be parsed); failed
 * actions in a row (grounding and execution errors, each ending with its own code) and loop
 * detection with its one re-ask; the approval policies and what a person can answer. What is
 * checked is what a user would: the episode's end in the store, its stored steps, forecasts,
 * approvals and executions, and the input that reached the desktop. The kill switch has its
 * own file (loop-kill-switch.test.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Forecast } from '../../common/actions.ts';
import { ForesightError } from '../../common/errors.ts';
import { ScriptPlanner } from '../../main/planners/script-planner.ts';
import { LINE, saveAsPlan } from '../fixtures/plans.ts';
import { click, clickAt, globalOf, harness, LABELS, tracer1 } from '../harness/agent-fakes.ts';

void describe('how an episode ends', () => {
  test('the step budget: an episode that never ends fails with STEP_BUDGET after max steps, each acted', async () => {
    const menus = ['File', 'Edit', 'View', 'Name'];
    const h = harness({ planner: [], plannerOtherwise: (req) => tracer1(click(menus[(req.stepNumber - 1) % menus.length]!)) });
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

  test('finished ends the episode with its answer; nothing is sent to the desktop', async () => {
    const h = harness({
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

  test('finished may carry its answer as text', async () => {
    const h = harness({ planner: [tracer1({ action_type: 'finished', text: 'Tuesday', step_instruction: 'read the date' })] });
    const { episode } = await h.run();
    assert.equal(episode.status, 'finished');
    assert.equal(episode.answer, 'Tuesday');
  });

  test('call_user ends the episode as needs_user, saying why', async () => {
    const h = harness({ planner: [tracer1({ action_type: 'call_user', step_instruction: 'the file exists: overwrite it?' })] });
    const { outcome, episode } = await h.run();
    assert.equal(outcome.status, 'needs_user');
    assert.equal(episode.status, 'needs_user');
    assert.equal(episode.error?.message, 'The agent asks for a person: the file exists: overwrite it?');
    assert.deepEqual(h.input.calls, []);
  });

  test('fail ends the episode as failed with TASK_FAILED and the reason', async () => {
    const h = harness({
      planner: [tracer1(click('File')), tracer1({ action_type: 'fail', step_instruction: 'there is no Export entry in this app' })],
    });
    const { episode } = await h.run();
    assert.equal(episode.status, 'failed');
    assert.deepEqual(episode.error, { code: 'TASK_FAILED', message: 'The agent gave up: there is no Export entry in this app' });
    assert.deepEqual(h.input.calls, [clickAt('File')]);
  });

  test('a step whose status is done ends the episode as finished once it was acted', async () => {
    const h = harness({
      planner: [tracer1({ action: { action_type: 'hotkey', keys: ['ctrl', 's'], step_instruction: 'save the document' }, status: 'done' })],
    });
    const { episode } = await h.run();
    assert.equal(episode.status, 'finished');
    assert.equal(episode.answer, undefined);
    assert.deepEqual(h.input.calls, [{ kind: 'hotkey', keys: ['ctrl', 's'] }]);
    assert.equal(h.planner.requests.length, 1, 'nothing was planned after the last step');
  });

  test('a step marked done that fails does not finish the episode', async () => {
    const h = harness({
      planner: [tracer1({ action: click('Print'), status: 'done' }), tracer1({ action_type: 'finished', step_instruction: 'printed' })],
    });
    const { episode } = await h.run();
    assert.equal(episode.status, 'finished');
    assert.equal(episode.steps.length, 2, 'the failed step was planned again');
    assert.equal(episode.steps[0]?.executions[0]?.error?.code, 'GROUNDING_FAILED');
  });

  test('a planner that cannot be reached fails the episode with its own code, asked once', async () => {
    const h = harness({
      planner: [new ForesightError('ENDPOINT_UNREACHABLE', 'No model endpoint at http://127.0.0.1:8000/v1 (connection refused)')],
    });
    const { episode } = await h.run();
    assert.equal(episode.status, 'failed');
    assert.deepEqual(episode.error, { code: 'ENDPOINT_UNREACHABLE', message: 'No model endpoint at http://127.0.0.1:8000/v1 (connection refused)' });
    assert.equal(h.planner.requests.length, 1);
    assert.equal(episode.steps[0]?.forecasts[0]?.error?.code, 'ENDPOINT_UNREACHABLE');
    assert.deepEqual(h.input.calls, []);
  });

  test('a malformed answer is re-asked with what was wrong, and the good answer is acted on', async () => {
    const h = harness({
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

  test('answers that stay malformed end the episode with PARSE_ERROR after the retries; each is stored', async () => {
    const answers = [
      'Sure! Let me help you with that.',
      '<answer>Step 1: "screenshot_abstraction": "x", "action": {"action_type": "teleport", "step_instruction": "go"}, "status": "not done"</answer>',
      '<answer>\nStep 1: "action": {"action_type": "click"}\n</answer>',
    ];
    const h = harness({ planner: answers });
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

  test('a Save As run from the scripted plan: every input in order, Enter only after the typing debounce', async () => {
    const path = '/tmp/report.txt';
    const signal = new AbortController().signal;
    const h = harness({ planner: [] });
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
    // what `foresight run` prints comes from these events
    assert.deepEqual(h.events.at(0), { type: 'episode_start', episodeId: episode.id, task: 'Save the document as /tmp/report.txt' });
    assert.deepEqual(h.events.at(-1), { type: 'episode_end', episodeId: episode.id, status: 'finished', steps: 6, cancelledRequests: 0, staleForecasts: 0 });
  });

  test('a model that thinks longer than the debounce owes the app nothing', async () => {
    const h = harness({
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
});

void describe('failed actions in a row, and loops', () => {
  test('three grounding errors in a row fail the episode with GROUNDING_FAILED; nothing is clicked', async () => {
    const h = harness({ planner: [tracer1(click('Print')), tracer1(click('Export')), tracer1(click('Share'))] });
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

  test('three execution errors in a row fail the episode with the error of the action, not INTERNAL', async () => {
    const h = harness({ planner: [tracer1(click('File')), tracer1(click('Edit')), tracer1(click('View'))] });
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

  test('an action the desktop cannot do ends, after three in a row, with its own BAD_INPUT', async () => {
    const h = harness({
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

  test('a point off every display is refused with OUT_OF_SCREEN before anything moves', async () => {
    // The grounder finds the label, but far off the 128x80 frame: the executor refuses the point.
    const h = harness({
      planner: [tracer1(click('Ghost')), tracer1({ action_type: 'double_click', step_instruction: "open 'Ghost'" }), tracer1({ action_type: 'right_click', step_instruction: "right-click 'Ghost'" })],
      labels: { Ghost: { x: 1000, y: 40 } },
    });
    const { episode } = await h.run();
    assert.equal(episode.error?.code, 'OUT_OF_SCREEN');
    assert.match(episode.steps[0]?.executions[0]?.error?.message ?? '', /Refusing to act at \(10000, 400\)/);
    assert.deepEqual(h.input.calls, []);
  });

  test('a success between failures starts the count again', async () => {
    const h = harness({
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
    assert.deepEqual(h.input.calls, [clickAt('File')]);
  });

  test('a lookup grounder grounds every pointed step of the forecast; a later miss does not fail the step', async () => {
    const h = harness({
      speculative: true,
      planner: [tracer1(click('File'), { action_type: 'type', text: 'x', step_instruction: 'type x' }, click('Print'), click('Save')), tracer1(click('Save'))],
      plannerOtherwise: tracer1({ action_type: 'finished', step_instruction: 'done' }),
    });
    const { episode } = await h.run();
    assert.equal(episode.status, 'finished');
    const first = episode.steps[0]?.groundings ?? [];
    assert.deepEqual(
      first.map((g) => [g.forecastStepIndex, g.detail ?? g.error?.code]),
      [
        [0, 'File'],
        [2, 'GROUNDING_FAILED'],
        [3, 'Save'],
      ],
    );
    assert.equal(episode.steps[0]?.executions[0]?.result, 'ok');
    assert.deepEqual(h.input.calls, [clickAt('File'), clickAt('Save')]);
    assert.deepEqual(h.grounder.perceived, episode.steps.map((s) => s.frameSha256), 'each new frame was handed to the grounder');
  });

  test('a grounder that costs a model call grounds only the step that is acted', async () => {
    const h = harness({ planner: [tracer1(click('File'), click('Print'), click('Save'))], plannerOtherwise: tracer1({ action_type: 'finished', step_instruction: 'done' }) });
    const { episode } = await h.run();
    assert.deepEqual(episode.steps[0]?.groundings.map((g) => g.forecastStepIndex), [0]);
  });

  test('a repeated action is re-asked once with feedback, then the episode fails with LOOP_DETECTED', async () => {
    const next = tracer1(click('Next'));
    const h = harness({ planner: [next, next, next, next] });
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

  test('after the re-ask a different action goes on as usual', async () => {
    const next = tracer1(click('Next'));
    const h = harness({
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

  test('waiting again and again is not a loop; the step budget bounds it', async () => {
    const wait = tracer1({ action_type: 'wait', duration_ms: 2000, step_instruction: 'wait for the download' });
    const h = harness({ planner: [], plannerOtherwise: () => wait });
    const { episode } = await h.run({ maxSteps: 5 });
    assert.equal(episode.error?.code, 'STEP_BUDGET');
    assert.deepEqual(h.clock.sleeps, [2000, 2000, 2000, 2000, 2000], 'each wait waited its 2 s (on the fake clock)');
  });
});

void describe('approval', () => {
  const finished = { action: { action_type: 'finished', step_instruction: 'the document is saved' }, status: 'done' as const };

  /** File → Save As… → Save, then finished: at step t the planner forecasts the rest. */
  const SAVE_PLAN = [click('File'), click('Save As…'), click('Save')];
  const rest = (stepNumber: number) => tracer1(...SAVE_PLAN.slice(stepNumber - 1), finished);

  test('never: the person is not asked and no approval is stored', async () => {
    const h = harness({ planner: [], plannerOtherwise: (req) => rest(req.stepNumber) });
    const { episode } = await h.run({ approval: 'never' });
    assert.equal(episode.status, 'finished');
    assert.equal(h.gate.requests.length, 0);
    assert.deepEqual(episode.steps.flatMap((s) => s.approvals), []);
    assert.deepEqual(h.input.calls, [clickAt('File'), clickAt('Save As…'), clickAt('Save')]);
  });

  test('each: the person approves every step, the last one too, with the grounded point shown', async () => {
    const h = harness({ planner: [], plannerOtherwise: (req) => rest(req.stepNumber) });
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

  test('forecast: a plan approved once runs while the planner continues it; a change is asked again', async () => {
    const h = harness({
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

  test('edit: the edited step is grounded and acted; the original and the edit are both stored', async () => {
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
    const h = harness({
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

  test('edit to another target: the new step instruction is grounded before it is acted', async () => {
    const edited: Forecast = {
      format: 'tracer1',
      steps: [{ screenshot_abstraction: '', action: { action_type: 'click', step_instruction: "click on 'Edit'" }, status: 'done' }],
    };
    const h = harness({ planner: [tracer1(click('File'))], gate: [{ kind: 'edit', forecast: edited }] });
    const { episode } = await h.run({ approval: 'each' });
    assert.equal(episode.status, 'finished', 'the edited step was marked done');
    assert.deepEqual(h.input.calls, [clickAt('Edit')]);
    assert.deepEqual(
      episode.steps[0]?.groundings.map((g) => g.detail),
      ['File', 'Edit'],
      'both the planned and the edited step were grounded',
    );
  });

  test('reject: the reason reaches the planner, whose next forecast is acted on', async () => {
    const h = harness({
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

  test('the rejection limit: three rejections in a row stop the episode with REJECTED; nothing is acted', async () => {
    const h = harness({
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

  test('stop at the gate: the episode is stopped and nothing is acted', async () => {
    const h = harness({ planner: [tracer1(click('File'))], gate: ['stop'] });
    const { outcome, episode } = await h.run({ approval: 'each' });
    assert.equal(outcome.status, 'stopped');
    assert.equal(episode.status, 'stopped');
    assert.equal(episode.error?.code, 'STOPPED');
    assert.deepEqual(h.input.calls, []);
    assert.deepEqual(episode.steps[0]?.executions, []);
  });
});
