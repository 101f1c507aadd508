/**
 * GUI-Odyssey: the official rules (metric), the native loader on the fixture, the oracle, and a
 * prediction set with known mistakes.
 *
 * Expected values marked "official" were obtained by running the real scripts of
 * OpenGVLab/GUI-Odyssey @ fefcbe9d76e2f010c68225ae7f378c4c550a89c1 (python3 + numpy 2.4): the
 * per-step verdicts with `action_matching` from src/eval_mm/GUIOdyssey_action_matching.py and the
 * decoding loop of evaluate_GUIOdyssey.py; `decode_action` / `build_test` from
 * data/format_converter.py on this fixture (its answers equal our `gt` strings, in order); and
 * `action_matching_evaluation(json.load(open(<our predictions file>)), metric)` from
 * evaluate_GUIOdyssey.py (its torch/transformers imports replaced by stand-ins: they serve inference only)
 * on the file `writePredictions` wrote for the known-mistakes set.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionSchema, describeAction, type Action, type ActionFields, type ActionType } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';
import { countGuiOdyssey, type GuiOdysseyGold } from '../../main/replay/loaders/guiodyssey.ts';
import {
  checkSR,
  decodeAction,
  episodeKeyOfImage,
  npRound2,
  npSum,
  pyRound2,
  scoreGuiOdysseyAnswer,
  textMatching,
  type GoScoredRow,
} from '../../main/replay/metrics/guiodyssey.ts';
import { guiOdysseyAnswer, guiOdysseySuite } from '../../main/replay/suites/guiodyssey.ts';
import { stepTruth, type ReplayStep, type ScoredStep } from '../../main/replay/suite.ts';
import { buildGuiOdysseyFixture, GO_FIXTURE_EPISODES as E } from '../fixtures/replay/guiodyssey.ts';

let root = '';
let data = '';

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'guiodyssey-'));
  data = (await buildGuiOdysseyFixture(join(root, 'data'))).dataPath;
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function load(opts: { split?: string; mode?: string; limit?: number } = {}, dir = data): Promise<ReplayStep<GuiOdysseyGold>[]> {
  const out: ReplayStep<GuiOdysseyGold>[] = [];
  for await (const s of guiOdysseySuite.load(dir, opts)) out.push(s);
  return out;
}

function expectError(code: 'BAD_INPUT' | 'NOT_FOUND', re: RegExp) {
  return (e: unknown) => {
    assert.ok(isForesightError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}

const act = (action_type: ActionType, extra: Omit<ActionFields, 'action_type' | 'step_instruction'> = {}): Action => actionSchema.parse({ action_type, step_instruction: '', ...extra });
const px = (x: number, y: number) => ({ space: 'screenshot' as const, x, y });

describe('official rules', () => {
  test('answer strings from annotation steps (official decode_action)', () => {
    const cases: [string, unknown, string][] = [
      ['CLICK', [[719, 762], [719, 762]], 'CLICK: (719, 762)'],
      ['LONG_PRESS', [[1.5, 2], [3, 4]], 'LONG_PRESS: (1.5, 2)'],
      ['CLICK', 'KEY_HOME', 'PRESS_HOME'],
      ['LONG_PRESS', 'KEY_BACK', 'PRESS_BACK'],
      ['CLICK', 'KEY_APPSELECT', 'PRESS_RECENT'],
      ['SCROLL', [[563, 867], [522, 401]], 'SCROLL: UP'],
      ['SCROLL', [[100, 100], [200, 200]], 'SCROLL: DOWN'], // |dx| == |dy|: vertical
      ['SCROLL', [[100, 100], [0, 200]], 'SCROLL: DOWN'],
      ['SCROLL', [[100, 100], [0, 0]], 'SCROLL: UP'],
      ['SCROLL', [[5, 5], [5, 5]], 'SCROLL: DOWN'], // no movement
      ['SCROLL', [[500, 500], [700, 450]], 'SCROLL: RIGHT'],
      ['TEXT', 'a: b', 'TYPE: a: b'],
      ['COMPLETE', '', 'COMPLETE'],
      ['INCOMPLETE', '', 'IMPOSSIBLE'],
    ];
    for (const [action, info, want] of cases) assert.equal(decodeAction(action, info), want, `${action} ${JSON.stringify(info)}`);
    assert.equal(decodeAction('TYPE', 'x'), 'TYPE: x', 'TYPE is accepted as introduction.md names it');
    assert.throws(() => decodeAction('CLICK', 'KEY_RECENT'), /unknown CLICK info/);
    assert.throws(() => decodeAction('HOME', ''), /unknown action/);
  });

  test('step verdicts equal the official action matching', () => {
    // [prediction, truth, sam2_bbox, official verdict]
    const cases: [string, string, number[] | null, [string, string]][] = [
      ['CLICK: (0, 0)', 'CLICK: (140, 0)', null, ['yes', 'click_correct']], // 0.14 is inclusive
      ['CLICK: (0, 0)', 'CLICK: (0, 140)', null, ['yes', 'click_correct']],
      ['CLICK: (0, 0)', 'CLICK: (84, 112)', null, ['yes', 'click_correct']],
      ['CLICK: (0, 0)', 'CLICK: (141, 0)', null, ['no', 'click_fail']],
      ['CLICK: (120, 800)', 'CLICK: (120, 940)', [100, 900, 140, 980], ['yes', 'click_correct']],
      ['CLICK: (900, 60)', 'CLICK: (50, 60)', [0, 40, 1000, 80], ['yes', 'click_correct']], // far, but in the box
      ['CLICK: (1000, 80)', 'CLICK: (50, 60)', [0, 40, 1000, 80], ['yes', 'click_correct']], // box edges inclusive
      ['CLICK: (1001, 80)', 'CLICK: (50, 60)', [0, 40, 1000, 80], ['no', 'click_fail']],
      ['CLICK: (50, 60)', 'CLICK: (50, 60)', [], ['no', 'invalid']], // an empty sam2_bbox fails to unpack
      ['LONG_PRESS: (52, 61)', 'LONG_PRESS: (50, 60)', null, ['yes', 'click_correct']],
      ['CLICK: (52, 61)', 'LONG_PRESS: (50, 60)', null, ['no', 'action_fail']],
      ['CLICK', 'CLICK: (50, 60)', null, ['no', 'invalid']],
      ['CLICK: [50, 60]', 'CLICK: (50, 60)', [0, 0, 0, 0], ['yes', 'click_correct']],
      ['CLICK: (5)', 'TYPE: x', null, ['no', 'action_fail']],
      ['', 'COMPLETE', null, ['no', 'action_fail']],
      ['COMPLETE', 'COMPLETE', null, ['yes', 'action_correct']],
      [' COMPLETE ', 'COMPLETE', null, ['yes', 'action_correct']],
      ['PRESS_HOME', 'PRESS_HOME', [], ['yes', 'action_correct']],
      ['PRESS_RECENT', 'PRESS_BACK', [], ['no', 'action_fail']],
      ['IMPOSSIBLE', 'IMPOSSIBLE', [], ['yes', 'action_correct']],
      ['SCROLL: up', 'SCROLL: UP', [], ['yes', 'scroll_correct']],
      ['SCROLL', 'SCROLL: UP', [], ['no', 'scroll_fail']],
      ['TYPE: ', 'TYPE: hello world', [], ['yes', 'type_correct']], // '' is contained in every text
      ['TYPE: abcd', 'TYPE: abxy', [], ['yes', 'type_correct']], // ANLS exactly 0.5
      ['TYPE: abcd', 'TYPE: axyz', [], ['no', 'type_fail']],
      ['TYPE: Time: 9am', 'TYPE: Time: 5pm meeting', [], ['yes', 'type_correct']], // both cut at ':'
      ['TYPE: hello', 'TYPE: say hello there', [], ['yes', 'type_correct']],
      ['TYPE: café', 'TYPE: cafe', [], ['yes', 'type_correct']],
    ];
    for (const [pred, gt, bbox, [correct, info]] of cases) {
      assert.deepEqual(scoreGuiOdysseyAnswer(pred, gt, bbox), { correct: correct === 'yes', info }, `${JSON.stringify(pred)} vs ${gt} ${JSON.stringify(bbox)}`);
    }
  });

  test('text matching strips as Python does and counts code points', () => {
    assert.equal(textMatching('\u3000abc\x1c', 'abc'), true);
    assert.equal(textMatching('😀😀ab', '😀😀xy'), true); // distance 2 of 4 code points
    assert.equal(textMatching('😀abc', 'xyzw'), false);
  });

  test("Python round(x, 2), np.round(x, 2) and numpy's pairwise sum", () => {
    const vals = [0.125, 0.375, 12.125, 33.375, 2.675, 12.345, 66.66666666666667, 33.33333333333333, 57.142857142857146, 0.005, 1.005, 99.995, 62.221666666666664];
    // official: Python 3.11 round(v, 2) and float(np.round(v, 2))
    assert.deepEqual(vals.map(pyRound2), [0.12, 0.38, 12.12, 33.38, 2.67, 12.35, 66.67, 33.33, 57.14, 0.01, 1.0, 100.0, 62.22]);
    assert.deepEqual(vals.map(npRound2), [0.12, 0.38, 12.12, 33.38, 2.68, 12.34, 66.67, 33.33, 57.14, 0.0, 1.0, 100.0, 62.22]);
    // a_i = ((i*7919) % 1000) / 7 * 10**(i % 17); numpy 2.4 np.sum(a)
    const a = (n: number) => Array.from({ length: n }, (_, i) => (((i * 7919) % 1000) / 7) * 10 ** (i % 17));
    const sums: [number, number][] = [
      [6, 9587141.42857143],
      [11, 315873015712.8571],
      [20, 1.1315873015873088e18],
      [130, 6.30618961729984e18],
      [300, 1.3725061391885537e19],
    ];
    for (const [n, want] of sums) assert.equal(npSum(a(n)), want, `n=${n}`);
  });

  test('SR counts an episode only with all its steps, found by screenshot name', () => {
    assert.equal(episodeKeyOfImage('/x/screenshots/0141544666483837_12.png'), '0141544666483837');
    const row = (image: string, correct: boolean, stepLength: number): GoScoredRow => ({
      verdict: { correct, info: correct ? 'action_correct' : 'action_fail' },
      category: 'c',
      stepLength,
      image,
    });
    assert.deepEqual(checkSR([row('a_0.png', true, 2), row('a_1.png', true, 2), row('b_0.png', true, 2)]), { successes: 1, episodes: 1, SR: 100 });
    assert.deepEqual(checkSR([row('a_0.png', true, 2), row('a_1.png', false, 2), row('b_0.png', true, 1)]), { successes: 1, episodes: 2, SR: 50 });
    assert.deepEqual(checkSR([row('a_0.png', true, 3)]), { successes: 0, episodes: 0, SR: 0 });
  });

  test('our actions become the official answer strings', () => {
    assert.equal(guiOdysseyAnswer(undefined, 400, 800), '');
    assert.equal(guiOdysseyAnswer(act('click', { point: px(200, 400) }), 400, 800), 'CLICK: (500, 500)');
    assert.equal(guiOdysseyAnswer(act('click', { point: { space: 'norm1000', x: 12.4, y: 987.6 } }), 400, 800), 'CLICK: (12, 988)');
    assert.equal(guiOdysseyAnswer(act('long_press', { point: px(1, 1) }), 1280, 800), 'LONG_PRESS: (1, 1)');
    assert.equal(guiOdysseyAnswer(act('click'), 400, 800), 'CLICK');
    assert.deepEqual(
      (['down', 'up', 'right', 'left'] as const).map((d) => guiOdysseyAnswer(act('scroll', { direction: d }), 400, 800)),
      ['SCROLL: UP', 'SCROLL: DOWN', 'SCROLL: LEFT', 'SCROLL: RIGHT'],
    );
    assert.equal(guiOdysseyAnswer(act('input_text', { text: 'a: b' }), 400, 800), 'TYPE: a: b');
    assert.equal(guiOdysseyAnswer(act('type', { text: 'x' }), 400, 800), 'TYPE: x');
    assert.equal(guiOdysseyAnswer(act('navigate_home'), 400, 800), 'PRESS_HOME');
    assert.equal(guiOdysseyAnswer(act('navigate_back'), 400, 800), 'PRESS_BACK');
    assert.equal(guiOdysseyAnswer(act('navigate_recent'), 400, 800), 'PRESS_RECENT');
    assert.equal(guiOdysseyAnswer(act('hotkey', { keys: ['alt', 'tab'] }), 400, 800), 'HOTKEY', 'a desktop app switch is not PRESS_RECENT');
    assert.equal(guiOdysseyAnswer(act('key', { keys: ['enter'] }), 400, 800), 'KEY');
    assert.equal(guiOdysseyAnswer(act('finished'), 400, 800), 'COMPLETE');
    assert.equal(guiOdysseyAnswer(act('fail'), 400, 800), 'IMPOSSIBLE');
    assert.equal(guiOdysseyAnswer(act('open_app', { app: 'Clock' }), 400, 800), 'OPEN_APP');
  });
});

describe('loader', () => {
  test('reads the test part of the split in its order, never the train part', async () => {
    const steps = await load();
    assert.equal(steps.length, 20);
    assert.deepEqual([...new Set(steps.map((s) => s.episodeId))], [E.E1, E.E2, E.E3, E.E4, E.E5, E.E6]);
    assert.equal(await countGuiOdyssey(data, {}), 20);
    assert.equal(await guiOdysseySuite.count!(data, { split: 'task_split' }), 8);
    assert.deepEqual([...new Set((await load({ split: 'task_split' })).map((s) => s.episodeId))], [E.E3, E.E1]);
    assert.deepEqual([...new Set((await load({ split: 'device_split' })).map((s) => s.episodeId))], [E.E2]);
    assert.equal((await load({ limit: 7 })).length, 7);
    assert.deepEqual(
      steps.map((s) => s.gold.position),
      steps.map((_, i) => i),
    );
  });

  test('converts the 0–1000 grid to screenshot pixels and maps every action', async () => {
    const steps = await load();
    const byId = new Map(steps.map((s) => [s.id, s]));
    const truth = (id: string): ActionFields => byId.get(id)!.future[0]!.action;
    const e1 = byId.get(`${E.E1}#0`)!;
    assert.deepEqual([e1.image.width, e1.image.height], [400, 800]);
    assert.deepEqual(truth(`${E.E1}#0`).point, { space: 'screenshot', x: 200, y: 240 });
    assert.equal(truth(`${E.E1}#1`).action_type, 'input_text');
    assert.equal(truth(`${E.E1}#1`).text, 'Time: 5pm meeting', 'the whole text, past its ":"');
    assert.equal(truth(`${E.E1}#2`).direction, 'down', 'a finger swipe UP scrolls the view down');
    assert.equal(truth(`${E.E1}#3`).action_type, 'navigate_back');
    assert.equal(truth(`${E.E1}#4`).action_type, 'finished');
    const tablet = byId.get(`${E.E2}#1`)!;
    assert.deepEqual([tablet.image.width, tablet.image.height], [1280, 800]);
    assert.deepEqual(truth(`${E.E2}#1`), { action_type: 'long_press', step_instruction: 'Long press the photo', point: { space: 'screenshot', x: 320, y: 600 } });
    assert.equal(truth(`${E.E2}#0`).action_type, 'navigate_home');
    assert.equal(truth(`${E.E2}#2`).direction, 'right', 'a swipe LEFT');
    assert.equal(truth(`${E.E2}#3`).action_type, 'navigate_recent', 'recent apps');
    assert.equal(truth(`${E.E2}#4`).direction, 'up', 'a swipe that does not move is DOWN');
    assert.equal(truth(`${E.E2}#5`).action_type, 'fail');
    assert.equal(truth(`${E.E3}#0`).direction, 'left', 'a swipe RIGHT');

    assert.deepEqual(e1.gold, {
      answer: 'CLICK: (500, 300)',
      sam2Bbox: [450, 280, 550, 320],
      category: 'General_Tool',
      stepLength: 5,
      image: `${E.E1}_0.png`,
      question: 'Use Calendar to add a meeting at 5pm, then check it in Clock.',
      split: 'random_split',
      level: 'high',
      position: 0,
    });
    assert.deepEqual(e1.categories, { category: 'General_Tool', device: 'Pixel 7 Pro', action: 'CLICK' });
    assert.equal(e1.instruction, 'Use Calendar to add a meeting at 5pm, then check it in Clock.');
    const last = byId.get(`${E.E1}#4`)!;
    assert.equal(last.history.length, 4);
    assert.deepEqual(last.history[1], { step: 2, action: describeAction(byId.get(`${E.E1}#1`)!.future[0]!.action), outcome: 'ok' });
    assert.deepEqual(
      byId.get(`${E.E1}#2`)!.future.map((f) => f.status),
      ['not done', 'not done', 'done'],
    );
    assert.equal((await readFile(join(data, 'screenshots', `${E.E1}_0.png`))).length, (await e1.image.read()).length);
  });

  test('mode low adds the step instruction; the official question is the low-level one', async () => {
    const [s] = await load({ mode: 'low', limit: 1 });
    assert.equal(s!.instruction, 'Use Calendar to add a meeting at 5pm, then check it in Clock.\nStep instruction: Tap the new event button');
    assert.equal(s!.gold.question, 'Tap the new event button');
    assert.equal(s!.gold.level, 'low');
  });

  test('errors name the file and what to do', async () => {
    assert.throws(() => guiOdysseySuite.load(data, { split: 'test' }), expectError('BAD_INPUT', /splits random_split, task_split, device_split, app_split/));
    assert.throws(() => guiOdysseySuite.load(data, { mode: 'mid' }), expectError('BAD_INPUT', /modes high, low/));
    await assert.rejects(load({}, join(root, 'nowhere')), expectError('NOT_FOUND', /No GUI-Odyssey data .*annotations/));

    const dir = join(root, 'broken');
    await buildGuiOdysseyFixture(dir);
    await unlink(join(dir, 'screenshots', `${E.E2}_3.png`));
    await assert.rejects(load({ split: 'device_split' }, dir), expectError('BAD_INPUT', new RegExp(`${E.E2}\\.json step 3: screenshot .*${E.E2}_3\\.png is missing`)));
    const annPath = join(dir, 'annotations', `${E.E1}.json`);
    const ann = JSON.parse(await readFile(annPath, 'utf8')) as { steps: { action: string }[] };
    ann.steps[3]!.action = 'SWIPE';
    await writeFile(annPath, JSON.stringify(ann));
    await assert.rejects(load({ split: 'task_split' }, dir), expectError('BAD_INPUT', new RegExp(`${E.E1}\\.json step 3: unknown action "SWIPE"`)));
    await writeFile(annPath, '{"episode_id": 1}');
    await assert.rejects(load({ split: 'task_split' }, dir), expectError('BAD_INPUT', /does not follow introduction\.md \(task_info/));
    await unlink(join(dir, 'splits', 'app_split.json'));
    await assert.rejects(load({ split: 'app_split' }, dir), expectError('NOT_FOUND', /split file .*app_split\.json is missing/));
  });
});

describe('oracle', () => {
  for (const split of guiOdysseySuite.splits) {
    for (const mode of guiOdysseySuite.modes) {
      test(`every step of ${split} (${mode}) is right with the true action`, async () => {
        const steps = await load({ split, mode });
        assert.ok(steps.length > 0);
        for (const step of steps) {
          const score = guiOdysseySuite.score(step.future[0]!.action, stepTruth(step));
          assert.equal(score.success, true, `${step.id}: ${step.gold.answer}`);
        }
      });
    }
  }
});

describe('known mistakes', () => {
  const predictions = (): Record<string, Action | undefined> => ({
    [`${E.E1}#0`]: act('click'), // no point: 'invalid'
    [`${E.E1}#1`]: act('input_text', { text: 'Tomorrow' }), // 'Time' vs 'Tomorrow': ANLS 0.25
    [`${E.E1}#2`]: act('scroll', { direction: 'up' }), // SCROLL: DOWN, truth UP
    [`${E.E1}#3`]: act('navigate_back'),
    [`${E.E1}#4`]: act('finished'),
    [`${E.E2}#0`]: act('navigate_home'),
    [`${E.E2}#1`]: act('long_press', { point: px(384, 640) }), // (300, 800): the box corner
    [`${E.E2}#2`]: act('scroll', { direction: 'right' }),
    [`${E.E2}#3`]: act('navigate_recent'),
    [`${E.E2}#4`]: act('scroll', { direction: 'up' }),
    [`${E.E2}#5`]: act('fail'),
    [`${E.E3}#0`]: act('click', { point: px(40, 400) }), // truth is a scroll
    [`${E.E3}#1`]: act('click', { point: px(48, 640) }), // (120, 800): 0.14 from (120, 940), outside the box
    [`${E.E3}#2`]: undefined,
    [`${E.E4}#0`]: act('click', { point: px(360, 48) }), // (900, 60): 0.85 away but inside the box
    [`${E.E4}#1`]: act('finished'),
    [`${E.E5}#0`]: act('click', { point: px(240, 320) }), // truth is a long press
    [`${E.E5}#1`]: act('finished'),
    [`${E.E6}#0`]: act('input_text', { text: 'https://other.org' }), // both cut at ':' to "https"
    [`${E.E6}#1`]: act('navigate_home'),
  });

  async function scoreAll(opts: { split?: string; limit?: number }): Promise<ScoredStep<GuiOdysseyGold>[]> {
    const p = predictions();
    return (await load(opts)).map((s) => ({ ...stepTruth(s), prediction: p[s.id], score: guiOdysseySuite.score(p[s.id], stepTruth(s)) }));
  }

  test('random_split: the official per-step verdicts, the category means and the predictions file', async () => {
    const scored = await scoreAll({});
    // official: action_matching_evaluation on our file, the 'pred' list
    const official = [
      'invalid', 'type_fail', 'scroll_fail', 'action_correct', 'action_correct',
      'action_correct', 'click_correct', 'scroll_correct', 'action_correct', 'scroll_correct', 'action_correct',
      'action_fail', 'click_correct', 'action_fail',
      'click_correct', 'action_correct',
      'action_fail', 'action_correct',
      'type_correct', 'action_fail',
    ];
    assert.deepEqual(
      scored.map((s) => s.score.success),
      official.map((i) => i.endsWith('_correct')),
    );
    assert.deepEqual(
      scored.map((s) => s.score.metrics.typeMatch),
      official.map((i) => i !== 'action_fail'),
    );
    assert.equal(scored[0]!.score.metrics.invalid, true);

    const summary = guiOdysseySuite.summarize([...scored].reverse());
    // official ('micro'): {'AMS': 62.22, 'SR': 33.33, 'total': 20, 'action_type': '16 / 20 = 80.00', 'text': '1 / 2 = 50.00'}
    assert.equal(summary.count, 20);
    assert.deepEqual(summary.metrics, { AMS: 0.6222, SR: 0.3333, 'type accuracy': 0.8, 'text accuracy': 0.5 });
    // official per-category lines: "category: General_Tool, AMS: 40.0, SR: 0.0", …
    assert.deepEqual(
      summary.breakdowns.find((b) => b.name === 'category')!.rows.map((r) => [r.key, r.count, r.metrics.AMS, r.metrics.SR]),
      [
        ['General_Tool', 5, 0.4, 0],
        ['Information_Management', 2, 1, 1],
        ['Media_Entertainment', 2, 0.5, 0],
        ['Multi_Apps', 6, 1, 1],
        ['Social_Sharing', 2, 0.5, 0],
        ['Web_Shopping', 3, 0.3333, 0],
      ],
    );
    assert.deepEqual(summary.breakdowns.find((b) => b.name === 'device')!.rows.find((r) => r.key === 'Pixel Tablet'), { key: 'Pixel Tablet', count: 6, metrics: { AMS: 1, SR: 1 } });
    assert.deepEqual(summary.breakdowns.find((b) => b.name === 'true action')!.rows.find((r) => r.key === 'SCROLL'), { key: 'SCROLL', count: 4, metrics: { AMS: 0.5, 'type accuracy': 0.75 } });

    const [file] = await guiOdysseySuite.writePredictions([...scored].reverse(), join(root, 'pred'));
    assert.equal(file, join(root, 'pred', 'foresight_high_random_split.json'));
    const written = JSON.parse(await readFile(file!, 'utf8')) as { id: string; question: string; pred: string; gt: string; more_info: unknown }[];
    // gt: official build_test answers for the fixture, in order; pred: what the official script scored above
    assert.deepEqual(
      written.map((w) => [w.pred, w.gt]),
      [
        ['CLICK', 'CLICK: (500, 300)'],
        ['TYPE: Tomorrow', 'TYPE: Time: 5pm meeting'],
        ['SCROLL: DOWN', 'SCROLL: UP'],
        ['PRESS_BACK', 'PRESS_BACK'],
        ['COMPLETE', 'COMPLETE'],
        ['PRESS_HOME', 'PRESS_HOME'],
        ['LONG_PRESS: (300, 800)', 'LONG_PRESS: (250, 750)'],
        ['SCROLL: LEFT', 'SCROLL: LEFT'],
        ['PRESS_RECENT', 'PRESS_RECENT'],
        ['SCROLL: DOWN', 'SCROLL: DOWN'],
        ['IMPOSSIBLE', 'IMPOSSIBLE'],
        ['CLICK: (100, 500)', 'SCROLL: RIGHT'],
        ['CLICK: (120, 800)', 'CLICK: (120, 940)'],
        ['', 'COMPLETE'],
        ['CLICK: (900, 60)', 'CLICK: (50, 60)'],
        ['COMPLETE', 'COMPLETE'],
        ['CLICK: (600, 400)', 'LONG_PRESS: (600, 400)'],
        ['COMPLETE', 'COMPLETE'],
        ['TYPE: https://other.org', 'TYPE: https://example.com/news'],
        ['PRESS_HOME', 'COMPLETE'],
      ],
    );
    assert.deepEqual(written[0], {
      id: `${E.E1}#0`,
      question: `Picture 1: <img>${E.E1}_0.png</img>\nI'm looking for guidance on how to Use Calendar to add a meeting at 5pm, then check it in Clock.`,
      pred: 'CLICK',
      gt: 'CLICK: (500, 300)',
      more_info: { category: 'General_Tool', step_length: 5, sam2_bbox: [450, 280, 550, 320] },
    });
  });

  test("task_split is plain ('macro')", async () => {
    // official: {'AMS': 37.5, 'SR': 0.0, 'total': 8, 'action_type': '6 / 8 = 75.00', 'text': '0 / 1 = 0.00'}
    assert.deepEqual(guiOdysseySuite.summarize(await scoreAll({ split: 'task_split' })).metrics, {
      AMS: 0.375,
      SR: 0,
      'type accuracy': 0.75,
      'text accuracy': 0,
    });
  });

  test('an episode cut by --limit drops out of SR', async () => {
    // official on the 7 written steps: "step length of 1000000000000002 does not match.",
    // "total episode: 1, successful episode: 0", {'AMS': 57.14, 'SR': 0.0, 'action_type': '7 / 7 = 100.00', 'text': '0 / 1 = 0.00'}
    const scored = await scoreAll({ split: 'app_split', limit: 7 });
    assert.deepEqual(guiOdysseySuite.summarize(scored).metrics, { AMS: 0.5714, SR: 0, 'type accuracy': 1, 'text accuracy': 0 });
    const rows = scored.map((s) => ({ verdict: { correct: s.score.success, info: 'action_correct' as const }, category: s.gold.category, stepLength: s.gold.stepLength, image: s.gold.image }));
    assert.deepEqual(checkSR(rows), { successes: 0, episodes: 1, SR: 0 });
  });

  test('nothing scored gives an empty summary', () => {
    assert.deepEqual(guiOdysseySuite.summarize([]), { count: 0, metrics: {}, breakdowns: [] });
  });
});
