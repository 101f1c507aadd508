/**
 * AITW: the official action matching (action_matching.py) on edge cases whose verdicts come
 * from the official code (see below), the native fixture (per-step GZIP TFRecords in three
 * datasets, raw-pixel and PNG screenshots, splits/standard.json with long numeric ids) through
 * the loader and the suite, with figures computed by hand in the comments.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { actionSchema, describeAction, type Action, type ActionFields } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';
import { quoteBareNumbers, type AitwGold } from '../../main/replay/loaders/aitw.ts';
import { checkActionsMatch, distanceF32, enlargeBox, seeClickTextMatch, type AitwAction } from '../../main/replay/metrics/aitw.ts';
import { aitwSuite as suite, toAitwAction } from '../../main/replay/suites/aitw.ts';
import type { LoadOptions, ReplayStep } from '../../main/replay/suite.ts';
import { loadSteps, scoreOracle, scoreSteps } from '../fixtures/replay/steps.ts';
import { AITW_FIXTURE, buildAitwFixture } from '../fixtures/replay/aitw.ts';

/** Any member's fields, to read what a type keeps. */
const fieldsOf = (a: Action): ActionFields => a;

const tap = (y: number, x: number): AitwAction => ({ actionType: 4, touchYx: [y, x], liftYx: [y, x] });
const swipe = (t: [number, number], l: [number, number]): AitwAction => ({ actionType: 4, touchYx: t, liftYx: l });
const plain = (actionType: number, typedText?: string): AitwAction => ({ actionType, touchYx: [-1, -1], liftYx: [-1, -1], ...(typedText ? { typedText } : {}) });

// Expected values: the official action_matching.py (google-research 1d49f2c) run on these
// exact inputs under Python 3.11 + NumPy 2.4, with a stand-in for jax.numpy that is NumPy with
// JAX's default float32 (JAX itself cannot be installed here); annotation boxes passed as a
// NumPy float64 array, as SeeClick and the release's readers pass them.
describe('check_actions_match (action_matching.py)', () => {
  test('taps: within 0.14 of the screen, inclusive, in float32; y comes first', () => {
    assert.equal(checkActionsMatch(tap(0.5, 0.3), tap(0.639, 0.3), []).match, true);
    assert.equal(checkActionsMatch(tap(0.5, 0.3), tap(0.641, 0.3), []).match, false);
    assert.equal(checkActionsMatch(tap(0.5, 0.3), tap(0.64, 0.3), []).match, true, 'exactly 0.14 is a match');
    // 0.140000005 apart in float64, but float32 rounds the point to 0.63999999 and 0.14 up to 0.14000000059.
    assert.equal(checkActionsMatch(tap(0.5, 0.3), tap(0.640000005, 0.3), []).match, true);
    assert.equal(checkActionsMatch(tap(0.5, 0.3), tap(0.64000003, 0.3), []).match, false);
    assert.equal(distanceF32([0.5, 0.3], [0.640000005, 0.3]), Math.fround(0.64) - 0.5);
    // (y=0.2, x=0.8) against the same numbers read x-first: far apart.
    assert.equal(checkActionsMatch(tap(0.2, 0.8), tap(0.8, 0.2), []).match, false);
  });

  test('taps in one enlarged annotation box match however far apart', () => {
    const box = [0.2, 0.1, 0.2, 0.3] as const; // y, x, h, w
    assert.deepEqual(enlargeBox(box).map((v) => Number(v.toFixed(7))), [0.06, 0, 0.48, 0.72], 'top 0.2−0.14; left clamped at 0; h, w ×2.4');
    assert.deepEqual(checkActionsMatch(tap(0.25, 0.2), tap(0.53, 0.2), [box]), { match: true, byBox: true }, '0.28 apart, both in the box');
    assert.equal(checkActionsMatch(tap(0.25, 0.2), tap(0.55, 0.2), [box]).match, false, 'below its bottom (0.54)');
    assert.equal(checkActionsMatch(tap(0.25, 0.2), tap(0.54, 0.2), [box]).match, false, 'float32 0.54 lies just below the float32 bottom');
    // Clamped at the top: the box keeps its enlarged height, so it reaches 0.48, not 0.05+0.2+0.14 = 0.39.
    const top = [0.05, 0.1, 0.2, 0.3] as const;
    assert.equal(checkActionsMatch(tap(0.1, 0.2), tap(0.45, 0.2), [top]).match, true);
    assert.equal(checkActionsMatch(tap(0.1, 0.2), tap(0.48, 0.2), [top]).match, true, 'the bottom edge is in');
    assert.equal(checkActionsMatch(tap(0.1, 0.2), tap(0.481, 0.2), [top]).match, false);
    assert.equal(checkActionsMatch(tap(0.1, 0.2), tap(0.45, 0.2), []).match, false, 'without the box, 0.35 apart');
  });

  test('swipes match on the main axis only (y on a tie); tap or swipe is decided at 0.04', () => {
    const up = swipe([0.8, 0.5], [0.2, 0.5]);
    assert.equal(checkActionsMatch(up, swipe([0.2, 0.5], [0.8, 0.5]), []).match, true, 'up matches down (same axis)');
    assert.equal(checkActionsMatch(up, swipe([0.5, 0.8], [0.5, 0.2]), []).match, false, 'vertical vs horizontal');
    assert.equal(checkActionsMatch(swipe([0.5, 0.5], [0.8, 0.8]), up, []).match, true, 'a diagonal counts as vertical');
    assert.equal(checkActionsMatch(swipe([0.5, 0.5], [0.8, 0.8]), swipe([0.5, 0.2], [0.5, 0.8]), []).match, false);
    assert.equal(checkActionsMatch(tap(0.5, 0.5), swipe([0.5, 0.5], [0.5, 0.55]), []).match, false, '0.05 is a swipe');
    assert.equal(checkActionsMatch(tap(0.5, 0.5), swipe([0.5, 0.5], [0.5, 0.539]), []).match, true, 'up to 0.04 is still a tap');
    // "0.04" in float32 depends on where it is: 0.54−0.5 is 0.0400000215 > float32(0.04) = 0.0399999991.
    assert.equal(checkActionsMatch(tap(0.5, 0.5), swipe([0.5, 0.5], [0.5, 0.54]), []).match, false);
    assert.equal(checkActionsMatch(tap(0.3, 0.3), swipe([0.3, 0.3], [0.3, 0.34]), []).match, true);
    assert.equal(checkActionsMatch(tap(0.1, 0.1), swipe([0.1, 0.1], [0.14, 0.1]), []).match, true);
  });

  test('other actions: the type only, typed text is not compared', () => {
    assert.equal(checkActionsMatch(plain(3, 'hello'), plain(3, 'bye'), []).match, true);
    assert.equal(checkActionsMatch(plain(10), plain(11), []).match, false);
    assert.equal(checkActionsMatch(plain(5), tap(0.5, 0.5), []).match, false);
    assert.equal(checkActionsMatch(plain(-1), plain(5), []).match, false, 'an action AITW does not have');
  });

  test("SeeClick's text accuracy: lower-cased, equal or contained either way; a non-TYPE counts", () => {
    assert.equal(seeClickTextMatch(plain(3, 'Hello World'), plain(3, 'hello')), true);
    assert.equal(seeClickTextMatch(plain(3, 'hello'), plain(3, 'hello world')), true);
    assert.equal(seeClickTextMatch(plain(3, 'bye'), plain(3, 'hello')), false);
    assert.equal(seeClickTextMatch(tap(0.5, 0.5), plain(3, 'hello')), true, "'' is in every string");
  });
});

let root: string;
let data: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'foresight-aitw-'));
  data = (await buildAitwFixture(join(root, 'data'))).dataPath;
});
after(() => rm(root, { recursive: true, force: true }));

const load = (opts: LoadOptions = {}, path = data): Promise<ReplayStep<AitwGold>[]> => loadSteps(suite, path, opts);

const px = (y: number, x: number) => ({ space: 'screenshot' as const, x: x * AITW_FIXTURE.width, y: y * AITW_FIXTURE.height });
const act = (a: Omit<ActionFields, 'step_instruction'>): Action => actionSchema.parse({ step_instruction: '', ...a });

const BIG = '17018398592153327489';

describe('AITW loader and suite', () => {
  test('the test episodes of standard.json, steps ordered by step_id, y-first points converted', async () => {
    const steps = await load();
    assert.equal(steps.length, 13);
    assert.deepEqual([...new Set(steps.map((s) => s.episodeId))], [BIG, 'gen-2', 'ins-1', '5550001112223334445.1'], 'a 20-digit JSON number and an id with a ".1" suffix both match');
    assert.deepEqual(steps.slice(5, 9).map((s) => s.index), [0, 1, 2, 3], 'gen-2 was written in reverse, across two files');
    const t = steps[0]!;
    assert.equal(t.id, `${BIG}#0`);
    // The release stores float32: points are those values times the image size.
    assert.deepEqual(fieldsOf(t.future[0]!.action).point, { space: 'screenshot', x: Math.fround(0.2) * 90, y: Math.fround(0.25) * 200 });
    assert.equal(fieldsOf(steps[1]!.future[0]!.action).direction, 'down', 'finger up = content down');
    assert.equal(fieldsOf(steps[7]!.future[0]!.action).direction, 'right', 'finger left = content right');
    assert.deepEqual(steps[2]!.future[0]!.action, { action_type: 'input_text', text: 'hello world', step_instruction: 'input_text "hello world"' });
    assert.deepEqual(fieldsOf(steps[3]!.future[0]!.action).keys, ['enter']);
    assert.equal(steps[4]!.future[0]!.action.action_type, 'finished');
    assert.equal(steps[5]!.future[0]!.action.action_type, 'navigate_home');
    assert.equal(steps[8]!.future[0]!.action.action_type, 'fail');
    assert.equal(steps[9]!.future[0]!.action.action_type, 'navigate_back');
    assert.deepEqual(
      steps.map((s) => s.categories.subset),
      ['general', 'general', 'general', 'general', 'general', 'general', 'general', 'general', 'general', 'install', 'install', 'install', 'single'],
    );
    assert.deepEqual(steps.slice(0, 5).map((s) => s.categories.action), ['TAP', 'SWIPE', 'TYPE', 'PRESS_ENTER', 'STATUS_TASK_COMPLETE']);
    assert.equal(t.instruction, 'Search for hello world');
    assert.equal(t.future.length, 5);
    assert.deepEqual(t.future.map((f) => f.status), ['not done', 'not done', 'not done', 'not done', 'done']);
    assert.deepEqual(steps[2]!.history.map((h) => h.step), [1, 2]);
    assert.equal(steps[2]!.history[0]!.action, describeAction(t.future[0]!.action));
    assert.deepEqual(t.gold.annotations.length, 2);
    for (const i of [0, 10]) {
      const meta = await sharp(await steps[i]!.image.read()).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 90, 200], i === 0 ? 'raw pixels become a PNG' : 'a PNG is passed through');
    }
    assert.equal((await load({ split: 'all' })).length, 15);
    assert.equal((await load({ limit: 6 })).length, 6);
  });

  test('one dataset folder, or one file, loads on its own', async () => {
    const install = await load({}, join(data, 'install'));
    assert.deepEqual([...new Set(install.map((s) => s.episodeId))], ['ins-1']);
    const file = await load({ split: 'all' }, join(data, 'single', 'single-00000-of-00001'));
    assert.deepEqual(file.map((s) => [s.episodeId, s.categories.subset]), [['5550001112223334445.1', 'single']]);
  });

  test('split ids are read as text, whatever their length', () => {
    assert.equal(quoteBareNumbers('{"test": [17018398592153327489, "a\\"1", -2]}'), '{"test": ["17018398592153327489", "a\\"1", "-2"]}');
  });

  test('a missing split file says where to get it', async () => {
    await assert.rejects(load({ split: 'unseen_verb' }), (e: unknown) => isForesightError(e, 'NOT_FOUND') && /splits\/unseen_verb\.json/.test(e.message));
  });

  test('the oracle scores 100%', async () => {
    const steps = await load();
    const scored = scoreOracle(suite, steps);
    assert.ok(scored.every((s) => s.score.success));
    assert.deepEqual(suite.summarize(scored).metrics, { 'action matching accuracy': 1, 'dataset average': 1, 'type accuracy': 1, 'text accuracy': 1 });
  });

  test('a screen without UI annotations is wrong, as the harness counts it; the rules figure is shown beside it', async () => {
    const steps = await load();
    const bare = steps.map((s, i) => (i === 1 || i === 3 ? { ...s, gold: { ...s.gold, annotations: [] } } : s));
    const scored = scoreOracle(suite, bare);
    assert.deepEqual(
      scored.map((s) => s.score.success),
      bare.map((_, i) => i !== 1 && i !== 3),
    );
    assert.match(scored[1]!.score.reason ?? '', /no UI annotations/);
    const m = suite.summarize(scored).metrics;
    assert.equal(m['action matching accuracy'], 11 / 13);
    assert.equal(m['steps without annotations'], 2 / 13);
    assert.equal(m['action matching accuracy (by the rules on unannotated screens)'], 1);
  });

  test('our actions become the dual-point gestures the script expects', () => {
    const at = (a: Omit<ActionFields, 'step_instruction'>) => toAitwAction(act(a), 100, 200);
    assert.deepEqual(at({ action_type: 'click', point: { space: 'screenshot', x: 25, y: 150 } }), { actionType: 4, touchYx: [0.75, 0.25], liftYx: [0.75, 0.25] });
    assert.deepEqual(at({ action_type: 'click', point: { space: 'norm1000', x: 250, y: 750 } }).touchYx, [0.75, 0.25]);
    assert.deepEqual(at({ action_type: 'scroll', direction: 'down' }), { actionType: 4, touchYx: [0.8, 0.5], liftYx: [0.2, 0.5] }, 'scroll down = the finger moves up');
    assert.deepEqual(at({ action_type: 'scroll', direction: 'left' }), { actionType: 4, touchYx: [0.5, 0.2], liftYx: [0.5, 0.8] }, 'scroll left = the finger moves right');
    assert.equal(at({ action_type: 'key', keys: ['enter'] }).actionType, 7);
    assert.equal(at({ action_type: 'key', keys: ['tab'] }).actionType, -1);
    assert.equal(at({ action_type: 'click' }).actionType, -1, 'a click without a point');
    assert.equal(at({ action_type: 'open_app', app: 'Chrome' }).actionType, -1);
    assert.equal(toAitwAction(undefined, 100, 200).actionType, -1);
  });

  test('known mistakes give the hand-computed figures; the predictions file holds the script inputs', async () => {
    const steps = await load();
    const preds: (Action | undefined)[] = [
      act({ action_type: 'click', point: px(0.53, 0.2) }), // 0 ✓ both in the enlarged box (0.28 apart)
      act({ action_type: 'scroll', direction: 'up' }), // 1 ✓ same axis as the true swipe
      act({ action_type: 'input_text', text: 'something else' }), // 2 ✓ text not compared (text ✗)
      act({ action_type: 'key', keys: ['enter'] }), // 3 ✓
      act({ action_type: 'fail' }), // 4 ✗ COMPLETE expected
      act({ action_type: 'navigate_back' }), // 5 ✗ HOME expected
      act({ action_type: 'click', point: px(0.241, 0.9) }), // 6 ✗ 0.141 away
      act({ action_type: 'scroll', direction: 'down' }), // 7 ✗ vertical vs horizontal
      act({ action_type: 'fail' }), // 8 ✓
      undefined, // 9 ✗
      act({ action_type: 'click', point: px(0.95, 0.6) }), // 10 ✓ 0.1 away
      act({ action_type: 'finished' }), // 11 ✓
      act({ action_type: 'scroll', direction: 'down' }), // 12 ✗ a swipe for a tap
    ];
    const scored = scoreSteps(suite, steps, preds);
    assert.deepEqual(
      scored.map((s) => (s.score.success ? 1 : 0)),
      [1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0],
    );
    const sum = suite.summarize(scored);
    // 7/13 overall; general 5/9, install 2/3, single 0/1; their mean (5/9 + 2/3 + 0) / 3 = 11/27 —
    // by hand, and the same from the official check_actions_match run line by line on the
    // predictions file written below (float32 NumPy stand-in for jax.numpy, as above).
    // Type: all but 4, 5, 9 (step 7 and 12 are dual-point like their truth) = 10/13. Text: 0/1.
    assert.equal(sum.metrics['action matching accuracy'], 7 / 13);
    assert.ok(Math.abs(sum.metrics['dataset average']! - 11 / 27) < 1e-12);
    assert.equal(sum.metrics['type accuracy'], 10 / 13);
    assert.equal(sum.metrics['text accuracy'], 0);
    const byDataset = sum.breakdowns.find((b) => b.name === 'dataset')!;
    assert.deepEqual(byDataset.rows.map((r) => [r.key, r.count, r.metrics['action matching accuracy']]), [['general', 9, 5 / 9], ['install', 3, 2 / 3], ['single', 1, 0]]);
    const byAction = sum.breakdowns.find((b) => b.name === 'true action')!;
    assert.deepEqual(
      byAction.rows.map((r) => [r.key, r.count, r.metrics['action matching accuracy']]),
      [
        ['PRESS_BACK', 1, 0],
        ['PRESS_ENTER', 1, 1],
        ['PRESS_HOME', 1, 0],
        ['STATUS_TASK_COMPLETE', 2, 0.5],
        ['STATUS_TASK_IMPOSSIBLE', 1, 1],
        ['SWIPE', 2, 0.5],
        ['TAP', 4, 0.5],
        ['TYPE', 1, 1],
      ],
    );

    const [file] = await suite.writePredictions(scored, join(root, 'pred'));
    const lines = (await readFile(file!, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 13);
    const f = Math.fround;
    assert.deepEqual(lines[0]!.gt, { action_type: 4, touch_yx: [f(0.25), f(0.2)], lift_yx: [f(0.25), f(0.2)] });
    assert.deepEqual(lines[0]!.annotation_positions, [0.2, 0.1, 0.2, 0.3, 0.9, 0.9, 0.05, 0.05].map((v) => Math.fround(v)));
    assert.deepEqual(lines[1]!.pred, { action_type: 4, touch_yx: [0.2, 0.5], lift_yx: [0.8, 0.5] });
    assert.deepEqual(lines[2]!.gt, { action_type: 3, touch_yx: [-1, -1], lift_yx: [-1, -1], typed_text: 'hello world' });
    assert.deepEqual(lines[9]!.pred, { action_type: -1, touch_yx: [-1, -1], lift_yx: [-1, -1] });
    assert.deepEqual(lines.map((l) => l.match), scored.map((s) => s.score.success));
  });
});
