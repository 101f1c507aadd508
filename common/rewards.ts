/**
 * Stage 1 trajectory reward (SPEC "The method"): how well a forecast of the next steps matches
 * the true future, in the shape of the paper's
 *   R = sum_t gamma^(t-1) * (l_align * sim(a_hat_t, a*_t) - l_rep * rep(a_hat_1..t))
 * with the concrete rules of the authors' public prototype (cheryyunl/EasyR1,
 * examples/reward_function/gui.py, last change 86bd719, 2025-07-15). Re-implemented from its
 * rules, not its code. Defaults reproduce that file's numbers; every weight is a parameter.
 *
 * The rules (defaults in brackets):
 * 1. No predicted steps or no true steps → accuracy 0.
 * 2. Overlong forecast: more than `truth.length + maxExtraSteps` [3] predicted steps →
 *    accuracy is the constant `overlongAccuracy` [0.05]; nothing else is computed.
 * 3. Alignment. Same length: position by position, every pair counts as aligned, even a pair
 *    whose types differ (similarity 0). Different lengths: greedy, predicted step by predicted
 *    step in order; each takes the unused true step with the highest
 *    `max(0, sim - positionPenalty [0.1] * |i - j|)`, only if that score is strictly above
 *    `matchThreshold` [0.5]; ties go to the lower true index. sim = 1 when action_type is equal,
 *    else 0 (replaceable by `similarity`).
 * 4. Sum over aligned pairs of `alignWeight [1] * score * gamma [0.8] ^ i`, i the 0-based
 *    predicted index, where score is the position-penalised score of rule 3 (not the raw sim).
 * 5. + `doneBonus` [0.2] when the last predicted step has status "done".
 * 6. − `extraStepPenalty` [0.15] per predicted step left unaligned and `missingStepPenalty`
 *    [0.15] per true step left unaligned.
 * 7. Divide by `alignWeight * sum_{i < truth.length} gamma^i + doneBonus`; clamp to [0, 1].
 * 8. − `repetitionPenalty` [0.1] per window of `repetitionRun` [3] consecutive predicted steps
 *    with the same action_type (windows overlap: four clicks in a row are two windows); clamp
 *    to [0, 1]. This is the accuracy.
 * 9. reward = `accuracyWeight` [0.9] * accuracy + `formatWeight` [0.1] * format.
 *
 * Surprising behaviour of gui.py that is reproduced on purpose (see the tests):
 * - Equal lengths never pay a coverage penalty, however wrong the types.
 * - The "order-preserving" greedy alignment does not enforce order: each predicted step takes
 *   the nearest unused true step of its type, so alignments can cross ([type, click, …] against
 *   [click, type] aligns 0→1 and 1→0, each scoring 0.9).
 * - The done bonus is given whenever the forecast's last step says "done", whether or not the
 *   true future ends there, and it sits in the normaliser too: a perfect forecast of a future
 *   whose last step is "not done" cannot reach 1 (e.g. 1.8 / 2.0 = 0.9 for two steps).
 * - The repetition penalty is flat (not discounted as in the paper's formula), applied after
 *   normalisation, and also hits forecasts that repeat because the truth repeats.
 * - The overlong constant 0.05 skips all other rules, so it can beat a short wrong forecast.
 * - Format: gui.py scores the raw text (the fraction of "Step n:" blocks with a
 *   screenshot_abstraction, an action JSON with action_type and step_instruction, and a
 *   status, inside <think>…</think><answer>…</answer>). Here the forecast has already been
 *   through the strict parser, so format is 1 for a parsed non-empty forecast and 0 for
 *   `undefined` (unparseable) or an empty one.
 *
 * Platform-free: common/ and zod only.
 */
import type { Action, ForecastStep } from './actions.ts';
import { prototypeFormat, prototypePreprocess, prototypeSteps, pyEquals, pyRepr, type PrototypeStep, type PyJson } from './reward-prototype.ts';

export interface TrajectoryRewardParams {
  /** Discount per step into the future; step t (1-based) weighs gamma^(t-1). */
  gamma: number;
  /** l_align: weight of the alignment term (also in the normaliser, so 1 vs 2 only shifts the penalties' share). */
  alignWeight: number;
  /** l_rep: subtracted once per window of `repetitionRun` identical consecutive action types. */
  repetitionPenalty: number;
  repetitionRun: number;
  /** Added when the forecast's last step says "done" (and always added to the normaliser). */
  doneBonus: number;
  /** Per predicted step left unaligned. */
  extraStepPenalty: number;
  /** Per true step left unaligned. */
  missingStepPenalty: number;
  /** Greedy alignment (lengths differ): score = sim - positionPenalty * |i - j| ... */
  positionPenalty: number;
  /** ... and a pair is kept only if that score is strictly above this. */
  matchThreshold: number;
  /** More than truth.length + maxExtraSteps predicted steps → accuracy = overlongAccuracy. */
  maxExtraSteps: number;
  overlongAccuracy: number;
  accuracyWeight: number;
  formatWeight: number;
  /** sim(a_hat, a*) in [0, 1]; default 1 when action_type is equal, else 0 (the prototype). */
  similarity: (predicted: Action, truth: Action) => number;
}

export const sameActionType = (p: Action, t: Action): number => (p.action_type === t.action_type ? 1 : 0);

export const DEFAULT_TRAJECTORY_REWARD_PARAMS: Readonly<TrajectoryRewardParams> = Object.freeze({
  gamma: 0.8,
  alignWeight: 1,
  repetitionPenalty: 0.1,
  repetitionRun: 3,
  doneBonus: 0.2,
  extraStepPenalty: 0.15,
  missingStepPenalty: 0.15,
  positionPenalty: 0.1,
  matchThreshold: 0.5,
  maxExtraSteps: 3,
  overlongAccuracy: 0.05,
  accuracyWeight: 0.9,
  formatWeight: 0.1,
  similarity: sameActionType,
});

export interface RewardStepDetail {
  /** 0-based index of the predicted step. */
  index: number;
  actionType: string;
  /** The true step it was aligned with, or null. */
  truthIndex: number | null;
  /** Raw sim with that true step (0 when unaligned). */
  similarity: number;
  /** The score that is summed: sim, minus the position penalty in greedy alignment. */
  score: number;
  /** gamma^index. */
  discount: number;
  /** alignWeight * score * discount. */
  contribution: number;
}

export interface RewardPenalties {
  extraSteps: number;
  missingSteps: number;
  /** extraSteps * extraStepPenalty + missingSteps * missingStepPenalty. */
  coverage: number;
  /** The done bonus actually added (0 or doneBonus). */
  doneBonus: number;
  /** Number of repetition windows. */
  repetitions: number;
  /** repetitions * repetitionPenalty. */
  repetition: number;
  /** Rule 2 fired. */
  overlong: boolean;
}

export interface TrajectoryReward {
  reward: number;
  accuracy: number;
  format: number;
  perStep: RewardStepDetail[];
  penalties: RewardPenalties;
  /** The normaliser of rule 7 (0 when not reached). */
  maxPossible: number;
  /** Accuracy before the repetition penalty (rule 7's clamped value). */
  base: number;
}

const clamp01 = (x: number): number => Math.max(0, Math.min(1, x));

/**
 * x^n for an integer n >= 0, correctly rounded. The prototype computes `GAMMA ** i` in Python,
 * i.e. C's pow(), which glibc rounds correctly; V8's `**` is off by an ulp for some (0.8 ** 13),
 * which is enough to make a score differ from the script's in its last digit.
 */
export function powInt(x: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || !Number.isFinite(x) || x === 0 || n > 4096) return x ** n;
  if (n === 0) return 1;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const biased = hi >>> 20;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mantissa |= 1n << 52n;
    exp = biased - 1075;
  }
  const exact = mantissa ** BigInt(n);
  const bits = exact.toString(2).length;
  const shift = Math.max(0, bits - 53);
  let q = exact >> BigInt(shift);
  if (shift > 0) {
    const rem = exact & ((1n << BigInt(shift)) - 1n);
    const half = 1n << BigInt(shift - 1);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  }
  const e2 = exp * n + shift;
  // Outside the normal range the two roundings would differ from pow's one: leave it to `**`.
  if (e2 + 53 < -1021 || e2 + 53 > 1023) return x ** n;
  const sign = x < 0 && n % 2 === 1 ? -1 : 1;
  return sign * Number(q) * 2 ** e2;
}

interface Pair {
  pred: number;
  truth: number;
  similarity: number;
  score: number;
}

/** One forecast step as the reward sees it: an action type (compared by `sameType`) and a status. */
interface RewardItem<A> {
  action: A;
  label: string;
  done: boolean;
}

function align<A>(pred: readonly RewardItem<A>[], truth: readonly RewardItem<A>[], p: RewardRules<A>): Pair[] {
  if (pred.length === truth.length) {
    return pred.map((a, i) => {
      const s = p.similarity(a.action, truth[i]!.action);
      return { pred: i, truth: i, similarity: s, score: s };
    });
  }
  const used = new Set<number>();
  const pairs: Pair[] = [];
  pred.forEach((a, i) => {
    let best: Pair | undefined;
    truth.forEach((t, j) => {
      if (used.has(j)) return;
      const s = p.similarity(a.action, t.action);
      const score = Math.max(0, s - Math.abs(i - j) * p.positionPenalty);
      if (score > (best?.score ?? 0) && score > p.matchThreshold) best = { pred: i, truth: j, similarity: s, score };
    });
    if (best) {
      pairs.push(best);
      used.add(best.truth);
    }
  });
  return pairs;
}

/** Windows of `run` consecutive steps with one action_type (overlapping). */
export function countRepetitions<T>(types: readonly T[], run: number, same: (a: T, b: T) => boolean = Object.is): number {
  if (run < 1) return 0;
  let n = 0;
  for (let i = 0; i + run <= types.length; i++) {
    let all = true;
    for (let k = i + 1; k < i + run && all; k++) all = same(types[i]!, types[k]!);
    if (all) n++;
  }
  return n;
}

type RewardRules<A> = Omit<TrajectoryRewardParams, 'similarity'> & {
  similarity: (p: A, t: A) => number;
  sameType: (p: A, t: A) => boolean;
};

/** Rules 1–9 of the header over any representation of steps (parsed actions, or the script's reading of text). */
function rewardOverItems<A>(pred: readonly RewardItem<A>[], truth: readonly RewardItem<A>[], p: RewardRules<A>, format: number): TrajectoryReward {
  const penalties: RewardPenalties = {
    extraSteps: 0,
    missingSteps: 0,
    coverage: 0,
    doneBonus: 0,
    repetitions: 0,
    repetition: 0,
    overlong: false,
  };
  const unaligned = (): RewardStepDetail[] =>
    pred.map((s, i) => ({
      index: i,
      actionType: s.label,
      truthIndex: null,
      similarity: 0,
      score: 0,
      discount: powInt(p.gamma, i),
      contribution: 0,
    }));
  const finish = (accuracy: number, perStep: RewardStepDetail[], maxPossible: number, base: number): TrajectoryReward => ({
    reward: p.accuracyWeight * accuracy + p.formatWeight * format,
    accuracy,
    format,
    perStep,
    penalties,
    maxPossible,
    base,
  });

  if (pred.length === 0 || truth.length === 0) return finish(0, unaligned(), 0, 0);
  if (pred.length > truth.length + p.maxExtraSteps) {
    penalties.overlong = true;
    return finish(p.overlongAccuracy, unaligned(), 0, p.overlongAccuracy);
  }

  const pairs = align(pred, truth, p);
  const perStep = unaligned();
  // Summed in the script's order (pairs in predicted order, then the bonus), so the float result is its.
  let total = 0;
  for (const pair of pairs) {
    const d = perStep[pair.pred]!;
    d.truthIndex = pair.truth;
    d.similarity = pair.similarity;
    d.score = pair.score;
    d.contribution = p.alignWeight * pair.score * d.discount;
    total += d.contribution;
  }
  if (pred[pred.length - 1]!.done) {
    penalties.doneBonus = p.doneBonus;
    total += p.doneBonus;
  }
  penalties.extraSteps = pred.length - pairs.length;
  penalties.missingSteps = truth.length - pairs.length;
  penalties.coverage = penalties.extraSteps * p.extraStepPenalty + penalties.missingSteps * p.missingStepPenalty;

  let maxPossible = 0;
  for (let i = 0; i < truth.length; i++) maxPossible += p.alignWeight * powInt(p.gamma, i);
  maxPossible += p.doneBonus;
  const base = maxPossible > 0 ? clamp01((total - penalties.coverage) / maxPossible) : 0;

  penalties.repetitions = countRepetitions(
    pred.map((s) => s.action),
    p.repetitionRun,
    p.sameType,
  );
  penalties.repetition = penalties.repetitions * p.repetitionPenalty;
  return finish(clamp01(base - penalties.repetition), perStep, maxPossible, base);
}

/**
 * The reward of a parsed forecast. Format is 1 for a parsed non-empty forecast and 0 for
 * `undefined` (unparseable) or an empty one; `prototypeReward` scores raw text as the script does.
 */
export function trajectoryReward(
  predicted: readonly ForecastStep[] | undefined,
  truth: readonly ForecastStep[],
  params?: Partial<TrajectoryRewardParams>,
): TrajectoryReward {
  const p: TrajectoryRewardParams = { ...DEFAULT_TRAJECTORY_REWARD_PARAMS, ...params };
  const pred = predicted ?? [];
  const item = (s: ForecastStep): RewardItem<Action> => ({ action: s.action, label: s.action.action_type, done: s.status === 'done' });
  return rewardOverItems(pred.map(item), truth.map(item), { ...p, sameType: (a, b) => a.action_type === b.action_type }, pred.length > 0 ? 1 : 0);
}

/**
 * The prototype's reward of an answer's raw text against the truth (its text, or steps written
 * as `prototypeTruthText` writes them), read exactly as gui.py reads both (common/reward-prototype.ts).
 * `similarity` is not used: the script compares action_type values with Python's `==`.
 */
export function prototypeReward(
  answer: string,
  truth: string | readonly ForecastStep[],
  params?: Partial<Omit<TrajectoryRewardParams, 'similarity'>>,
): TrajectoryReward {
  const p = { ...DEFAULT_TRAJECTORY_REWARD_PARAMS, ...params };
  const predict = prototypePreprocess(answer);
  const format = prototypeFormat(predict);
  const item = (s: PrototypeStep): RewardItem<PyJson> => ({ action: s.type, label: pyRepr(s.type), done: s.status === 'done' });
  const pred = prototypeSteps(predict).map(item);
  const gold = prototypeSteps(typeof truth === 'string' ? truth : prototypeTruthText(truth)).map(item);
  return rewardOverItems(pred, gold, { ...p, similarity: (a, b) => (pyEquals(a, b) ? 1 : 0), sameType: pyEquals }, format);
}

/**
 * The truth as the prototype's datasets write it: `Step n:` lines whose action holds the
 * action_type and the instruction. Braces in an instruction are dropped, since the script cuts an
 * action at its first `}`.
 */
export function prototypeTruthText(steps: readonly ForecastStep[]): string {
  const lines = steps.map((s, i) => {
    const action = JSON.stringify({ action_type: s.action.action_type, step_instruction: s.action.step_instruction.replace(/[{}]/g, '') });
    return `Step ${i + 1}: "screenshot_abstraction": ${JSON.stringify(s.screenshot_abstraction.replace(/"/g, "'"))}, "action": ${action}, "status": "${s.status}"`;
  });
  return `<answer>\n${lines.join('\n')}\n</answer>`;
}

/**
 * "Accuracy at horizon k" for the benchmark replay: entry k-1 is 1 when predicted step k has the
 * action_type of true step k (and, if given, `match` accepts the pair), else 0; undefined when
 * the truth has no step k, or the (parsed) forecast has no step k. An unparseable forecast
 * (`undefined`) counts as wrong: 0 wherever the truth has a step.
 */
export function horizonAccuracy(
  predicted: readonly ForecastStep[] | undefined,
  truth: readonly ForecastStep[],
  K: number,
  match?: (predicted: Action, truth: Action) => boolean,
): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let k = 0; k < K; k++) {
    const t = truth[k];
    if (!t) {
      out.push(undefined);
      continue;
    }
    if (predicted === undefined) {
      out.push(0);
      continue;
    }
    const a = predicted[k];
    if (!a) {
      out.push(undefined);
      continue;
    }
    const ok = a.action.action_type === t.action.action_type && (match ? match(a.action, t.action) : true);
    out.push(ok ? 1 : 0);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared test vectors: JSON-able (JSON.stringify(REWARD_TEST_VECTORS)) so a Python port can check
// the same numbers. `predicted: null` means unparseable. `params` holds only numeric overrides.
// Expected values are hand-computed (the arithmetic is in `why`).

export interface RewardTestVector {
  name: string;
  why: string;
  predicted: ForecastStep[] | null;
  truth: ForecastStep[];
  params?: Partial<Omit<TrajectoryRewardParams, 'similarity'>>;
  expected: { reward: number; accuracy: number; format: number };
}

/** The types the vectors use, each as a minimal valid action (the reward looks only at types). */
const V_ACTIONS = {
  click: { action_type: 'click', step_instruction: 'click' },
  type: { action_type: 'type', step_instruction: 'type', text: 'x' },
  scroll: { action_type: 'scroll', step_instruction: 'scroll', direction: 'down' },
  hotkey: { action_type: 'hotkey', step_instruction: 'hotkey', keys: ['ctrl', 's'] },
  key: { action_type: 'key', step_instruction: 'key', keys: ['enter'] },
  wait: { action_type: 'wait', step_instruction: 'wait' },
} as const satisfies Record<string, Action>;
type VType = keyof typeof V_ACTIONS;
/** A forecast step for the vectors: `click` is "not done", `click!` is "done". */
function vs(spec: string): ForecastStep {
  const done = spec.endsWith('!');
  const type = (done ? spec.slice(0, -1) : spec) as VType;
  const a: Action = V_ACTIONS[type];
  return {
    screenshot_abstraction: '',
    // A fresh copy: the vectors are plain JSON data, no object shared between steps.
    action: structuredClone(a),
    status: done ? 'done' : 'not done',
  };
}
const vt = (...specs: string[]): ForecastStep[] => specs.map(vs);

const v = (
  name: string,
  why: string,
  predicted: ForecastStep[] | null,
  truth: ForecastStep[],
  accuracy: number,
  format: number,
  params?: RewardTestVector['params'],
): RewardTestVector => {
  const aw = params?.accuracyWeight ?? 0.9;
  const fw = params?.formatWeight ?? 0.1;
  return { name, why, predicted, truth, ...(params ? { params } : {}), expected: { reward: aw * accuracy + fw * format, accuracy, format } };
};

export const REWARD_TEST_VECTORS: RewardTestVector[] = [
  v('perfect, ends done', '(1+.8+.64+.2)/(2.44+.2) = 1', vt('click', 'type', 'click!'), vt('click', 'type', 'click!'), 1, 1),
  v('perfect, truth ends not done', '(1+.8)/(1.8+.2) = .9', vt('click', 'type'), vt('click', 'type'), 0.9, 1),
  v('wrong types, last says done', 'equal length: no coverage penalty; .2/2.0 = .1', vt('scroll', 'hotkey!'), vt('click', 'type!'), 0.1, 1),
  v('wrong types, not done', '0/2.0 = 0', vt('scroll', 'hotkey'), vt('click', 'type!'), 0, 1),
  v(
    'shorter forecast',
    '0→0, 1→1; (1+.8 - .15 missing)/2.64 = .625',
    vt('click', 'type'),
    vt('click', 'type', 'key!'),
    0.625,
    1,
  ),
  v(
    'longer forecast',
    '0→0, 1→1, key extra; (1+.8+.2 - .15)/2.0 = .925',
    vt('click', 'type', 'key!'),
    vt('click', 'type!'),
    0.925,
    1,
  ),
  v(
    'forecast skips the first true step',
    '0→1 (.9), 1→2 (.9*.8); (.9+.72+.2 - .15)/2.64',
    vt('type', 'key!'),
    vt('click', 'type', 'key!'),
    1.67 / 2.64,
    1,
  ),
  v(
    'greedy alignment crosses',
    '0→1 (.9), 1→0 (.9*.8), scroll extra; (1.62 - .15)/2.0 = .735',
    vt('type', 'click', 'scroll'),
    vt('click', 'type'),
    0.735,
    1,
  ),
  v(
    'far shift, 4 positions',
    '0→4 (1-.4 = .6); (.6+.2 - 4*.15)/(1+.8+.64+.512+.4096+.2)',
    vt('click!'),
    vt('type', 'key', 'scroll', 'hotkey', 'click!'),
    0.2 / 3.5616,
    1,
  ),
  v(
    'repeated identical actions that the truth also repeats',
    'base 1; windows 0-2, 1-3 → 1 - 2*.1',
    vt('click', 'click', 'click', 'click!'),
    vt('click', 'click', 'click', 'click!'),
    0.8,
    1,
  ),
  v(
    'clicking the same thing again',
    'positional sims 1,0,0; (1+.2)/2.64 - .1',
    vt('click', 'click', 'click!'),
    vt('click', 'type', 'key!'),
    1.2 / 2.64 - 0.1,
    1,
  ),
  v('done bonus when truth is not done', '(1+.8+.2)/2.0 = 1', vt('click', 'type!'), vt('click', 'type'), 1, 1),
  v('no done bonus when truth is done', '(1+.8)/2.0 = .9', vt('click', 'type'), vt('click', 'type!'), 0.9, 1),
  v('unparseable', 'format 0, accuracy 0', null, vt('click', 'type!'), 0, 0),
  v('empty forecast', 'format 0, accuracy 0', [], vt('click', 'type!'), 0, 0),
  v(
    'gamma 0.8, first step wrong',
    '(.8+.64+.2)/2.64',
    vt('scroll', 'type', 'key!'),
    vt('click', 'type', 'key!'),
    1.64 / 2.64,
    1,
  ),
  v(
    'gamma 1, first step wrong',
    '(1+1+.2)/3.2 = .6875',
    vt('scroll', 'type', 'key!'),
    vt('click', 'type', 'key!'),
    0.6875,
    1,
    { gamma: 1 },
  ),
  v(
    'gamma 0.8, last step wrong',
    '(1+.8+.2)/2.64',
    vt('click', 'type', 'scroll!'),
    vt('click', 'type', 'key!'),
    2 / 2.64,
    1,
  ),
  v(
    'overlong forecast',
    '5 > 1 + 3 steps → .05',
    vt('click', 'type', 'key', 'scroll', 'wait!'),
    vt('click!'),
    0.05,
    1,
  ),
  v(
    'longest allowed forecast',
    '0→0; (1+.2 - 3*.15)/1.2 = .625',
    vt('click', 'type', 'key', 'scroll!'),
    vt('click!'),
    0.625,
    1,
  ),
  v(
    'custom weights',
    'no done bonus, .3 per missing step; (1.8-.3)/2.44; .5*acc + .5',
    vt('click', 'type'),
    vt('click', 'type', 'key!'),
    1.5 / 2.44,
    1,
    { doneBonus: 0, missingStepPenalty: 0.3, accuracyWeight: 0.5, formatWeight: 0.5 },
  ),
  v(
    'alignment weight 2',
    '(2*1.8 - .15)/(2*2.44+.2)',
    vt('click', 'type'),
    vt('click', 'type', 'key!'),
    3.45 / 5.08,
    1,
    { alignWeight: 2 },
  ),
  v(
    'repetition run 2, penalty .05',
    'base 1; windows 0-1, 1-2 → 1 - 2*.05',
    vt('click', 'click', 'click!'),
    vt('click', 'click', 'click!'),
    0.9,
    1,
    { repetitionRun: 2, repetitionPenalty: 0.05 },
  ),
];
