/**
 * Repetition and cycle detection. Without it a planner can click the same element again and
 * again (the failure the TraceR1 repetition penalty trains away); at run time we catch it.
 */
import { actionArgumentsKey, type Action } from '../../common/actions.ts';

export interface ExecutedKey {
  key: string;
  description: string;
}

/** A key that is equal for two actions a person would call "the same". Points on a 16 px grid. */
export function actionKey(a: Action, globalPoint?: { x: number; y: number }): string {
  const p = globalPoint ? `${Math.round(globalPoint.x / 16)},${Math.round(globalPoint.y / 16)}` : '';
  return `${actionArgumentsKey(a)}|${p}`;
}

/**
 * Whether appending `next` to `done` would make a cycle of period 1..3 repeated `repeats` times
 * (A A A, or A B A B A B, …). Returns the repeated pattern's length, or 0.
 */
export function cycleLength(done: readonly string[], next: string, repeats = 3): number {
  const seq = [...done, next];
  for (let period = 1; period <= 3; period++) {
    const need = period * repeats;
    if (seq.length < need) break;
    const tail = seq.slice(seq.length - need);
    let cyclic = true;
    for (let i = period; i < tail.length && cyclic; i++) cyclic = tail[i] === tail[i - period];
    // A cycle of period p must not be a shorter cycle (A A A A A A is period 1, not 2).
    if (cyclic && (period === 1 || new Set(tail.slice(0, period)).size === period)) return period;
  }
  return 0;
}
