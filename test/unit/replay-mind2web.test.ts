/**
 * Multimodal-Mind2Web: the SeeClick screenshot evaluation (element by click point in the
 * rounded target box, operation F1, step SR) on hand-made cases and on the native parquet
 * fixture through the loader and the suite.
 *
 * The per-step rules were checked against SeeClick's agent_tasks/mind2web_test.py itself (at
 * cac90bc, run unchanged with the model, torch and PIL replaced by stand-ins, Python 3 + numpy 2.4) on
 * ~19,000 random steps (boxes on 1/16 px, edge points, quotes, backslash escapes, Unicode
 * spaces): every Op_match, Ele_match and Op_F1 and every printed figure equal ours to the
 * last bit. The figures of the "known mistakes" test below are what that script's metric
 * section prints on the predictions file we write for them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionSchema, type Action, type ActionFields } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';
import type { Mind2WebGold } from '../../main/replay/loaders/mind2web.ts';
import { normBox, npMean, opF1, pyLiteralValue, pyRound3, scoreMind2WebStep, summarizeMind2Web } from '../../main/replay/metrics/mind2web.ts';
import { mind2webSuite as suite, seeClickSentence, toM2wAnswer } from '../../main/replay/suites/mind2web.ts';
import type { LoadOptions, ReplayStep } from '../../main/replay/suite.ts';
import { loadSteps, scoreOracle, scoreSteps } from '../fixtures/replay/steps.ts';
import { M2W_FIXTURE_ROWS, buildMind2WebFixture, writeMind2WebRows } from '../fixtures/replay/mind2web.ts';

/** Any member's fields, to read what a type keeps. */
const fieldsOf = (a: Action): ActionFields => a;

const close = (a: number | undefined, b: number) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);

describe('SeeClick / Mind2Web rules', () => {
  test('operation F1 on token sets, split on the whitespace Python splits on', () => {
    assert.equal(opF1('4', '4'), 1);
    assert.equal(opF1('3 new york city', '3 new york'), 6 / 7, 'p 3/4, r 1');
    assert.equal(opF1('3 new', '3 new york'), 0.8, 'partial value: p 1, r 2/3');
    assert.equal(opF1('3 x', '4'), 0);
    assert.equal(opF1('2 economy', '3 economy'), 0.5, 'the operation number is a token');
    assert.equal(opF1('', ''), 1);
    assert.equal(opF1('3 a a b', '3 a b'), 1, 'sets: repeats do not count');
    assert.equal(opF1('3 a\u00a0b', '3 a b'), 1, 'a no-break space splits in Python (and in JS)');
    assert.equal(opF1('3 a\u001cb', '3 a b'), 1, 'U+001C splits in Python, not with JS \\s');
    assert.ok(Math.abs(opF1('3 a\ufeffb', '3 a b') - 0.4) < 1e-15, 'U+FEFF does not split in Python: p 1/2, r 1/3');
  });

  test('boxes are rounded to 3 decimals like Python: nearest to the binary value, exact ties to even', () => {
    assert.equal(pyRound3(0.171875), 0.172);
    assert.equal(pyRound3(0.0625), 0.062, 'an exact tie goes to the even digit');
    assert.equal(pyRound3(-0.0625), -0.062);
    assert.equal(pyRound3(0.1875), 0.188);
    assert.equal(pyRound3(0.6255), 0.625, 'the double 0.6255 is just below the tie (0.6255 * 2000 still rounds to 1251)');
    assert.deepEqual(normBox(100, 200, 120, 40, 1280, 1000), [0.078, 0.2, 0.172, 0.24]);
    assert.deepEqual(normBox(807.7, 625.5, 232.3, 39.5, 1600, 1000), [0.505, 0.625, 0.65, 0.665], 'Python gives the same');
  });

  test('the truth value as ast.literal_eval reads it back, or undefined (the script skips the step)', () => {
    assert.equal(pyLiteralValue('New York'), 'New York');
    assert.equal(pyLiteralValue("it's"), "it's");
    assert.equal(pyLiteralValue('12" monitor'), undefined, 'the quote closes the string');
    assert.equal(pyLiteralValue('C:\\temp'), 'C:\temp', '\\t is a tab');
    assert.equal(pyLiteralValue('x\\x41y oct\\101\\7 \\u00e9'), 'xAy octA\x07 é');
    assert.equal(pyLiteralValue('q\\qz'), 'q\\qz', 'an unknown escape keeps its backslash');
    assert.equal(pyLiteralValue('a\\\nb'), 'ab', 'backslash + line break continues the line');
    for (const bad of ['end\\', 'bad\\xZ1', '\\u12', 'line\nbreak', 'nul\0', '\\U00110000']) assert.equal(pyLiteralValue(bad), undefined, JSON.stringify(bad));
  });

  test('element: inside the rounded box, edges inclusive; no point is format wrong', () => {
    const t = { op: 4 as const, box: [0.078, 0.2, 0.172, 0.24] as const, value: '' };
    assert.equal(scoreMind2WebStep({ actionType: 4, clickPoint: [0.172, 0.24] }, t).success, true, 'the corner');
    assert.equal(scoreMind2WebStep({ actionType: 4, clickPoint: [0.1721, 0.24] }, t).elementMatch, false, 'just outside');
    assert.equal(scoreMind2WebStep({ actionType: 4, clickPoint: [0.078, 0.2] }, t).elementMatch, true, 'the other corner');
    assert.equal(scoreMind2WebStep({ actionType: 4, clickPoint: [0.0779, 0.2] }, t).elementMatch, false);
    assert.deepEqual(scoreMind2WebStep({ actionType: 4 }, t), { opMatch: true, elementMatch: false, f1: 0, success: false });
    const typeTruth = { op: 3 as const, box: [0, 0, 1, 1] as const, value: 'New York' };
    assert.equal(scoreMind2WebStep({ actionType: 3, clickPoint: [0.5, 0.5], value: 'NEW YORK' }, typeTruth).success, true, 'values compared lower-cased');
    assert.deepEqual(scoreMind2WebStep({ actionType: 2, clickPoint: [0.5, 0.5], value: 'New York' }, typeTruth), { opMatch: false, elementMatch: true, f1: 2 / 3, success: false }, 'SELECT for a TYPE: p 2/3, r 2/3');
  });

  test('our actions become SeeClick answers; hover (move) and enter count as clicks', () => {
    const p = { space: 'screenshot' as const, x: 640, y: 250 };
    assert.deepEqual(toM2wAnswer({ action_type: 'move', step_instruction: '', point: p }, 1280, 1000), { actionType: 4, clickPoint: [0.5, 0.25] });
    assert.equal(toM2wAnswer({ action_type: 'key', step_instruction: '', keys: ['enter'], point: p }, 1280, 1000).actionType, 4);
    assert.equal(toM2wAnswer({ action_type: 'key', step_instruction: '', keys: ['tab'], point: p }, 1280, 1000).actionType, -1);
    assert.deepEqual(toM2wAnswer({ action_type: 'select', step_instruction: '', value: 'Economy', point: p }, 1280, 1000), { actionType: 2, value: 'Economy', clickPoint: [0.5, 0.25] });
    assert.deepEqual(toM2wAnswer({ action_type: 'input_text', step_instruction: '', text: 'hi' }, 1280, 1000), { actionType: 3, value: 'hi' });
    assert.deepEqual(toM2wAnswer(undefined, 1280, 1000), { actionType: -1 });
    assert.equal(seeClickSentence({ actionType: 3, clickPoint: [0.5078125, 0.22], value: 'say "hi"' }), '{"action_type": 3, "click_point": (0.5078125,0.22), "value": "say \\"hi\\""}');
  });

  test('means are numpy\'s (pairwise sums), so the figures match the script to the last bit', () => {
    assert.equal(npMean(Array<number>(10).fill(0.1)), 0.1, 'numpy 2.4: np.mean([0.1]*10) == 0.1; a plain sum gives 0.09999999999999999');
    assert.equal(npMean([...Array<number>(200).fill(6 / 7), ...Array<number>(77).fill(0.4)]), 0.7300670448684888, 'numpy 2.4');
    const s = (f1: number, ok: boolean) => ({ opMatch: true, elementMatch: ok, f1, success: ok && f1 === 1 });
    const sum = summarizeMind2Web([
      { episode: 'a', op: 4, score: s(1, true) },
      { episode: 'a', op: 3, score: s(0.5, true) },
      { episode: 'b', op: 2, score: s(1, false) },
    ]);
    assert.deepEqual(sum, {
      elementAccuracy: 2 / 3,
      operationF1: (1 + 1 + 0.5) / 3,
      stepSR: 1 / 3,
      episodeSR: 0,
      macroElementAccuracy: (1 + 0) / 2,
      macroOperationF1: (0.75 + 1) / 2,
      macroStepSR: (0.5 + 0) / 2,
      f1ByOp: { 4: 1, 3: 0.5, 2: 1 },
    });
  });
});

let root: string;
let data: string;
let fixtureSteps: number;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'foresight-m2w-'));
  const fx = await buildMind2WebFixture(join(root, 'data'));
  data = fx.dataPath;
  fixtureSteps = fx.steps;
});
after(() => rm(root, { recursive: true, force: true }));

const load = (opts: LoadOptions = {}, path = data): Promise<ReplayStep<Mind2WebGold>[]> => loadSteps(suite, path, opts);

const pt = (x: number, y: number) => ({ space: 'screenshot' as const, x, y });
const act = (a: Omit<ActionFields, 'step_instruction'>): Action => actionSchema.parse({ step_instruction: '', ...a });

describe('Mind2Web loader and suite', () => {
  test('test_task: tasks in order, steps by target_action_index, skipped steps left out, train not read', async () => {
    const steps = await load();
    assert.deepEqual(steps.map((s) => s.id), ['ann-1#ann-1-a0', 'ann-1#ann-1-a1', 'ann-1#ann-1-a2', 'ann-1#ann-1-a4', 'ann-2#ann-2-a0', 'ann-2#ann-2-a1']);
    assert.equal(steps.length, fixtureSteps);
    assert.deepEqual(steps.map((s) => s.index), [0, 1, 2, 4, 0, 1], 'the quoted value (a3) leaves a gap; the boxless ann-2 step is not counted');
    assert.deepEqual(steps.map((s) => s.gold.originalOp), ['CLICK', 'TYPE', 'SELECT', 'TYPE', 'HOVER', 'ENTER']);
    assert.deepEqual(steps.map((s) => s.gold.op), [4, 3, 2, 3, 4, 4]);
    // The true point is the centre of the box as SeeClick rounds it (3 decimals of the image), as 0–1.
    assert.deepEqual(steps[1]!.future[0]!.action, {
      action_type: 'type',
      step_instruction: '[button] target -> TYPE: New York',
      text: 'New York',
      point: { space: 'norm1', x: (steps[1]!.gold.box[0] + steps[1]!.gold.box[2]) / 2, y: (steps[1]!.gold.box[1] + steps[1]!.gold.box[3]) / 2 },
    });
    assert.deepEqual(steps[1]!.gold.box.map((v) => Math.round(v * 1000)), [234, 100, 547, 130]);
    assert.equal(fieldsOf(steps[2]!.future[0]!.action).value, 'Economy');
    assert.equal(steps[2]!.history.length, 2);
    // The skipped step is in the history (the script adds it before skipping) and in the future.
    assert.equal(steps[3]!.history.length, 4);
    assert.match(steps[3]!.history[3]!.action, /^type "12\\" monitor"/);
    assert.equal(steps[3]!.gold.value, 'C:\temp', 'the value as the script reads it back');
    assert.equal(fieldsOf(steps[3]!.future[0]!.action).text, 'C:\temp');
    assert.equal(steps[2]!.future.length, 3);
    assert.deepEqual(steps[3]!.future.map((f) => f.status), ['done']);
    assert.deepEqual(steps[5]!.gold.box, [0.062, 0.04, 0.125, 0.07], 'x 80/1280 = 0.0625, a tie, rounds to 0.062');
    assert.deepEqual(steps[5]!.history.map((h) => h.step), [1]);
    assert.deepEqual(steps[4]!.categories, { operation: 'CLICK', website: 'amazon', domain: 'Shopping', subdomain: 'Shopping sub', split: 'test_task' });
    assert.equal(steps[0]!.instruction, 'Book an economy flight to New York');
    assert.deepEqual([steps[0]!.image.width, steps[0]!.image.height], [1280, 1000]);
    assert.equal((await steps[0]!.image.read())[1], 0x50, 'the PNG bytes of the screenshot struct');
    assert.equal((await load({ split: 'train' })).length, 1);
    assert.equal(await suite.count!(data, {}), 6, 'the count for the progress bar leaves the same steps out');
    assert.equal(await suite.count!(data, { limit: 2 }), 2);
    assert.deepEqual((await load({ limit: 4 })).map((s) => s.id), steps.slice(0, 4).map((s) => s.id));
  });

  test('a single file, GZIP pages (node:zlib) read too', async () => {
    const dir = join(root, 'gzip');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'test_website-00000-of-00001.parquet');
    await writeMind2WebRows(file, M2W_FIXTURE_ROWS.slice(0, 3), 'GZIP');
    const steps = await load({ split: 'test_website' }, file);
    assert.deepEqual(steps.map((s) => s.id), ['ann-1#ann-1-a0', 'ann-1#ann-1-a1', 'ann-1#ann-1-a2']);
    assert.equal(steps[0]!.categories.split, 'test_website');
  });

  test('a file that is not parquet, or another split, is refused with what to do', async () => {
    const bad = join(root, 'bad');
    await buildMind2WebFixture(bad);
    await writeFile(join(bad, 'data', 'test_task-00000-of-00001-0123456789abcdef.parquet'), 'not parquet');
    await assert.rejects(load({}, bad), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /test_task-00000-of-00001-0123456789abcdef\.parquet is not a readable parquet file/.test(e.message));
    await assert.rejects(load({ split: 'test_domain' }), (e: unknown) => isForesightError(e, 'NOT_FOUND') && /split test_domain/.test(e.message));
    await assert.rejects(load({ split: 'dev' }), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /test_task, test_website, test_domain, train/.test(e.message));
  });

  test('the oracle scores 100%', async () => {
    const steps = await load();
    const scored = scoreOracle(suite, steps);
    assert.ok(scored.every((s) => s.score.success));
    assert.deepEqual(suite.summarize(scored).metrics, {
      'element accuracy': 1,
      'operation F1': 1,
      'step SR': 1,
      'episode SR': 1,
      'macro element accuracy': 1,
      'macro operation F1': 1,
      'macro step SR': 1,
    });
  });

  test("a task without a scored step counts as the script counts it: in the episode total, as a success; NaN macro lines noted", async () => {
    const empty = await suite.emptyEpisodes!(data, {});
    assert.deepEqual(empty, ['ann-3']);
    const steps = await load();
    assert.ok(!steps.some((s) => s.episodeId === 'ann-3'), 'no step of it is replayed');
    // ann-1 wrong at its first step, ann-2 right: the script's episode SR is (1 + 1) / 3.
    const preds = steps.map((s, i) => (i === 0 ? undefined : s.future[0]!.action));
    const scored = scoreSteps(suite, steps, preds);
    const sum = suite.summarize(scored, { emptyEpisodes: empty });
    assert.equal(sum.metrics['episode SR'], 2 / 3);
    assert.equal(sum.metrics['episode SR (tasks with a scored step)'], 1 / 2);
    assert.equal(sum.metrics['macro element accuracy'], undefined, 'the script prints NaN there');
    assert.ok(sum.metrics['macro step SR (tasks with a scored step)']! > 0);
    assert.match(sum.notes?.[0] ?? '', /1 task has no step .* NaN/);
    const [file] = await suite.writePredictions(scored, join(root, 'pred-empty'), { emptyEpisodes: empty });
    const results = JSON.parse(await readFile(file!, 'utf8')) as unknown[][];
    assert.equal(results.length, 3, "the script's results hold the empty task too");
    assert.deepEqual(results[2], []);
  });

  test('known mistakes give the figures of the official rules; the predictions file is the script results', async () => {
    const steps = await load();
    const preds: (Action | undefined)[] = [
      act({ action_type: 'click', point: pt(220.1, 220) }), // 0.17195 ≤ 0.172 (rounded box; the true box ends at 220 px): ✓
      act({ action_type: 'type', text: 'new york city', point: pt(500, 115) }), // element ✓, F1 6/7: ✗
      act({ action_type: 'select', value: 'Economy', point: pt(150, 540) }), // 0.54 > 0.53: element ✗, F1 1: ✗
      act({ action_type: 'type', text: 'C:\\temp', point: pt(500, 155) }), // element ✓; truth "3 c:<tab>emp" → {3, c:, emp}, ours {3, c:\temp}: F1 2·(1/2)(1/3)/(5/6) = 0.4: ✗
      act({ action_type: 'click' }), // no point: format wrong (Op_match true), element ✗, F1 0: ✗
      act({ action_type: 'key', keys: ['enter'], point: pt(79.5, 55) }), // 0.0621 ≥ 0.062 although the box starts at 80 px: ✓
    ];
    const scored = scoreSteps(suite, steps, preds);
    assert.deepEqual(scored.map((s) => s.score.success), [true, false, false, false, false, true]);
    assert.deepEqual(scored.map((s) => s.score.metrics.opMatch), [true, true, true, true, true, true]);
    const sum = suite.summarize(scored);
    // Element 4/6; step SR 2/6; op F1 = mean over true ops 4, 2, 3 of their mean F1:
    // CLICK (1 + 0 + 1)/3, SELECT 1, TYPE (6/7 + 0.4)/2 = 22/35 → (2/3 + 1 + 22/35)/3 = 241/315.
    // Macro: ann-1 element [1,1,0,1], F1 [1, 6/7, 1, 0.4], success [1,0,0,0]; ann-2 [0,1], [0,1], [0,1].
    // The script's metric section (from "# calculate metrics" on, run with numpy 2.4 on
    // results = json.load(the file written below)) prints exactly these:
    // Operation F1 0.765079365079365, Element Acc 0.6666666666666666, Step Success 0.3333333333333333,
    // Episode Success 0.0, Macro Ele Acc 0.625, Macro Op F1 0.6571428571428571, Macro Step SR 0.375.
    assert.deepEqual(sum.metrics, {
      'element accuracy': 0.6666666666666666,
      'operation F1': 0.765079365079365,
      'step SR': 0.3333333333333333,
      'episode SR': 0,
      'macro element accuracy': 0.625,
      'macro operation F1': 0.6571428571428571,
      'macro step SR': 0.375,
    });
    close(sum.metrics['operation F1'], 241 / 315);
    close(sum.metrics['macro operation F1'], (57 / 70 + 1 / 2) / 2);
    const byOp = sum.breakdowns.find((b) => b.name === 'operation')!;
    assert.deepEqual(byOp.rows.map((r) => [r.key, r.count, r.metrics['element accuracy'], r.metrics['step SR']]), [['CLICK', 3, 2 / 3, 2 / 3], ['SELECT', 1, 0, 0], ['TYPE', 2, 1, 0]]);
    assert.deepEqual(sum.breakdowns.map((b) => b.name), ['operation', 'domain', 'website']);
    const byDomain = sum.breakdowns.find((b) => b.name === 'domain')!;
    assert.deepEqual(byDomain.rows.map((r) => [r.key, r.count, r.metrics['element accuracy']]), [['Shopping', 2, 0.5], ['Travel', 4, 0.75]]);

    const [file] = await suite.writePredictions(scored, join(root, 'pred'));
    assert.match(file!, /mind2web_test_task\.json$/);
    const episodes = JSON.parse(await readFile(file!, 'utf8')) as { img_path: string; sentence: string; Op_match: boolean; Ele_match: boolean; Op_F1: [number, number] }[][];
    assert.deepEqual(episodes.map((e) => e.length), [4, 2]);
    assert.equal(episodes[0]![0]!.img_path, 'ann-1-ann-1-a0.jpg');
    assert.equal(episodes[0]![0]!.sentence, '{"action_type": 4, "click_point": (0.17195312499999998,0.22)}');
    assert.equal(episodes[0]![3]!.sentence, '{"action_type": 3, "click_point": (0.390625,0.155), "value": "C:\\\\temp"}');
    assert.equal(episodes[1]![0]!.sentence, '{"action_type": 4}');
    assert.deepEqual(episodes[0]![1]!.Op_F1, [6 / 7, 3]);
    assert.deepEqual(episodes.flat().map((r) => r.Ele_match), [true, true, false, true, false, true]);
    assert.deepEqual(episodes.flat().map((r) => r.Op_F1[1]), [4, 3, 2, 3, 4, 4]);
  });
});
