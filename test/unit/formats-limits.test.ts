/**
 * What every model format guarantees whatever the model writes (issue 15, points 1, 2 and 8):
 * hostile answers parse or fail with PARSE_ERROR (the reliability script times them); the
 * limits on size, nesting, steps and waits end as PARSE_ERROR saying which limit and what was
 * found; and a reader's own failure still comes out as PARSE_ERROR with the raw answer kept.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FORECAST_FORMATS, type Action, type ActionFields, type ForecastFormat } from '../../common/actions.ts';
import { ForesightError, isForesightError } from '../../common/errors.ts';
import {
  MAX_ANSWER_CHARS,
  MAX_FORECAST_STEPS,
  MAX_NESTING_DEPTH,
  MAX_WAIT_MS,
  MODEL_FORMATS,
  modelFormat,
  parseForecast,
  readAnswer,
  serializeTraceR1,
  type ModelFormat,
} from '../../common/formats/index.ts';
import { TEMPLATES } from '../../main/planners/prompts.ts';
import { ISSUE_15_INPUTS, hostileAnswers, stepLine, type HostileAnswer } from '../fixtures/hostile-answers.ts';

/** Any member's fields, to read what a type keeps. */
const fieldsOf = (a: Action): ActionFields => a;

const ctx = { imageWidth: 1280, imageHeight: 800 };

function parseError(raw: string, format: ForecastFormat = 'tracer1'): ForesightError {
  try {
    parseForecast(raw, format, ctx);
  } catch (e) {
    assert.ok(isForesightError(e, 'PARSE_ERROR'), `expected PARSE_ERROR, got ${String(e)}`);
    return e;
  }
  return assert.fail(`expected a PARSE_ERROR for ${JSON.stringify(raw.slice(0, 200))}`);
}

function checkOutcome(h: HostileAnswer): void {
  if ('error' in h.expect) {
    const e = parseError(h.raw, h.format);
    assert.match(e.message, h.expect.error, h.name);
    assert.equal(typeof e.details?.raw, 'string', `${h.name}: the error carries the raw answer`);
  } else {
    assert.equal(parseForecast(h.raw, h.format, ctx).steps.length, h.expect.steps, h.name);
  }
}

describe('hostile answers parse or fail with PARSE_ERROR', () => {
  for (const h of ISSUE_15_INPUTS) test(`issue 15: ${h.name}`, () => checkOutcome(h));
  for (const size of [20_000, 100 * 1024]) {
    test(`every hostile answer at ${size.toLocaleString('en-US')} characters`, () => {
      for (const h of hostileAnswers(size)) checkOutcome(h);
    });
  }
  test('a 1 MiB answer of spaces, of brackets and of UI-TARS calls', () => {
    const big = hostileAnswers(MAX_ANSWER_CHARS).filter((h) => ['spaces', 'brackets', 'UI-TARS calls', 'stars then a step'].includes(h.name));
    assert.equal(big.length, 4);
    for (const h of big) {
      assert.ok(h.raw.length <= MAX_ANSWER_CHARS && h.raw.length > MAX_ANSWER_CHARS - 100, `${h.name} is 1 MiB`);
      checkOutcome(h);
    }
  });
  test('names of Object.prototype are not actions, keys or literals', () => {
    assert.match(parseError(`<answer>Step 1: "screenshot_abstraction": "", "action": {"action_type": "constructor"}, "status": "done"</answer>`).message, /unknown action_type "constructor"/);
    assert.match(parseError(`<answer>Step 1: "screenshot_abstraction": "", "action": {"action_type": "__proto__"}, "status": "done"</answer>`).message, /unknown action_type "__proto__"/);
    assert.match(parseError('<answer>Step 1: "screenshot_abstraction": "", "action": {"action_type": "wait"}, "status": toString</answer>').message, /"status" is "toString"/);
    assert.match(parseError("Action: constructor(start_box='(1,2)')", 'uitars-1.0').message, /unknown action "constructor"/);
    assert.match(parseError("Action: hasOwnProperty(start_box='(1,2)')", 'uitars-1.0').message, /unknown action "hasownproperty"/);
  });
});

describe('limits', () => {
  const tooLong = (raw: string, what: RegExp) => assert.match(parseError(raw).message, what);

  test(`an answer of more than MAX_ANSWER_CHARS (${MAX_ANSWER_CHARS.toLocaleString('en-US')}) characters, and one of exactly that many`, () => {
    const valid = serializeTraceR1([{ screenshot_abstraction: '', action: { action_type: 'wait', step_instruction: '' }, status: 'done' }]);
    const atLimit = `<think>${'x'.repeat(MAX_ANSWER_CHARS - valid.length - 15)}</think>${valid}`;
    assert.equal(atLimit.length, MAX_ANSWER_CHARS);
    assert.equal(parseForecast(atLimit, 'tracer1').steps.length, 1);
    const over = `${atLimit} `;
    tooLong(over, /^the answer is 1,048,577 characters long; at most 1,048,576 are read$/);
    for (const format of FORECAST_FORMATS) assert.ok(isForesightError(catchError(() => parseForecast(over, format, ctx)), 'PARSE_ERROR'), format);
  });

  test(`brackets nested MAX_NESTING_DEPTH (${MAX_NESTING_DEPTH}) deep are read, one more is refused`, () => {
    // action (1) → tool (2) → arguments (3) → … : k nested objects in the arguments reach 2 + k
    const withArgs = (k: number) =>
      `<answer>Step 1: "screenshot_abstraction": "", "action": {"action_type": "tool_call", "step_instruction": "search", "tool": {"name": "search", "arguments": ${'{"a": '.repeat(k)}1${'}'.repeat(k)}}}, "status": "done"</answer>`;
    const f = parseForecast(withArgs(MAX_NESTING_DEPTH - 2), 'tracer1');
    let depth = 0;
    for (let v: unknown = fieldsOf(f.steps[0]!.action).tool!.arguments; typeof v === 'object' && v !== null; v = (v as Record<string, unknown>).a) depth++;
    assert.equal(depth, MAX_NESTING_DEPTH - 2);
    const e = parseError(withArgs(MAX_NESTING_DEPTH - 1));
    assert.match(e.message, new RegExp(`^brackets nest more than ${MAX_NESTING_DEPTH} deep \\(the object opened at .* is level ${MAX_NESTING_DEPTH + 1}\\)`));
    // a tool's arguments given as a JSON string are read with the same limit
    const asString = `<answer>Step 1: "screenshot_abstraction": "", "action": {"action_type": "tool_call", "step_instruction": "search", "tool": {"name": "search", "arguments": ${JSON.stringify('['.repeat(100))}}}, "status": "done"</answer>`;
    assert.match(parseError(asString).message, /brackets nest more than/);
  });

  test(`MAX_FORECAST_STEPS (${MAX_FORECAST_STEPS}) steps are read, one more is refused, in every format`, () => {
    const lines = (n: number) => `<answer>\n${Array.from({ length: n }, (_, i) => stepLine(i + 1)).join('\n')}\n</answer>`;
    assert.equal(parseForecast(lines(MAX_FORECAST_STEPS), 'tracer1').steps.length, MAX_FORECAST_STEPS);
    assert.match(parseError(lines(MAX_FORECAST_STEPS + 1)).message, /^the answer holds more than 100 steps \(found a "Step 101:" after 100 of them\); forecast at most 100$/);
    const array = (n: number) => `<answer>[${Array.from({ length: n }, () => '{"screenshot_abstraction": "", "action": {"action_type": "wait"}, "status": "done"}').join(',')}]</answer>`;
    assert.equal(parseForecast(array(MAX_FORECAST_STEPS), 'tracer1').steps.length, MAX_FORECAST_STEPS);
    assert.match(parseError(array(5000)).message, /^the answer holds 5,000 steps; forecast at most 100$/);
    const calls = (n: number) => `Thought: copy\nAction: ${"hotkey(key='ctrl c')\n".repeat(n)}`;
    assert.equal(parseForecast(calls(MAX_FORECAST_STEPS), 'uitars-1.0').steps.length, MAX_FORECAST_STEPS);
    assert.match(parseError(calls(40_000), 'uitars-1.0').message, /^the answer holds more than 100 actions \(found "hotkey\(key='ctrl c'\)/);
  });

  test(`a wait of up to MAX_WAIT_MS (${MAX_WAIT_MS} ms) is read; a longer one is a parse error, in any unit`, () => {
    const wait = (args: string) => `<answer>Step 1: "screenshot_abstraction": "", "action": {"action_type": "wait", ${args}}, "status": "not done"</answer>`;
    assert.equal(fieldsOf(parseForecast(wait(`"duration_ms": ${MAX_WAIT_MS}`), 'tracer1').steps[0]!.action).duration_ms, MAX_WAIT_MS);
    assert.equal(fieldsOf(parseForecast(wait('"seconds": 2.5'), 'tracer1').steps[0]!.action).duration_ms, 2500);
    assert.match(parseError(wait(`"duration_ms": ${MAX_WAIT_MS + 1}`)).message, /^Step 1: a wait of 60,001 ms is longer than the longest allowed, 60,000 ms \(60 s\)$/);
    assert.match(parseError(wait('"duration_ms": 3000000000')).message, /a wait of 3,000,000,000 ms is longer than the longest allowed/);
    assert.match(parseError(wait('"seconds": 61')).message, /a wait of 61,000 ms is longer/);
    assert.match(parseError(wait('"seconds": 1e300')).message, /is longer than the longest allowed/);
  });

  test('a message quotes only a short piece of a huge value (it goes back to the model as feedback)', () => {
    const huge = 'x'.repeat(100_000);
    const cases: Array<[string, ForecastFormat]> = [
      [`<answer>Step 1: "screenshot_abstraction": "", "action": {"action_type": "wait"}, "status": "${huge}"</answer>`, 'tracer1'],
      [`<answer>Step 1: "screenshot_abstraction": "", "action": {"action_type": "${huge}"}, "status": "done"</answer>`, 'tracer1'],
      [`<answer>Step 1: "screenshot_abstraction": "", "action": {"action_type": "hotkey", "keys": "ctrl+${huge}"}, "status": "done"</answer>`, 'tracer1'],
      [`<answer>Step 1: "${huge}" "screenshot_abstraction": ""</answer>`, 'tracer1'],
      [`Action: hotkey(key='ctrl ${huge}')`, 'uitars-1.0'],
      [`Action: ${huge}(start_box='(1,2)')`, 'uitars-1.0'],
      [`Action: scroll(direction='${huge}')`, 'uitars-1.0'],
      [`Action: click(start_box='${huge}')`, 'uitars-1.0'],
    ];
    for (const [raw, format] of cases) {
      const e = parseError(raw, format);
      assert.ok(e.message.length < 600, `${format}: a message of ${e.message.length} characters: ${e.message.slice(0, 200)}`);
    }
  });

  test('a limit error keeps the raw answer (cut to 4,000 characters) and names the limit once', () => {
    const raw = `<answer>${'['.repeat(5120)}</answer>`;
    const e = parseError(raw);
    assert.deepEqual(e.details?.problems, [e.message]);
    assert.ok((e.details?.raw as string).startsWith('<answer>[[[['));
    assert.match(e.details?.raw as string, /…\(1\d{3} more characters\)$/);
  });
});

describe('the registry', () => {
  test('every id of FORECAST_FORMATS has its format, and every live prompt it names exists', () => {
    assert.deepEqual(MODEL_FORMATS.map((f) => f.id).sort(), [...FORECAST_FORMATS].sort());
    for (const id of FORECAST_FORMATS) {
      const f = modelFormat(id);
      assert.equal(f.id, id);
      if (f.prompt.template !== undefined) assert.ok(TEMPLATES[f.prompt.template], `${id}: template ${f.prompt.template}`);
    }
    assert.throws(() => modelFormat('uitars-9' as ForecastFormat), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /use one of tracer1, uitars-1.0, uitars-1.5/.test(e.message));
  });

  test("a live planner asks with the prompt its format's contract names, and refuses a format no prompt asks for", async () => {
    const { OpenAIPlanner } = await import('../../main/planners/openai-planner.ts');
    const spec = (format: string) => `openai:http://127.0.0.1:9/v1#some-model?format=${format}`;
    for (const f of MODEL_FORMATS) {
      if (f.prompt.template === undefined) {
        assert.throws(
          () => new OpenAIPlanner(spec(f.id)),
          (e: unknown) => isForesightError(e, 'BAD_INPUT') && e.message === `Live planning with ${f.id} is not supported (no prompt asks for it); use format=tracer1 or uitars-1.5`,
        );
      } else {
        assert.equal(new OpenAIPlanner(spec(f.id)).format, f.id);
      }
    }
  });

  test('each format reads back what it writes', () => {
    const steps = [
      { screenshot_abstraction: '', action: { action_type: 'click' as const, step_instruction: 'OK', point: { space: 'norm1000' as const, x: 10, y: 20 } }, status: 'not done' as const },
      { screenshot_abstraction: '', action: { action_type: 'finished' as const, step_instruction: 'OK', answer: 'done' }, status: 'done' as const },
    ];
    for (const f of MODEL_FORMATS) {
      const back = parseForecast(f.serialize(steps, { thought: 'OK', image: ctx }), f.id, ctx);
      assert.deepEqual(
        back.steps.map((s) => [s.action.action_type, s.status, fieldsOf(s.action).answer]),
        [
          ['click', 'not done', undefined],
          ['finished', 'done', 'done'],
        ],
        f.id,
      );
    }
  });

  test("a reader's own failure (a bug, a RangeError) comes out as PARSE_ERROR with the raw answer; its ForesightErrors pass as they are", () => {
    const broken = (thrown: unknown): ModelFormat => ({
      ...modelFormat('tracer1'),
      parse: () => {
        throw thrown;
      },
    });
    const e = catchError(() => readAnswer(broken(new RangeError('Maximum call stack size exceeded')), 'the answer'));
    assert.ok(isForesightError(e, 'PARSE_ERROR'));
    assert.equal(e.message, 'the answer could not be read (the tracer1 reader failed: RangeError: Maximum call stack size exceeded)');
    assert.equal(e.details?.raw, 'the answer');
    const own = new ForesightError('BAD_INPUT', 'needs the screenshot size');
    assert.equal(catchError(() => readAnswer(broken(own), 'x')), own);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return assert.fail('expected an error');
}
