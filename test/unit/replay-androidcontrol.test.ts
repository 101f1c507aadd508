/**
 * AndroidControl end to end below the runner: the native fixture (GZIP and plain TFRecords,
 * splits.json, test_subsplits.json) loaded into steps, OS-Atlas's rules applied through the
 * suite, the papers' figures summarised and the official script's files written.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionSchema, type Action, type ActionFields } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';
import { convertAction, type AndroidControlGold } from '../../main/replay/loaders/androidcontrol.ts';
import { androidControlSuite as suite } from '../../main/replay/suites/androidcontrol.ts';
import { stepTruth, type LoadOptions, type ReplayStep } from '../../main/replay/suite.ts';
import { writeTFRecords } from '../../main/replay/tfrecord.ts';
import { loadSteps, scoreOracle, scoreSteps } from '../fixtures/replay/steps.ts';
import { AC_FIXTURE, androidControlExample, buildAndroidControlFixture } from '../fixtures/replay/androidcontrol.ts';

/** Any member's fields, to read what a type keeps. */
const fieldsOf = (a: Action): ActionFields => a;

let root: string;
let data: string;
let full: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'foresight-ac-'));
  data = (await buildAndroidControlFixture(join(root, 'data'))).dataPath;
  full = (await buildAndroidControlFixture(join(root, 'full'), { allSubsplits: true })).dataPath;
});
after(() => rm(root, { recursive: true, force: true }));

const load = (opts: LoadOptions = {}, path = data): Promise<ReplayStep<AndroidControlGold>[]> => loadSteps(suite, path, opts);

const pt = (x: number, y: number) => ({ space: 'screenshot' as const, x, y });
const act = (a: Omit<ActionFields, 'step_instruction'>): Action => actionSchema.parse({ step_instruction: '', ...a });
const refused = (code: 'BAD_INPUT' | 'NOT_FOUND', pattern: RegExp) => (e: unknown) => isForesightError(e, code) && pattern.test(e.message);

describe('AndroidControl loader', () => {
  test('the test split: the test episodes in file order, the train episode left out', async () => {
    const steps = await load();
    assert.equal(steps.length, 10);
    assert.deepEqual([...new Set(steps.map((s) => s.episodeId))], ['101', '102']);
    assert.deepEqual(steps.slice(0, 3).map((s) => s.id), ['101#0', '101#1', '101#2']);
    const click = steps[1]!;
    assert.deepEqual(fieldsOf(click.future[0]!.action).point, pt(270, 1100), 'points stay in screenshot pixels');
    // 270 / 540 * 1000 = 500; 1100 / 1200 * 1000 = 916.67 → 917: whole numbers, as OS-Atlas's test file.
    assert.deepEqual(click.gold.truth, { action_type: 'click', point: { x: 500, y: 917 } });
    assert.equal(click.image.width, AC_FIXTURE.width);
    assert.equal(click.image.height, AC_FIXTURE.height);
    assert.equal((await click.image.read())[0], 0x89, 'the screenshot is the PNG of the record');
    assert.deepEqual(click.history, [{ step: 1, action: 'open_app Keep Notes — Open the Keep Notes app', outcome: 'ok' }]);
    assert.equal(click.future.length, 4);
    assert.equal(click.future.at(-1)!.status, 'done');
    assert.equal(click.instruction, 'Add milk to my shopping list in Keep', 'high mode: the goal');
    assert.deepEqual(click.categories, { action: 'click', subsplit: 'IDD' });
    // `type` (click + text + enter) is input_text, as OS-Atlas renders both as TYPE [text].
    assert.deepEqual(steps[7]!.gold.truth, { action_type: 'input_text', text: 'pizza near me' });
    assert.equal(steps[7]!.future[0]!.action.action_type, 'input_text');
    assert.deepEqual(steps.map((s) => s.categories.action), [
      'open_app', 'click', 'input_text', 'scroll', 'navigate_back',
      'navigate_home', 'long_press', 'input_text', 'wait', 'scroll',
    ]);
  });

  test('low mode adds the step instruction; splits all, train, validation; limit stops early', async () => {
    const low = await load({ mode: 'low' });
    assert.equal(low[1]!.instruction, 'Add milk to my shopping list in Keep\nCurrent step: Tap the new list button');
    assert.equal(low[1]!.gold.mode, 'low');
    assert.equal((await load({ split: 'all' })).length, 11);
    assert.equal((await load({ split: 'train' })).length, 1);
    assert.equal((await load({ limit: 3 })).length, 3);
    assert.equal((await load({ limit: 0 })).length, 0);
    await assert.rejects(load({ split: 'validation' }), refused('NOT_FOUND', /None of the episodes .* validation split/));
    await assert.rejects(load({ split: 'dev' }), refused('BAD_INPUT', /no split "dev"/));
    await assert.rejects(load({ mode: 'mid' }), refused('BAD_INPUT', /no mode "mid"/));
  });

  test('a plain *.tfrecord file in the folder is read too; one file can be the data', async () => {
    const steps = await load({}, full);
    assert.equal(steps.length, 19);
    assert.deepEqual([...new Set(steps.map((s) => s.episodeId))], ['101', '102', '103', '104']);
    assert.deepEqual([...new Set(steps.map((s) => s.categories.subsplit))], ['IDD', 'app_unseen', 'task_unseen', 'category_unseen']);
    assert.deepEqual(
      steps.filter((s) => s.gold.truth.action_type === 'scroll').map((s) => s.gold.truth.direction),
      ['down', 'left', 'up', 'right'],
    );
    const one = await load({}, join(full, 'android_control-00001-of-00002'));
    assert.deepEqual(one.map((s) => s.id), ['102#0', '102#1', '102#2', '102#3', '102#4'], 'splits.json next to the file applies');
  });

  test('without splits.json the default split is every episode; train and validation need the file', async () => {
    const copy = join(root, 'nosplits');
    await buildAndroidControlFixture(copy);
    await rm(join(copy, 'splits.json'));
    assert.equal((await load({}, copy)).length, 11);
    assert.equal((await load({ split: 'all' }, copy)).length, 11);
    await assert.rejects(load({ split: 'train' }, copy), refused('NOT_FOUND', /train split needs splits\.json.*gs:\/\/gresearch\/android_control\/splits\.json/));
  });

  test('a missing folder, a corrupt record and a broken action are refused naming the file', async () => {
    await assert.rejects(load({}, join(root, 'nowhere')), refused('NOT_FOUND', /android_control-\*-of-00020/));
    const empty = join(root, 'empty');
    await mkdir(empty, { recursive: true });
    await assert.rejects(load({}, empty), refused('NOT_FOUND', /No AndroidControl TFRecord files/));

    const bad = join(root, 'corrupt');
    await buildAndroidControlFixture(bad);
    const f = join(bad, 'android_control-00001-of-00002');
    const buf = await readFile(f);
    await writeFile(f, buf.subarray(0, buf.length - 40));
    await assert.rejects(load({}, bad), refused('BAD_INPUT', /android_control-00001-of-00002/));

    const broken = join(root, 'broken');
    await buildAndroidControlFixture(broken);
    const swipe = await androidControlExample({ id: 101, goal: 'g', actions: [{ action: { action_type: 'swipe', direction: 'up' }, instruction: 'swipe' }] });
    await writeTFRecords(join(broken, 'android_control-00000-of-00002'), [swipe]);
    await assert.rejects(load({}, broken), refused('BAD_INPUT', /android_control-00000-of-00002 record 0 \(episode 101\) action 0: not an AndroidControl action/));
  });

  test('a screenshot smaller than the screen: the point is scaled to it, the grid stays the same', () => {
    const { ours, truth } = convertAction({ action_type: 'click', x: 540, y: 600 }, { width: 1080, height: 2400 }, { width: 540, height: 1200 }, 'tap', 'here');
    assert.deepEqual(fieldsOf(ours).point, pt(270, 300));
    assert.deepEqual(truth.point, { x: 500, y: 250 });
  });
});

describe('AndroidControl scoring (OS-Atlas rules)', () => {
  let steps: ReplayStep<AndroidControlGold>[];
  before(async () => {
    steps = await load({}, full);
  });

  test('the oracle scores 100% in both modes, every step', async () => {
    for (const mode of ['high', 'low']) {
      const s = await load({ mode }, full);
      const scored = scoreOracle(suite, s);
      for (const x of scored) assert.equal(x.score.success, true, `${mode} ${x.id}`);
      assert.deepEqual(suite.summarize(scored).metrics, { 'type accuracy': 1, 'step SR': 1, 'grounding accuracy': 1 });
    }
  });

  test('click radius: 140 on the whole-number 0–1000 grid, inclusive', () => {
    const t = stepTruth(steps[1]!); // click at (270, 1100) on 540x1200 → [[500,917]]
    const click = (x: number, y: number) => suite.score(act({ action_type: 'click', point: pt(x, y) }), t).success;
    // 345 px → 638.9 → 639: 139 away, inside. 346 px → 640.7 → 641: 141, outside.
    assert.equal(click(345, 1100), true);
    assert.equal(click(346, 1100), false);
    // 1100 − 168 = 932 px → 776.7 → 777: exactly 140 away, inside (<=). 931 px → 775.8 → 776: 141.
    assert.equal(click(270, 932), true);
    assert.equal(click(270, 931), false);
    const noPoint = suite.score(act({ action_type: 'click' }), t);
    assert.deepEqual(noPoint, { success: false, metrics: { typeMatch: true, groundingMatch: false } }, 'a click without a point is (-100, -100)');
  });

  test('the script reads whole numbers without their sign', () => {
    const t = stepTruth(steps[11]!); // 103#1: click at (480, 150) → [[889,125]]
    // 404.2 px → 748.5 → 749: 140 on the grid (a hit) where the unrounded distance is 140.4.
    assert.equal(suite.score(act({ action_type: 'click', point: pt(404.2, 150) }), t).success, true);
    const edge = stepTruth(steps[16]!); // 104#1: click at (5, 600) → [[9,500]]
    // −80 px → −148 → written "-148", read 148: 139 from 9, a hit (the true distance is 157).
    assert.equal(suite.score(act({ action_type: 'click', point: pt(-80, 600) }), edge).success, true);
    assert.equal(suite.score(act({ action_type: 'click', point: pt(-81, 600) }), edge).success, false);
  });

  test('text: the second token of the OS-Atlas strings, F1 > 0.5', () => {
    const t = stepTruth(steps[2]!); // input_text "milk and eggs" → "TYPE [milk and eggs]"
    const type = (text: string) => suite.score(act({ action_type: 'input_text', text }), t).success;
    assert.equal(type('milk and eggs'), true, 'equal strings');
    assert.equal(type('Milk, please'), false, '"[milk," is not "[milk"');
    assert.equal(type('MILK and bread'), true, '"[milk" equals "[milk" ignoring case: F1 1');
    assert.equal(type('milk'), false, '"[milk]" is not "[milk"');
    assert.equal(suite.score(act({ action_type: 'type', text: 'milk and eggs' }), t).success, true, 'our type is TYPE too');
    const app = stepTruth(steps[0]!); // open_app "Keep Notes"
    assert.equal(suite.score(act({ action_type: 'open_app', app: 'Keep Notes app' }), app).success, true);
    assert.equal(suite.score(act({ action_type: 'open_app', app: 'Keep' }), app).success, false);
  });

  test('scroll directions must be equal; other types by name; no answer is wrong', () => {
    const t = stepTruth(steps[3]!); // scroll down
    assert.equal(suite.score(act({ action_type: 'scroll', direction: 'down' }), t).success, true);
    assert.deepEqual(suite.score(act({ action_type: 'scroll', direction: 'up' }), t), { success: false, metrics: { typeMatch: true, groundingMatch: null } });
    // A scroll without a direction cannot reach the suite: it is not an action.
    assert.equal(actionSchema.safeParse({ action_type: 'scroll', step_instruction: '' }).success, false);
    assert.equal(suite.score(act({ action_type: 'key', keys: ['enter'] }), t).metrics.typeMatch, false, 'no AndroidControl counterpart');
    assert.deepEqual(suite.score(undefined, t), { success: false, metrics: { typeMatch: false, groundingMatch: null } });
  });

  test('known mistakes: the figures and files of the official script', async () => {
    const preds: (Action | undefined)[] = [
      act({ action_type: 'open_app', app: 'Keep Notes app' }), // 101#0 ✓ "[keep" = "[keep"
      act({ action_type: 'click', point: pt(346, 1100) }), // 101#1 type ✓, 141 on the grid: miss
      act({ action_type: 'input_text', text: 'Milk' }), // 101#2 type ✓, "[milk]" ≠ "[milk"
      act({ action_type: 'scroll', direction: 'up' }), // 101#3 type ✓, direction ✗
      act({ action_type: 'navigate_home' }), // 101#4 type ✗ (navigate_back)
      undefined, // 102#0 no answer
      act({ action_type: 'long_press', point: pt(177, 300) }), // 102#1 type ✓, [[328,250]] vs [[185,250]]: miss
      act({ action_type: 'type', text: 'pizza near me' }), // 102#2 ✓
      act({ action_type: 'wait' }), // 102#3 ✓
      act({ action_type: 'click', point: pt(10, 10) }), // 102#4 type ✗ (scroll)
      act({ action_type: 'open_app', app: 'clock' }), // 103#0 ✓ F1("[clock]", "[clock]") = 1
      act({ action_type: 'click', point: pt(404.2, 150) }), // 103#1 ✓ exactly 140
      act({ action_type: 'scroll', direction: 'up' }), // 103#2 ✓
      act({ action_type: 'input_text', text: 'wake up at 7:30' }), // 103#3 type ✓, "[wake" ≠ "[7:30"
      act({ action_type: 'finished' }), // 103#4 type ✗ (COMPLETE)
      act({ action_type: 'scroll', direction: 'right' }), // 104#0 ✓
      act({ action_type: 'click', point: pt(-80, 600) }), // 104#1 ✓ read as 148
      act({ action_type: 'long_press' }), // 104#2 type ✓, no point: miss
      act({ action_type: 'key', keys: ['enter'] }), // 104#3 type ✗ (KEY)
    ];
    const scored = scoreSteps(suite, steps, preds);
    const sum = suite.summarize(scored);
    // OS-Copilot/OS-Atlas eval/eval_scripts/android_control/evaluation_unify.py (38740e5, and the
    // earlier 1fa4fb3 alike), run with Debian's python3 on the two files written below for this
    // set, printed: Acc 0.421053, iid 0.200000, app_unseen 0.400000, task_unseen 0.600000,
    // category_unseen 0.500000, type_match acc 0.736842, grounding acc 0.666667; run on each line
    // alone its Acc agreed with exact_match on all 19 steps, in both modes. By hand: success
    // 8/19, type match 14/19, CLICK hits 2 of the 3 CLICK-CLICK steps.
    assert.deepEqual(sum.metrics, { 'type accuracy': 14 / 19, 'step SR': 8 / 19, 'grounding accuracy': 2 / 3 });
    const sub = sum.breakdowns.find((b) => b.name === 'test sub-split')!;
    assert.deepEqual(
      sub.rows.map((r) => [r.key, r.count, r.metrics['step SR']]),
      [
        ['app_unseen', 5, 0.4],
        ['category_unseen', 4, 0.5],
        ['IDD', 5, 0.2],
        ['task_unseen', 5, 0.6],
      ],
    );
    const byAction = sum.breakdowns.find((b) => b.name === 'true action')!;
    assert.deepEqual(byAction.rows.find((r) => r.key === 'click'), { key: 'click', count: 3, metrics: { 'type accuracy': 1, 'step SR': 2 / 3, 'grounding accuracy': 2 / 3 } });
    assert.deepEqual(byAction.rows.find((r) => r.key === 'scroll')?.metrics, { 'type accuracy': 0.75, 'step SR': 0.5 });

    const out = join(root, 'pred');
    const files = await suite.writePredictions(scored, out);
    assert.deepEqual(files.map((f) => f.slice(out.length + 1)), ['androidcontrol_high.jsonl', 'androidcontrol_high_gt.jsonl', 'android_control_test_subsplits.json']);
    const jsonl = async (name: string) => (await readFile(join(out, name), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const lines = await jsonl('androidcontrol_high.jsonl');
    assert.equal(lines.length, 19);
    assert.deepEqual(lines[1], {
      id: '101#1',
      image: 'episode_101_screenshot_1.png',
      pred: 'actions:\nCLICK <point>[[641,917]]</point>',
      gt: 'CLICK <point>[[500,917]]</point>',
      type_match: true,
      exact_match: false,
    });
    assert.deepEqual(
      lines.map((l) => l.pred),
      [
        'actions:\nOPEN_APP [Keep Notes app]', 'actions:\nCLICK <point>[[641,917]]</point>', 'actions:\nTYPE [Milk]', 'actions:\nSCROLL [UP]', 'actions:\nPRESS_HOME',
        '', 'actions:\nLONG_PRESS <point>[[328,250]]</point>', 'actions:\nTYPE [pizza near me]', 'actions:\nWAIT', 'actions:\nCLICK <point>[[19,8]]</point>',
        'actions:\nOPEN_APP [clock]', 'actions:\nCLICK <point>[[749,125]]</point>', 'actions:\nSCROLL [UP]', 'actions:\nTYPE [wake up at 7:30]', 'actions:\nCOMPLETE',
        'actions:\nSCROLL [RIGHT]', 'actions:\nCLICK <point>[[-148,500]]</point>', 'actions:\nLONG_PRESS', 'actions:\nKEY',
      ],
    );
    assert.deepEqual(lines.map((l) => l.exact_match), scored.map((s) => s.score.success));
    const truths = await jsonl('androidcontrol_high_gt.jsonl');
    assert.deepEqual(truths[11], {
      id: '103#1',
      image: 'episode_103_screenshot_1.png',
      conversations: [
        { from: 'human', value: 'Task: Set an alarm for 7:30 in Clock\n' },
        { from: 'gpt', value: 'thoughts:\nTap the add alarm button\nactions:\nCLICK <point>[[889,125]]</point>' },
      ],
    });
    assert.deepEqual(JSON.parse(await readFile(join(out, 'android_control_test_subsplits.json'), 'utf8')), {
      IDD: [101],
      app_unseen: [102],
      task_unseen: [103],
      category_unseen: [104],
    });
  });

  test('low mode: the ground-truth file asks with the step instruction', async () => {
    const low = await load({ mode: 'low' }, full);
    const out = join(root, 'pred-low');
    await suite.writePredictions(scoreOracle(suite, low), out);
    const first = JSON.parse((await readFile(join(out, 'androidcontrol_low_gt.jsonl'), 'utf8')).split('\n')[0]!) as { conversations: { value: string }[] };
    assert.equal(first.conversations[0]!.value, 'Task: Add milk to my shopping list in Keep You need to: Open the Keep Notes app\n');
  });
});
