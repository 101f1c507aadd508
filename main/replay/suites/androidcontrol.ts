/**
 * AndroidControl as a replay suite (`foresight bench run --suite androidcontrol`).
 * Loader: loaders/androidcontrol.ts (release format, splits, modes). Scoring:
 * metrics/androidcontrol.ts, the rules of OS-Atlas `eval/eval_scripts/android_control/
 * evaluation_unify.py` (OS-Copilot/OS-Atlas at bad08407ab54b5bf6c17a69fe1ced476b9494926, the
 * script unchanged since 38740e54f17860834caf7d708fd3aa96769139e1): type match; CLICK /
 * LONG_PRESS within 0.14 * 1000 of the truth on the 0–1000 grid; TYPE / OPEN_APP equal or token
 * F1 > 0.5 of the strings' second tokens; other types equal strings.
 *
 * Splits: test (default), validation, train (splits.json) and all; modes: high (default) and low.
 *
 * A prediction becomes the OS-Atlas action string the script would read, and is scored as the
 * script reads that string:
 * - click / long_press → CLICK / LONG_PRESS <point>[[x,y]]</point>, the point on the 0–1000 grid
 *   of the step's screenshot rounded to whole numbers (as models answer and as the truth file
 *   has them). The script reads the first two digit runs of the string (re.findall(r'\d+')), so
 *   a minus sign is lost: a point left of or above the screen counts as if mirrored — reproduced
 *   here, surprising as it is. Without a point → "CLICK", read as (-100, -100): a miss;
 * - scroll → SCROLL [UP|DOWN|LEFT|RIGHT] (same direction convention, see the loader);
 * - input_text and type → TYPE [text]; open_app → OPEN_APP [app]; navigate_back → PRESS_BACK;
 *   navigate_home → PRESS_HOME; wait → WAIT; finished → COMPLETE (OS-Atlas's name; the truth
 *   never has it);
 * - anything else → its action type in capitals (never an AndroidControl type: type mismatch);
 *   no prediction → no "actions:" section, which the script reads as "invalid action".
 *
 * Summary (0..1): `type accuracy` and `step SR` over all steps, `grounding accuracy` over the
 * steps whose truth is CLICK and whose prediction is CLICK too (the script's CLICK_all_match /
 * CLICK_type_match; left out when there are none). Breakdowns: by true action (each with the
 * three figures) and by test sub-split (IDD, app_unseen, task_unseen, category_unseen; the
 * script's "iid" … lines) when test_subsplits.json is in the data folder.
 *
 * Predictions: the files OS-Atlas's evaluation reads, in `predictions/`:
 * - `androidcontrol_<mode>.jsonl`, the prediction file: one line per step in scored order,
 *   {id, image, pred: "actions:\n<OS-Atlas action>", gt, type_match, exact_match};
 * - `androidcontrol_<mode>_gt.jsonl`, the ground-truth file in OS-Atlas's test-data form:
 *   {id, image: "episode_<id>_screenshot_<i>.png", conversations: [{from: "human", value:
 *   "Task: <goal>[ You need to: <step instruction>]"}, {from: "gpt", value: "thoughts:\n<step
 *   instruction>\nactions:\n<OS-Atlas action>"}]}, lines in the same order;
 * - `android_control_test_subsplits.json`, the sub-splits of the scored episodes (the script
 *   opens this name in its working directory).
 * Run it in that folder: `python3 evaluation_unify.py --prediction_file_path
 * androidcontrol_high.jsonl --ground_truth_file_path androidcontrol_high_gt.jsonl`. It divides by
 * the step count of every sub-split, so it only runs on steps of all four (the whole test split).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Action } from '../../../common/actions.ts';
import { assertNever } from '../../../common/assert.ts';
import { convertPoint } from '../../../common/coords.ts';
import {
  ANDROID_CONTROL_MODES,
  ANDROID_CONTROL_SPLITS,
  ANDROID_CONTROL_SUBSPLITS,
  checkAndroidControlOptions,
  loadAndroidControl,
  type AndroidControlGold,
} from '../loaders/androidcontrol.ts';
import {
  AC_MISSING_POINT,
  scoreAndroidControlStep,
  summarizeAndroidControl,
  toOsAtlasAction,
  type AcAction,
  type AcActionType,
  type AcStepScore,
} from '../metrics/androidcontrol.ts';
import { breakdownRows, groupBy } from './breakdown.ts';
import { replayGeometry, type Breakdown, type ReplaySuite, type ScoredStep, type StepScore, type StepTruth, type SuiteSummary } from '../suite.ts';

/** Our action as the AndroidControl action it stands for; undefined = none (a type mismatch). */
export function toAcAction(pred: Action, width: number, height: number): AcAction | undefined {
  switch (pred.action_type) {
    case 'click':
    case 'long_press': {
      if (!pred.point) return { action_type: pred.action_type };
      // Straight onto the 0–1000 grid (a 0–1000 point as it is, pixels as toGrid does it).
      const g = convertPoint(pred.point, 'norm1000', replayGeometry(width, height));
      return { action_type: pred.action_type, point: { x: Math.round(g.x), y: Math.round(g.y) } };
    }
    case 'scroll':
      return { action_type: 'scroll', direction: pred.direction };
    case 'input_text':
    case 'type':
      return { action_type: 'input_text', text: pred.text };
    case 'open_app':
      return { action_type: 'open_app', app: pred.app };
    case 'navigate_home':
    case 'navigate_back':
    case 'wait':
      return { action_type: pred.action_type };
    // No AndroidControl action (finished is written as COMPLETE by osAtlasPrediction).
    case 'double_click':
    case 'right_click':
    case 'drag':
    case 'move':
    case 'hotkey':
    case 'key':
    case 'finished':
    case 'call_user':
    case 'fail':
    case 'navigate_recent':
    case 'select':
    case 'tool_call':
      return undefined;
    default:
      return assertNever(pred, 'action');
  }
}

/** The action string of a prediction, as written to the prediction file; undefined = no answer. */
export function osAtlasPrediction(pred: Action | undefined, width: number, height: number): string | undefined {
  if (!pred) return undefined;
  const ac = toAcAction(pred, width, height);
  if (ac) return toOsAtlasAction(ac);
  return pred.action_type === 'finished' ? 'COMPLETE' : pred.action_type.toUpperCase();
}

/** A CLICK / LONG_PRESS point as the script reads it back from the string: its first two digit runs. */
function asScriptReads(ac: AcAction): AcAction {
  if ((ac.action_type !== 'click' && ac.action_type !== 'long_press') || !ac.point) return ac;
  const digits = (toOsAtlasAction(ac).match(/\d+/g) ?? []).map(Number);
  const point = digits.length >= 2 ? { x: digits[0]!, y: digits[1]! } : AC_MISSING_POINT;
  return { action_type: ac.action_type, point };
}

function acScore(pred: Action | undefined, truth: StepTruth<AndroidControlGold>): AcStepScore {
  const ac = pred ? toAcAction(pred, truth.imageWidth, truth.imageHeight) : undefined;
  if (!ac) return { truthType: truth.gold.truth.action_type, typeMatch: false, groundingMatch: undefined, exactMatch: false };
  return scoreAndroidControlStep(asScriptReads(ac), asScriptReads(truth.gold.truth));
}

function score(pred: Action | undefined, truth: StepTruth<AndroidControlGold>): StepScore {
  const s = acScore(pred, truth);
  return { success: s.exactMatch, metrics: { typeMatch: s.typeMatch, groundingMatch: s.groundingMatch ?? null } };
}

/** Enough of the script's verdict for its aggregation, from a stored StepScore. */
function acOf(s: ScoredStep<AndroidControlGold>): AcStepScore {
  const m = s.score.metrics;
  return {
    truthType: s.gold.truth.action_type as AcActionType,
    typeMatch: m.typeMatch === true,
    groundingMatch: typeof m.groundingMatch === 'boolean' ? m.groundingMatch : undefined,
    exactMatch: s.score.success,
  };
}

function figures(steps: readonly ScoredStep<AndroidControlGold>[]): Record<string, number> {
  const sum = summarizeAndroidControl(steps.map(acOf));
  const out: Record<string, number> = { 'type accuracy': sum.typeAccuracy, 'step SR': sum.stepSuccessRate };
  if (!Number.isNaN(sum.groundingAccuracy)) out['grounding accuracy'] = sum.groundingAccuracy;
  return out;
}

function summarize(scored: readonly ScoredStep<AndroidControlGold>[]): SuiteSummary {
  if (scored.length === 0) return { count: 0, metrics: {}, breakdowns: [] };
  const breakdowns: Breakdown[] = [{ name: 'true action', rows: breakdownRows(scored, (s) => s.gold.truth.action_type, figures) }];
  const sub = breakdownRows(scored, (s) => s.categories.subsplit, figures);
  if (sub.length > 0) breakdowns.push({ name: 'test sub-split', rows: sub });
  return { count: scored.length, metrics: figures(scored), breakdowns };
}

/** The screenshot name OS-Atlas's files use; the script reads the episode id from it. */
function imageName(s: ScoredStep<AndroidControlGold>): string {
  return `episode_${s.episodeId}_screenshot_${s.index}.png`;
}

function taskLine(g: AndroidControlGold): string {
  return g.mode === 'low' ? `Task: ${g.goal} You need to: ${g.stepInstruction}\n` : `Task: ${g.goal}\n`;
}

async function writePredictions(scored: readonly ScoredStep<AndroidControlGold>[], outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, text: string) => {
    const path = join(outDir, name);
    await writeFile(path, text);
    files.push(path);
  };
  const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  for (const [mode, steps] of groupBy(scored, (s) => s.gold.mode)) {
    const preds = steps.map((s) => {
      const action = osAtlasPrediction(s.prediction, s.imageWidth, s.imageHeight);
      return {
        id: s.id,
        image: imageName(s),
        pred: action === undefined ? '' : `actions:\n${action}`,
        gt: toOsAtlasAction(s.gold.truth),
        type_match: s.score.metrics.typeMatch === true,
        exact_match: s.score.success,
      };
    });
    const truths = steps.map((s) => ({
      id: s.id,
      image: imageName(s),
      conversations: [
        { from: 'human', value: taskLine(s.gold) },
        { from: 'gpt', value: `thoughts:\n${s.gold.stepInstruction}\nactions:\n${toOsAtlasAction(s.gold.truth)}` },
      ],
    }));
    await write(`androidcontrol_${mode}.jsonl`, jsonl(preds));
    await write(`androidcontrol_${mode}_gt.jsonl`, jsonl(truths));
  }
  const subsplits = Object.fromEntries(
    ANDROID_CONTROL_SUBSPLITS.map((name) => [name, [...new Set(scored.filter((s) => s.categories.subsplit === name).map((s) => Number(s.episodeId)))]]),
  );
  await write('android_control_test_subsplits.json', JSON.stringify(subsplits) + '\n');
  return files;
}

export const androidControlSuite: ReplaySuite<AndroidControlGold> = {
  id: 'androidcontrol',
  title: 'AndroidControl',
  splits: ANDROID_CONTROL_SPLITS,
  modes: ANDROID_CONTROL_MODES,
  load(dataPath, opts) {
    checkAndroidControlOptions(opts);
    return loadAndroidControl(dataPath, opts);
  },
  score,
  summarize,
  writePredictions,
};
