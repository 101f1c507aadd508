/**
 * The human gate as a person uses it in the page: approving, editing a step into the forecast
 * the agent runs, and rejecting — which needs a reason, since the planner is asked again with it.
 */
import '../harness/happy-dom.ts';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { actionSchema, type Forecast } from '../../common/actions.ts';
import type { AppGateDecision, PendingReview } from '../../common/contract.ts';
import { ReviewPanel, type EditDraft } from '../../renderer/components/review.tsx';

const act = (fields: Record<string, unknown>) => actionSchema.parse(fields);
const FORECAST: Forecast = {
  format: 'tracer1',
  steps: [
    { screenshot_abstraction: 'editor', action: act({ action_type: 'click', step_instruction: "click on 'Open'" }), status: 'not done' },
    { screenshot_abstraction: 'dialog', action: act({ action_type: 'type', step_instruction: 'type the name', text: 'draft.txt' }), status: 'not done' },
    { screenshot_abstraction: 'dialog', action: act({ action_type: 'key', step_instruction: 'confirm', keys: ['enter'] }), status: 'done' },
  ],
};
const PENDING: PendingReview = {
  runId: 'r',
  reviewId: 'v',
  episodeId: 'e',
  step: 4,
  forecast: FORECAST,
  frameId: 'a'.repeat(64),
  geometry: { display: { id: 'd', bounds: { x: 0, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: true }, imageWidth: 640, imageHeight: 400 },
  since: 0,
};

/** The panel as the run view holds it: the draft lives above it (the screen's point moves it too). */
function Harness({ decisions, initial }: { decisions: AppGateDecision[]; initial?: EditDraft }) {
  const [draft, setDraft] = useState<EditDraft | null>(initial ?? null);
  return <ReviewPanel pending={PENDING} draft={draft} onDraft={setDraft} onDecide={(d) => decisions.push(d)} busy={false} />;
}

afterEach(() => cleanup());

void describe('review panel', () => {
  void it('approves, and approves the rest', () => {
    const decisions: AppGateDecision[] = [];
    render(<Harness decisions={decisions} />);
    fireEvent.click(screen.getByRole('button', { name: /^Approve$/ }));
    fireEvent.click(screen.getByRole('button', { name: /Approve the rest/ }));
    assert.deepEqual(decisions, [{ kind: 'approve' }, { kind: 'approve_rest' }]);
  });

  void it('turns the edit form into the edited forecast: instruction, text, keys; the other steps unchanged', () => {
    const decisions: AppGateDecision[] = [];
    render(<Harness decisions={decisions} />);
    fireEvent.click(screen.getByRole('button', { name: /Edit/ }));
    fireEvent.change(screen.getByLabelText('Instruction'), { target: { value: "click on 'Save'" } });
    // Step 2: a new file name.
    fireEvent.change(screen.getByLabelText('Step to edit'), { target: { value: '1' } });
    fireEvent.change(screen.getByLabelText('Text to type'), { target: { value: 'report.txt' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run the edited step' }));
    assert.equal(decisions.length, 1);
    const d = decisions[0];
    assert.ok(d?.kind === 'edit');
    // One step is edited per decision: switching steps starts a new edit of that step.
    assert.deepEqual(d.forecast.steps[0], FORECAST.steps[0]);
    assert.deepEqual(d.forecast.steps[1]?.action, { action_type: 'type', step_instruction: 'type the name', text: 'report.txt' });
    assert.deepEqual(d.forecast.steps[2], FORECAST.steps[2]);
  });

  void it('changes an action type and says what the new type needs before it can be sent', () => {
    const decisions: AppGateDecision[] = [];
    render(<Harness decisions={decisions} />);
    fireEvent.click(screen.getByRole('button', { name: /Edit/ }));
    fireEvent.change(screen.getByLabelText('Action type'), { target: { value: 'hotkey' } });
    // A hotkey without keys is no action: the form says so and cannot be sent.
    const send = screen.getByRole('button', { name: 'Run the edited step' }) as HTMLButtonElement;
    assert.equal(send.disabled, true);
    fireEvent.change(screen.getByLabelText('Keys'), { target: { value: 'ctrl+nosuchkey' } });
    assert.match(document.querySelector('.problems')?.textContent ?? '', /Unknown key "nosuchkey"/);
    assert.equal(send.disabled, true);
    fireEvent.change(screen.getByLabelText('Keys'), { target: { value: 'Ctrl+S' } });
    assert.equal(send.disabled, false);
    fireEvent.click(send);
    const d = decisions[0];
    assert.ok(d?.kind === 'edit');
    assert.deepEqual(d.forecast.steps[0]?.action, { action_type: 'hotkey', step_instruction: "click on 'Open'", keys: ['ctrl', 's'] });
  });

  void it('sends the point dragged on the screen as the first step’s point, in screenshot pixels', () => {
    const decisions: AppGateDecision[] = [];
    render(<Harness decisions={decisions} initial={{ index: 0, edit: { point: { x: 140, y: 52 } } }} />);
    assert.match(screen.getByText(/Point moved to/).textContent ?? '', /\(140, 52\)/);
    fireEvent.click(screen.getByRole('button', { name: 'Run the edited step' }));
    const d = decisions[0];
    assert.ok(d?.kind === 'edit');
    assert.deepEqual(d.forecast.steps[0]?.action, { action_type: 'click', step_instruction: "click on 'Open'", point: { space: 'screenshot', x: 140, y: 52 } });
  });

  void it('rejects only with a reason, and sends it trimmed', () => {
    const decisions: AppGateDecision[] = [];
    render(<Harness decisions={decisions} />);
    fireEvent.click(screen.getByRole('button', { name: /Reject/ }));
    const submit = screen.getByRole('button', { name: 'Reject and re-plan' }) as HTMLButtonElement;
    assert.equal(submit.disabled, true, 'no reason, no reject');
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: '   ' } });
    assert.equal(submit.disabled, true, 'spaces are no reason');
    fireEvent.submit(submit.closest('form') as HTMLFormElement);
    assert.deepEqual(decisions, [], 'submitting the empty form sends nothing');
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: '  Save it in Documents, not on the desktop ' } });
    assert.equal(submit.disabled, false);
    fireEvent.click(submit);
    assert.deepEqual(decisions, [{ kind: 'reject', reason: 'Save it in Documents, not on the desktop' }]);
  });
});
