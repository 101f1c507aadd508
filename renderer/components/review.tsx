/**
 * The human gate in the page: a forecast waiting for a person, and the four things they can
 * do about it — approve it, approve it and the rest of it while the agent keeps to it, edit a
 * step (type, instruction, text, keys, or the point dragged on the screen), or reject it with
 * a reason the planner is asked again with.
 */
import { useState } from 'react';
import { ACTION_TYPES, type ActionType, type Forecast } from '../../common/actions.ts';
import { applyStepEdit, type AppGateDecision, type PendingReview, type StepEdit } from '../../common/contract.ts';
import { parseKeyCombo } from '../../common/keys.ts';
import { diffForecasts } from '../forecast-diff.ts';
import { ForecastSteps } from './forecast.tsx';
import { Icon } from './icons.tsx';

/** Which step is being edited and what the person changed so far (the keys as typed). */
export interface EditDraft {
  index: number;
  edit: StepEdit;
  keysText?: string;
}

const TEXT_TYPES: readonly ActionType[] = ['type', 'input_text'];
const KEY_TYPES: readonly ActionType[] = ['hotkey', 'key'];

/** The edited forecast, or the problems that keep the edit from being one. */
export function editedForecast(forecast: Forecast, draft: EditDraft): { ok: true; forecast: Forecast } | { ok: false; problems: string[] } {
  let edit = draft.edit;
  if (draft.keysText !== undefined) {
    try {
      edit = { ...edit, keys: parseKeyCombo(draft.keysText) };
    } catch (e) {
      return { ok: false, problems: [e instanceof Error ? e.message : String(e)] };
    }
  }
  return applyStepEdit(forecast, draft.index, edit);
}

export function StepEditForm({ forecast, draft, onChange }: { forecast: Forecast; draft: EditDraft; onChange: (d: EditDraft) => void }) {
  const step = forecast.steps[draft.index];
  if (!step) return null;
  const type = draft.edit.action_type ?? step.action.action_type;
  const a = step.action as { text?: string; keys?: string[] };
  const text = draft.edit.text ?? a.text ?? '';
  const keysText = draft.keysText ?? (a.keys ?? []).join('+');
  const set = (patch: Partial<StepEdit>) => onChange({ ...draft, edit: { ...draft.edit, ...patch } });
  const point = draft.edit.point;
  return (
    <div className="edit-form" aria-label="Edit a forecast step">
      <div className="field-row">
        <label className="field">
          <span>Step</span>
          <select data-testid="edit-step" aria-label="Step to edit" value={draft.index} onChange={(e) => onChange({ index: Number(e.target.value), edit: {} })}>
            {forecast.steps.map((s, i) => (
              <option key={i} value={i}>
                {i + 1}. {s.action.action_type}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Action</span>
          <select data-testid="edit-type" aria-label="Action type" value={type} onChange={(e) => set({ action_type: ACTION_TYPES.find((t) => t === e.target.value) })}>
            {ACTION_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label className="field">
        <span>Instruction</span>
        <input type="text" data-testid="edit-instruction" aria-label="Instruction" value={draft.edit.step_instruction ?? step.action.step_instruction} onChange={(e) => set({ step_instruction: e.target.value })} />
      </label>
      {TEXT_TYPES.includes(type) ? (
        <label className="field">
          <span>Text to type</span>
          <input type="text" data-testid="edit-text" aria-label="Text to type" value={text} onChange={(e) => set({ text: e.target.value })} />
        </label>
      ) : null}
      {KEY_TYPES.includes(type) ? (
        <label className="field">
          <span>
            Keys <span className="hint">as ctrl+s, enter</span>
          </span>
          <input type="text" data-testid="edit-keys" aria-label="Keys" value={keysText} onChange={(e) => onChange({ ...draft, keysText: e.target.value })} />
        </label>
      ) : null}
      {draft.index === 0 ? (
        <p className="muted small point-hint">
          {point ? (
            <>
              Point moved to <strong className="mono">({point.x}, {point.y})</strong>.{' '}
              <button type="button" className="ghost small" onClick={() => onChange({ ...draft, edit: { ...draft.edit, point: undefined } })}>
                Undo move
              </button>
            </>
          ) : (
            'Drag the numbered point on the screen to where this step should act.'
          )}
        </p>
      ) : null}
    </div>
  );
}

type Panel = 'none' | 'edit' | 'reject';

export function ReviewPanel({
  pending,
  draft,
  onDraft,
  onDecide,
  busy,
}: {
  pending: PendingReview;
  draft: EditDraft | null;
  onDraft: (d: EditDraft | null) => void;
  onDecide: (d: AppGateDecision) => void;
  busy: boolean;
}) {
  const [panel, setPanel] = useState<Panel>(draft ? 'edit' : 'none');
  const [reason, setReason] = useState('');
  const result = draft ? editedForecast(pending.forecast, draft) : undefined;
  const open = (p: Panel) => {
    setPanel(p);
    onDraft(p === 'edit' ? (draft ?? { index: 0, edit: {} }) : null);
  };
  return (
    <section className="review" aria-label="Review the forecast">
      <div className="review-actions">
        <button type="button" data-testid="gate-approve" className="ok" disabled={busy} onClick={() => onDecide({ kind: 'approve' })}>
          <Icon name="check" size={16} /> Approve
        </button>
        <button type="button" data-testid="gate-approve-rest" disabled={busy} onClick={() => onDecide({ kind: 'approve_rest' })} title="Approve this step and the following ones while the agent keeps to this forecast">
          <Icon name="forward" size={16} /> Approve the rest
        </button>
        <button type="button" data-testid="gate-edit" className={panel === 'edit' ? 'active' : ''} disabled={busy} onClick={() => open(panel === 'edit' ? 'none' : 'edit')} aria-expanded={panel === 'edit'}>
          <Icon name="edit" size={16} /> Edit
        </button>
        <button type="button" data-testid="gate-reject" className={`danger${panel === 'reject' ? ' active' : ''}`} disabled={busy} onClick={() => open(panel === 'reject' ? 'none' : 'reject')} aria-expanded={panel === 'reject'}>
          <Icon name="x" size={16} /> Reject
        </button>
      </div>
      {panel === 'edit' && draft ? (
        <div className="review-body">
          <StepEditForm forecast={pending.forecast} draft={draft} onChange={onDraft} />
          {result?.ok ? (
            <div className="edited-preview">
              <div className="field-label">Your edited forecast</div>
              <ForecastSteps forecast={result.forecast} changes={diffForecasts(pending.forecast, result.forecast).steps} compact />
            </div>
          ) : (
            <ul className="field-error problems">
              {result?.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
          <div className="review-foot">
            <button type="button" className="ghost" onClick={() => open('none')}>
              Cancel
            </button>
            <button type="button" data-testid="edit-send" className="primary" disabled={busy || !result?.ok} onClick={() => result?.ok && onDecide({ kind: 'edit', forecast: result.forecast })}>
              Run the edited step
            </button>
          </div>
        </div>
      ) : null}
      {panel === 'reject' ? (
        <form
          className="review-body"
          onSubmit={(e) => {
            e.preventDefault();
            if (reason.trim()) onDecide({ kind: 'reject', reason: reason.trim() });
          }}
        >
          <label className="field">
            <span>Why is this forecast wrong?</span>
            <textarea data-testid="reject-reason" aria-label="Reason" rows={3} value={reason} placeholder="e.g. The file must be saved in Documents, not on the desktop" onChange={(e) => setReason(e.target.value)} />
            <span className="hint">The planner is asked again with your reason.</span>
          </label>
          <div className="review-foot">
            <button type="button" className="ghost" onClick={() => open('none')}>
              Cancel
            </button>
            <button type="submit" data-testid="reject-send" className="danger solid" disabled={busy || reason.trim() === ''}>
              Reject and re-plan
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
