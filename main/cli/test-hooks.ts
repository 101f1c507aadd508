/**
 * A hook for the reliability suite (test/reliability/kill-switch.ts), off unless its variable
 * is set: FORESIGHT_TEST_BUSY_PLAN_MS=n makes every planner answer cost n ms of synchronous
 * computation, as a pathological answer would in a parser that is not linear. The kill switch's
 * delay is then measured against an event loop that stays blocked, whatever the parser does.
 */
import type { Planner } from '../../common/ports.ts';

export function busyPlanner(planner: Planner, env: NodeJS.ProcessEnv = process.env): Planner {
  const ms = Number(env.FORESIGHT_TEST_BUSY_PLAN_MS ?? 0);
  if (!Number.isFinite(ms) || ms <= 0) return planner;
  return {
    id: planner.id,
    format: planner.format,
    async plan(req, signal) {
      const reply = await planner.plan(req, signal);
      const until = performance.now() + ms;
      // Deliberately synchronous: nothing else in this process runs until it ends.
      while (performance.now() < until) {
        /* busy */
      }
      return reply;
    },
  };
}
