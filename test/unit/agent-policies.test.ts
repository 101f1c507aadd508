import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, Forecast } from '../../common/actions.ts';
import { cycleLength, actionKey } from '../../main/agent/repetition.ts';
import { isContinuation, needsReview } from '../../main/agent/review.ts';

const act = (step_instruction: string): Action => ({ action_type: 'click', step_instruction });
const fc = (...names: string[]): Forecast => ({
  format: 'tracer1',
  steps: names.map((n) => ({ screenshot_abstraction: '', action: act(n), status: 'not done' as const })),
});

test('cycleLength finds A A A and A B A B A B, not A A B', () => {
  assert.equal(cycleLength(['A', 'A'], 'A'), 1);
  assert.equal(cycleLength(['A'], 'A'), 0);
  assert.equal(cycleLength(['A', 'B', 'A', 'B', 'A'], 'B'), 2);
  assert.equal(cycleLength(['A', 'B', 'A', 'B'], 'A'), 0);
  assert.equal(cycleLength(['A', 'A'], 'B'), 0);
  assert.equal(cycleLength(['x', 'A', 'B', 'C', 'A', 'B', 'C', 'A', 'B'], 'C'), 3);
  assert.equal(cycleLength(['A', 'A', 'A', 'A', 'A'], 'A'), 1);
});

test('actionKey treats nearby points and spacing/case of the instruction as the same action', () => {
  const a = actionKey(act('Click  on Save'), { x: 100, y: 100 });
  const b = actionKey(act('click on save'), { x: 103, y: 98 });
  const c = actionKey(act('click on save'), { x: 300, y: 98 });
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.notEqual(actionKey({ action_type: 'type', step_instruction: 't', text: 'a' }), actionKey({ action_type: 'type', step_instruction: 't', text: 'b' }));
});

test('approval policies: never, each, forecast (asks again only when the plan changes)', () => {
  const plan = fc('open File', 'click Save As', 'type path');
  assert.equal(needsReview('never', undefined, plan), false);
  assert.equal(needsReview('each', { forecast: plan, executedSince: 1 }, fc('click Save As')), true);
  assert.equal(needsReview('forecast', undefined, plan), true);
  assert.equal(needsReview('forecast', { forecast: plan, executedSince: 1 }, fc('click Save As', 'type path')), false);
  assert.equal(needsReview('forecast', { forecast: plan, executedSince: 1 }, fc('click Save', 'type path')), true);
  // a plan that ran out must be approved again
  assert.equal(isContinuation({ forecast: plan, executedSince: 3 }, fc('press enter')), false);
});
