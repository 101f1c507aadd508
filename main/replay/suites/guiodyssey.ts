/**
 * GUI-Odyssey (`OpenGVLab/GUI-Odyssey`): cross-app navigation episodes on six Android devices.
 * Loader: main/replay/loaders/guiodyssey.ts (native annotations, screenshots and split files).
 * Scoring: main/replay/metrics/guiodyssey.ts (the official action matching, AMS and SR).
 *
 * Splits: random_split (default; the split the paper's main table and its per-category
 * numbers use), task_split, device_split, app_split — the test part of splits/<split>.json.
 * Modes: high (default: the episode's instruction) and low (plus the step's low-level
 * instruction), the official `high_*` / `low_*` evaluations.
 *
 * A prediction becomes the official answer string before it is scored, and that same string is
 * what `writePredictions` writes, so the real script gives the same verdicts:
 * - click / long_press → `CLICK: (x, y)` / `LONG_PRESS: (x, y)`, the point on the 0–1000 grid of
 *   the screenshot, rounded to whole numbers as the benchmark's answers are; without a point
 *   `CLICK` alone (the script: 'invalid');
 * - scroll → `SCROLL: <finger direction>`, the opposite of our direction (our "down" = the
 *   finger swipes UP), see the loader;
 * - input_text and type → `TYPE: <text>`; navigate_home → PRESS_HOME; navigate_back →
 *   PRESS_BACK; navigate_recent → PRESS_RECENT;
 *   finished → COMPLETE; fail → IMPOSSIBLE;
 * - anything else → its action type in capitals (never a GUI-Odyssey action: 'action_fail');
 *   no prediction → '' ('action_fail').
 *
 * Summary: AMS and SR as evaluate_GUIOdyssey.py reports them for the split ('micro' = mean over
 * the six categories for random_split, plain for the others), type and text accuracy, and
 * breakdowns by category (the script's per-category AMS/SR), device and true action (plain
 * figures per group). Steps are taken in the official test order (`gold.position`), whatever
 * order they were scored in; steps of several splits together are summarised plainly.
 *
 * Predictions file: `predictions/foresight_<mode>_<split>.json`, a list of {question, pred, gt,
 * more_info: {category, step_length, sam2_bbox}} in the official test order — the list
 * `evaluate_GUIOdyssey.py` saves and hands to `action_matching_evaluation`. To score it with the
 * official code: `action_matching_evaluation(json.load(open(F)), metric='micro')` ('macro' for
 * the task/device/app splits), from src/eval_mm of the official repository.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { plannerPoint, type Action, type Direction } from '../../../common/actions.ts';
import { assertNever } from '../../../common/assert.ts';
import { convertPoint } from '../../../common/coords.ts';
import { ForesightError } from '../../../common/errors.ts';
import {
  GUI_ODYSSEY_MODES,
  GUI_ODYSSEY_SPLITS,
  checkGuiOdysseyOptions,
  countGuiOdyssey,
  loadGuiOdyssey,
  type GuiOdysseyGold,
} from '../loaders/guiodyssey.ts';
import {
  checkSR,
  pyRound2,
  scoreGuiOdysseyAnswer,
  splitMetric,
  statResult,
  type GoScoredRow,
  type GoVerdict,
  type GoVerdictInfo,
} from '../metrics/guiodyssey.ts';
import { groupBy } from './breakdown.ts';
import { replayGeometry, type Breakdown, type BreakdownRow, type ReplaySuite, type ScoredStep, type StepScore, type StepTruth, type SuiteSummary } from '../suite.ts';

const SCROLL_TO_SWIPE: Readonly<Record<Direction, string>> = { down: 'UP', up: 'DOWN', right: 'LEFT', left: 'RIGHT' };

/** The official answer string for one of our actions on a `width` x `height` screenshot. */
export function guiOdysseyAnswer(pred: Action | undefined, width: number, height: number): string {
  if (!pred) return '';
  const grid = () => {
    const at = plannerPoint(pred);
    if (!at) return undefined;
    const p = convertPoint(at, 'norm1000', replayGeometry(width, height));
    return `(${Math.round(p.x)}, ${Math.round(p.y)})`;
  };
  switch (pred.action_type) {
    case 'click':
    case 'long_press': {
      const name = pred.action_type === 'click' ? 'CLICK' : 'LONG_PRESS';
      const at = grid();
      return at ? `${name}: ${at}` : name;
    }
    case 'scroll':
      return `SCROLL: ${SCROLL_TO_SWIPE[pred.direction]}`;
    case 'input_text':
    case 'type':
      return `TYPE: ${pred.text}`;
    case 'navigate_home':
      return 'PRESS_HOME';
    case 'navigate_back':
      return 'PRESS_BACK';
    case 'navigate_recent':
      return 'PRESS_RECENT';
    case 'finished':
      return 'COMPLETE';
    case 'fail':
      return 'IMPOSSIBLE';
    // No GUI-Odyssey action: a name the official matcher counts as a wrong type.
    case 'double_click':
    case 'right_click':
    case 'drag':
    case 'move':
    case 'hotkey':
    case 'key':
    case 'wait':
    case 'call_user':
    case 'open_app':
    case 'select':
    case 'tool_call':
      return pred.action_type.toUpperCase();
    default:
      return assertNever(pred, 'action');
  }
}

const TEXT_INFOS: ReadonlySet<GoVerdictInfo> = new Set(['type_correct', 'type_fail']);
const CLICK_INFOS: ReadonlySet<GoVerdictInfo> = new Set(['click_correct', 'click_fail']);

function scoreStep(pred: Action | undefined, truth: StepTruth<GuiOdysseyGold>): StepScore {
  const g = truth.gold;
  const v = scoreGuiOdysseyAnswer(guiOdysseyAnswer(pred, truth.imageWidth, truth.imageHeight), g.answer, g.sam2Bbox);
  return {
    success: v.correct,
    metrics: {
      // As stat_result counts "action_type": every verdict but 'action_fail' (so 'invalid' too).
      typeMatch: v.info !== 'action_fail',
      textMatch: TEXT_INFOS.has(v.info) ? v.info === 'type_correct' : null,
      groundingMatch: CLICK_INFOS.has(v.info) ? v.info === 'click_correct' : null,
      invalid: v.info === 'invalid',
    },
  };
}

/** Enough of the script's verdict for stat_result, from a stored StepScore. */
function verdictOf(s: StepScore): GoVerdict {
  const m = s.metrics;
  if (m.typeMatch === false) return { correct: false, info: 'action_fail' };
  if (m.invalid === true) return { correct: false, info: 'invalid' };
  if (m.textMatch === true || m.textMatch === false) return { correct: s.success, info: m.textMatch ? 'type_correct' : 'type_fail' };
  if (m.groundingMatch === true || m.groundingMatch === false) return { correct: s.success, info: m.groundingMatch ? 'click_correct' : 'click_fail' };
  return { correct: s.success, info: 'action_correct' };
}

function inOfficialOrder(scored: readonly ScoredStep<GuiOdysseyGold>[]): ScoredStep<GuiOdysseyGold>[] {
  return [...scored].sort((a, b) => a.gold.position - b.gold.position);
}

function goRow(s: ScoredStep<GuiOdysseyGold>): GoScoredRow {
  return { verdict: verdictOf(s.score), category: s.gold.category, stepLength: s.gold.stepLength, image: s.gold.image };
}

/** Plain AMS and SR (the 'macro' figures) of a group of steps, in 0..1. */
function plainFigures(rows: readonly GoScoredRow[]): Record<string, number> {
  return {
    AMS: pyRound2((rows.filter((r) => r.verdict.correct).length / rows.length) * 100) / 100,
    SR: checkSR(rows).SR / 100,
  };
}


function summarize(scored: readonly ScoredStep<GuiOdysseyGold>[]): SuiteSummary {
  if (scored.length === 0) return { count: 0, metrics: {}, breakdowns: [] };
  const steps = inOfficialOrder(scored);
  const rows = steps.map(goRow);
  const splits = new Set(steps.map((s) => s.gold.split));
  const metric = splits.size === 1 ? splitMetric([...splits][0]!) : 'macro';
  const st = statResult(rows, metric);
  const metrics: Record<string, number> = {
    AMS: st.AMS / 100,
    SR: st.SR / 100,
    'type accuracy': st.typeCorrect / st.total,
  };
  if (st.textTotal > 0) metrics['text accuracy'] = st.textCorrect / st.textTotal;

  const byCategory: BreakdownRow[] = [...st.categories]
    .sort((a, b) => a.category.localeCompare(b.category))
    .map((c) => ({ key: c.category, count: c.steps, metrics: { AMS: c.AMS / 100, SR: c.SR / 100 } }));
  const indexed = steps.map((s, i) => ({ s, r: rows[i]! }));
  const byDevice: BreakdownRow[] = groupBy(indexed, (x) => x.s.categories.device ?? 'unknown').map(([key, xs]) => ({
    key,
    count: xs.length,
    metrics: plainFigures(xs.map((x) => x.r)),
  }));
  const byAction: BreakdownRow[] = groupBy(indexed, (x) => x.s.categories.action ?? 'unknown').map(([key, xs]) => ({
    key,
    count: xs.length,
    metrics: {
      AMS: pyRound2((xs.filter((x) => x.r.verdict.correct).length / xs.length) * 100) / 100,
      'type accuracy': xs.filter((x) => x.r.verdict.info !== 'action_fail').length / xs.length,
    },
  }));
  const breakdowns: Breakdown[] = [
    { name: 'category', rows: byCategory },
    { name: 'device', rows: byDevice },
    { name: 'true action', rows: byAction },
  ];
  return { count: scored.length, metrics, breakdowns };
}

const PROMPT = "I'm looking for guidance on how to ";

async function writePredictions(scored: readonly ScoredStep<GuiOdysseyGold>[], outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  for (const [key, steps] of groupBy(inOfficialOrder(scored), (s) => `${s.gold.level}_${s.gold.split}`)) {
    const entries = steps.map((s) => ({
      id: s.id,
      // check_SR reads the screenshot's name from the <img> tag of the question.
      question: `Picture 1: <img>${s.gold.image}</img>\n${PROMPT}${s.gold.question}`,
      pred: guiOdysseyAnswer(s.prediction, s.imageWidth, s.imageHeight),
      gt: s.gold.answer,
      more_info: { category: s.gold.category, step_length: s.gold.stepLength, sam2_bbox: s.gold.sam2Bbox },
    }));
    const path = join(outDir, `foresight_${key}.json`);
    await writeFile(path, JSON.stringify(entries, null, 4) + '\n');
    files.push(path);
  }
  return files;
}

export const guiOdysseySuite: ReplaySuite<GuiOdysseyGold> = {
  id: 'gui-odyssey',
  title: 'GUI-Odyssey',
  splits: GUI_ODYSSEY_SPLITS,
  modes: GUI_ODYSSEY_MODES,
  load(dataPath, opts) {
    if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 0)) {
      throw new ForesightError('BAD_INPUT', `GUI-Odyssey: limit must be a whole number >= 0, not ${opts.limit}`);
    }
    checkGuiOdysseyOptions(opts);
    return loadGuiOdyssey(dataPath, opts);
  },
  count: countGuiOdyssey,
  score: scoreStep,
  summarize,
  writePredictions,
};
