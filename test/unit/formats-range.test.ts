/**
 * Which points are held to the screenshot's size (issue 14 point 3): the first step's, in live
 * runs; a later step is about a screen not seen yet (a Mind2Web page grows from step to step), and
 * benchmark replay checks none, since the official scripts score any point.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { plannerPoint } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';
import { parseForecast } from '../../common/formats/index.ts';

const step = (n: number, point: string, status = 'not done') =>
  `Step ${n}: "screenshot_abstraction": "page", "action": {"action_type": "click", "point": ${point}, "step_instruction": "the link"}, "status": "${status}"`;
const answer = (...steps: string[]) => `<think>t</think><answer>\n${steps.join('\n')}\n</answer>`;
const page = { imageWidth: 1280, imageHeight: 1400 };

describe('point range checks', () => {
  test('a later step below this page (y = 2630 on a 1400 px page) is kept', () => {
    const f = parseForecast(answer(step(1, '{"space": "screenshot", "x": 100, "y": 200}'), step(2, '{"space": "screenshot", "x": 640, "y": 2630}', 'done')), 'tracer1', page);
    assert.deepEqual(plannerPoint(f.steps[1]!.action), { space: 'screenshot', x: 640, y: 2630 });
  });

  test("the first step's point off the screenshot is still sent back to the model in a live run", () => {
    assert.throws(
      () => parseForecast(answer(step(1, '{"space": "screenshot", "x": 640, "y": 2630}', 'done')), 'tracer1', page),
      (e) => isForesightError(e, 'PARSE_ERROR') && /outside the 1280x1400 screenshot/.test(e.message),
    );
  });

  test('in replay (checkRange false) a hidden input centred at x = -9999 parses, for the scripts to score', () => {
    const f = parseForecast(answer(step(1, '{"space": "screenshot", "x": -9999, "y": 12}', 'done')), 'tracer1', { ...page, checkRange: false });
    assert.deepEqual(plannerPoint(f.steps[0]!.action), { space: 'screenshot', x: -9999, y: 12 });
    const u = parseForecast("Action: click(start_box='(1200,20)')", 'uitars-1.0', { ...page, checkRange: false });
    assert.deepEqual(plannerPoint(u.steps[0]!.action), { space: 'norm1000', x: 1200, y: 20 });
  });
});

describe('tolerant reading (replay): what the prototype skips or tolerates does not sink the forecast', () => {
  const s = (n: number, action: string, status = '"status": "not done"') => `Step ${n}: "screenshot_abstraction": "s", "action": ${action}, ${status}`;
  const click = '{"action_type": "click", "step_instruction": "the Save button"}';
  const tolerant = { ...page, tolerant: true };

  test('numbering 1, 3; a step without status; an unknown type; spaces in the tags', () => {
    const text = `< think >t< /think >< answer >\n${[
      s(1, click),
      s(3, '{"action_type": "swipe", "step_instruction": "swipe up"}'),
      `Step 4: "screenshot_abstraction": "s", "action": ${click}`,
      s(5, '{"action_type": "wait", "step_instruction": "the page loads"}', '"status": "done"'),
    ].join('\n')}\n< /answer >`;
    const f = parseForecast(text, 'tracer1', tolerant);
    assert.deepEqual(
      f.steps.map((x) => x.action.action_type),
      ['click', 'wait'],
    );
    // A live run keeps the strict reading: every problem goes back to the model.
    assert.throws(
      () => parseForecast(text, 'tracer1', page),
      (e) => isForesightError(e, 'PARSE_ERROR') && /swipe/.test(e.message) && /Step 3 follows Step 1/.test(e.message),
    );
  });

  test('a first step that cannot be read still fails the forecast', () => {
    assert.throws(
      () => parseForecast(answer(s(1, '{"action_type": "swipe", "step_instruction": "x"}'), s(2, click)), 'tracer1', tolerant),
      (e) => isForesightError(e, 'PARSE_ERROR') && /swipe/.test(e.message),
    );
  });
});
