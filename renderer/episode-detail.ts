/**
 * One episode, step by step: the screenshot with where the agent acted, what the planner
 * forecast (or why its answer was unusable), what a person decided, and what happened.
 */
import type { Forecast } from '../common/actions.ts';
import type { ApprovalView, Caller, EpisodeView, ExecutionView, ForecastView, GroundingView, StepView } from '../common/contract.ts';
import { h, replace, type Child } from './dom.ts';
import { actionArguments, clock, dateTime, duration, round } from './format.ts';
import { listHash } from './episode-list.ts';
import { stepMarks } from './step-marks.ts';
import { errorBox, statusBadge } from './widgets.ts';

const blobUrl = (sha: string) => `/blobs/${sha}.png`;

function meta(rows: [string, Child][]): HTMLElement {
  return h(
    'dl',
    { class: 'meta' },
    rows.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))),
  );
}

/** A forecast as a list; `changed` marks the steps a person's edit touched. */
function forecastSteps(f: Forecast, changed?: ReadonlySet<number>): HTMLElement {
  return h(
    'ol',
    { class: 'forecast-steps' },
    f.steps.map((s, i) =>
      h(
        'li',
        { class: `forecast-step${changed?.has(i) ? ' changed' : changed ? ' unchanged' : ''}` },
        h('span', { class: `action-type action-${s.action.action_type}` }, s.action.action_type),
        h('span', { class: 'instruction' }, s.action.step_instruction || '—'),
        actionArguments(s.action).map((arg) => h('span', { class: 'arg mono' }, arg)),
        h('span', { class: `step-status ${s.status === 'done' ? 'is-done' : ''}` }, s.status),
      ),
    ),
  );
}

/** Indices of the steps that differ between two forecasts (a step only one of them has counts). */
function changedSteps(a: Forecast, b: Forecast): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < Math.max(a.steps.length, b.steps.length); i++) {
    if (JSON.stringify(a.steps[i]) !== JSON.stringify(b.steps[i])) out.add(i);
  }
  return out;
}

function collapsible(summary: string, body: string): HTMLElement {
  return h('details', { class: 'raw' }, h('summary', null, summary), h('pre', null, body));
}

function forecastView(f: ForecastView): HTMLElement {
  const head = h(
    'header',
    null,
    h('strong', null, `Forecast, attempt ${f.attempt}`),
    h('span', { class: 'muted small' }, ` ${f.model} · ${duration(f.latencyMs)}${f.forecast ? ` · ${f.forecast.format}` : ''}`),
  );
  if (!f.forecast) {
    return h(
      'article',
      { class: 'record forecast failed' },
      head,
      h('p', { class: 'error-line' }, h('span', { class: 'error-code' }, f.error?.code ?? 'PARSE_ERROR'), ' ', f.error?.message ?? 'The answer could not be used.'),
      collapsible('Raw model output', f.raw),
    );
  }
  return h(
    'article',
    { class: 'record forecast' },
    head,
    forecastSteps(f.forecast),
    f.forecast.thought ? collapsible('Thought', f.forecast.thought) : null,
    collapsible('Raw model output', f.raw),
    f.prompt ? collapsible(`Prompt (${f.prompt.template} v${f.prompt.version})`, `${f.prompt.system}\n\n${f.prompt.user}`) : null,
  );
}

/** `editedAt`: when a person edited this step's forecast; earlier groundings belong to the original. */
function groundingLine(g: GroundingView, editedAt: number | undefined): HTMLElement {
  const which = `Step ${g.forecastStepIndex + 1}${editedAt !== undefined && g.createdAt <= editedAt ? ' (original forecast)' : ''}`;
  if (g.error) {
    return h('li', { class: 'grounding failed' }, `${which}: `, h('span', { class: 'error-code' }, g.error.code), ` ${g.error.message}`);
  }
  return h(
    'li',
    { class: 'grounding' },
    `${which} → (${round(g.point.x)}, ${round(g.point.y)}) ${g.point.space}`,
    g.endPoint ? ` to (${round(g.endPoint.x)}, ${round(g.endPoint.y)})` : '',
    h('span', { class: 'muted' }, ` · ${g.grounder} · ${Math.round(g.confidence * 100)}% · ${duration(g.latencyMs)}`),
    g.detail ? h('span', { class: 'muted' }, ` · “${g.detail}”`) : '',
  );
}

function editPair(original: Forecast, edited: Forecast): HTMLElement {
  const changed = changedSteps(original, edited);
  return h(
    'div',
    { class: 'edit-pair' },
    h('div', { class: 'original' }, h('div', { class: 'label' }, 'Original'), forecastSteps(original, changed)),
    h('div', { class: 'arrow', 'aria-hidden': 'true' }, '→'),
    h('div', { class: 'edited' }, h('div', { class: 'label' }, 'Edited'), forecastSteps(edited, changed)),
  );
}

const DECISION_TEXT: Record<ApprovalView['decision'], string> = { approve: 'Approved', edit: 'Edited', reject: 'Rejected' };

function approvalView(a: ApprovalView): HTMLElement {
  return h(
    'article',
    { class: `record approval decision-${a.decision}` },
    h(
      'header',
      null,
      h('strong', null, `${DECISION_TEXT[a.decision]} by a person`),
      h('span', { class: 'muted small' }, ` policy ${a.policy} · after ${duration(a.waitedMs)}`),
    ),
    a.reason ? h('p', { class: 'reason' }, '“', a.reason, '”') : null,
    a.edited ? editPair(a.original, a.edited) : null,
  );
}

function executionView(x: ExecutionView): HTMLElement {
  // stale: not executed, the screen changed after the forecast's frame (the error line says what drew).
  const icon = x.result === 'ok' ? '✓' : x.result === 'stopped' ? '■' : x.result === 'unknown' ? '?' : x.result === 'stale' ? '↻' : '✕';
  return h(
    'article',
    { class: `record execution result-${x.result}` },
    h(
      'header',
      null,
      h('span', { class: 'result-icon' }, icon),
      h('strong', null, ` ${x.action.action_type}`),
      h('span', null, x.action.step_instruction ? ` — ${x.action.step_instruction}` : ''),
    ),
    h(
      'p',
      { class: 'muted small' },
      [
        x.result,
        ...actionArguments(x.action),
        x.globalPoint ? `at (${round(x.globalPoint.x)}, ${round(x.globalPoint.y)}) global` : '',
        x.globalEndPoint ? `to (${round(x.globalEndPoint.x)}, ${round(x.globalEndPoint.y)})` : '',
        x.durationMs !== undefined ? duration(x.durationMs) : 'started, outcome unknown',
        x.settle ? (x.settle.settled ? `screen settled in ${duration(x.settle.waitedMs)}` : `screen did not settle in ${duration(x.settle.waitedMs)}`) : '',
      ]
        .filter(Boolean)
        .join(' · '),
    ),
    x.error ? h('p', { class: 'error-line' }, h('span', { class: 'error-code' }, x.error.code), ` ${x.error.message}`) : null,
  );
}

function screenshot(step: StepView): HTMLElement {
  const frame = step.geometry;
  const img = h('img', {
    class: 'shot-img',
    src: blobUrl(step.frameSha256),
    alt: `Screenshot before step ${step.stepNumber}`,
    width: step.imageWidth,
    height: step.imageHeight,
    loading: 'lazy',
    decoding: 'async',
  });
  const box = h('div', { class: 'shot-frame' }, img);
  img.addEventListener('error', () => box.classList.add('missing'), { once: true });
  for (const m of stepMarks(step)) {
    const el = h('div', { class: `mark mark-${m.kind}`, title: m.title, 'data-x': round(m.x), 'data-y': round(m.y) }, m.label ? h('span', null, m.label) : null);
    // Percent of the frame, so the mark stays on its pixel at any rendered size.
    el.style.left = `${(m.x / frame.imageWidth) * 100}%`;
    el.style.top = `${(m.y / frame.imageHeight) * 100}%`;
    box.appendChild(el);
  }
  const d = frame.display;
  return h(
    'figure',
    { class: 'shot' },
    box,
    h(
      'figcaption',
      { class: 'muted small' },
      `${step.imageWidth}×${step.imageHeight} of display ${d.id} (${d.bounds.width}×${d.bounds.height} at ×${d.scaleFactor}) · captured ${clock(step.capturedAt)}`,
      step.settle ? (step.settle.settled ? ` · settled in ${duration(step.settle.waitedMs)}` : ` · did not settle in ${duration(step.settle.waitedMs)}`) : '',
      step.cancelledRequests > 0 ? ` · ${step.cancelledRequests} model request${step.cancelledRequests === 1 ? '' : 's'} on earlier frames cancelled` : '',
    ),
  );
}

function stepView(step: StepView): HTMLElement {
  const nothing = step.forecasts.length + step.groundings.length + step.approvals.length + step.executions.length === 0;
  return h(
    'section',
    { class: 'step', id: `step-${step.stepNumber}`, 'data-step': step.stepNumber },
    h('h2', null, `Step ${step.stepNumber}`),
    h(
      'div',
      { class: 'step-body' },
      screenshot(step),
      h(
        'div',
        { class: 'records' },
        step.forecasts.map(forecastView),
        step.groundings.length ? h('article', { class: 'record' }, h('header', null, h('strong', null, 'Grounding')), h('ul', { class: 'groundings' }, step.groundings.map((g) => groundingLine(g, step.approvals.find((a) => a.decision === 'edit')?.createdAt)))) : null,
        step.approvals.map(approvalView),
        step.executions.map(executionView),
        nothing ? h('p', { class: 'muted' }, 'Nothing was recorded after this screenshot.') : null,
      ),
    ),
  );
}

function header(e: EpisodeView): HTMLElement {
  const ended = e.endedAt !== undefined ? `${dateTime(e.endedAt)} (${duration(e.endedAt - e.startedAt)})` : '—';
  return h(
    'div',
    { class: 'episode-head' },
    h('a', { href: listHash(undefined), class: 'back' }, '← All episodes'),
    h('div', { class: 'title-row' }, h('h1', null, e.task || '(no task)'), statusBadge(e.status)),
    e.error ? errorBox(e.error, `Why the episode ${e.status === 'failed' ? 'failed' : 'ended'}`) : null,
    e.answer !== undefined ? h('p', { class: 'answer' }, h('strong', null, 'Answer: '), e.answer) : null,
    meta([
      ['Episode', h('span', { class: 'mono' }, e.id)],
      ['Mode', e.mode],
      ['Planner', h('span', { class: 'mono' }, e.planner)],
      ['Grounder', h('span', { class: 'mono' }, e.grounder)],
      ['Started', dateTime(e.startedAt)],
      ['Ended', ended],
      ['Steps', String(e.steps.length)],
      ['Process', `${e.pid} on ${e.host}`],
    ]),
    Object.keys(e.settings).length ? collapsible('Settings', JSON.stringify(e.settings, null, 2)) : null,
  );
}

function stepIndex(e: EpisodeView): HTMLElement | null {
  if (e.steps.length < 2) return null;
  return h(
    'nav',
    { class: 'step-index', 'aria-label': 'Steps' },
    'Go to step ',
    e.steps.map((s) =>
      h('button', { type: 'button', class: 'ghost small', onclick: () => document.getElementById(`step-${s.stepNumber}`)?.scrollIntoView({ behavior: 'smooth' }) }, s.stepNumber),
    ),
  );
}

export async function renderEpisode(root: HTMLElement, id: string, call: Caller, isCurrent: () => boolean): Promise<void> {
  const result = await call('episodes.get', { id });
  if (!isCurrent()) return;
  if (!result.ok) {
    replace(root, h('a', { href: listHash(undefined), class: 'back' }, '← All episodes'), errorBox(result.error));
    return;
  }
  const e = result.value;
  document.title = `${e.task || 'Episode'} — Foresight`;
  replace(
    root,
    header(e),
    stepIndex(e),
    e.steps.length ? e.steps.map(stepView) : h('div', { class: 'empty' }, h('p', null, 'This episode has no steps yet.')),
  );
}
