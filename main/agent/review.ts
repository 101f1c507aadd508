/**
 * When the human gate is asked. `each`: before every action. `forecast`: when the plan
 * changes, i.e. when the new forecast is not the continuation of the last approved one, so a
 * person approves a plan once and is asked again only when the model deviates from it.
 */
import { sameAction, type Forecast } from '../../common/actions.ts';
import type { ApprovalPolicy } from '../../common/ports.ts';

export interface ApprovedPlan {
  forecast: Forecast;
  /** Steps executed since it was approved. */
  executedSince: number;
}

export function isContinuation(plan: ApprovedPlan, next: Forecast): boolean {
  const remaining = plan.forecast.steps.slice(plan.executedSince);
  if (remaining.length === 0) return false;
  const overlap = Math.min(remaining.length, next.steps.length);
  for (let i = 0; i < overlap; i++) {
    if (!sameAction(remaining[i]!.action, next.steps[i]!.action)) return false;
  }
  return true;
}

export function needsReview(policy: ApprovalPolicy, plan: ApprovedPlan | undefined, next: Forecast): boolean {
  switch (policy) {
    case 'never':
      return false;
    case 'each':
      return true;
    case 'forecast':
      return plan === undefined || !isContinuation(plan, next);
  }
}
