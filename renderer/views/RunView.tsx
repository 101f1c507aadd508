/**
 * The run view: say what to do, choose how much to be asked, watch the agent's screen with its
 * forecast drawn over it, and decide on each forecast the gate holds for you.
 */
import { useEffect, useState } from 'react';
import type { AppGateDecision, Caller, EndpointView, ModelChoice, RunMode, RunState } from '../../common/contract.ts';
import { convertPoint } from '../../common/coords.ts';
import type { ErrorInfo } from '../../common/errors.ts';
import { episodeHref, href } from '../app/router.ts';
import { askNotificationPermission, type RunHandle } from '../app/use-run.ts';
import { useCall } from '../app/use-call.ts';
import { Card, ErrorBox, Loading, PageHead, StatusBadge } from '../components/common.tsx';
import { ForecastSteps } from '../components/forecast.tsx';
import { Icon } from '../components/icons.tsx';
import { ReviewPanel, type EditDraft } from '../components/review.tsx';
import { ForecastOverlay, type Frame, type OverlayPoint } from '../components/screens.tsx';
import { clock, duration } from '../format.ts';

export const MODES: { value: RunMode; label: string; hint: string }[] = [
  { value: 'never', label: 'Automatic', hint: 'The agent acts on its own; you can pause or stop it.' },
  { value: 'each', label: 'Approve each step', hint: 'Every forecast waits for you before the agent acts.' },
  { value: 'forecast', label: 'Approve when the forecast changes', hint: 'You approve a plan; the agent asks again only when it changes.' },
];

// ---------------------------------------------------------------- new run

type ChoiceKey = string;

function choiceOf(key: ChoiceKey, spec: string): ModelChoice | undefined {
  if (key.startsWith('endpoint:')) return { kind: 'endpoint', endpointId: key.slice('endpoint:'.length) };
  if (key === 'builtin:ocr') return { kind: 'builtin', id: 'ocr' };
  if (key === 'builtin:none') return { kind: 'builtin', id: 'none' };
  if (key === 'spec') return spec.trim() ? { kind: 'spec', spec: spec.trim() } : undefined;
  return undefined;
}

function ModelSelect({ id, label, value, onChange, endpoints, builtins, spec, onSpec }: { id: string; label: string; value: ChoiceKey; onChange: (v: ChoiceKey) => void; endpoints: EndpointView[]; builtins: { key: string; label: string }[]; spec: string; onSpec: (s: string) => void }) {
  return (
    <div className="field">
      <span>{label}</span>
      <select id={id} data-testid={`run-${id}`} aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
        {endpoints.length ? (
          <optgroup label="Your endpoints">
            {endpoints.map((e) => (
              <option key={e.id} value={`endpoint:${e.id}`}>
                {e.label} — {e.model}
              </option>
            ))}
          </optgroup>
        ) : null}
        {builtins.length ? (
          <optgroup label="Built in">
            {builtins.map((b) => (
              <option key={b.key} value={b.key}>
                {b.label}
              </option>
            ))}
          </optgroup>
        ) : null}
        <optgroup label="Other">
          <option value="spec">Command-line spec…</option>
        </optgroup>
      </select>
      {value === 'spec' ? <input type="text" data-testid={`run-${id}-spec`} aria-label={`${label} spec`} className="mono" placeholder="openai:http://127.0.0.1:8000/v1#ui-tars-1.5-7b" value={spec} onChange={(e) => onSpec(e.target.value)} /> : null}
    </div>
  );
}

function NewRun({ call, onStarted }: { call: Caller; onStarted: (run: RunState) => void }) {
  const settings = useCall(call, 'settings.get', {}, 'settings');
  const endpoints = settings.state === 'ok' ? settings.value.endpoints : [];
  const [task, setTask] = useState('');
  const [mode, setMode] = useState<RunMode>('each');
  const [planner, setPlanner] = useState<ChoiceKey>('');
  const [grounder, setGrounder] = useState<ChoiceKey>('builtin:ocr');
  const [plannerSpec, setPlannerSpec] = useState('');
  const [grounderSpec, setGrounderSpec] = useState('');
  const [error, setError] = useState<ErrorInfo>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (planner === '') setPlanner(endpoints[0] ? `endpoint:${endpoints[0].id}` : 'spec');
  }, [endpoints, planner]);

  const plannerChoice = choiceOf(planner, plannerSpec);
  const grounderChoice = choiceOf(grounder, grounderSpec);
  const ready = task.trim() !== '' && plannerChoice !== undefined && grounderChoice !== undefined && !busy;

  const start = async () => {
    if (!plannerChoice || !grounderChoice) return;
    if (mode !== 'never') askNotificationPermission();
    setBusy(true);
    setError(undefined);
    const r = await call('runs.start', { task: task.trim(), mode, planner: plannerChoice, grounder: grounderChoice });
    setBusy(false);
    if (r.ok) onStarted(r.value);
    else setError(r.error);
  };

  return (
    <div className="new-run">
      <Card title="New run" className="new-run-card">
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void start();
          }}
        >
          <label className="field">
            <span>What should the agent do?</span>
            <textarea
              id="task"
              data-testid="run-task"
              aria-label="Task"
              rows={3}
              value={task}
              placeholder="e.g. Open report-draft.txt in Mousepad and save it as report.txt"
              onChange={(e) => setTask(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && ready) void start();
              }}
            />
          </label>
          <div className="field">
            <span>When to ask you</span>
            <div className="segmented" role="radiogroup" aria-label="Approval mode">
              {MODES.map((m) => (
                <label key={m.value}>
                  <input type="radio" name="mode" data-testid={`run-mode-${m.value}`} value={m.value} checked={mode === m.value} onChange={() => setMode(m.value)} />
                  {m.label}
                </label>
              ))}
            </div>
            <span className="hint">{MODES.find((m) => m.value === mode)?.hint}</span>
          </div>
          <div className="field-row">
            <ModelSelect id="planner" label="Planner" value={planner} onChange={setPlanner} endpoints={endpoints} builtins={[]} spec={plannerSpec} onSpec={setPlannerSpec} />
            <ModelSelect
              id="grounder"
              label="Grounder"
              value={grounder}
              onChange={setGrounder}
              endpoints={endpoints}
              builtins={[
                { key: 'builtin:ocr', label: 'OCR text matching (no model)' },
                { key: 'builtin:none', label: 'None (the planner gives points)' },
              ]}
              spec={grounderSpec}
              onSpec={setGrounderSpec}
            />
          </div>
          {settings.state === 'ok' && endpoints.length === 0 ? (
            <p className="notice small">
              No model endpoint yet. <a href={href('settings')}>Add one in Settings</a> from a preset (UI-TARS-1.5, Qwen2.5-VL, TraceR1), or give a command-line spec.
            </p>
          ) : null}
          {error ? <ErrorBox error={error} title="The run did not start" /> : null}
          <div className="form-foot">
            <span className="muted small">The agent takes over the mouse and keyboard. Press the kill-switch key to stop it at any moment.</span>
            <button type="submit" data-testid="run-start" className="primary large" disabled={!ready}>
              <Icon name="run" size={16} /> Start
            </button>
          </div>
        </form>
      </Card>
      <aside className="how">
        <h3>How a run goes</h3>
        <ol>
          <li>
            <strong>Observe.</strong> The agent takes a screenshot.
          </li>
          <li>
            <strong>Forecast.</strong> The planner writes the next steps it expects — you see them numbered on the screen.
          </li>
          <li>
            <strong>Decide.</strong> Approve, edit or reject the first step, or let the agent go on while it keeps to the plan.
          </li>
          <li>
            <strong>Act.</strong> Only the first step runs; then the agent looks again and forecasts anew.
          </li>
        </ol>
      </aside>
    </div>
  );
}

// ---------------------------------------------------------------- the live run

/** The points of the forecast on the screen (screenshot pixels), the first one possibly moved by the person. */
function overlayPoints(run: RunState, frame: Frame & { geometry: NonNullable<RunState['frame']>['geometry'] }, draft: EditDraft | null): OverlayPoint[] {
  const forecast = run.pending?.forecast ?? run.forecast;
  const found = new Map<number, { x: number; y: number; confidence: number }>();
  for (const g of run.groundings) {
    if (!g.grounding) continue;
    const p = convertPoint(g.grounding.point, 'screenshot', frame.geometry);
    found.set(g.index, { x: p.x, y: p.y, confidence: g.grounding.confidence });
  }
  const pendingPoint = run.pending?.grounding;
  if (pendingPoint) {
    const p = convertPoint(pendingPoint.point, 'screenshot', frame.geometry);
    found.set(0, { x: p.x, y: p.y, confidence: pendingPoint.confidence });
  }
  const moved = draft?.index === 0 ? draft.edit.point : undefined;
  const points: OverlayPoint[] = [];
  for (const [index, p] of [...found.entries()].sort((a, b) => a[0] - b[0])) {
    const at = index === 0 && moved ? moved : p;
    points.push({ x: at.x, y: at.y, step: index + 1, confidence: index === 0 && moved ? undefined : p.confidence, label: forecast?.steps[index]?.action.step_instruction });
  }
  return points;
}

function Controls({ call, run, onState, onError }: { call: Caller; run: RunState; onState: (r: RunState) => void; onError: (e: ErrorInfo) => void }) {
  const [busy, setBusy] = useState(false);
  const act = async (name: 'runs.pause' | 'runs.resume' | 'runs.stop') => {
    setBusy(true);
    const r = await call(name, { runId: run.runId });
    setBusy(false);
    if (r.ok) onState(r.value);
    else onError(r.error);
  };
  if (run.status === 'ended') return null;
  return (
    <>
      {run.status === 'paused' ? (
        <button type="button" data-testid="run-resume" disabled={busy} onClick={() => void act('runs.resume')}>
          <Icon name="run" size={16} /> Resume
        </button>
      ) : (
        <button type="button" data-testid="run-pause" disabled={busy || run.status === 'stopping'} onClick={() => void act('runs.pause')}>
          <Icon name="pause" size={16} /> Pause
        </button>
      )}
      <button type="button" data-testid="run-stop" className="danger" disabled={busy || run.status === 'stopping'} onClick={() => void act('runs.stop')}>
        <Icon name="stop" size={16} /> Stop
      </button>
    </>
  );
}

function LiveRun({ call, handle, run, onNew }: { call: Caller; handle: RunHandle; run: RunState; onNew: () => void }) {
  const [draft, setDraft] = useState<EditDraft | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorInfo>();
  const pending = run.pending;
  // A new review starts with a clean form.
  const reviewId = pending?.reviewId;
  useEffect(() => setDraft(null), [reviewId]);

  const decide = async (decision: AppGateDecision) => {
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    const r = await call('gate.decide', { runId: run.runId, reviewId: pending.reviewId, decision });
    setBusy(false);
    if (r.ok) {
      setDraft(null);
      handle.accept(r.value);
    } else setError(r.error);
  };

  const source = pending ? { frameId: pending.frameId, geometry: pending.geometry } : run.frame;
  const frame = source ? { frameSha256: source.frameId, imageWidth: source.geometry.imageWidth, imageHeight: source.geometry.imageHeight, geometry: source.geometry } : undefined;
  const forecast = pending?.forecast ?? run.forecast;
  const shownForecast = forecast;
  const first = frame ? overlayPoints(run, frame, draft)[0] : undefined;

  return (
    <div className="view run-view live">
      <PageHead
        title={run.task}
        subtitle={
          <>
            <StatusBadge status={run.status} /> <span className="muted">Step {run.step || '—'}</span>
            <span className="muted"> · {run.mode === 'never' ? 'automatic' : run.mode === 'each' ? 'approve each step' : 'approve when the forecast changes'}</span>
            {run.approvingRest ? <span className="pill decision-approve">approving the rest of the plan</span> : null}
            <span className="muted small mono"> · {run.planner} · {run.grounder}</span>
          </>
        }
      >
        <Controls call={call} run={run} onState={handle.accept} onError={setError} />
        {run.status === 'ended' ? (
          <button type="button" className="primary" onClick={onNew}>
            <Icon name="run" size={16} /> New run
          </button>
        ) : null}
      </PageHead>
      {pending ? (
        <div className="waiting-banner" role="status" data-testid="run-waiting" data-review={pending.reviewId} data-step={pending.step}>
          <Icon name="bell" size={18} />
          <div>
            <strong>Waiting for you</strong> — step {pending.step}, since {clock(pending.since)}. The agent does nothing until you decide.
          </div>
          {typeof Notification !== 'undefined' && Notification.permission === 'default' ? (
            <button type="button" className="ghost small" onClick={askNotificationPermission}>
              Notify me next time
            </button>
          ) : null}
        </div>
      ) : null}
      {run.status === 'ended' && run.outcome ? (
        <div className={`outcome outcome-${run.outcome.status}`} data-testid="run-outcome" data-status={run.outcome.status}>
          <StatusBadge status={run.outcome.status} />
          <span>
            {run.outcome.answer ? `Answer: ${run.outcome.answer}` : run.outcome.error ? run.outcome.error.message : `${run.outcome.steps} steps`}
            {run.endedAt ? ` · took ${duration(run.endedAt - run.startedAt)}` : ''}
          </span>
          {run.episodeId ? <a href={episodeHref(run.episodeId)}>Open the episode →</a> : null}
        </div>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      <div className="run-grid">
        <div className="screen-col">
          {frame ? (
            <ForecastOverlay
              frame={frame}
              points={overlayPoints(run, frame, draft)}
              alt={`The agent's screen at step ${run.step}`}
              onMove={pending && draft?.index === 0 ? (p) => setDraft({ ...draft, edit: { ...draft.edit, point: p } }) : undefined}
            />
          ) : (
            <div className="screen-placeholder">
              <span className="spinner" aria-hidden="true" /> {run.status === 'ended' ? 'No screenshot was taken.' : 'Waiting for the first screenshot…'}
            </div>
          )}
          {frame ? (
            <p className="muted small screen-caption">
              {first ? (
                <>
                  Step 1 acts at ({Math.round(first.x)}, {Math.round(first.y)})
                  {first.confidence !== undefined ? ` · grounder confidence ${Math.round(first.confidence * 100)}%` : ' · moved by you'}
                </>
              ) : (
                'No point grounded yet.'
              )}
              {run.frame ? ` · captured ${clock(run.frame.capturedAt)}` : ''}
            </p>
          ) : null}
        </div>
        <div className="side-col">
          <Card title={pending ? `Forecast for step ${pending.step}` : 'Forecast'} className="forecast-card">
            {shownForecast ? <ForecastSteps forecast={shownForecast} /> : <p className="muted">{run.status === 'ended' ? 'The run has ended.' : 'The planner is thinking…'}</p>}
            {pending ? <ReviewPanel key={pending.reviewId} pending={pending} draft={draft} onDraft={setDraft} onDecide={(d) => void decide(d)} busy={busy} /> : null}
          </Card>
          <Card title="Activity" className="activity-card">
            {handle.activity.length ? (
              <ol className="activity">
                {handle.activity.map((a) => (
                  <li key={`${a.seq}-${a.text}`} className={`activity-${a.kind}`}>
                    <span className="muted small mono">{clock(a.at)}</span> {a.text}
                  </li>
                ))}
              </ol>
            ) : (
              <p className="muted small">What the agent does appears here.</p>
            )}
            {run.log.length ? (
              <details className="raw">
                <summary>Agent log ({run.log.length} lines)</summary>
                <pre>{run.log.join('\n')}</pre>
              </details>
            ) : null}
          </Card>
        </div>
      </div>
    </div>
  );
}

export function RunView({ call, handle }: { call: Caller; handle: RunHandle }) {
  const [composing, setComposing] = useState(false);
  if (!handle.loaded) return handle.problem ? <ErrorBox error={handle.problem} /> : <Loading what="the run" />;
  const run = handle.run;
  if (!run || (composing && run.status === 'ended')) {
    return (
      <div className="view run-view">
        <PageHead title="Run a task" subtitle="The agent forecasts its next steps before each action; you see them and decide." />
        {handle.problem ? <ErrorBox error={handle.problem} /> : null}
        <NewRun
          call={call}
          onStarted={(r) => {
            setComposing(false);
            handle.accept(r);
          }}
        />
      </div>
    );
  }
  return <LiveRun call={call} handle={handle} run={run} onNew={() => setComposing(true)} />;
}
