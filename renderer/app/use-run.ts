/**
 * The current run for every view: the server's snapshot (runs.current) at load and at every
 * reconnection of the live channel, kept current by its events in between. The server holds
 * the run and its pending review, so a reload shows exactly what was there.
 *
 * When the gate starts waiting, a desktop notification (if the person allowed them) and the
 * tab's title say so: the person may have looked away for minutes.
 */
import { useCallback, useEffect, useReducer } from 'react';
import { describeAction } from '../../common/actions.ts';
import type { Caller, PendingReview, RunState } from '../../common/contract.ts';
import type { ErrorInfo } from '../../common/errors.ts';
import { applyEvent, initialRunView, type RunViewState } from '../run-state.ts';
import type { LiveChannel, LiveEventOf } from '../transport.ts';

/**
 * A snapshot `read` with runs.current (at load, at a reconnection, when an event names a run the
 * page does not know) is the truth; one that `answered` a call (start, decide, pause…) may have
 * travelled slower than the live events after it, and is kept only when it is newer.
 */
export type RunAction =
  | { type: 'snapshot'; run: RunState | null; source: 'read' | 'answered' }
  | { type: 'event'; event: LiveEventOf }
  | { type: 'problem'; error: ErrorInfo; from: 'call' | 'live' };

export interface RunHandleState extends RunViewState {
  loaded: boolean;
  problem?: ErrorInfo;
  /** The number of the last live event the state includes (0: none yet). */
  seq: number;
}

export const initialRunHandleState: RunHandleState = { ...initialRunView, loaded: false, seq: 0 };

export function runReducer(s: RunHandleState, a: RunAction): RunHandleState {
  switch (a.type) {
    case 'snapshot': {
      const seq = a.run?.seq;
      // An answer older than what the live channel already brought: the page has more.
      if (a.source === 'answered' && seq !== undefined && seq < s.seq) return { ...s, loaded: true, problem: undefined };
      return { ...s, run: a.run, stale: false, loaded: true, problem: undefined, seq: seq ?? s.seq };
    }
    case 'event':
      // Already in the snapshot the page holds (a transport without numbers gives 0: always applied).
      if (a.event.seq > 0 && a.event.seq <= s.seq) return s;
      return { ...s, ...applyEvent(s, a.event), seq: Math.max(s.seq, a.event.seq) };
    case 'problem':
      // The call's error says more (a missing sign-in, the app gone) than the live channel's.
      return a.from === 'live' && s.problem ? s : { ...s, problem: a.error };
  }
}

export function notifyWaiting(p: PendingReview): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const first = p.forecast.steps[0];
  try {
    // Shown by the system even when the window is hidden; clicking it brings the page back.
    const n = new Notification('Foresight is waiting for you', {
      body: `Step ${p.step}: ${first ? describeAction(first.action) : 'a forecast'} — approve, edit or reject it.`,
      tag: `foresight-review-${p.reviewId}`,
    });
    n.onclick = () => {
      window.focus();
      location.hash = '#/run';
    };
  } catch {
    // Some browsers only allow notifications from a service worker; the banner still shows.
  }
}

/** Asks for the notification permission (call from a click: browsers refuse otherwise). */
export function askNotificationPermission(): void {
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') void Notification.requestPermission();
}

export interface RunHandle {
  run: RunState | null;
  activity: RunViewState['activity'];
  loaded: boolean;
  problem?: ErrorInfo;
  /** Reads the snapshot again. */
  refresh(): Promise<void>;
  /** A call answered with the run's new state. */
  accept(run: RunState): void;
}

export function useRun(call: Caller, live: LiveChannel): RunHandle {
  const [state, dispatch] = useReducer(runReducer, initialRunHandleState);

  const refresh = useCallback(async () => {
    const r = await call('runs.current', {});
    if (r.ok) dispatch({ type: 'snapshot', run: r.value.run, source: 'read' });
    else dispatch({ type: 'problem', error: r.error, from: 'call' });
  }, [call]);

  useEffect(() => {
    void refresh();
    return live.subscribe(
      (event) => {
        dispatch({ type: 'event', event });
        if (event.name === 'gate.waiting') notifyWaiting(event.data);
      },
      () => void refresh(),
      (message) => dispatch({ type: 'problem', error: { code: 'ENDPOINT_UNREACHABLE', message }, from: 'live' }),
    );
  }, [call, live, refresh]);

  useEffect(() => {
    if (state.stale) void refresh();
  }, [state.stale, refresh]);

  // The tab says so too, for a person who looks at the tab strip.
  const waiting = state.run?.pending !== undefined;
  useEffect(() => {
    const base = document.title.replace(/^\(Waiting\) /, '');
    document.title = waiting ? `(Waiting) ${base}` : base;
  }, [waiting]);

  const accept = useCallback((run: RunState) => dispatch({ type: 'snapshot', run, source: 'answered' }), []);
  return { run: state.run, activity: state.activity, loaded: state.loaded, problem: state.problem, refresh, accept };
}
