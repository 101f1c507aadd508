import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AC_CLICK_RADIUS,
  AC_CLICK_RADIUS_FRACTION,
  AC_GRID_SIZE,
  AC_TEXT_F1_THRESHOLD,
  scoreAndroidControlStep,
  summarizeAndroidControl,
  toOsAtlasAction,
  tokenF1,
  type AcAction,
} from '../../main/replay/metrics/androidcontrol.ts';
import { isForesightError } from '../../common/errors.ts';

const click = (x: number, y: number): AcAction => ({ action_type: 'click', point: { x, y } });
const type = (text: string): AcAction => ({ action_type: 'input_text', text });
const app = (name: string): AcAction => ({ action_type: 'open_app', app: name });

describe('AndroidControl constants', () => {
  test('radius is 0.14 of a 0–1000 grid, exactly 140', () => {
    assert.equal(AC_CLICK_RADIUS_FRACTION, 0.14);
    assert.equal(AC_GRID_SIZE, 1000);
    assert.equal(AC_CLICK_RADIUS, 140);
    assert.equal(AC_TEXT_F1_THRESHOLD, 0.5);
  });

  test('renders OS-Atlas action strings', () => {
    assert.equal(toOsAtlasAction(click(950, 87)), 'CLICK <point>[[950,87]]</point>');
    assert.equal(toOsAtlasAction({ action_type: 'long_press', point: { x: 108, y: 272 } }), 'LONG_PRESS <point>[[108,272]]</point>');
    assert.equal(toOsAtlasAction({ action_type: 'scroll', direction: 'up' }), 'SCROLL [UP]');
    assert.equal(toOsAtlasAction(type('Shanghai mall')), 'TYPE [Shanghai mall]');
    assert.equal(toOsAtlasAction(app('PocketBook')), 'OPEN_APP [PocketBook]');
    assert.equal(toOsAtlasAction({ action_type: 'navigate_back' }), 'PRESS_BACK');
    assert.equal(toOsAtlasAction({ action_type: 'navigate_home' }), 'PRESS_HOME');
    assert.equal(toOsAtlasAction({ action_type: 'wait' }), 'WAIT');
  });
});

describe('scoreAndroidControlStep: click / long_press', () => {
  test('distance 139.9 is inside, 140.1 outside, exactly 140 inside (<=)', () => {
    assert.deepEqual(scoreAndroidControlStep(click(639.9, 500), click(500, 500)), {
      truthType: 'click',
      typeMatch: true,
      groundingMatch: true,
      exactMatch: true,
    });
    const out = scoreAndroidControlStep(click(640.1, 500), click(500, 500));
    assert.equal(out.typeMatch, true);
    assert.equal(out.groundingMatch, false);
    assert.equal(out.exactMatch, false);
    assert.equal(scoreAndroidControlStep(click(500, 640), click(500, 500)).groundingMatch, true);
  });

  test('Euclidean, not per-axis: (99, 99) away is 140.007 → miss; (84, 112) away is 140 → hit', () => {
    assert.equal(scoreAndroidControlStep(click(599, 599), click(500, 500)).groundingMatch, false);
    assert.equal(scoreAndroidControlStep(click(584, 612), click(500, 500)).groundingMatch, true);
  });

  test('a predicted click without a point is a miss (script uses (-100, -100))', () => {
    const r = scoreAndroidControlStep({ action_type: 'click' }, click(0, 0));
    assert.deepEqual([r.typeMatch, r.groundingMatch, r.exactMatch], [true, false, false]);
  });

  test('long_press uses the same radius', () => {
    const lp = (x: number, y: number): AcAction => ({ action_type: 'long_press', point: { x, y } });
    assert.equal(scoreAndroidControlStep(lp(108, 400), lp(108, 272)).exactMatch, true);
    assert.equal(scoreAndroidControlStep(lp(108, 413), lp(108, 272)).exactMatch, false);
  });

  test('type mismatch: click vs long_press at the same point fails, no grounding', () => {
    assert.deepEqual(scoreAndroidControlStep(click(108, 272), { action_type: 'long_press', point: { x: 108, y: 272 } }), {
      truthType: 'long_press',
      typeMatch: false,
      groundingMatch: undefined,
      exactMatch: false,
    });
  });

  test('a truth click without a point is BAD_INPUT', () => {
    assert.throws(() => scoreAndroidControlStep(click(1, 1), { action_type: 'click' }), (e) => isForesightError(e, 'BAD_INPUT'));
  });
});

describe('scoreAndroidControlStep: text', () => {
  test('tokenF1 is over lower-cased token sets; exactly 0.5 is not > 0.5', () => {
    assert.equal(tokenF1('a b', 'a c'), 0.5);
    assert.equal(tokenF1('a b', 'a c') > AC_TEXT_F1_THRESHOLD, false);
    assert.equal(tokenF1('A a b', 'b a'), 1);
    assert.equal(tokenF1('', ''), 0);
    assert.equal(tokenF1('x', 'y'), 0);
    assert.ok(Math.abs(tokenF1('a b c', 'a b') - 0.8) < 1e-12);
  });

  test('exact text is a match, case-sensitive string equality', () => {
    assert.equal(scoreAndroidControlStep(type('New York'), type('New York')).exactMatch, true);
  });

  test('F1 is taken only on the first word, "[" included: first word equal ignoring case → match', () => {
    // "TYPE [hello world]".split()[1] == "[hello" on both sides → F1 1.
    assert.equal(scoreAndroidControlStep(type('hello there'), type('Hello world')).exactMatch, true);
    // "[world" vs "[hello": F1 0 although the word sets are equal.
    assert.equal(scoreAndroidControlStep(type('world hello'), type('hello world')).exactMatch, false);
    // "[hello]" vs "[hello": different tokens.
    assert.equal(scoreAndroidControlStep(type('hello'), type('hello world')).exactMatch, false);
    // single word, different case: "[hello]" vs "[hello]" after lower-casing.
    assert.equal(scoreAndroidControlStep(type('HELLO'), type('hello')).exactMatch, true);
  });

  test('open_app follows the same rule', () => {
    assert.equal(scoreAndroidControlStep(app('PocketBook'), app('PocketBook')).exactMatch, true);
    assert.equal(scoreAndroidControlStep(app('Chrome'), app('Google Chrome')).exactMatch, false);
    assert.equal(scoreAndroidControlStep(app('google maps'), app('Google Chrome')).exactMatch, true);
    const r = scoreAndroidControlStep(app('Chrome'), type('Chrome'));
    assert.deepEqual([r.typeMatch, r.exactMatch, r.groundingMatch], [false, false, undefined]);
  });
});

describe('scoreAndroidControlStep: scroll and argument-free actions', () => {
  test('scroll direction must be equal', () => {
    const s = (direction: 'up' | 'down'): AcAction => ({ action_type: 'scroll', direction });
    assert.deepEqual(scoreAndroidControlStep(s('up'), s('up')), {
      truthType: 'scroll',
      typeMatch: true,
      groundingMatch: undefined,
      exactMatch: true,
    });
    const miss = scoreAndroidControlStep(s('down'), s('up'));
    assert.deepEqual([miss.typeMatch, miss.exactMatch], [true, false]);
    assert.equal(scoreAndroidControlStep({ action_type: 'scroll' }, s('up')).exactMatch, false);
  });

  test('navigate_back / navigate_home / wait match on type alone', () => {
    for (const t of ['navigate_back', 'navigate_home', 'wait'] as const) {
      assert.equal(scoreAndroidControlStep({ action_type: t }, { action_type: t }).exactMatch, true);
    }
    const r = scoreAndroidControlStep({ action_type: 'navigate_home' }, { action_type: 'navigate_back' });
    assert.deepEqual([r.typeMatch, r.exactMatch], [false, false]);
  });
});

describe('summarizeAndroidControl', () => {
  test('denominators: all steps for type and SR; click/click steps for grounding', () => {
    const lp = (x: number, y: number): AcAction => ({ action_type: 'long_press', point: { x, y } });
    const results = [
      scoreAndroidControlStep(click(100, 100), click(100, 100)), // type ✓, ground ✓, SR ✓
      scoreAndroidControlStep(click(900, 900), click(100, 100)), // type ✓, ground ✗
      scoreAndroidControlStep({ action_type: 'scroll', direction: 'up' }, click(100, 100)), // type ✗
      scoreAndroidControlStep(lp(900, 900), lp(100, 100)), // type ✓, miss, not in grounding
      scoreAndroidControlStep({ action_type: 'scroll', direction: 'up' }, { action_type: 'scroll', direction: 'up' }), // ✓
      scoreAndroidControlStep(type('abc'), type('xyz')), // type ✓, SR ✗
    ];
    const s = summarizeAndroidControl(results);
    assert.equal(s.count, 6);
    assert.equal(s.typeAccuracy, 5 / 6);
    assert.equal(s.stepSuccessRate, 2 / 6);
    assert.equal(s.groundingAccuracy, 1 / 2);
  });

  test('long_press hits do not count toward grounding accuracy', () => {
    const lp: AcAction = { action_type: 'long_press', point: { x: 1, y: 1 } };
    const s = summarizeAndroidControl([scoreAndroidControlStep(lp, lp), scoreAndroidControlStep(click(0, 0), click(500, 500))]);
    assert.equal(s.groundingAccuracy, 0);
    assert.equal(s.stepSuccessRate, 0.5);
  });

  test('empty denominators give NaN (the script would divide by zero)', () => {
    const s = summarizeAndroidControl([]);
    assert.equal(s.count, 0);
    assert.ok(Number.isNaN(s.typeAccuracy) && Number.isNaN(s.stepSuccessRate) && Number.isNaN(s.groundingAccuracy));
  });
});
