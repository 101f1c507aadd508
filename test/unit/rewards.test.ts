import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_TRAJECTORY_REWARD_PARAMS,
  REWARD_TEST_VECTORS,
  countRepetitions,
  horizonAccuracy,
  trajectoryReward,
  type RewardTestVector,
} from '../../common/rewards.ts';
import { ACTION_TYPES, actionSchema, type Action, type ActionFields, type ActionType, type ForecastStep } from '../../common/actions.ts';

function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-9, `${what}: ${a} ≉ ${b}`);
}

/** What types need, for steps whose arguments the test does not care about (each type keeps its own). */
const REQUIRED_ARGS: Omit<ActionFields, 'action_type' | 'step_instruction'> = { text: 'x', keys: ['enter'], direction: 'down', app: 'Files', tool: { name: 't', arguments: {} } };
const fieldsOf = (a: Action): ActionFields => a;

/** `click` → a "not done" click step, `click!` → a "done" one. */
function step(spec: string, extra: Omit<ActionFields, 'action_type' | 'step_instruction'> = {}): ForecastStep {
  const done = spec.endsWith('!');
  const type = (done ? spec.slice(0, -1) : spec) as ActionType;
  return {
    screenshot_abstraction: 'screen',
    action: actionSchema.parse({ action_type: type, step_instruction: `do ${type}`, ...REQUIRED_ARGS, ...extra }),
    status: done ? 'done' : 'not done',
  };
}
const steps = (...specs: string[]) => specs.map((s) => step(s));

function find(name: string): RewardTestVector {
  const vec = REWARD_TEST_VECTORS.find((x) => x.name === name);
  assert.ok(vec, `no vector ${name}`);
  return vec;
}

describe('shared test vectors', () => {
  // Round-trip through JSON first, exactly as a Python port would read them.
  const vectors = JSON.parse(JSON.stringify(REWARD_TEST_VECTORS)) as RewardTestVector[];
  for (const vec of vectors) {
    test(vec.name, () => {
      const r = trajectoryReward(vec.predicted ?? undefined, vec.truth, vec.params);
      close(r.accuracy, vec.expected.accuracy, 'accuracy');
      close(r.format, vec.expected.format, 'format');
      close(r.reward, vec.expected.reward, 'reward');
    });
  }

  test('the vectors are plain JSON data', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(REWARD_TEST_VECTORS)), REWARD_TEST_VECTORS);
    assert.ok(REWARD_TEST_VECTORS.length >= 20);
  });
});

describe('trajectoryReward, hand-computed', () => {
  test('perfect match: 1, 0.8, 0.64 discounts, done bonus, reward 1', () => {
    const t = steps('click', 'type', 'click!');
    const r = trajectoryReward(t, t);
    assert.equal(r.reward, 1);
    assert.deepEqual(
      r.perStep.map((s) => [s.truthIndex, s.score]),
      [
        [0, 1],
        [1, 1],
        [2, 1],
      ],
    );
    close(r.perStep[2]!.discount, 0.64, 'discount');
    close(r.maxPossible, 2.64, 'maxPossible');
    assert.equal(r.penalties.doneBonus, 0.2);
  });

  test('wrong types at equal length: aligned positionally, no coverage penalty', () => {
    const r = trajectoryReward(steps('scroll', 'hotkey'), steps('click', 'type!'));
    assert.equal(r.accuracy, 0);
    close(r.reward, 0.1, 'reward is the format share');
    assert.equal(r.penalties.coverage, 0);
    assert.deepEqual(
      r.perStep.map((s) => s.truthIndex),
      [0, 1],
    );
  });

  test('shorter forecast: one missing step costs 0.15 before normalising', () => {
    const r = trajectoryReward(steps('click', 'type'), steps('click', 'type', 'key!'));
    close(r.accuracy, 0.625, 'accuracy');
    close(r.reward, 0.6625, 'reward');
    assert.equal(r.penalties.missingSteps, 1);
    assert.equal(r.penalties.extraSteps, 0);
  });

  test('longer forecast: the extra step is unaligned and costs 0.15', () => {
    const r = trajectoryReward(steps('click', 'type', 'key!'), steps('click', 'type!'));
    close(r.accuracy, 0.925, 'accuracy');
    close(r.reward, 0.9325, 'reward');
    assert.equal(r.perStep[2]!.truthIndex, null);
  });

  test('greedy alignment uses the position-penalised score and may cross', () => {
    const r = trajectoryReward(steps('type', 'click', 'scroll'), steps('click', 'type'));
    assert.deepEqual(
      r.perStep.map((s) => [s.truthIndex, Math.round(s.score * 100) / 100]),
      [
        [1, 0.9],
        [0, 0.9],
        [null, 0],
      ],
    );
    close(r.accuracy, 0.735, 'accuracy');
  });

  test('a match 5 positions away is not taken (0.5 is not above the threshold), 4 is', () => {
    const four = trajectoryReward(steps('click!'), steps('type', 'key', 'scroll', 'hotkey', 'click!'));
    assert.equal(four.perStep[0]!.truthIndex, 4);
    const five = trajectoryReward(steps('click!'), steps('type', 'key', 'scroll', 'hotkey', 'wait', 'click!'));
    assert.equal(five.perStep[0]!.truthIndex, null);
    assert.equal(five.accuracy, 0);
  });

  test('repeated identical actions: 0.1 per overlapping window of three', () => {
    assert.equal(countRepetitions(['click', 'click', 'click', 'click'], 3), 2);
    assert.equal(countRepetitions(['click', 'click', 'type', 'click', 'click'], 3), 0);
    const r = trajectoryReward(steps('click', 'click', 'click!'), steps('click', 'type', 'key!'));
    assert.equal(r.penalties.repetitions, 1);
    close(r.accuracy, 1.2 / 2.64 - 0.1, 'accuracy');
    close(r.reward, 0.9 * (1.2 / 2.64 - 0.1) + 0.1, 'reward');
    // Even a perfect forecast of a repetitive truth pays it.
    const t = steps('click', 'click', 'click', 'click!');
    close(trajectoryReward(t, t).accuracy, 0.8, 'perfect but repetitive');
  });

  test('done bonus: only the forecast\'s last status counts', () => {
    close(trajectoryReward(steps('click', 'type!'), steps('click', 'type!')).accuracy, 1, 'both done');
    close(trajectoryReward(steps('click', 'type'), steps('click', 'type!')).accuracy, 0.9, 'forecast not done');
    close(trajectoryReward(steps('click', 'type!'), steps('click', 'type')).accuracy, 1, 'truth not done');
    close(trajectoryReward(steps('click!', 'type'), steps('click', 'type')).accuracy, 0.9, 'done not last');
  });

  test('unparseable or empty → format 0, accuracy 0, reward 0', () => {
    for (const p of [undefined, []]) {
      const r = trajectoryReward(p, steps('click', 'type!'));
      assert.deepEqual([r.reward, r.accuracy, r.format], [0, 0, 0]);
    }
    const noTruth = trajectoryReward(steps('click!'), []);
    assert.deepEqual([noTruth.accuracy, noTruth.format], [0, 1]);
  });

  test('gamma: early errors cost more when gamma < 1', () => {
    const truth = steps('click', 'type', 'key!');
    const firstWrong = steps('scroll', 'type', 'key!');
    const lastWrong = steps('click', 'type', 'scroll!');
    close(trajectoryReward(firstWrong, truth).accuracy, 1.64 / 2.64, 'first wrong, 0.8');
    close(trajectoryReward(lastWrong, truth).accuracy, 2 / 2.64, 'last wrong, 0.8');
    close(trajectoryReward(firstWrong, truth, { gamma: 1 }).accuracy, 0.6875, 'first wrong, 1');
    close(trajectoryReward(lastWrong, truth, { gamma: 1 }).accuracy, 0.6875, 'last wrong, 1');
  });

  test('overlong forecast: the 0.05 constant', () => {
    const r = trajectoryReward(steps('click', 'type', 'key', 'scroll', 'wait!'), steps('click!'));
    assert.equal(r.penalties.overlong, true);
    assert.equal(r.accuracy, 0.05);
    close(r.reward, 0.145, 'reward');
  });

  test('a custom similarity replaces action_type equality', () => {
    const sim = (p: Action, t: Action) => (p.action_type === t.action_type && fieldsOf(p).text === fieldsOf(t).text ? 1 : 0);
    const truth = [step('type', { text: 'hello' }), step('key!')];
    const pred = [step('type', { text: 'bye' }), step('key!')];
    close(trajectoryReward(pred, truth).accuracy, 1, 'default: type only');
    close(trajectoryReward(pred, truth, { similarity: sim }).accuracy, (0.8 + 0.2) / 2, 'stricter');
  });

  test('the defaults are the prototype\'s', () => {
    const { similarity: _s, ...numbers } = DEFAULT_TRAJECTORY_REWARD_PARAMS;
    assert.deepEqual(numbers, {
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
    });
    assert.ok(find('perfect, ends done'));
  });

  test('property: accuracy and reward stay in [0, 1]; a perfect non-repetitive forecast ending done scores 1', () => {
    const types = fc.constantFrom(...ACTION_TYPES);
    const arbSteps = fc.array(fc.tuple(types, fc.boolean()), { minLength: 1, maxLength: 7 }).map((xs) => xs.map(([t, d]) => step(d ? `${t}!` : t)));
    fc.assert(
      fc.property(arbSteps, arbSteps, (pred, truth) => {
        const r = trajectoryReward(pred, truth);
        return r.accuracy >= 0 && r.accuracy <= 1 && r.reward >= 0 && r.reward <= 1 + 1e-12;
      }),
    );
    fc.assert(
      fc.property(arbSteps, (truth) => {
        const t = truth.map((s, i) => ({ ...s, status: i === truth.length - 1 ? ('done' as const) : ('not done' as const) }));
        if (countRepetitions(t.map((s) => s.action.action_type), 3) > 0) return true;
        return Math.abs(trajectoryReward(t, t).reward - 1) < 1e-12;
      }),
    );
  });
});

describe('horizonAccuracy', () => {
  test('0/1 per horizon, undefined where either side lacks the step', () => {
    assert.deepEqual(horizonAccuracy(steps('click', 'scroll'), steps('click', 'type', 'key!'), 4), [1, 0, undefined, undefined]);
    assert.deepEqual(horizonAccuracy(steps('click', 'type', 'key'), steps('click'), 3), [1, undefined, undefined]);
  });

  test('unparseable counts as wrong where the truth has a step', () => {
    assert.deepEqual(horizonAccuracy(undefined, steps('click', 'type'), 3), [0, 0, undefined]);
  });

  test('an optional stricter match', () => {
    const truth = [step('type', { text: 'hello' }), step('key!', { keys: ['enter'] })];
    const pred = [step('type', { text: 'Hello' }), step('key!', { keys: ['tab'] })];
    assert.deepEqual(horizonAccuracy(pred, truth, 2), [1, 1]);
    const strict = (p: Action, t: Action) =>
      (fieldsOf(p).text ?? '').toLowerCase() === (fieldsOf(t).text ?? '').toLowerCase() && (fieldsOf(p).keys ?? []).join('+') === (fieldsOf(t).keys ?? []).join('+');
    assert.deepEqual(horizonAccuracy(pred, truth, 2, strict), [1, 0]);
  });
});
