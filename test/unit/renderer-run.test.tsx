/**
 * The run view as a person meets it: after a reload it shows what the server holds (the run,
 * its forecast, the review waiting), live events move it on, and when the gate starts waiting
 * a desktop notification says so.
 */
import '../harness/happy-dom.ts';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { act as reactAct, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { actionSchema, type Forecast } from '../../common/actions.ts';
import { CALLS, type Caller, type CallName, type PendingReview, type RunState } from '../../common/contract.ts';
import { useRun } from '../../renderer/app/use-run.ts';
import type { LiveChannel, LiveEventOf } from '../../renderer/transport.ts';
import { RunView } from '../../renderer/views/RunView.tsx';

const GEOMETRY = { display: { id: 'd', bounds: { x: 0, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: true }, imageWidth: 640, imageHeight: 400 };
const FRAME = 'b'.repeat(64);
const FORECAST: Forecast = {
  format: 'tracer1',
  steps: [
    { screenshot_abstraction: 'editor', action: actionSchema.parse({ action_type: 'click', step_instruction: "click on 'Save'" }), status: 'not done' },
    { screenshot_abstraction: 'dialog', action: actionSchema.parse({ action_type: 'key', step_instruction: 'confirm', keys: ['enter'] }), status: 'done' },
  ],
};
const review = (reviewId: string, step: number): PendingReview => ({ runId: 'run-1', reviewId, episodeId: 'ep', step, forecast: FORECAST, grounding: { point: { space: 'screenshot', x: 140, y: 52 }, confidence: 0.87, grounder: 'ocr', latencyMs: 5 }, frameId: FRAME, geometry: GEOMETRY, since: 1_000 });

function state(pending?: PendingReview): RunState {
  return {
    runId: 'run-1',
    episodeId: 'ep',
    task: 'Save the report',
    mode: 'each',
    planner: 'script:plan.json',
    grounder: 'ocr',
    status: pending ? 'waiting' : 'running',
    step: pending?.step ?? 1,
    frame: { step: pending?.step ?? 1, frameId: FRAME, geometry: GEOMETRY, capturedAt: 900 },
    forecast: FORECAST,
    groundings: [{ index: 0, grounding: { point: { space: 'screenshot', x: 140, y: 52 }, confidence: 0.87, grounder: 'ocr', latencyMs: 5 } }],
    ...(pending ? { pending } : {}),
    approvingRest: false,
    startedAt: 0,
    log: [],
  };
}

/** What the server holds; calls answer from it through the contract's schemas. */
const server = { run: null as RunState | null, calls: [] as string[], onDecide: undefined as (() => RunState) | undefined };
const call = (async (name: CallName, request: unknown) => {
  server.calls.push(name);
  CALLS[name].request.parse(request);
  if (name === 'runs.current') return { ok: true, value: { run: server.run } };
  if (name === 'settings.get') return { ok: false, error: { code: 'INTERNAL', message: 'not here' } };
  if (name === 'gate.decide') {
    server.run = server.onDecide?.() ?? state();
    return { ok: true, value: server.run };
  }
  return { ok: false, error: { code: 'INTERNAL', message: `${name} not scripted` } };
}) as Caller;

/** A live channel the test pushes events into. */
function channel() {
  const listeners = new Set<(e: LiveEventOf) => void>();
  let seq = 0;
  const live: LiveChannel = {
    subscribe(onEvent, onOpen) {
      listeners.add(onEvent);
      queueMicrotask(onOpen);
      return () => listeners.delete(onEvent);
    },
  };
  const emit = (name: LiveEventOf['name'], data: unknown) => reactAct(() => listeners.forEach((l) => l({ seq: ++seq, name, data } as LiveEventOf)));
  return { live, emit };
}

/** The button a text is in . */
// Assertions compare plain values: an AssertionError that prints a DOM node takes minutes.
const banner = () => document.querySelector('.waiting-banner') !== null;
const button = (el: HTMLElement) => el.closest('button') as HTMLButtonElement;

function Page({ live }: { live: LiveChannel }) {
  const handle = useRun(call, live);
  return <RunView call={call} handle={handle} />;
}

const notifications: { title: string; body?: string }[] = [];
class FakeNotification {
  static permission = 'granted';
  static requestPermission = () => Promise.resolve('granted');
  onclick: (() => void) | null = null;
  constructor(title: string, options?: { body?: string }) {
    notifications.push({ title, body: options?.body });
  }
}
(globalThis as unknown as { Notification: unknown }).Notification = FakeNotification;

afterEach(() => {
  cleanup();
  notifications.length = 0;
  server.calls.length = 0;
  server.onDecide = undefined;
});

void describe('run view', () => {
  void it('after a reload shows the review the server holds, with the forecast and its point', async () => {
    server.run = state(review('v1', 3));
    const { live } = channel();
    render(<Page live={live} />);
    await screen.findByText(/Waiting for you/);
    assert.match(document.querySelector('.waiting-banner')?.textContent ?? '', /step 3/);
    const target = document.querySelector('.target.first');
    assert.equal(target?.getAttribute('data-x'), '140');
    assert.match(target?.textContent ?? '', /87%/);
    assert.deepEqual([...document.querySelectorAll('.forecast-card .instruction')].map((e) => e.textContent), ["click on 'Save'", 'confirm']);

    // Reloaded: the same page again, nothing decided meanwhile.
    cleanup();
    render(<Page live={channel().live} />);
    await screen.findByText(/Waiting for you/);
  });

  void it('approving sends the decision for that review and the banner goes', async () => {
    server.run = state(review('v2', 1));
    render(<Page live={channel().live} />);
    fireEvent.click(button(await screen.findByText('Approve')));
    await waitFor(() => assert.ok(!banner(), 'the banner is gone'));
    assert.ok(server.calls.includes('gate.decide'));
  });

  void it('raises a notification when the gate starts waiting, and follows the events', async () => {
    server.run = state();
    const { live, emit } = channel();
    render(<Page live={live} />);
    await screen.findByText('Save the report');
    assert.ok(!banner(), 'no banner');
    emit('gate.waiting', review('v3', 2));
    await screen.findByText(/Waiting for you/);
    assert.equal(notifications.length, 1);
    assert.equal(notifications[0]?.title, 'Foresight is waiting for you');
    assert.match(notifications[0]?.body ?? '', /Step 2: click/);
    emit('gate.decided', { runId: 'run-1', reviewId: 'v3', step: 2, decision: 'reject', reason: 'wrong file', auto: false });
    await waitFor(() => assert.ok(!banner(), 'the banner is gone'));
    assert.match(document.querySelector('.activity')?.textContent ?? '', /rejected — “wrong file”/);
    emit('run.ended', { runId: 'run-1', episodeId: 'ep', outcome: { status: 'finished', answer: 'Saved', steps: 2 } });
    await screen.findByText(/Answer: Saved/);
    assert.equal(screen.getByText(/Open the episode/).getAttribute('href'), '#/episodes/ep');
  });

  void it("a decision's answer that arrives after the next review's event does not hide that review", async () => {
    server.run = { ...state(review('v4', 4)), seq: 0 };
    const { live, emit } = channel();
    // The agent re-plans and waits again while the answer to the rejection is on its way.
    server.onDecide = () => {
      emit('gate.decided', { runId: 'run-1', reviewId: 'v4', step: 4, decision: 'reject', reason: 'no', auto: false });
      const answered = { ...state(), step: 4, seq: 1 };
      emit('gate.waiting', review('v5', 4));
      return answered;
    };
    render(<Page live={live} />);
    fireEvent.click(button(await screen.findByText('Reject')));
    fireEvent.change(await screen.findByLabelText('Reason'), { target: { value: 'no' } });
    fireEvent.click(button(await screen.findByText('Reject and re-plan')));
    await waitFor(() => assert.ok(server.calls.includes('gate.decide')));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(document.querySelector('.waiting-banner')?.getAttribute('data-review'), 'v5', 'the new review is shown');
  });

  void it('starts with the new-run form when there has been no run', async () => {
    server.run = null;
    render(<Page live={channel().live} />);
    const start = button(await screen.findByText('Start'));
    assert.equal(start.disabled, true, 'no task, no start');
  });
});
