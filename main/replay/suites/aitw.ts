/**
 * AITW as a replay suite. Loader: loaders/aitw.ts (datasets, splits, the y-first coordinates).
 * Scoring: metrics/aitw.ts (`check_actions_match` of the official action_matching.py).
 *
 * Splits: any `splits/<name>.json` of the release (default `standard`; the README's
 * out-of-distribution splits sit beside it) or `all`; the list is left open because the file
 * names on GCS could not be checked from here. Modes: none.
 *
 * A prediction becomes an AITW action before it is scored (normalized, y first):
 * click / long_press → a tap (touch = lift = the point; AITW's dual-point gestures carry no
 * duration); scroll → the swipe SeeClick's `pred_2_format` uses for it, whose finger moves
 * against the content: scroll down = touch (y 0.8, x 0.5) → lift (0.2, 0.5), up = the reverse,
 * left = (0.5, 0.2) → (0.5, 0.8), right = the reverse (only the axis counts); drag → touch at
 * the point, lift at the end point; input_text / type → TYPE; navigate_back / navigate_home →
 * PRESS_BACK / PRESS_HOME; key enter → PRESS_ENTER; finished → STATUS_TASK_COMPLETE; fail →
 * STATUS_TASK_IMPOSSIBLE. Anything else (and a click without a point) matches nothing; no
 * prediction is always wrong.
 *
 * Summary: `action matching accuracy` over all steps and `dataset average` (the mean of the
 * per-dataset accuracies: the README's protocol, "evaluate on each dataset separately, and
 * take the average", and SeeClick's "Average score"); `type accuracy` (the AITW action types
 * equal, SeeClick's "Type Acc") and `text accuracy` over the steps whose truth is TYPE
 * (SeeClick's "Text Acc", see `seeClickTextMatch`; a step without a prediction counts wrong
 * here, where SeeClick leaves an unparsable answer out). Breakdowns by dataset and by true
 * action (TAP, SWIPE, TYPE, …; the TAP and SWIPE rows are SeeClick's "Click Acc" and
 * "Scroll Acc").
 *
 * Predictions file: `aitw.jsonl`, one line per step in load order with exactly the inputs of
 * `check_actions_match`: {id, episode_id, step_id, dataset, pred: {action_type, touch_yx,
 * lift_yx, typed_text?}, gt: {…}, annotation_positions (flattened y, x, h, w), match}. To
 * score it with the official code: for each line,
 * `check_actions_match(pred.touch_yx, pred.lift_yx, pred.action_type, gt.touch_yx,
 * gt.lift_yx, gt.action_type, np.array(annotation_positions).reshape(-1, 4))` (a line with no
 * annotations makes that function raise; see metrics/aitw.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Action, Direction } from '../../../common/actions.ts';
import { assertNever } from '../../../common/assert.ts';
import { convertPoint, type SpacePoint } from '../../../common/coords.ts';
import { loadAitw, type AitwGold } from '../loaders/aitw.ts';
import { AITW_ACTION, checkActionsMatch, seeClickTextMatch, type AitwAction, type Yx } from '../metrics/aitw.ts';
import { breakdownRows } from './breakdown.ts';
import { replayGeometry, type Breakdown, type BreakdownRow, type ReplaySuite, type ScoredStep, type StepScore, type StepTruth, type SuiteSummary } from '../suite.ts';

const NOWHERE: Yx = [-1, -1];
const NONE: AitwAction = { actionType: -1, touchYx: NOWHERE, liftYx: NOWHERE };

/** SeeClick's `pred_2_format` swipes, (y, x): touch, lift. */
const SCROLL_SWIPES: Readonly<Record<Direction, readonly [Yx, Yx]>> = {
  down: [
    [0.8, 0.5],
    [0.2, 0.5],
  ],
  up: [
    [0.2, 0.5],
    [0.8, 0.5],
  ],
  left: [
    [0.5, 0.2],
    [0.5, 0.8],
  ],
  right: [
    [0.5, 0.8],
    [0.5, 0.2],
  ],
};

/** Our action as the AITW action it stands for (normalized, y first). */
export function toAitwAction(pred: Action | undefined, width: number, height: number): AitwAction {
  if (!pred) return NONE;
  const norm = (p: SpacePoint): Yx => {
    const q = convertPoint(p, 'norm1', replayGeometry(width, height));
    return [q.y, q.x];
  };
  const plain = (actionType: number): AitwAction => ({ actionType, touchYx: NOWHERE, liftYx: NOWHERE });
  switch (pred.action_type) {
    case 'click':
    case 'long_press': {
      if (!pred.point) return NONE;
      const p = norm(pred.point);
      return { actionType: AITW_ACTION.DUAL_POINT, touchYx: p, liftYx: p };
    }
    case 'drag':
      if (!pred.point || !pred.end_point) return NONE;
      return { actionType: AITW_ACTION.DUAL_POINT, touchYx: norm(pred.point), liftYx: norm(pred.end_point) };
    case 'scroll': {
      const [touchYx, liftYx] = SCROLL_SWIPES[pred.direction];
      return { actionType: AITW_ACTION.DUAL_POINT, touchYx, liftYx };
    }
    case 'input_text':
    case 'type':
      return { ...plain(AITW_ACTION.TYPE), typedText: pred.text };
    case 'navigate_back':
      return plain(AITW_ACTION.PRESS_BACK);
    case 'navigate_home':
      return plain(AITW_ACTION.PRESS_HOME);
    case 'key':
      return pred.keys.join('+') === 'enter' ? plain(AITW_ACTION.PRESS_ENTER) : NONE;
    case 'finished':
      return plain(AITW_ACTION.STATUS_TASK_COMPLETE);
    case 'fail':
      return plain(AITW_ACTION.STATUS_TASK_IMPOSSIBLE);
    // No AITW action: matches nothing.
    case 'double_click':
    case 'right_click':
    case 'move':
    case 'hotkey':
    case 'wait':
    case 'call_user':
    case 'open_app':
    case 'navigate_recent':
    case 'select':
    case 'tool_call':
      return NONE;
    default:
      return assertNever(pred, 'action');
  }
}

function score(pred: Action | undefined, truth: StepTruth<AitwGold>): StepScore {
  const a = toAitwAction(pred, truth.imageWidth, truth.imageHeight);
  const t = truth.gold.truth;
  const m = checkActionsMatch(a, t, truth.gold.annotations);
  // A screen without UI annotations: the official check_actions_match raises (jnp.max of an empty
  // array) and SeeClick's harness, where the published figures come from, counts the step wrong.
  // That is the verdict; what the rules say without boxes is kept beside it.
  const noAnnotations = truth.gold.annotations.length === 0;
  return {
    success: noAnnotations ? false : m.match,
    ...(noAnnotations ? { reason: "the screen has no UI annotations: the official script raises there and SeeClick's harness counts the step wrong" } : {}),
    metrics: {
      byRules: m.match,
      noAnnotations,
      byBox: m.byBox ?? null,
      typeMatch: a.actionType === t.actionType,
      textMatch: t.actionType === AITW_ACTION.TYPE ? pred !== undefined && seeClickTextMatch(a, t) : null,
    },
  };
}

function share(steps: readonly ScoredStep<AitwGold>[], ok: (s: ScoredStep<AitwGold>) => boolean): number {
  return steps.filter(ok).length / steps.length;
}

function figures(steps: readonly ScoredStep<AitwGold>[]): Record<string, number> {
  const out: Record<string, number> = {
    'action matching accuracy': share(steps, (s) => s.score.success),
    'type accuracy': share(steps, (s) => s.score.metrics.typeMatch === true),
  };
  const typing = steps.filter((s) => s.gold.truth.actionType === AITW_ACTION.TYPE);
  if (typing.length > 0) out['text accuracy'] = share(typing, (s) => s.score.metrics.textMatch === true);
  return out;
}

function groups(steps: readonly ScoredStep<AitwGold>[], key: (s: ScoredStep<AitwGold>) => string): BreakdownRow[] {
  return breakdownRows(steps, key, figures);
}

function summarize(scored: readonly ScoredStep<AitwGold>[]): SuiteSummary {
  if (scored.length === 0) return { count: 0, metrics: {}, breakdowns: [] };
  const bySubset = groups(scored, (s) => s.gold.subset);
  const breakdowns: Breakdown[] = [
    { name: 'dataset', rows: bySubset },
    { name: 'true action', rows: groups(scored, (s) => s.categories.action ?? 'unknown') },
  ];
  const all = figures(scored);
  const unannotated = scored.filter((s) => s.score.metrics.noAnnotations === true).length;
  return {
    count: scored.length,
    metrics: {
      'action matching accuracy': all['action matching accuracy']!,
      'dataset average': bySubset.reduce((a, r) => a + r.metrics['action matching accuracy']!, 0) / bySubset.length,
      ...all,
      // The alternative figure: screens without annotations scored by the rules with no boxes.
      ...(unannotated > 0
        ? {
            'steps without annotations': unannotated / scored.length,
            'action matching accuracy (by the rules on unannotated screens)': share(scored, (s) =>
              s.score.metrics.noAnnotations === true ? s.score.metrics.byRules === true : s.score.success,
            ),
          }
        : {}),
    },
    breakdowns,
  };
}

function wire(a: AitwAction) {
  return { action_type: a.actionType, touch_yx: a.touchYx, lift_yx: a.liftYx, ...(a.typedText !== undefined ? { typed_text: a.typedText } : {}) };
}

async function writePredictions(scored: readonly ScoredStep<AitwGold>[], outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const lines = scored.map((s) =>
    JSON.stringify({
      id: s.id,
      episode_id: s.episodeId,
      step_id: s.index,
      dataset: s.gold.subset,
      pred: wire(toAitwAction(s.prediction, s.imageWidth, s.imageHeight)),
      gt: wire(s.gold.truth),
      annotation_positions: s.gold.annotations.flat(),
      match: s.score.success,
    }),
  );
  const path = join(outDir, 'aitw.jsonl');
  await writeFile(path, lines.join('\n') + (lines.length ? '\n' : ''));
  return [path];
}

export const aitwSuite: ReplaySuite<AitwGold> = {
  id: 'aitw',
  title: 'AITW',
  // Any splits/<name>.json of the release, or "all"; the loader checks the name (see the header).
  splits: [],
  modes: [],
  load: loadAitw,
  score,
  summarize,
  writePredictions,
};
