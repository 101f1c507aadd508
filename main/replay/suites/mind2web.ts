/**
 * Multimodal-Mind2Web as a replay suite. Loader: loaders/mind2web.ts (the parquet release, split
 * by file name; default test_task, the first of the paper's three test splits — run
 * test_website and test_domain with --split). Scoring: metrics/mind2web.ts (SeeClick's
 * screenshot evaluation: element by click point in the target box, operation F1, step SR).
 *
 * A prediction becomes a SeeClick answer before it is scored: click → 4, and also move (a hover)
 * and key enter, as the script counts HOVER and ENTER as clicks; select → 2 (the option from
 * `value`, else `text`); type / input_text → 3 (the text); any other type is an operation
 * number that never matches (-1). The click point is the prediction's point divided by the
 * image size, whatever the type; no point is the script's "format wrong" (element wrong, F1 0).
 *
 * Summary: `element accuracy`, `operation F1`, `step SR` (the figures SeeClick's table
 * reports), `episode SR`, and the script's macro lines (`macro element accuracy`, `macro
 * operation F1`, `macro step SR`); breakdowns by the true operation, domain and website (plain
 * figures per group; operation F1 of a group is still the mean over its true operations).
 *
 * Predictions file: `mind2web_<split>.json`, the script's `results`: a list of episodes, each a
 * list of its logged step results {annot_id, img_path, instruction, sentence, Op_match,
 * Ele_match, Op_F1: [f1, true operation]} plus `action_uid`, where `img_path` is the script's
 * `<annotation_id>-<action_uid>.jpg` and `sentence` the answer as the script parses it
 * (`{"action_type": 4, "click_point": (0.5078125,0.22)}`, the point at full precision so the
 * verdict can be recomputed from it; '' when there was no answer). The script's metric section
 * (from "# calculate metrics" on) runs on `results = json.load(open(F))` as is and prints our
 * figures. JSON rather than JSON lines because that section needs the episodes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { plannerPoint, type Action } from '../../../common/actions.ts';
import { assertNever } from '../../../common/assert.ts';
import { convertPoint } from '../../../common/coords.ts';
import { MIND2WEB_SPLITS, countMind2Web, emptyMind2WebTasks, loadMind2Web, type Mind2WebGold } from '../loaders/mind2web.ts';
import { M2W_OP_NAMES, scoreMind2WebStep, summarizeMind2Web, type M2wAnswer, type M2wOp, type M2wStepScore } from '../metrics/mind2web.ts';
import { breakdownRows } from './breakdown.ts';
import { replayGeometry, type RunContext, type Breakdown, type BreakdownRow, type ReplaySuite, type ScoredStep, type StepScore, type StepTruth, type SuiteSummary } from '../suite.ts';

export function toM2wAnswer(pred: Action | undefined, width: number, height: number): M2wAnswer {
  if (!pred) return { actionType: -1 };
  // The script's click point is a fraction of the image; a 0–1000 point becomes one in one division.
  const at = plannerPoint(pred);
  const norm = at ? convertPoint(at, 'norm1', replayGeometry(width, height)) : undefined;
  const clickPoint = norm ? ([norm.x, norm.y] as const) : undefined;
  const withPoint = (a: M2wAnswer): M2wAnswer => (clickPoint ? { ...a, clickPoint } : a);
  switch (pred.action_type) {
    case 'click':
    case 'move':
      return withPoint({ actionType: 4 });
    case 'key':
      return withPoint({ actionType: pred.keys.length === 1 && pred.keys[0] === 'enter' ? 4 : -1 });
    case 'select':
      return withPoint({ actionType: 2, value: pred.value ?? '' });
    case 'type':
    case 'input_text':
      return withPoint({ actionType: 3, value: pred.text });
    // No Mind2Web operation: matches no op (the script's -1).
    case 'double_click':
    case 'right_click':
    case 'drag':
    case 'scroll':
    case 'hotkey':
    case 'wait':
    case 'finished':
    case 'call_user':
    case 'fail':
    case 'long_press':
    case 'open_app':
    case 'navigate_home':
    case 'navigate_back':
    case 'navigate_recent':
    case 'tool_call':
      return withPoint({ actionType: -1 });
    default:
      return assertNever(pred, 'action');
  }
}

function m2wScore(pred: Action | undefined, t: StepTruth<Mind2WebGold>): M2wStepScore {
  return scoreMind2WebStep(toM2wAnswer(pred, t.imageWidth, t.imageHeight), { op: t.gold.op, box: t.gold.box, value: t.gold.value });
}

function score(pred: Action | undefined, t: StepTruth<Mind2WebGold>): StepScore {
  const s = m2wScore(pred, t);
  const reason = pred && !plannerPoint(pred) ? 'the answer has no point (the script\'s "format wrong": element wrong, F1 0)' : undefined;
  return { success: s.success, metrics: { opMatch: s.opMatch, elementMatch: s.elementMatch, f1: s.f1 }, ...(reason ? { reason } : {}) };
}

function stepScoreOf(s: ScoredStep<Mind2WebGold>): M2wStepScore {
  const m = s.score.metrics;
  return { opMatch: m.opMatch === true, elementMatch: m.elementMatch === true, f1: typeof m.f1 === 'number' ? m.f1 : 0, success: s.score.success };
}

function figures(steps: readonly ScoredStep<Mind2WebGold>[]): Record<string, number> {
  const sum = summarizeMind2Web(steps.map((s) => ({ episode: s.episodeId, op: s.gold.op, score: stepScoreOf(s) })));
  return {
    'element accuracy': sum.elementAccuracy,
    'operation F1': sum.operationF1,
    'step SR': sum.stepSR,
    'episode SR': sum.episodeSR,
    'macro element accuracy': sum.macroElementAccuracy,
    'macro operation F1': sum.macroOperationF1,
    'macro step SR': sum.macroStepSR,
  };
}

function groups(steps: readonly ScoredStep<Mind2WebGold>[], key: (s: ScoredStep<Mind2WebGold>) => string, keep: readonly string[]): BreakdownRow[] {
  return breakdownRows(steps, key, (xs) => {
    const f = figures(xs);
    return Object.fromEntries(keep.map((n) => [n, f[n]!]));
  });
}

const MACRO = ['macro element accuracy', 'macro operation F1', 'macro step SR'] as const;

/**
 * The script's counting when tasks have no scored step: they are in its episode total, as
 * successes, and its macro lines are NaN (np.mean of an empty list). JSON holds no NaN, so the
 * macro figures are given over the tasks with a scored step, named so, with a note; the episode
 * SR over those tasks only is shown beside the script's.
 */
function withEmptyTasks(scored: readonly ScoredStep<Mind2WebGold>[], metrics: Record<string, number>, empty: number): { metrics: Record<string, number>; notes: string[] } {
  if (empty === 0) return { metrics, notes: [] };
  const episodes = new Map<string, boolean>();
  for (const s of scored) episodes.set(s.episodeId, (episodes.get(s.episodeId) ?? true) && s.score.success);
  const ok = [...episodes.values()].filter(Boolean).length;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (k === 'episode SR') {
      out['episode SR'] = (ok + empty) / (episodes.size + empty);
      out['episode SR (tasks with a scored step)'] = v;
    } else if ((MACRO as readonly string[]).includes(k)) {
      out[`${k} (tasks with a scored step)`] = v;
    } else {
      out[k] = v;
    }
  }
  const tasks = empty === 1 ? '1 task has' : `${empty} tasks have`;
  return {
    metrics: out,
    notes: [
      `${tasks} no step SeeClick's script scores (no target box, or a value it cannot read back). The script still counts them in its episode total, as successes (the episode SR above does too), and prints NaN for its three macro lines; the macro figures here are over the tasks with a scored step.`,
    ],
  };
}

function summarize(scored: readonly ScoredStep<Mind2WebGold>[], ctx?: RunContext): SuiteSummary {
  if (scored.length === 0) return { count: 0, metrics: {}, breakdowns: [] };
  const keep = ['element accuracy', 'operation F1', 'step SR'];
  const breakdowns: Breakdown[] = [
    { name: 'operation', rows: groups(scored, (s) => M2W_OP_NAMES[s.gold.op], keep) },
    { name: 'domain', rows: groups(scored, (s) => s.gold.domain || 'unknown', keep) },
    { name: 'website', rows: groups(scored, (s) => s.gold.website || 'unknown', keep) },
  ];
  const { metrics, notes } = withEmptyTasks(scored, figures(scored), ctx?.emptyEpisodes.length ?? 0);
  return { count: scored.length, metrics, breakdowns, ...(notes.length ? { notes } : {}) };
}

/**
 * The answer in the format SeeClick's model writes and its script parses with ast.literal_eval
 * (the point at full precision: JS's shortest round-trip decimal reads back as the same double;
 * the value as a JSON string, which Python reads as the same str).
 */
export function seeClickSentence(a: M2wAnswer): string {
  const parts = [`"action_type": ${a.actionType}`];
  if (a.clickPoint) parts.push(`"click_point": (${a.clickPoint[0]},${a.clickPoint[1]})`);
  if (a.value !== undefined) parts.push(`"value": ${JSON.stringify(a.value)}`);
  return `{${parts.join(', ')}}`;
}

async function writePredictions(scored: readonly ScoredStep<Mind2WebGold>[], outDir: string, ctx?: RunContext): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const bySplit = new Map<string, Map<string, unknown[]>>();
  for (const s of scored) {
    const split = s.categories.split ?? MIND2WEB_SPLITS[0];
    const episodes = bySplit.get(split) ?? new Map<string, unknown[]>();
    bySplit.set(split, episodes);
    const list = episodes.get(s.episodeId) ?? [];
    episodes.set(s.episodeId, list);
    const answer = toM2wAnswer(s.prediction, s.imageWidth, s.imageHeight);
    const m = stepScoreOf(s);
    list.push({
      annot_id: s.gold.annotationId,
      img_path: `${s.gold.annotationId}-${s.gold.actionUid}.jpg`,
      action_uid: s.gold.actionUid,
      instruction: s.gold.task,
      sentence: s.prediction ? seeClickSentence(answer) : '',
      Op_match: m.opMatch,
      Ele_match: m.elementMatch,
      Op_F1: [m.f1, s.gold.op as M2wOp],
    });
  }
  // Tasks without a scored step are empty result lists in the script's `results` (they count).
  const empty = ctx?.emptyEpisodes ?? [];
  if (empty.length > 0) {
    const split = scored[0]?.categories.split ?? MIND2WEB_SPLITS[0];
    const episodes = bySplit.get(split) ?? new Map<string, unknown[]>();
    bySplit.set(split, episodes);
    for (const task of empty) if (!episodes.has(task)) episodes.set(task, []);
  }
  const files: string[] = [];
  for (const [split, episodes] of bySplit) {
    const path = join(outDir, `mind2web_${split}.json`);
    await writeFile(path, JSON.stringify([...episodes.values()], null, 1) + '\n');
    files.push(path);
  }
  return files;
}

export const mind2webSuite: ReplaySuite<Mind2WebGold> = {
  id: 'mind2web',
  title: 'Multimodal-Mind2Web',
  splits: MIND2WEB_SPLITS,
  modes: [],
  load: loadMind2Web,
  count: countMind2Web,
  // The script scores the element of every step (by the click point), whatever the operation.
  scoresTarget: () => true,
  emptyEpisodes: emptyMind2WebTasks,
  score,
  summarize,
  writePredictions,
};
