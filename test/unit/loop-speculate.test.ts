/**
 * Speculative observation and stale forecasts in the agent loop (main/agent/loop.ts), in-process
 * over the fakes of test/harness/agent-fakes.ts and a real episode database: the planner is asked
 * about a frame before the screen counts as settled; a frame something drew over has its request
 * cancelled (not a re-ask for --retries) and the next frame is asked about; a forecast whose
 * frame the screen no longer shows is recorded as stale, not executed, and forecast anew — a
 * bounded number of times, then SCREEN_UNSTABLE with nothing done. What is checked is what a user
 * would: the stored steps, forecasts and executions, the episode's counts, and the input that
 * reached the desktop.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanRequest } from '../../common/ports.ts';
import { ScriptPlanner } from '../../main/planners/script-planner.ts';
import { click, clickAt, harness, tracer1, type PlannerTurn } from '../harness/agent-fakes.ts';

/** A model that never answers: only an abort ends its request. */
const hangs: PlannerTurn = () => new Promise<string>(() => undefined);

const done = tracer1({ action: { action_type: 'finished', step_instruction: 'the task is done' }, status: 'done' });

void describe('speculative observation', () => {
  test('after an action the planner is asked before the settle ends, about the frame that becomes the observation', async () => {
    const h = harness({ planner: [tracer1(click('File')), tracer1(click('Edit')), done] });
    const { outcome, episode } = await h.run();
    assert.equal(outcome.status, 'finished');
    assert.deepEqual(h.input.calls, [clickAt('File'), clickAt('Edit')]);
    // The request of step 2 went out while the observer was still settling ('observe' is logged when it answers).
    const after = h.log.slice(h.log.indexOf('click 40,20'));
    assert.ok(after.indexOf('plan 2') < after.indexOf('observe'), after.join(' | '));
    // …and was made on the frame stored as the step's screenshot, once (one attempt per step).
    assert.deepEqual(
      h.planner.requests.map((r) => r.observation.frameId),
      episode.steps.map((s) => s.frameSha256),
    );
    assert.deepEqual(
      episode.steps.map((s) => s.forecasts.map((f) => f.attempt)),
      [[1], [1], [1]],
    );
    assert.deepEqual(
      h.events.filter((e) => e.type === 'observation').map((e) => e.speculative),
      [false, true, true],
    );
    assert.deepEqual([episode.cancelledRequests, episode.staleForecasts, outcome.cancelledRequests], [0, 0, 0]);
    assert.equal(episode.settings.speculate, true);
  });

  test('a frame drawn over before the settle has its request cancelled; the step acts on the forecast of the settled frame', async () => {
    const h = harness({ planner: [tracer1(click('File')), hangs, hangs, tracer1(click('Edit')), done] });
    h.observer.settleScripts.push({ drawnOver: 2 });
    const { outcome, episode } = await h.run({ maxParseRetries: 0 });
    assert.equal(outcome.status, 'finished', JSON.stringify(outcome.error));
    assert.equal(h.planner.cancelled, 2, 'both requests on frames that were drawn over were aborted');
    assert.deepEqual(h.input.calls, [clickAt('File'), clickAt('Edit')]);
    const step2 = episode.steps[1]!;
    assert.equal(step2.cancelledRequests, 2);
    // Cancelled requests are not attempts: with --retries 0 the step still had its one attempt, on its own frame.
    assert.deepEqual(step2.forecasts.map((f) => f.attempt), [1]);
    assert.equal(h.planner.requests[3]?.observation.frameId, step2.frameSha256);
    assert.notEqual(h.planner.requests[1]?.observation.frameId, step2.frameSha256);
    assert.deepEqual([episode.cancelledRequests, outcome.cancelledRequests, episode.staleForecasts], [2, 2, 0]);
  });

  test('a screen that keeps drawing in bursts costs at most maxSpeculativeCancels requests; then the loop waits for the settle', async () => {
    const h = harness({ planner: [tracer1(click('File')), hangs, hangs, tracer1(click('Edit')), done] });
    h.observer.settleScripts.push({ drawnOver: 6 });
    const { outcome, episode } = await h.run({ maxSpeculativeCancels: 2 });
    assert.equal(outcome.status, 'finished');
    assert.equal(h.planner.cancelled, 2);
    assert.equal(episode.steps[1]?.cancelledRequests, 2);
    assert.equal(h.planner.requests.length, 5, 'two cancelled, then one request after the settle for step 2');
    assert.equal(h.planner.requests[3]?.observation.frameId, episode.steps[1]?.frameSha256);
    assert.deepEqual(
      h.events.filter((e) => e.type === 'observation').map((e) => e.speculative),
      [false, false, true],
      'step 2 waited for the settle; step 3 speculated again',
    );
  });

  test('--speculate off: the planner is asked only once the screen settled, and nothing is cancelled', async () => {
    const h = harness({ planner: [tracer1(click('File')), tracer1(click('Edit')), done] });
    h.observer.settleScripts.push({ drawnOver: 2 });
    const { outcome, episode } = await h.run({ speculate: false });
    assert.equal(outcome.status, 'finished');
    const after = h.log.slice(h.log.indexOf('click 40,20'));
    assert.ok(after.indexOf('observe') < after.indexOf('plan 2'), after.join(' | '));
    assert.deepEqual([h.planner.cancelled, episode.cancelledRequests, h.planner.requests.length], [0, 0, 3]);
    assert.equal(episode.settings.speculate, false);
  });
});

void describe('stale forecasts', () => {
  test('a window that opens while the model thinks: the forecast is stored as stale, not executed; the next one is made on the new screen', async () => {
    const dialog = { ...{ OK: { x: 64, y: 40 } } };
    const h = harness({
      planner: [
        tracer1(click('File')),
        (req: PlanRequest) => {
          h.observer.draw('a dialog opened', { ...h.observer.labels, ...dialog });
          void req;
          return tracer1(click('Edit'));
        },
        tracer1(click('OK')),
        done,
      ],
    });
    const { outcome, episode } = await h.run();
    assert.equal(outcome.status, 'finished', JSON.stringify(outcome.error));
    // Edit was never clicked: the dialog covers the screen the forecast was made for.
    assert.deepEqual(h.input.calls, [clickAt('File'), { kind: 'click', point: { x: 640, y: 400 }, button: 'left', count: 1 }]);
    const stale = episode.steps[1]!;
    assert.equal(stale.executions[0]?.result, 'stale');
    assert.equal(stale.executions[0]?.action.step_instruction, "click on 'Edit'");
    assert.match(stale.executions[0]?.error?.message ?? '', /screen changed after the forecast's frame was captured \(a dialog opened\)/);
    assert.equal(stale.executionState, 'not_started');
    // The new forecast was made on a new observation of the screen with the dialog.
    const next = episode.steps[2]!;
    assert.notEqual(next.frameSha256, stale.frameSha256);
    assert.equal(h.planner.requests[2]?.observation.frameId, next.frameSha256);
    assert.equal(next.executions[0]?.result, 'ok');
    assert.deepEqual([episode.staleForecasts, outcome.staleForecasts, outcome.steps], [1, 1, 3]);
    // A stale forecast is no step the model took: its history does not mention it.
    assert.deepEqual(h.planner.requests[2]?.history.map((x) => x.action), [h.planner.requests[1]?.history[0]?.action]);
    // and the history is numbered by the actions taken, whatever the step rows are.
    assert.deepEqual(h.planner.requests.at(-1)?.history.map((x) => x.step), h.planner.requests.at(-1)?.history.map((_, i) => i + 1));
  });

  test('a screen that never holds still: SCREEN_UNSTABLE after maxStaleRetries new forecasts, and nothing was done', async () => {
    const h = harness({ planner: [], plannerOtherwise: tracer1(click('File')) });
    h.observer.animating = 'a spinner redrawing';
    for (let i = 0; i < 4; i++) h.observer.settleScripts.push({ timedOut: true });
    const { outcome, episode } = await h.run({ maxStaleRetries: 3 });
    assert.equal(outcome.status, 'failed');
    assert.equal(episode.error?.code, 'SCREEN_UNSTABLE');
    assert.match(episode.error?.message ?? '', /^The screen never held still: 4 forecasts in a row .* the last time a spinner redrawing/);
    assert.deepEqual(h.input.calls, [], 'nothing was clicked on the moving screen');
    assert.equal(episode.steps.length, 4);
    assert.deepEqual(
      episode.steps.map((s) => s.executions.map((x) => x.result)),
      [['stale'], ['stale'], ['stale'], ['stale']],
    );
    assert.equal(episode.staleForecasts, 4);
  });

  test('stale forecasts do not use up the step budget, and a forecast acted on resets the count in a row', async () => {
    let n = 0;
    const h = harness({
      planner: [],
      plannerOtherwise: () => {
        n++;
        // Every other forecast is overtaken by drawing: never two stale ones in a row.
        if (n % 2 === 0) h.observer.draw(`notification ${n}`);
        return n >= 7 ? done : tracer1(click(['File', 'Edit', 'View'][n % 3]!));
      },
    });
    const { outcome, episode } = await h.run({ maxSteps: 4, maxStaleRetries: 1 });
    assert.equal(outcome.status, 'finished', JSON.stringify(outcome.error));
    assert.equal(episode.staleForecasts, 3);
    assert.equal(h.input.calls.length, 3);
    assert.equal(episode.steps.length, 7);
  });

  test('a scripted plan keeps its place through a stale forecast: the planner is asked for the same step again', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'foresight-stale-plan-')), 'plan.txt');
    writeFileSync(file, tracer1(click('File'), click('Edit'), { action: { action_type: 'finished', step_instruction: 'done' }, status: 'done' }));
    const script = new ScriptPlanner(file);
    let drew = false;
    const fromScript = async (req: PlanRequest) => {
      if (!drew && req.history.length === 1) {
        drew = true;
        h.observer.draw('a tooltip');
      }
      return (await script.plan(req, new AbortController().signal)).raw;
    };
    const h = harness({ planner: [], plannerOtherwise: fromScript });
    const { outcome, episode } = await h.run();
    assert.equal(outcome.status, 'finished', JSON.stringify(outcome.error));
    assert.deepEqual(h.input.calls, [clickAt('File'), clickAt('Edit')], 'Edit was clicked once, after the stale forecast of it; nothing was skipped');
    assert.deepEqual(h.planner.requests.map((r) => r.stepNumber), [1, 2, 2, 3]);
    assert.deepEqual(episode.steps.map((s) => s.stepNumber), [1, 2, 3, 4]);
  });

  test('a forecast a person approved is acted on: the person saw the screen as it is', async () => {
    const h = harness({ planner: [tracer1(click('File')), done], gate: [() => (h.observer.draw('the terminal echoed the answer'), { kind: 'approve' })] });
    const { outcome, episode } = await h.run({ approval: 'each' });
    assert.equal(outcome.status, 'finished');
    assert.deepEqual(h.input.calls, [clickAt('File')]);
    assert.equal(episode.staleForecasts, 0);
  });
});

void describe('the kill switch during speculation', () => {
  test('fired while a speculative request is pending: the episode stops, that request is aborted, nothing more is sent', async () => {
    const h = harness({ planner: [tracer1(click('File')), hangs, tracer1(click('Edit'))] });
    h.observer.settleScripts.push({ drawnOver: 0 });
    h.kill.arm({ at: 'plan', call: 2, then: 'resolve' });
    const { outcome, episode } = await h.run();
    assert.equal(outcome.status, 'stopped');
    assert.equal(episode.status, 'stopped');
    assert.deepEqual(h.input.calls, [clickAt('File')]);
    assert.deepEqual(h.input.callsAfterAbort, []);
    assert.equal(h.planner.cancelled, 1, 'the pending request was aborted');
  });
});
