/**
 * The run view's state: the server's snapshot (runs.current) kept current by the live events.
 * A pure reducer, so what a page shows after a reload (the snapshot) and what it shows after
 * watching the events are the same thing, and tests can feed it events.
 */
import type { EventName, EventPayload, LiveEvent, RunState } from '../common/contract.ts';
import { describeAction } from '../common/actions.ts';

/** A line of the activity feed beside the live screen. */
export interface ActivityLine {
  seq: number;
  at: number;
  kind: 'info' | 'ok' | 'warn' | 'error';
  text: string;
}

export interface RunViewState {
  run: RunState | null;
  activity: ActivityLine[];
  /** An event of a run this page does not know: ask runs.current again. */
  stale: boolean;
}

export const initialRunView: RunViewState = { run: null, activity: [], stale: false };

const MAX_ACTIVITY = 60;

function push(s: RunViewState, line: Omit<ActivityLine, 'at'>, now: number): ActivityLine[] {
  return [{ ...line, at: now }, ...s.activity].slice(0, MAX_ACTIVITY);
}

type AnyEvent = { [N in EventName]: LiveEvent<N> }[EventName];

export function applyEvent(s: RunViewState, ev: AnyEvent, now = Date.now()): RunViewState {
  if (ev.name === 'run.started') {
    return { run: ev.data, activity: push({ ...s, activity: [] }, { seq: ev.seq, kind: 'info', text: `Started: ${ev.data.task}` }, now), stale: false };
  }
  if (ev.name === 'run.error') {
    return { ...s, activity: push(s, { seq: ev.seq, kind: 'error', text: `${ev.data.error.code}: ${ev.data.error.message}` }, now) };
  }
  const run = s.run;
  if (!run || run.runId !== ev.data.runId) return { ...s, stale: true };
  const line = (kind: ActivityLine['kind'], text: string) => push(s, { seq: ev.seq, kind, text }, now);
  switch (ev.name) {
    case 'run.episode':
      return { ...s, run: { ...run, episodeId: ev.data.episodeId } };
    case 'run.observation': {
      const { runId: _r, settle: _s, ...frame } = ev.data;
      // A new step: its forecast and groundings are still to come.
      const fresh = frame.step !== run.step;
      return {
        ...s,
        run: { ...run, step: frame.step, frame, ...(fresh ? { forecast: undefined, groundings: [] } : {}) },
      };
    }
    case 'run.forecast':
      if (ev.data.step !== run.step) return s;
      return { ...s, run: { ...run, forecast: ev.data.forecast, groundings: [] }, activity: line('info', `Step ${ev.data.step}: forecast of ${ev.data.forecast.steps.length} step${ev.data.forecast.steps.length === 1 ? '' : 's'}`) };
    case 'run.parseError':
      return { ...s, activity: line('warn', `Step ${ev.data.step}: answer ${ev.data.attempt} unusable (${ev.data.error.message})`) };
    case 'run.grounding': {
      if (ev.data.step !== run.step) return s;
      const { index, grounding, error } = ev.data;
      const others = run.groundings.filter((g) => g.index !== index);
      return { ...s, run: { ...run, groundings: [...others, { index, grounding, error }].sort((a, b) => a.index - b.index) } };
    }
    case 'gate.waiting':
      return { ...s, run: { ...run, status: 'waiting', pending: ev.data }, activity: line('warn', `Step ${ev.data.step}: waiting for you`) };
    case 'gate.decided': {
      const pending = run.pending?.reviewId === ev.data.reviewId ? undefined : run.pending;
      // approve_rest holds until a person decides again; an automatic approval is that rule at work.
      const approvingRest = ev.data.decision === 'approve_rest' ? true : ev.data.auto ? run.approvingRest : false;
      const words = { approve: 'approved', approve_rest: 'approved with the rest of the forecast', edit: 'edited', reject: 'rejected' }[ev.data.decision];
      return {
        ...s,
        run: { ...run, pending, approvingRest, status: run.status === 'waiting' && !pending ? 'running' : run.status },
        activity: line(ev.data.decision === 'reject' ? 'warn' : 'ok', `Step ${ev.data.step}: ${ev.data.auto ? 'approved automatically (it continues the approved plan)' : words}${ev.data.reason ? ` — “${ev.data.reason}”` : ''}`),
      };
    }
    case 'run.action':
      return { ...s, activity: line(ev.data.result === 'ok' ? 'ok' : 'error', `Step ${ev.data.step}: ${ev.data.action ? describeAction(ev.data.action) : ev.data.description}${ev.data.result === 'ok' ? '' : ` (${ev.data.error?.message ?? ev.data.result})`}`) };
    case 'run.status':
      return { ...s, run: { ...run, status: ev.data.status }, activity: line('info', `Run ${ev.data.status}`) };
    case 'run.ended':
      return {
        ...s,
        run: { ...run, status: 'ended', pending: undefined, outcome: ev.data.outcome, episodeId: ev.data.episodeId ?? run.episodeId, endedAt: now },
        activity: line(ev.data.outcome.status === 'finished' ? 'ok' : 'warn', `Run ${ev.data.outcome.status}${ev.data.outcome.answer ? `: ${ev.data.outcome.answer}` : ''}${ev.data.outcome.error ? `: ${ev.data.outcome.error.message}` : ''}`),
      };
    default: {
      const _exhaustive: never = ev;
      return _exhaustive;
    }
  }
}

/** An event as it arrived, typed by its name (the transport checked it against EVENTS). */
export function asEvent<N extends EventName>(seq: number, name: N, data: EventPayload<N>): AnyEvent {
  return { seq, name, data } as AnyEvent;
}
