import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { powInt, prototypeReward, prototypeTruthText, trajectoryReward } from '../../common/rewards.ts';
import { prototypePreprocess, prototypeSteps, pyEquals, pyJsonObject } from '../../common/reward-prototype.ts';
import type { ForecastStep } from '../../common/actions.ts';

interface Vector {
  predict: string;
  ground_truth: string;
  overall: number;
  format: number;
  accuracy: number;
}
const file = JSON.parse(readFileSync(new URL('../fixtures/rewards/prototype-vectors.json', import.meta.url), 'utf8')) as {
  source: string;
  vectors: Vector[];
};

describe("the prototype's reward on text, against vectors made by running gui.py", () => {
  test(`${file.vectors.length} vectors (${file.source}): every figure equal to the last bit`, () => {
    assert.ok(file.vectors.length >= 300);
    const wrong: string[] = [];
    for (const [i, v] of file.vectors.entries()) {
      const r = prototypeReward(v.predict, v.ground_truth);
      if (r.reward !== v.overall || r.format !== v.format || r.accuracy !== v.accuracy) {
        wrong.push(`#${i}: ours ${r.reward}/${r.format}/${r.accuracy}, gui.py ${v.overall}/${v.format}/${v.accuracy}`);
      }
    }
    assert.deepEqual(wrong.slice(0, 10), []);
  });

  test('the vectors cover partial format credit, malformed answers and non-zero accuracy', () => {
    assert.ok(file.vectors.some((v) => v.format > 0 && v.format < 1));
    assert.ok(file.vectors.filter((v) => v.format === 0).length > 50);
    assert.ok(file.vectors.filter((v) => v.accuracy > 0 && v.accuracy < 1).length > 100);
  });
});

const s = (type: string, status: 'done' | 'not done', instruction = `do ${type}`): ForecastStep =>
  ({ screenshot_abstraction: 'screen', action: { action_type: type, step_instruction: instruction }, status }) as ForecastStep;

describe('reading text as the script does', () => {
  test('an answer with only action_type and step_instruction, as the prototype prompt asks, scores 1', () => {
    const truth = [s('click', 'not done'), s('scroll', 'not done', 'scroll down to see more'), s('input_text', 'done', "type 'hi' in the box")];
    const answer = `<think>plan</think>\n<answer>\n${prototypeTruthText(truth).slice('<answer>\n'.length, -'\n</answer>'.length)}\n</answer>`;
    const r = prototypeReward(answer, truth);
    assert.equal(r.format, 1);
    assert.equal(r.accuracy, 1);
    assert.equal(r.reward, 1);
  });

  test('whitespace next to < > / goes before anything is read: `< answer >` counts', () => {
    assert.equal(prototypePreprocess('< answer >a / b< /answer >'), '<answer>a/b</answer>');
    const steps = prototypeSteps('< answer >Step 1: "action": {"action_type": "click"}, "status": "done"< / answer >');
    assert.deepEqual(steps, [{ type: 'click', status: 'done' }]);
  });

  test('a bad step is skipped, not the whole answer; numbering is not checked', () => {
    const text =
      '<answer>Step 1: "action": {"action_type": "click"}, "status": "not done"\n' +
      'Step 3: "action": {"action_type": "swipe", "point": {"x": 1}}, "status": "not done"\n' +
      'Step 7: "action": {"action_type": "wait"}, "status": "done"</answer>';
    assert.deepEqual(
      prototypeSteps(text).map((x) => x.type),
      ['click', 'wait'],
    );
  });

  test("Python's json and ==: NaN is read, 1 == 1.0 == true, a missing type equals a missing type", () => {
    assert.ok(pyJsonObject('{"a": NaN, "b": -Infinity}'));
    assert.equal(pyJsonObject("{'a': 1}"), undefined);
    assert.ok(pyEquals(1n, 1.0));
    assert.ok(pyEquals(true, 1n));
    assert.ok(!pyEquals(10000000000000000000001n, 1e22));
    assert.ok(!pyEquals(NaN, NaN));
    assert.ok(pyEquals(null, null));
  });

  test('format is partial for steps missing fields and 0 without <think>', () => {
    const body = 'Step 1: "screenshot_abstraction": "s", "action": {"action_type": "click", "step_instruction": "c"}, "status": "done"\nStep 2: "action": {"action_type": "click"}, "status": "done"';
    assert.equal(prototypeReward(`<think>t</think><answer>${body}</answer>`, [s('click', 'done')]).format, 0.5);
    assert.equal(prototypeReward(`<answer>${body}</answer>`, [s('click', 'done')]).format, 0);
  });

  test('a forecast scores the same from its text as from its parsed steps when both read it whole', () => {
    const truth = [s('click', 'not done'), s('click', 'not done'), s('scroll', 'not done'), s('wait', 'done')];
    const pred = [s('click', 'not done'), s('scroll', 'not done'), s('wait', 'done')];
    const text = `<think>t</think><answer>${prototypeTruthText(pred).slice(8, -9)}</answer>`;
    assert.equal(prototypeReward(text, truth).accuracy, trajectoryReward(pred, truth).accuracy);
  });
});

describe('powInt', () => {
  test('is correctly rounded where V8 is an ulp off (0.8^13 as C and Python compute it)', () => {
    assert.equal(powInt(0.8, 13), 0.054975581388800036);
    assert.equal(powInt(0.9, 4), 0.6561);
    assert.equal(powInt(0.7, 4), 0.24009999999999995);
    assert.equal(powInt(0.8, 0), 1);
    assert.equal(powInt(1, 50), 1);
  });
});
