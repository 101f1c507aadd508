/**
 * AITW action matching, re-implemented from `google-research/google-research`
 * `android_in_the_wild/action_matching.py` (read at 1d49f2c0d5506a6e11115726164d42f6b7b7b95a)
 * and `action_type.py` (4c4299485319ed72ef782020c81784be5468924e); secondary figures from
 * SeeClick's evaluation, `njucckevin/SeeClick` `agent_tasks/aitw_test.py` (50e4ec9).
 *
 * Coordinates are normalized to 0..1 and **y first**: (y, x), as the release stores
 * `results/yx_touch`, `results/yx_lift` and `image/ui_annotations_positions` (y, x, height, width).
 *
 * The rules of `check_actions_match(action_1, action_2, annotation_positions)`:
 * - If either action is not DUAL_POINT: match iff the action types are equal. Nothing else is
 *   compared — in particular not the typed text (TYPE "abc" matches TYPE "xyz"; surprising,
 *   reproduced; SeeClick reports text separately, see `seeClickTextMatch`).
 * - A dual-point action is a tap when ‖touch − lift‖ <= 0.04 (inclusive), else a swipe. A tap
 *   and a swipe never match.
 * - Two taps match when ‖touch₁ − touch₂‖ <= 0.14 (inclusive; only the touch points count), or
 *   when both touch points fall in one of the screen's annotation boxes after each box is
 *   enlarged as `_resize_annotation_bounding_boxes` does: top −= 1.4·h/2, left −= 1.4·w/2
 *   (each not below 0), then h += 1.4·h, w += 1.4·w (each not above 1) — 0.7·h more on each
 *   side. The clamps are on the corner and on the size, not on the far edge, so a box near the
 *   top or left edge that gets clamped at 0 reaches further down or right than 0.7·h past its
 *   original edge (surprising, reproduced). Containment is inclusive.
 * - Two swipes match when their main axis (the larger of |Δy|, |Δx|; y on a tie, as
 *   `np.argmax` takes the first) is the same. The direction along the axis is not compared: a
 *   swipe up matches a swipe down (surprising, reproduced).
 *
 * Arithmetic: the script works on JAX arrays, float32 by default, so the distances, the
 * thresholds (0.14 and 0.04 become float32) and the box edges are float32 values. This module
 * rounds to float32 after every operation the script does in float32 (Math.fround; IEEE
 * single-precision operations are correctly rounded, so this gives the same bits, barring a
 * fused multiply-add in XLA). The box enlargement is done in float64 and then rounded, because
 * the callers (SeeClick, the release's readers) pass the annotation positions as a NumPy
 * float64 array, which only becomes float32 inside `jnp.maximum` / `jnp.minimum`. It matters
 * only within ~1e-8 of a threshold.
 *
 * A screen without annotations: the script raises there for *every* pair of actions (`jnp.max`
 * of an empty array; both branches are computed, JAX style); SeeClick catches the exception
 * and counts the step wrong. `checkActionsMatch` scores such a step by the rules with no boxes
 * (what the script means to do); the suite follows the harness and keeps this figure beside it.
 */

/** `action_type.ActionType`. */
export const AITW_ACTION = {
  TYPE: 3,
  DUAL_POINT: 4,
  PRESS_BACK: 5,
  PRESS_HOME: 6,
  PRESS_ENTER: 7,
  STATUS_TASK_COMPLETE: 10,
  STATUS_TASK_IMPOSSIBLE: 11,
} as const;
export const AITW_ACTION_NAMES: Readonly<Record<number, string>> = {
  3: 'TYPE',
  4: 'DUAL_POINT',
  5: 'PRESS_BACK',
  6: 'PRESS_HOME',
  7: 'PRESS_ENTER',
  10: 'STATUS_TASK_COMPLETE',
  11: 'STATUS_TASK_IMPOSSIBLE',
};

export const AITW_TAP_DISTANCE_THRESHOLD = 0.14;
export const AITW_SWIPE_DISTANCE_THRESHOLD = 0.04;
export const AITW_ANNOTATION_AUGMENT = 1.4;

/** (y, x), normalized. */
export type Yx = readonly [number, number];

export interface AitwAction {
  /** An ActionType value; -1 stands for an action AITW does not have (it matches nothing). */
  actionType: number;
  touchYx: Yx;
  liftYx: Yx;
  /** TYPE: the text (not compared by `check_actions_match`; SeeClick's text accuracy uses it). */
  typedText?: string;
}

/** (y, x, height, width), normalized. */
export type AnnotationBox = readonly [number, number, number, number];

const f32 = Math.fround;
const TAP_THRESHOLD_F32 = f32(AITW_TAP_DISTANCE_THRESHOLD);
const SWIPE_THRESHOLD_F32 = f32(AITW_SWIPE_DISTANCE_THRESHOLD);

/** `jnp.linalg.norm(a - b)` in float32: sqrt(sum of squares), each step rounded. */
export function distanceF32(a: Yx, b: Yx): number {
  const dy = f32(f32(a[0]) - f32(b[0]));
  const dx = f32(f32(a[1]) - f32(b[1]));
  return f32(Math.sqrt(f32(f32(dy * dy) + f32(dx * dx))));
}

/** `is_tap_action`. */
export function isTap(a: AitwAction): boolean {
  return distanceF32(a.touchYx, a.liftYx) <= SWIPE_THRESHOLD_F32;
}

/** `_resize_annotation_bounding_boxes` (float64 arithmetic, float32 result; see the header). */
export function enlargeBox(b: AnnotationBox): AnnotationBox {
  const dh = AITW_ANNOTATION_AUGMENT * b[2];
  const dw = AITW_ANNOTATION_AUGMENT * b[3];
  return [f32(Math.max(0, b[0] - dh / 2)), f32(Math.max(0, b[1] - dw / 2)), f32(Math.min(1, b[2] + dh)), f32(Math.min(1, b[3] + dw))];
}

/** `_yx_in_bounding_boxes` for one enlarged box: bottom = top + height in float32, inclusive. */
function inBox(p: Yx, b: AnnotationBox): boolean {
  const y = f32(p[0]);
  const x = f32(p[1]);
  return y >= b[0] && y <= f32(b[0] + b[2]) && x >= b[1] && x <= f32(b[1] + b[3]);
}

/** The main axis of a swipe: 0 = y, 1 = x (y on a tie). */
export function mainAxis(a: AitwAction): 0 | 1 {
  const dy = Math.abs(f32(f32(a.liftYx[0]) - f32(a.touchYx[0])));
  const dx = Math.abs(f32(f32(a.liftYx[1]) - f32(a.touchYx[1])));
  return dx > dy ? 1 : 0;
}

export interface AitwMatch {
  match: boolean;
  /** Both taps: whether they matched by a shared (enlarged) box. */
  byBox?: boolean;
}

/** `check_actions_match(action_1, action_2, annotation_positions)`; symmetric in the two actions. */
export function checkActionsMatch(a: AitwAction, b: AitwAction, annotations: readonly AnnotationBox[]): AitwMatch {
  if (a.actionType !== AITW_ACTION.DUAL_POINT || b.actionType !== AITW_ACTION.DUAL_POINT) {
    return { match: a.actionType === b.actionType };
  }
  const tapA = isTap(a);
  const tapB = isTap(b);
  if (tapA !== tapB) return { match: false };
  if (tapA) {
    const byBox = annotations.some((box) => {
      const big = enlargeBox(box);
      return inBox(a.touchYx, big) && inBox(b.touchYx, big);
    });
    return { match: byBox || distanceF32(a.touchYx, b.touchYx) <= TAP_THRESHOLD_F32, byBox };
  }
  return { match: mainAxis(a) === mainAxis(b) };
}

/**
 * SeeClick's "Text Acc" on a step whose truth is TYPE: both texts lower-cased, the predicted
 * text ('' unless the prediction is a TYPE) equal to the true one or either contained in the
 * other. A prediction that is not a TYPE therefore counts as right ('' is in every string:
 * SeeClick's rule, reproduced).
 */
export function seeClickTextMatch(pred: AitwAction, truth: AitwAction): boolean {
  const p = (pred.actionType === AITW_ACTION.TYPE ? (pred.typedText ?? '') : '').toLowerCase();
  const t = (truth.typedText ?? '').toLowerCase();
  return p === t || t.includes(p) || p.includes(t);
}
