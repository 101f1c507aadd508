/** A forecast as a numbered list, and a person's edit as original → edited. */
import type { Forecast } from '../../common/actions.ts';
import { diffForecasts, type StepChange } from '../forecast-diff.ts';
import { actionArguments } from '../format.ts';

export function ForecastSteps({ forecast, changes, compact = false }: { forecast: Forecast; changes?: readonly StepChange[]; compact?: boolean }) {
  return (
    <ol className={`forecast-steps${compact ? ' compact' : ''}`}>
      {forecast.steps.map((s, i) => {
        const change = changes?.[i];
        return (
          <li key={i} className={`forecast-step${change ? ` change-${change}` : ''}`} data-change={change}>
            <span className="step-num">{i + 1}</span>
            <div className="step-main">
              <div className="step-line">
                <span className={`action-type action-${s.action.action_type}`}>{s.action.action_type}</span>
                <span className="instruction">{s.action.step_instruction || '—'}</span>
              </div>
              <div className="step-meta">
                {actionArguments(s.action).map((arg, j) => (
                  <span key={j} className="arg mono">
                    {arg}
                  </span>
                ))}
                <span className={`step-status${s.status === 'done' ? ' is-done' : ''}`}>{s.status}</span>
                {change === 'changed' || change === 'new' ? <span className="change-tag">{change}</span> : null}
              </div>
            </div>
          </li>
        );
      })}
    </ol>
  );
}

export function EditPair({ original, edited }: { original: Forecast; edited: Forecast }) {
  const d = diffForecasts(original, edited);
  const marks = d.steps.map((c) => (c === 'same' ? 'same' : 'changed') as StepChange);
  return (
    <div className="edit-pair">
      <div className="original">
        <div className="label">Original</div>
        <ForecastSteps forecast={original} changes={original.steps.map((_, i) => marks[i] ?? 'changed')} compact />
      </div>
      <div className="arrow" aria-hidden="true">
        →
      </div>
      <div className="edited">
        <div className="label">Edited</div>
        <ForecastSteps forecast={edited} changes={marks} compact />
      </div>
    </div>
  );
}
