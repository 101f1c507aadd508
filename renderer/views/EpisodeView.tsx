/**
 * One episode as a timeline: a rail of its steps (thumbnail with the action drawn on it, what
 * ran, what a person decided, how long it took) and the selected step in full (the screenshot,
 * the forecast and what changed since the previous one, the grounding, the approval or edit,
 * the execution). Only the selected step's screenshot is loaded at full size.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import type { ApprovalView, Caller, EpisodeView as Episode, ExecutionView, ForecastView, GroundingView, StepView } from '../../common/contract.ts';
import { episodeHref, href, navigate } from '../app/router.ts';
import { useCall } from '../app/use-call.ts';
import { Card, Empty, ErrorBox, Loading, StatusBadge } from '../components/common.tsx';
import { EditPair, ForecastSteps } from '../components/forecast.tsx';
import { Icon } from '../components/icons.tsx';
import { StepShot } from '../components/screens.tsx';
import { describeDiff, diffForecasts, expectedNext } from '../forecast-diff.ts';
import { actionArguments, clock, dateTime, duration, round } from '../format.ts';
import { EpisodeActions } from './EpisodeActions.tsx';

const APPROVAL_TEXT: Record<string, string> = { never: 'automatic', each: 'approve each step', forecast: 'approve when the forecast changes' };

const DECISION_TEXT: Record<ApprovalView['decision'], string> = { approve: 'Approved', edit: 'Edited', reject: 'Rejected' };

/** The forecast a step acted on: a person's edit of it, else its last parsed one. */
const lastForecast = (s: StepView) => [...s.approvals].reverse().find((a) => a.edited)?.edited ?? [...s.forecasts].reverse().find((f) => f.forecast)?.forecast;

function Raw({ summary, body }: { summary: string; body: string }) {
  return (
    <details className="raw">
      <summary>{summary}</summary>
      <pre>{body}</pre>
    </details>
  );
}

function ForecastRecord({ f, previous }: { f: ForecastView; previous?: StepView }) {
  const head = (
    <header>
      <strong>Forecast{f.attempt > 1 ? `, attempt ${f.attempt}` : ''}</strong>
      <span className="muted small">
        {' '}
        {f.model} · {duration(f.latencyMs)}
        {f.forecast ? ` · ${f.forecast.format}` : ''}
      </span>
    </header>
  );
  if (!f.forecast) {
    return (
      <article className="record forecast failed">
        {head}
        <p className="error-line">
          <span className="error-code">{f.error?.code ?? 'PARSE_ERROR'}</span> {f.error?.message ?? 'The answer could not be used.'}
        </p>
        <Raw summary="Raw model output" body={f.raw} />
      </article>
    );
  }
  const before = previous ? lastForecast(previous) : undefined;
  const expected = before ? expectedNext(before) : undefined;
  const diff = expected ? diffForecasts(expected, f.forecast) : undefined;
  return (
    <article className="record forecast">
      {head}
      {diff ? <p className={`diff-line${diff.steps.every((s) => s === 'same') && diff.dropped === 0 ? ' same' : ''}`}>{describeDiff(diff)}</p> : null}
      <ForecastSteps forecast={f.forecast} changes={diff?.steps} />
      {f.forecast.thought ? <Raw summary="Thought" body={f.forecast.thought} /> : null}
      <Raw summary="Raw model output" body={f.raw} />
      {f.prompt ? <Raw summary={`Prompt (${f.prompt.template} v${f.prompt.version})`} body={`${f.prompt.system}\n\n${f.prompt.user}`} /> : null}
    </article>
  );
}

/** `editedAt`: when a person edited this step's forecast; earlier groundings belong to the original. */
function GroundingLine({ g, editedAt }: { g: GroundingView; editedAt: number | undefined }) {
  const which = `Step ${g.forecastStepIndex + 1}${editedAt !== undefined && g.createdAt <= editedAt ? ' (original forecast)' : ''}`;
  if (g.error) {
    return (
      <li className="grounding failed">
        {which}: <span className="error-code">{g.error.code}</span> {g.error.message}
      </li>
    );
  }
  return (
    <li className="grounding">
      {which} → ({round(g.point.x)}, {round(g.point.y)}) {g.point.space}
      {g.endPoint ? ` to (${round(g.endPoint.x)}, ${round(g.endPoint.y)})` : ''}
      <span className="muted">
        {' '}
        · {g.grounder} · {Math.round(g.confidence * 100)}% · {duration(g.latencyMs)}
        {g.detail ? ` · “${g.detail}”` : ''}
      </span>
    </li>
  );
}

function ApprovalRecord({ a }: { a: ApprovalView }) {
  return (
    <article className={`record approval decision-${a.decision}`}>
      <header>
        <strong>{DECISION_TEXT[a.decision]} by a person</strong>
        <span className="muted small">
          {' '}
          policy {a.policy} · after {duration(a.waitedMs)}
        </span>
      </header>
      {a.reason ? <p className="reason">“{a.reason}”</p> : null}
      {a.edited ? <EditPair original={a.original} edited={a.edited} /> : null}
    </article>
  );
}

function ExecutionRecord({ x }: { x: ExecutionView }) {
  const icon = x.result === 'ok' ? '✓' : x.result === 'stopped' ? '■' : x.result === 'unknown' ? '?' : '✕';
  const details = [
    x.result,
    ...actionArguments(x.action),
    x.globalPoint ? `at (${round(x.globalPoint.x)}, ${round(x.globalPoint.y)}) global` : '',
    x.globalEndPoint ? `to (${round(x.globalEndPoint.x)}, ${round(x.globalEndPoint.y)})` : '',
    x.durationMs !== undefined ? duration(x.durationMs) : 'started, outcome unknown',
    x.settle ? (x.settle.settled ? `screen settled in ${duration(x.settle.waitedMs)}` : `screen did not settle in ${duration(x.settle.waitedMs)}`) : '',
  ].filter(Boolean);
  return (
    <article className={`record execution result-${x.result}`}>
      <header>
        <span className="result-icon">{icon}</span>
        <strong> {x.action.action_type}</strong>
        <span>{x.action.step_instruction ? ` — ${x.action.step_instruction}` : ''}</span>
      </header>
      <p className="muted small">{details.join(' · ')}</p>
      {x.error ? (
        <p className="error-line">
          <span className="error-code">{x.error.code}</span> {x.error.message}
        </p>
      ) : null}
    </article>
  );
}

function StepDetail({ step, previous }: { step: StepView; previous?: StepView }) {
  const nothing = step.forecasts.length + step.groundings.length + step.approvals.length + step.executions.length === 0;
  const frame = step.geometry;
  const d = frame.display;
  const editedAt = step.approvals.find((a) => a.decision === 'edit')?.createdAt;
  return (
    <section className="step" id={`step-${step.stepNumber}`} data-step={step.stepNumber}>
      <h2>Step {step.stepNumber}</h2>
      <div className="step-body">
      <figure className="shot">
        <StepShot step={step} />
        <figcaption className="muted small">
          {step.imageWidth}×{step.imageHeight} of display {d.id} ({d.bounds.width}×{d.bounds.height} at ×{d.scaleFactor}) · captured {clock(step.capturedAt)}
          {step.settle ? (step.settle.settled ? ` · settled in ${duration(step.settle.waitedMs)}` : ` · did not settle in ${duration(step.settle.waitedMs)}`) : ''}
        </figcaption>
      </figure>
      <div className="records">
        {step.forecasts.map((f, i) => (
          <ForecastRecord key={`f${i}`} f={f} previous={previous} />
        ))}
        {step.groundings.length ? (
          <article className="record">
            <header>
              <strong>Grounding</strong>
            </header>
            <ul className="groundings">
              {step.groundings.map((g, i) => (
                <GroundingLine key={i} g={g} editedAt={editedAt} />
              ))}
            </ul>
          </article>
        ) : null}
        {step.approvals.map((a, i) => (
          <ApprovalRecord key={`a${i}`} a={a} />
        ))}
        {step.executions.map((x, i) => (
          <ExecutionRecord key={`x${i}`} x={x} />
        ))}
        {nothing ? <p className="muted">Nothing was recorded after this screenshot.</p> : null}
      </div>
      </div>
    </section>
  );
}

/** One entry of the rail: the thumbnail with its action, and what happened, in one glance. */
function RailItem({ step, selected, took, onSelect }: { step: StepView; selected: boolean; took: number | undefined; onSelect: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (selected) ref.current?.scrollIntoView?.({ block: 'nearest' });
  }, [selected]);
  const x = step.executions.at(-1);
  const decision = step.approvals.at(-1)?.decision;
  const failed = step.forecasts.length > 0 && !step.forecasts.some((f) => f.forecast);
  const what = x ? `${x.action.action_type}${x.action.step_instruction ? ` — ${x.action.step_instruction}` : ''}` : failed ? 'No usable forecast' : (lastForecast(step)?.steps[0]?.action.action_type ?? 'Observed');
  return (
    <li>
      <button type="button" ref={ref} className={`rail-item${selected ? ' selected' : ''}`} aria-current={selected ? 'step' : undefined} data-step={step.stepNumber} onClick={onSelect}>
        <StepShot step={step} thumb />
        <span className="rail-text">
          <span className="rail-title">
            <span className="rail-num">{step.stepNumber}</span>
            <span className="clip-2">{what}</span>
          </span>
          <span className="rail-meta">
            {decision ? <span className={`pill decision-${decision}`}>{DECISION_TEXT[decision].toLowerCase()}</span> : null}
            {x && x.result !== 'ok' ? <span className={`pill result-${x.result}`}>{x.result}</span> : null}
            {failed ? <span className="pill result-error">parse error</span> : null}
            {took !== undefined ? <span className="muted">{duration(took)}</span> : null}
          </span>
        </span>
      </button>
    </li>
  );
}

function Meta({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="meta">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function Header({ e, call, onDeleted }: { e: Episode; call: Caller; onDeleted: () => void }) {
  const ended = e.endedAt !== undefined ? `${dateTime(e.endedAt)} (${duration(e.endedAt - e.startedAt)})` : '—';
  const approval = typeof e.settings.approval === 'string' ? e.settings.approval : undefined;
  return (
    <div className="episode-head">
      <a href={href('episodes')} className="back">
        ← All episodes
      </a>
      <div className="title-row">
        <h1>{e.task || '(no task)'}</h1>
        <StatusBadge status={e.status} />
        <div className="spacer" />
        <EpisodeActions call={call} episode={e} onDeleted={onDeleted} />
      </div>
      {e.error ? <ErrorBox error={e.error} title={`Why the episode ${e.status === 'failed' ? 'failed' : 'ended'}`} /> : null}
      {e.answer !== undefined ? (
        <p className="answer">
          <strong>Answer: </strong>
          {e.answer}
        </p>
      ) : null}
      <Meta
        rows={[
          ['Mode', approval ? `${e.mode} · ${APPROVAL_TEXT[approval] ?? approval}` : e.mode],
          ['Planner', <span className="mono">{e.planner}</span>],
          ['Grounder', <span className="mono">{e.grounder}</span>],
          ['Started', dateTime(e.startedAt)],
          ['Took', e.endedAt !== undefined ? duration(e.endedAt - e.startedAt) : '—'],
          ['Steps', String(e.steps.length)],
        ]}
      />
      <details className="raw">
        <summary>Details</summary>
        <pre>{[`episode  ${e.id}`, `ended    ${ended}`, `process  ${e.pid} on ${e.host}`, '', JSON.stringify(e.settings, null, 2)].join('\n')}</pre>
      </details>
    </div>
  );
}

export function EpisodeView({ call, id, query }: { call: Caller; id: string; query: URLSearchParams }) {
  const result = useCall(call, 'episodes.get', { id }, id);
  const task = result.state === 'ok' ? result.value.task : undefined;
  useEffect(() => {
    if (task !== undefined) document.title = `${task || 'Episode'} — Foresight`;
    return () => {
      document.title = 'Foresight';
    };
  }, [task]);
  if (result.state === 'loading') return <Loading what="the episode" />;
  if (result.state === 'error') {
    return (
      <div className="view">
        <a href={href('episodes')} className="back">
          ← All episodes
        </a>
        <ErrorBox error={result.error} />
      </div>
    );
  }
  const e = result.value;
  const wanted = Number(query.get('step'));
  const selected = e.steps.find((s) => s.stepNumber === wanted) ?? e.steps[0];
  const index = selected ? e.steps.indexOf(selected) : -1;
  const select = (n: number) => navigate(episodeHref(e.id, n), { replace: true });
  // A step's time: from its screenshot to the next one's (or to the episode's end).
  const tookOf = (i: number) => {
    const s = e.steps[i];
    const next = e.steps[i + 1]?.capturedAt ?? e.endedAt;
    return s && next !== undefined ? Math.max(0, next - s.capturedAt) : undefined;
  };
  return (
    <div className="view episode-view">
      <Header e={e} call={call} onDeleted={() => navigate(href('episodes'))} />
      {e.steps.length === 0 || !selected ? (
        <Empty title="This episode has no steps yet." />
      ) : (
        <div className="timeline">
          <nav className="rail" aria-label="Steps">
            <ol>
              {e.steps.map((s, i) => (
                <RailItem key={s.id} step={s} selected={s === selected} took={tookOf(i)} onSelect={() => select(s.stepNumber)} />
              ))}
            </ol>
          </nav>
          <Card className="step-card">
            <div className="step-nav">
              <button type="button" className="ghost small" disabled={index <= 0} onClick={() => select(e.steps[index - 1]?.stepNumber ?? 1)}>
                ← Previous
              </button>
              <span className="muted small">
                Step {selected.stepNumber} of {e.steps.length}
                {tookOf(index) !== undefined ? ` · ${duration(tookOf(index) ?? 0)}` : ''}
              </span>
              <button type="button" className="ghost small" disabled={index >= e.steps.length - 1} onClick={() => select(e.steps[index + 1]?.stepNumber ?? 1)}>
                Next <Icon name="forward" size={14} />
              </button>
            </div>
            <StepDetail key={selected.id} step={selected} previous={index > 0 ? e.steps[index - 1] : undefined} />
          </Card>
        </div>
      )}
    </div>
  );
}
