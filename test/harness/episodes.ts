/**
 * Reading a recorded episode as a user checks it. With speculative observation (`--speculate
 * on`, the default) a forecast made on a frame the screen drew over after its capture is stored
 * as a step of its own whose action was not executed (result `stale`): how many there are depends
 * on how fast the machine and the apps draw, so tests that follow a plan step by step look at the
 * steps that acted (or decided to stop) and check the stale ones separately.
 */
import type { StoredEpisode, StoredStep } from '../../store/index.ts';

/** The steps whose forecast was acted on (or that ended the episode): every step but the stale ones. */
export function actedSteps(ep: StoredEpisode): StoredStep[] {
  return ep.steps.filter((s) => !s.executions.some((x) => x.result === 'stale'));
}
