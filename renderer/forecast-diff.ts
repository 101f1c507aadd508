/**
 * What changed between two forecasts, step by step. Two cases:
 * - an edit: the original and the edited forecast of one step, compared index by index;
 * - a re-forecast: the forecast made after a step ran, against the previous forecast minus the
 *   step that ran (what the agent expected to do next). Steps are "the same" as the loop's
 *   plan continuation counts them (common/actions.ts sameAction).
 */
import { sameAction, type Forecast } from '../common/actions.ts';

export type StepChange = 'same' | 'changed' | 'new';

export interface ForecastDiff {
  /** One entry per step of the newer forecast. */
  steps: StepChange[];
  /** Steps the older forecast had beyond the newer one's end. */
  dropped: number;
}

export function diffForecasts(older: Forecast, newer: Forecast): ForecastDiff {
  const steps = newer.steps.map((s, i): StepChange => {
    const was = older.steps[i];
    if (!was) return 'new';
    return sameAction(was.action, s.action) && was.status === s.status ? 'same' : 'changed';
  });
  return { steps, dropped: Math.max(0, older.steps.length - newer.steps.length) };
}

/** The previous forecast as an expectation for the next step: its first step has run. */
export function expectedNext(previous: Forecast): Forecast | undefined {
  if (previous.steps.length < 2) return undefined;
  return { ...previous, steps: previous.steps.slice(1) };
}

/** A sentence about a re-forecast: "Kept the plan", "2 steps changed, 1 new". */
export function describeDiff(d: ForecastDiff): string {
  const changed = d.steps.filter((s) => s === 'changed').length;
  const added = d.steps.filter((s) => s === 'new').length;
  if (changed === 0 && added === 0 && d.dropped === 0) return 'Same plan as forecast before';
  const parts: string[] = [];
  if (changed) parts.push(`${changed} step${changed === 1 ? '' : 's'} changed`);
  if (added) parts.push(`${added} new`);
  if (d.dropped) parts.push(`${d.dropped} dropped`);
  return parts.join(', ');
}
