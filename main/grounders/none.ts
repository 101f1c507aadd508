/**
 * The "none" grounder: the planner already pointed (UI-TARS style `click(start_box=…)`), so
 * its own point is used, converted from whatever space the planner spoke into screenshot pixels.
 */
import { needsPoint } from '../../common/actions.ts';
import { convertPoint, type SpacePoint } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Grounder, GroundRequest, Grounding, Observation } from '../../common/ports.ts';

export class PlannerPointGrounder implements Grounder {
  readonly id = 'none';
  readonly speculative = true;

  perceive(_observation: Observation): void {
    // Nothing to perceive: the point is in the action.
  }

  ground(req: GroundRequest, _signal: AbortSignal): Promise<Grounding> {
    const t0 = performance.now();
    const { action, observation } = req;
    if (!needsPoint(action)) {
      return Promise.reject(new ForesightError('BAD_INPUT', `A ${action.action_type} action needs no point; grounders only ground pointed actions`));
    }
    if (!action.point) {
      return Promise.reject(
        new ForesightError(
          'GROUNDING_FAILED',
          `The planner gave no point for "${action.step_instruction}"; with --grounder none the planner must point itself (or use --grounder ocr)`,
          { instruction: action.step_instruction },
        ),
      );
    }
    const end = action.action_type === 'drag' ? action.end_point : undefined;
    if (action.action_type === 'drag' && !end) {
      return Promise.reject(
        new ForesightError('GROUNDING_FAILED', `The planner gave no end point for the drag "${action.step_instruction}"`, {
          instruction: action.step_instruction,
        }),
      );
    }
    const toShot = (p: SpacePoint): SpacePoint => ({ ...convertPoint(p, 'screenshot', observation.geometry), space: 'screenshot' });
    return Promise.resolve({
      point: toShot(action.point),
      ...(end ? { endPoint: toShot(end) } : {}),
      confidence: 1,
      grounder: this.id,
      detail: `the planner's point (${action.point.x}, ${action.point.y}) in ${action.point.space} space`,
      latencyMs: performance.now() - t0,
    });
  }
}
