import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseForecast, serializeTraceR1, serializeUiTars, type ParseContext } from '../../common/formats/index.ts';
import { smartResize } from '../../common/image-resize.ts';
import { ACTION_TYPES, DIRECTIONS, actionSchema, plannerPoint, type Action, type ActionFields, type ActionType, type Forecast, type ForecastFormat, type ForecastStep } from '../../common/actions.ts';
import type { SpacePoint } from '../../common/coords.ts';
import { ForesightError, isForesightError } from '../../common/errors.ts';
import { saveAsPlan, LINE } from '../fixtures/plans.ts';

/** The PARSE_ERROR a malformed answer must produce. */
function parseError(raw: string, format: ForecastFormat = 'tracer1', ctx?: ParseContext): ForesightError {
  try {
    parseForecast(raw, format, ctx);
  } catch (e) {
    assert.ok(isForesightError(e, 'PARSE_ERROR'), `expected PARSE_ERROR, got ${String(e)}`);
    return e;
  }
  return assert.fail(`expected a PARSE_ERROR for:\n${raw}`);
}

/** A TraceR1 answer block around the given step lines. */
const answer = (...lines: string[]) => `<think>planning</think><answer>\n${lines.join('\n')}\n</answer>`;

/** Any member's fields, to read what a type keeps (undefined where it has none). */
const fieldsOf = (a: Action): ActionFields => a;
const actionOf = (raw: string, i = 0): ActionFields => parseForecast(raw, 'tracer1').steps[i]!.action;

describe('TraceR1 format: what the prototype writes', () => {
  test('the Save As plan reads step by step, with the thought', () => {
    const f = parseForecast(saveAsPlan('/tmp/out.txt'), 'tracer1');
    assert.equal(f.format, 'tracer1');
    assert.match(f.thought ?? '', /^Mousepad is open/);
    assert.deepEqual(
      f.steps.map((s) => [s.action.action_type, s.status]),
      [
        ['type', 'not done'],
        ['click', 'not done'],
        ['click', 'not done'],
        ['type', 'not done'],
        ['key', 'not done'],
        ['finished', 'done'],
      ],
    );
    assert.equal(fieldsOf(f.steps[0]!.action).text, LINE);
    assert.equal(f.steps[0]!.screenshot_abstraction, 'An empty Mousepad window');
    assert.equal(f.steps[2]!.action.step_instruction, "click on 'Save As…' in the File menu");
    assert.equal(fieldsOf(f.steps[3]!.action).text, '/tmp/out.txt');
    assert.deepEqual(fieldsOf(f.steps[4]!.action).keys, ['enter']);
  });

  test('the mobile prototype line format with input_text kept as the mobile action', () => {
    const f = parseForecast(
      answer(
        'Step 1: "screenshot_abstraction": "Home screen", "action": {"action_type": "open_app", "app": "Contacts", "step_instruction": "open the Contacts app"}, "status": "not done"',
        'Step 2: "screenshot_abstraction": "Contacts list", "action": {"action_type": "input_text", "text": "Alice", "step_instruction": "type Alice into the search field"}, "status": "not done"',
        'Step 3: "screenshot_abstraction": "Results", "action": {"action_type": "navigate_back", "step_instruction": ""}, "status": "done"',
      ),
      'tracer1',
    );
    assert.deepEqual(
      f.steps.map((s) => s.action),
      [
        { action_type: 'open_app', app: 'Contacts', step_instruction: 'open the Contacts app' },
        { action_type: 'input_text', text: 'Alice', step_instruction: 'type Alice into the search field' },
        { action_type: 'navigate_back', step_instruction: '' },
      ],
    );
  });
});

describe('TraceR1 format: tolerant of how models write it', () => {
  const canonical = {
    screenshot_abstraction: 'A dialog',
    action: { action_type: 'click', step_instruction: 'click on the Save button' } satisfies Action,
    status: 'not done',
  } as const;

  test('whitespace and newlines anywhere', () => {
    const f = parseForecast(
      `  <think>\n  planning\n</think>\n\n<answer>\n\n   Step   1 :\n  "screenshot_abstraction"  :\n "A dialog" ,\n "action" : {\n   "action_type" :"click",\n\t"step_instruction":   "click on the Save button"\n } ,\n "status" : "not done"\n\n</answer>  \n`,
      'tracer1',
    );
    assert.equal(f.thought, 'planning');
    assert.deepEqual(f.steps, [canonical]);
  });

  test('missing </think> and </answer> closers', () => {
    const f = parseForecast(
      '<think>I should save<answer>Step 1: "screenshot_abstraction": "A dialog", "action": {"action_type": "click", "step_instruction": "click on the Save button"}, "status": "not done"',
      'tracer1',
    );
    assert.equal(f.thought, 'I should save');
    assert.deepEqual(f.steps, [canonical]);
  });

  test('a </think> whose opener was in the prompt, and steps without an <answer> tag after it', () => {
    const f = parseForecast(
      'I should save.</think>\nStep 1: "screenshot_abstraction": "A dialog", "action": {"action_type": "click", "step_instruction": "click on the Save button"}, "status": "not done"',
      'tracer1',
    );
    assert.equal(f.thought, 'I should save.');
    assert.deepEqual(f.steps, [canonical]);
  });

  for (const marker of ['Step 1:', 'Step 1 :', 'step 1:', 'Step1:', '**Step 1:**', '**Step 1**:', '- Step 1:', '### Step 1:', 'Step 1：']) {
    test(`the step marker ${JSON.stringify(marker)}`, () => {
      const f = parseForecast(
        answer(
          `${marker} "screenshot_abstraction": "A dialog", "action": {"action_type": "click", "step_instruction": "click on the Save button"}, "status": "not done"`,
          `${marker.replace('1', '2')} "screenshot_abstraction": "", "action": {"action_type": "wait"}, "status": "done"`,
        ),
        'tracer1',
      );
      assert.deepEqual(f.steps[0], canonical);
      assert.equal(f.steps[1]!.action.action_type, 'wait');
    });
  }

  test('all steps on one line', () => {
    const f = parseForecast(
      answer(
        'Step 1: "screenshot_abstraction": "A dialog", "action": {"action_type": "click", "step_instruction": "click on the Save button"}, "status": "not done", Step 2: "screenshot_abstraction": "Saved", "action": {"action_type": "finished"}, "status": "done"',
      ),
      'tracer1',
    );
    assert.deepEqual(f.steps.map((s) => s.action.action_type), ['click', 'finished']);
  });

  test('single-quoted strings, trailing commas and unquoted keys', () => {
    const f = parseForecast(
      answer(`Step 1: screenshot_abstraction: 'A dialog', action: {action_type: 'click', step_instruction: 'click on the Save button',}, status: 'not done',`),
      'tracer1',
    );
    assert.deepEqual(f.steps, [canonical]);
  });

  test('an apostrophe inside a single-quoted string and unescaped quotes inside a double-quoted one stay in the text', () => {
    const a = actionOf(answer(`Step 1: 'screenshot_abstraction': 'x', 'action': {'action_type': 'click', 'step_instruction': 'click on the user's avatar'}, 'status': 'not done'`));
    assert.equal(a.step_instruction, "click on the user's avatar");
    const b = actionOf(answer('Step 1: "screenshot_abstraction": "x", "action": {"action_type": "click", "step_instruction": "click on the "OK" button"}, "status": "not done"'));
    assert.equal(b.step_instruction, 'click on the "OK" button');
  });

  test('curly quotes as delimiters, curly apostrophes kept inside the text', () => {
    const f = parseForecast(
      answer(
        'Step 1: “screenshot_abstraction”: “A dialog”, “action”: {“action_type”: “click”, “step_instruction”: “click on the Save button”}, “status”: “not done”',
        'Step 2: ‘screenshot_abstraction’: ‘’, ‘action’: {‘action_type’: ‘click’, ‘step_instruction’: “click on the user’s name”}, ‘status’: ‘done’',
      ),
      'tracer1',
    );
    assert.deepEqual(f.steps[0], canonical);
    assert.equal(f.steps[1]!.action.step_instruction, 'click on the user’s name');
    assert.equal(f.steps[1]!.status, 'done');
  });

  test('curly quotes inside a properly quoted JSON string stay text', () => {
    const a = actionOf(answer('Step 1: "screenshot_abstraction": "", "action": {"action_type": "type", "text": "He said “hi”, then left", "step_instruction": ""}, "status": "done"'));
    assert.equal(a.text, 'He said “hi”, then left');
  });

  for (const [written, status] of [
    ['Done', 'done'],
    ['DONE', 'done'],
    ['completed', 'done'],
    ['not_done', 'not done'],
    ['not-done', 'not done'],
    ['Not Done', 'not done'],
    ['notdone', 'not done'],
    ['in progress', 'not done'],
  ] as const) {
    test(`status "${written}" reads as "${status}"`, () => {
      const f = parseForecast(answer(`Step 1: "screenshot_abstraction": "", "action": {"action_type": "wait"}, "status": "${written}"`), 'tracer1');
      assert.equal(f.steps[0]!.status, status);
    });
  }

  test('a bare status word', () => {
    const f = parseForecast(answer('Step 1: "screenshot_abstraction": "", "action": {"action_type": "wait"}, "status": not done'), 'tracer1');
    assert.equal(f.steps[0]!.status, 'not done');
  });

  test('each step written as one JSON object', () => {
    const f = parseForecast(
      answer(
        'Step 1: {"screenshot_abstraction": "A dialog", "action": {"action_type": "click", "step_instruction": "click on the Save button"}, "status": "not done"}',
        'Step 2: {"screenshot_abstraction": "Saved", "action": {"action_type": "finished", "answer": "saved"}, "status": "done"},',
      ),
      'tracer1',
    );
    assert.deepEqual(f.steps[0], canonical);
    assert.equal(fieldsOf(f.steps[1]!.action).answer, 'saved');
  });

  test('the whole answer as a JSON array, in a ```json fence', () => {
    const f = parseForecast(
      '<think>ok</think><answer>\n```json\n[\n  {"screenshot_abstraction": "A dialog", "action": {"action_type": "click", "step_instruction": "click on the Save button"}, "status": "not done"},\n  {"screenshot_abstraction": "Saved", "action": {"action_type": "finished"}, "status": "done"},\n]\n```\n</answer>',
      'tracer1',
    );
    assert.deepEqual(f.steps[0], canonical);
    assert.equal(f.steps.length, 2);
  });

  test('a JSON array without <answer> after the thinking, and {"steps": [...]}', () => {
    const steps = '[{"step": 1, "screenshot_abstraction": "A dialog", "action": {"action_type": "click", "step_instruction": "click on the Save button"}, "status": "not done"}]';
    assert.deepEqual(parseForecast(`<think>ok</think>\n\`\`\`json\n${steps}\n\`\`\``, 'tracer1').steps, [canonical]);
    assert.deepEqual(parseForecast(`<answer>{"steps": ${steps}}</answer>`, 'tracer1').steps, [canonical]);
  });

  test('"Step n:" lines inside a ```json fence', () => {
    const f = parseForecast(
      '<answer>\n```\nStep 1: "screenshot_abstraction": "A dialog", "action": {"action_type": "click", "step_instruction": "click on the Save button"}, "status": "not done"\n```\n</answer>',
      'tracer1',
    );
    assert.deepEqual(f.steps, [canonical]);
  });

  test('prose before Step 1 inside <answer> is ignored', () => {
    const f = parseForecast(answer('Here is my plan:', 'Step 1: "screenshot_abstraction": "A dialog", "action": {"action_type": "click", "step_instruction": "click on the Save button"}, "status": "not done"'), 'tracer1');
    assert.deepEqual(f.steps, [canonical]);
  });

  test('key spellings are squashed: "Action Type", "step-instruction"', () => {
    const a = actionOf(answer('Step 1: "Screenshot Abstraction": "", "Action": {"Action Type": "Click", "step-instruction": "click on OK"}, "Status": "Not Done"'));
    assert.deepEqual(a, { action_type: 'click', step_instruction: 'click on OK' });
  });

  const one = (action: string) => answer(`Step 1: "screenshot_abstraction": "", "action": ${action}, "status": "not done"`);

  for (const [written, type] of [
    ['tap', 'click'],
    ['Left Click', 'click'],
    ['double-tap', 'double_click'],
    ['right_single', 'right_click'],
    ['long_tap', 'long_press'],
    ['hover', 'move'],
    ['press', 'key'],
    ['keypress', 'key'],
    ['press_key', 'key'],
    ['finish', 'finished'],
    ['ask_user', 'call_user'],
    ['go_back', 'navigate_back'],
    ['press_home', 'navigate_home'],
    ['press_recent', 'navigate_recent'],
    ['launch_app', 'open_app'],
  ] as const) {
    test(`action_type "${written}" reads as ${type}`, () => {
      const extra = type === 'key' ? ', "keys": "enter"' : type === 'open_app' ? ', "app": "Files"' : '';
      assert.equal(actionOf(one(`{"action_type": "${written}"${extra}, "step_instruction": "on the thing"}`)).action_type, type);
    });
  }

  test('typing: type_text and input read as the desktop type; input_text stays the mobile action', () => {
    for (const w of ['type_text', 'input', 'type']) {
      assert.equal(actionOf(one(`{"action_type": "${w}", "text": "hi"}`)).action_type, 'type');
    }
    assert.equal(actionOf(one('{"action_type": "input_text", "text": "hi", "step_instruction": "type into the search field"}')).action_type, 'input_text');
  });

  test('hotkey keys as "ctrl+s", "Ctrl + Shift + S", "ctrl s", an array, or under "key"', () => {
    const keys = (k: string) => actionOf(one(`{"action_type": "hotkey", ${k}}`)).keys;
    assert.deepEqual(keys('"keys": "ctrl+s"'), ['ctrl', 's']);
    assert.deepEqual(keys('"keys": "Ctrl + Shift + S"'), ['ctrl', 'shift', 's']);
    assert.deepEqual(keys('"keys": "ctrl s"'), ['ctrl', 's']);
    assert.deepEqual(keys('"keys": ["Control", "S"]'), ['ctrl', 's']);
    assert.deepEqual(keys('"keys": ["ctrl+shift", "t"]'), ['ctrl', 'shift', 't']);
    assert.deepEqual(keys('"key": "Return"'), ['enter']);
  });

  test('arguments: scroll direction and amount, wait duration, finished answer, select value, tool call', () => {
    assert.deepEqual(actionOf(one('{"action_type": "scroll", "direction": "Down", "amount": "3", "step_instruction": "scroll the file list"}')), {
      action_type: 'scroll',
      direction: 'down',
      amount: 3,
      step_instruction: 'scroll the file list',
    });
    assert.deepEqual(actionOf(one('{"action_type": "wait", "duration_ms": 1500}')), { action_type: 'wait', duration_ms: 1500, step_instruction: '' });
    assert.equal(actionOf(one('{"action_type": "wait", "seconds": 2}')).duration_ms, 2000);
    assert.equal(actionOf(one('{"action_type": "finished", "answer": "42 files"}')).answer, '42 files');
    assert.equal(actionOf(one('{"action_type": "select", "value": "Large", "step_instruction": "the size dropdown"}')).value, 'Large');
    assert.deepEqual(actionOf(one('{"action_type": "tool_call", "tool": {"name": "search", "arguments": {"q": "weather", "n": 3}}, "step_instruction": "look it up"}')).tool, {
      name: 'search',
      arguments: { q: 'weather', n: 3 },
    });
    assert.deepEqual(actionOf(one('{"action_type": "tool_call", "tool": {"name": "search", "arguments": "{\\"q\\": \\"x\\"}"}, "step_instruction": "look"}')).tool, {
      name: 'search',
      arguments: { q: 'x' },
    });
  });

  test('a point the planner gives itself: on the 0–1000 grid unless it names its space or ctx says otherwise', () => {
    assert.deepEqual(actionOf(one('{"action_type": "click", "point": [500, 250], "step_instruction": "OK"}')).point, { space: 'norm1000', x: 500, y: 250 });
    assert.deepEqual(actionOf(one('{"action_type": "click", "coordinate": {"x": 10, "y": 20}, "step_instruction": "OK"}')).point, { space: 'norm1000', x: 10, y: 20 });
    assert.deepEqual(actionOf(one('{"action_type": "click", "point": [100, 200, 300, 400], "step_instruction": "OK"}')).point, { space: 'norm1000', x: 200, y: 300 });
    assert.deepEqual(actionOf(one('{"action_type": "click", "point": "(640, 400)", "step_instruction": ""}')).point, { space: 'norm1000', x: 640, y: 400 });
    assert.deepEqual(actionOf(one('{"action_type": "click", "point": {"space": "screenshot", "x": 1200, "y": 700}, "step_instruction": "OK"}')).point, {
      space: 'screenshot',
      x: 1200,
      y: 700,
    });
    const ctx: ParseContext = { imageWidth: 1280, imageHeight: 800, pointSpace: 'screenshot' };
    assert.deepEqual(fieldsOf(parseForecast(one('{"action_type": "click", "point": [1200, 700], "step_instruction": "OK"}'), 'tracer1', ctx).steps[0]!.action).point, {
      space: 'screenshot',
      x: 1200,
      y: 700,
    });
    const drag = actionOf(one('{"action_type": "drag", "point": [1, 2], "end_point": [3, 4], "step_instruction": "drag the file to the trash"}'));
    assert.deepEqual(drag.end_point, { space: 'norm1000', x: 3, y: 4 });
  });

  test('a click with a point needs no words; one without a point does', () => {
    assert.equal(actionOf(one('{"action_type": "click", "point": [5, 5]}')).step_instruction, '');
    assert.match(parseError(one('{"action_type": "click"}')).message, /Step 1: "action" is missing "step_instruction"/);
  });

  test('steps without words for actions that need no target: wait, finished, hotkey, key, type', () => {
    const f = parseForecast(
      answer(
        'Step 1: "screenshot_abstraction": "", "action": {"action_type": "type", "text": "hi"}, "status": "not done"',
        'Step 2: "screenshot_abstraction": "", "action": {"action_type": "hotkey", "keys": ["ctrl", "s"]}, "status": "not done"',
        'Step 3: "screenshot_abstraction": "", "action": {"action_type": "key", "keys": ["enter"], "step_instruction": ""}, "status": "not done"',
        'Step 4: "screenshot_abstraction": "", "action": {"action_type": "wait"}, "status": "not done"',
        'Step 5: "action": {"action_type": "finished"}, "status": "done"',
      ),
      'tracer1',
    );
    assert.deepEqual(f.steps.map((s) => s.action.step_instruction), ['', '', '', '', '']);
    assert.equal(f.steps[4]!.screenshot_abstraction, '', 'a missing abstraction reads as empty');
  });

  test('escapes: \\n, \\u, \\" and an unknown escape that keeps its backslash', () => {
    const a = actionOf(one('{"action_type": "type", "text": "a\\nb \\u00e9 \\"q\\" C:\\Users"}'));
    assert.equal(a.text, 'a\nb é "q" C:\\Users');
  });

  test('a text holding </answer> or "Step 2:" stays one step', () => {
    const f = parseForecast(one('{"action_type": "type", "text": "Step 2: write <\\/answer> here"}'), 'tracer1');
    assert.equal(f.steps.length, 1);
    assert.equal(fieldsOf(f.steps[0]!.action).text, 'Step 2: write </answer> here');
  });
});

describe('TraceR1 format: strict about structure, with messages a model can act on', () => {
  const step = (n: number, action: string, status = '"not done"') => `Step ${n}: "screenshot_abstraction": "", "action": ${action}, "status": ${status}`;
  const click = '{"action_type": "click", "step_instruction": "click on OK"}';

  test('prose without an <answer> block', () => {
    const e = parseError('I think we should click somewhere nice.');
    assert.match(e.message, /^no <answer> block found/);
    assert.deepEqual(e.details?.problems, [e.message]);
    assert.equal(e.details?.raw, 'I think we should click somewhere nice.');
  });

  test('an unclosed <think> swallows everything: no <answer>', () => {
    assert.match(parseError('<think>Step 1: click the button').message, /no <answer> block found/);
  });

  test('an empty <answer>, and one without "Step 1:"', () => {
    assert.match(parseError('<answer>  </answer>').message, /the <answer> block is empty/);
    assert.match(parseError('<answer>Click the OK button.</answer>').message, /no "Step 1:" found in the <answer> block, which starts "Click the OK button\."/);
  });

  test('a step without "action", or with a flat action', () => {
    assert.match(parseError(answer('Step 1: "screenshot_abstraction": "", "status": "done"')).message, /^Step 1: "action" is missing$/);
    assert.match(
      parseError(answer('Step 1: "action_type": "click", "step_instruction": "OK", "status": "done"')).message,
      /Step 1: "action" is missing \(put "action_type" and "step_instruction" inside "action": \{\.\.\.\}\)/,
    );
    assert.match(parseError(answer(step(1, '"click on OK"'))).message, /Step 1: "action" must be an object like \{"action_type": "click", .*found the text "click on OK"/);
  });

  test('an action without action_type', () => {
    const e = parseError(answer(step(1, click), step(2, '{"step_instruction": "click on Save"}')));
    assert.equal(e.message, 'Step 2: "action" is missing "action_type"');
  });

  test('an unknown action_type lists the known ones', () => {
    const e = parseError(answer(step(1, '{"action_type": "swipe", "step_instruction": "swipe up"}')));
    assert.equal(e.message, `Step 1: unknown action_type "swipe" (expected one of ${ACTION_TYPES.join(', ')})`);
  });

  test('a click without words, or with empty words', () => {
    assert.match(parseError(answer(step(1, '{"action_type": "click"}'))).message, /Step 1: "action" is missing "step_instruction" \(say in words what to click on\)/);
    assert.match(parseError(answer(step(1, '{"action_type": "double_click", "step_instruction": "  "}'))).message, /Step 1: "step_instruction" is empty; a double_click step must say in words what to act on/);
    assert.match(parseError(answer(step(1, '{"action_type": "click", "step_instruction": 5}'))).message, /Step 1: "step_instruction" must be text, found the number 5/);
  });

  test('status missing or not done/not done', () => {
    assert.match(parseError(answer(`Step 1: "screenshot_abstraction": "", "action": ${click}`)).message, /Step 1: "status" is missing \(expected "done" or "not done"\)/);
    assert.match(parseError(answer(step(1, click, '"maybe"'))).message, /Step 1: "status" is "maybe"; expected "done" or "not done"/);
    assert.match(parseError(answer(step(1, click, 'true'))).message, /Step 1: "status" must be "done" or "not done", found true/);
  });

  test('steps numbered with a gap, twice, out of order, or not from 1', () => {
    assert.match(parseError(answer(step(1, click), step(3, click))).message, /Step 3 follows Step 1 \(Step 2 is missing\); number the steps 1, 2, 3, … in order/);
    assert.match(parseError(answer(step(1, click), step(4, click))).message, /Step 4 follows Step 1 \(Steps 2–3 are missing\)/);
    assert.match(parseError(answer(step(1, click), step(1, click))).message, /Step 1 appears twice/);
    assert.match(parseError(answer(step(1, click), step(3, click), step(2, click))).message, /Step 2 follows Step 3;/);
    assert.match(parseError(answer(step(2, click))).message, /the first step is numbered 2/);
    assert.match(parseError('<answer>[{"step": 1, "action": {"action_type": "wait"}, "status": "done"}, {"step": 3, "action": {"action_type": "wait"}, "status": "done"}]</answer>').message, /Step 3 follows Step 1/);
  });

  test('arguments an action cannot do without', () => {
    assert.match(parseError(answer(step(1, '{"action_type": "type", "step_instruction": "type the name"}'))).message, /Step 1: a type step needs "text", the exact text to type/);
    assert.match(parseError(answer(step(1, '{"action_type": "hotkey"}'))).message, /Step 1: a hotkey step needs "keys", e\.g\. \["ctrl", "s"\]/);
    assert.match(parseError(answer(step(1, '{"action_type": "key"}'))).message, /Step 1: a key step needs "keys", e\.g\. \["enter"\]/);
    assert.match(parseError(answer(step(1, '{"action_type": "scroll", "step_instruction": "the list"}'))).message, /Step 1: a scroll step needs "direction" \(one of up, down, left, right\)/);
    assert.match(parseError(answer(step(1, '{"action_type": "open_app", "step_instruction": "open it"}'))).message, /Step 1: an open_app step needs "app"/);
    assert.match(parseError(answer(step(1, '{"action_type": "tool_call", "step_instruction": "call it"}'))).message, /Step 1: a tool_call step needs "tool"/);
  });

  test('arguments of the wrong shape', () => {
    assert.match(parseError(answer(step(1, '{"action_type": "hotkey", "keys": "ctrl+hyperdrive"}'))).message, /Step 1: "keys": Unknown key "hyperdrive"/);
    assert.match(parseError(answer(step(1, '{"action_type": "hotkey", "keys": 5}'))).message, /Step 1: "keys" must be key names such as \["ctrl", "s"\] or "ctrl\+s", found the number 5/);
    assert.match(parseError(answer(step(1, '{"action_type": "scroll", "direction": "sideways", "step_instruction": "x"}'))).message, /Step 1: "direction" must be one of up, down, left, right, found the text "sideways"/);
    assert.match(parseError(answer(step(1, '{"action_type": "scroll", "direction": "up", "amount": 0, "step_instruction": "x"}'))).message, /Step 1: "amount" must be a whole number of at least 1, found the number 0/);
    assert.match(parseError(answer(step(1, '{"action_type": "scroll", "direction": "up", "amount": 2.5, "step_instruction": "x"}'))).message, /"amount" must be a whole number/);
    assert.match(parseError(answer(step(1, '{"action_type": "wait", "duration_ms": -5}'))).message, /Step 1: "duration_ms" must be a whole number \(0 or more\), found the number -5/);
    assert.match(parseError(answer(step(1, '{"action_type": "click", "point": [1500, 20], "step_instruction": "x"}'))).message, /Step 1: "point" \(1500, 20\) is outside the 0–1000 grid/);
    assert.match(parseError(answer(step(1, '{"action_type": "click", "point": [1, 2, 3], "step_instruction": "x"}'))).message, /Step 1: "point" must be \[x, y\] or \{"x": \.\.\., "y": \.\.\.\}, found an array/);
    assert.match(parseError(answer(step(1, '{"action_type": "click", "point": {"space": "pixels", "x": 1, "y": 2}, "step_instruction": "x"}'))).message, /Step 1: "point" has an unknown "space" the text "pixels"/);
    assert.match(parseError(answer(step(1, '{"action_type": "type", "text": ["a"]}'))).message, /Step 1: "text" must be text, found an array/);
    const ctx: ParseContext = { imageWidth: 100, imageHeight: 50 };
    assert.match(
      parseError(answer(step(1, '{"action_type": "click", "point": {"space": "screenshot", "x": 120, "y": 10}, "step_instruction": "x"}')), 'tracer1', ctx).message,
      /"point" \(120, 10\) is outside the 100x50 screenshot/,
    );
  });

  test('broken JSON says where', () => {
    assert.match(parseError(answer('Step 1: "screenshot_abstraction": "", "action": {"action_type": "click", "step_instruction": "x", "status": "done"')).message, /Step 1: the object opened at .* is never closed with "}"/);
    assert.match(parseError(answer('Step 1: "screenshot_abstraction" "", "action": {"action_type": "wait"}, "status": "done"')).message, /Step 1: expected ":" after the key "screenshot_abstraction"/);
    assert.match(parseError(answer(`${step(1, click, '"done"')} That's the plan.`)).message, /Step 1: unexpected text at "That's the plan\." \(expected "," and the next "key": value\)/);
    assert.match(parseError(answer('Step 1: {"screenshot_abstraction": "", "action": {"action_type": "wait"}, "status": "done"} and more')).message, /Step 1: unexpected text at "and more" after the step's closing "}"/);
    assert.match(parseError('<answer>[{"action": {"action_type": "wait"}, "status": "done"}</answer>').message, /could not be read as JSON: the array opened at .* is never closed with "\]"/);
  });

  test('every broken step is reported at once, numbered by the model', () => {
    const e = parseError(
      answer(step(1, click), step(2, '{"action_type": "tap2", "step_instruction": "x"}'), 'Step 3: "screenshot_abstraction" oops', step(4, '{"step_instruction": "y"}', '"perhaps"')),
    );
    const problems = e.details?.problems as string[];
    assert.equal(problems.length, 4);
    assert.match(problems[0]!, /^Step 2: unknown action_type "tap2"/);
    assert.match(problems[1]!, /^Step 3: expected ":"/);
    assert.equal(problems[2], 'Step 4: "action" is missing "action_type"');
    assert.equal(problems[3], 'Step 4: "status" is "perhaps"; expected "done" or "not done"');
    assert.equal(e.message, problems.join('; '));
  });

  test('a long list of problems is cut in the message, kept in full in the details; the raw answer is truncated', () => {
    const lines = Array.from({ length: 9 }, (_, i) => step(i + 1, '{"action_type": "zap", "step_instruction": "x"}'));
    const raw = answer(...lines) + ' '.repeat(5000);
    const e = parseError(raw);
    assert.equal((e.details?.problems as string[]).length, 9);
    assert.match(e.message, /; and 3 more problems$/);
    const kept = e.details?.raw as string;
    assert.ok(kept.length < raw.length && kept.startsWith('<think>planning</think>'));
    assert.match(kept, /…\(\d+ more characters\)$/);
  });

  test('the error survives as JSON (code, message, details)', () => {
    const info = parseError('nonsense').toInfo();
    assert.deepEqual(JSON.parse(JSON.stringify(info)), info);
    assert.equal(info.code, 'PARSE_ERROR');
  });
});

// ------------------------------------------------------------------------------ round trips

const nonBlank = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== '');
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
/** Non-negative doubles without -0 (JSON writes -0 as 0). */
const coord = (max: number) => fc.double({ min: 0, max, noNaN: true }).map((v) => v + 0);
const pointArb = fc.oneof(
  fc.record({ space: fc.constant('norm1000' as const), x: coord(1000), y: coord(1000) }, { noNullPrototype: true }),
  fc.record({ space: fc.constant('norm1' as const), x: coord(1), y: coord(1) }, { noNullPrototype: true }),
  fc.record({ space: fc.constant('screenshot' as const), x: coord(5000), y: coord(5000) }, { noNullPrototype: true }),
);
const MODS = ['ctrl', 'alt', 'shift', 'meta'] as const;
const MAIN_KEYS = ['s', 'a', 'z', '1', 'enter', 'escape', 'tab', 'space', 'f5', 'pagedown', 'up', 'right', 'delete', '+', '-', '_', ',', '/', "'", '\\', 'é'] as const;
const keysArb = fc
  .tuple(fc.uniqueArray(fc.constantFrom(...MODS), { maxLength: 3 }), fc.constantFrom(...MAIN_KEYS))
  .map(([mods, key]) => [...mods, key]);
const toolArb = fc.record(
  {
    name: nonBlank,
    // through JSON once: plain prototypes, no -0, as any JSON reader gives them back
    arguments: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>),
  },
  { noNullPrototype: true },
);

/** Actions in canonical form: what parseForecast must give back exactly. */
const actionArb: fc.Arbitrary<Action> = fc
  .record(
    {
      action_type: fc.constantFrom(...ACTION_TYPES),
      step_instruction: fc.oneof(fc.constant(''), anyText, nonBlank),
      text: anyText,
      keys: keysArb,
      direction: fc.constantFrom(...DIRECTIONS),
      amount: fc.integer({ min: 1, max: 100 }),
      point: pointArb,
      end_point: pointArb,
      answer: anyText,
      app: nonBlank,
      duration_ms: fc.nat({ max: 60000 }),
      value: anyText,
      tool: toolArb,
    },
    { requiredKeys: ['action_type', 'step_instruction'], noNullPrototype: true },
  )
  .map((a) => {
    const out: ActionFields = { ...a };
    const t = a.action_type;
    // What each type cannot do without (see the strictness tests above).
    if ((t === 'type' || t === 'input_text') && out.text === undefined) out.text = 'x';
    if ((t === 'hotkey' || t === 'key') && out.keys === undefined) out.keys = ['enter'];
    if (t === 'scroll' && out.direction === undefined) out.direction = 'down';
    if (t === 'open_app' && out.app === undefined) out.app = 'Files';
    if (t === 'tool_call' && out.tool === undefined) out.tool = { name: 'search', arguments: {} };
    const free = ['wait', 'finished', 'fail', 'call_user', 'navigate_home', 'navigate_back', 'navigate_recent', 'hotkey', 'key', 'type'].includes(t);
    // The member this type is: the fields it does not have are dropped (a point too).
    const member = actionSchema.parse(out);
    if (!free && plannerPoint(member) === undefined && member.step_instruction.trim() === '') member.step_instruction = 'the target';
    return member;
  });

const stepArb: fc.Arbitrary<ForecastStep> = fc.record(
  {
    screenshot_abstraction: anyText,
    action: actionArb,
    status: fc.constantFrom('done' as const, 'not done' as const),
  },
  { noNullPrototype: true },
);
const thoughtArb = fc.option(
  fc
    .string({ maxLength: 60 })
    .map((s) => s.trim())
    .filter((s) => !s.includes('<')),
  { nil: undefined },
);

describe('round trips', () => {
  test('serializeTraceR1 → parseForecast gives the same steps and thought', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 6 }), thoughtArb, (steps, thought) => {
        const raw = serializeTraceR1(steps, thought);
        const f = parseForecast(raw, 'tracer1');
        const expected: Forecast = { format: 'tracer1', ...(thought !== undefined ? { thought } : {}), steps };
        assert.deepEqual(f, expected);
      }),
      { numRuns: 300 },
    );
  });

  test('damaged answers give a valid forecast or a PARSE_ERROR, never anything else', () => {
    const damaged = fc
      .tuple(fc.array(stepArb, { minLength: 1, maxLength: 3 }), fc.nat(), fc.nat(), fc.string({ maxLength: 3 }))
      .map(([steps, cut, at, insert]) => {
        const raw = serializeTraceR1(steps, 'x');
        const end = cut % (raw.length + 1);
        const i = at % (end + 1);
        return raw.slice(0, i) + insert + raw.slice(i, end);
      });
    const formats: ForecastFormat[] = ['tracer1', 'uitars-1.0', 'uitars-1.5'];
    fc.assert(
      fc.property(fc.oneof(damaged, fc.string({ unit: 'binary', maxLength: 200 })), fc.constantFrom(...formats), (raw, format) => {
        try {
          const f = parseForecast(raw, format, { imageWidth: 1280, imageHeight: 800 });
          assert.ok(f.steps.length >= 1);
        } catch (e) {
          assert.ok(isForesightError(e, 'PARSE_ERROR'), String(e));
          assert.ok(e.message.length > 0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('serializeTraceR1 writes the prototype line format', () => {
    const raw = serializeTraceR1(
      [{ screenshot_abstraction: 'A dialog', action: { action_type: 'click', step_instruction: 'click on the Save button' }, status: 'not done' }],
      'plan',
    );
    assert.equal(
      raw,
      '<think>plan</think><answer>\nStep 1: "screenshot_abstraction": "A dialog", "action": {"action_type":"click","step_instruction":"click on the Save button"}, "status": "not done"\n</answer>',
    );
  });

  const UITARS_TYPES = ['click', 'double_click', 'right_click', 'move', 'long_press', 'drag', 'type', 'input_text', 'hotkey', 'key', 'scroll', 'wait', 'finished', 'call_user', 'fail', 'navigate_home', 'navigate_back', 'navigate_recent', 'open_app'] as const satisfies readonly ActionType[];
  const POINTED = new Set<ActionType>(['click', 'double_click', 'right_click', 'move', 'long_press', 'drag']);
  const thoughtLine = fc.stringMatching(/^[A-Za-z][A-Za-z ,.']{0,40}[a-z.]$/);
  const sizeArb = fc.record({ imageWidth: fc.integer({ min: 200, max: 4000 }), imageHeight: fc.integer({ min: 200, max: 3000 }) });

  /** A step UI-TARS can say, with points in the space the version reads back into. */
  const uiTarsStepArb = (pointSpace: 'norm1000' | 'screenshot', size: { imageWidth: number; imageHeight: number }) =>
    fc
      .record({
        type: fc.constantFrom(...UITARS_TYPES),
        text: anyText,
        keys: keysArb,
        direction: fc.constantFrom(...DIRECTIONS),
        answer: fc.option(anyText.filter((s) => s !== ''), { nil: undefined }),
        app: nonBlank,
        p: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
        q: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
        scrollAt: fc.boolean(),
      })
      .map((r): ForecastStep => {
        const pt = ([u, v]: [number, number]) =>
          pointSpace === 'norm1000' ? { space: pointSpace, x: Math.round(u * 1000), y: Math.round(v * 1000) } : { space: pointSpace, x: u * size.imageWidth, y: v * size.imageHeight };
        const a: ActionFields = { action_type: r.type, step_instruction: 'words' };
        if (POINTED.has(r.type) || (r.type === 'scroll' && r.scrollAt)) a.point = pt(r.p);
        if (r.type === 'drag') a.end_point = pt(r.q);
        if (r.type === 'type' || r.type === 'input_text') a.text = r.text;
        if (r.type === 'hotkey' || r.type === 'key') a.keys = r.keys;
        if (r.type === 'scroll') a.direction = r.direction;
        if (r.type === 'finished' && r.answer !== undefined) a.answer = r.answer;
        if (r.type === 'open_app') a.app = r.app;
        return { screenshot_abstraction: '', action: actionSchema.parse(a), status: r.type === 'finished' ? 'done' : 'not done' };
      });

  function checkUiTarsRoundTrip(step: ForecastStep, back: Forecast, thought: string, tolerance: number): void {
    assert.equal(back.steps.length, 1);
    const got = back.steps[0]!;
    const want = fieldsOf(step.action);
    assert.equal(got.status, step.status);
    assert.equal(got.screenshot_abstraction, '');
    assert.equal(back.thought, thought);
    assert.equal(got.action.step_instruction, thought.replace(/\s+/g, ' '));
    assert.equal(got.action.action_type, want.action_type === 'input_text' ? 'type' : want.action_type);
    assert.equal(fieldsOf(got.action).text, want.text);
    assert.deepEqual(fieldsOf(got.action).keys, want.keys);
    assert.equal(fieldsOf(got.action).direction, want.direction);
    assert.equal(fieldsOf(got.action).answer, want.answer);
    assert.equal(fieldsOf(got.action).app, want.app);
    for (const k of ['point', 'end_point'] as const) {
      const w = want[k];
      const g: SpacePoint | undefined = fieldsOf(got.action)[k];
      if (!w) {
        assert.equal(g, undefined);
        continue;
      }
      assert.ok(g, `${k} is kept`);
      assert.equal(g.space, w.space);
      assert.ok(Math.abs(g.x - w.x) <= tolerance && Math.abs(g.y - w.y) <= tolerance, `${k} (${g.x}, ${g.y}) ≈ (${w.x}, ${w.y})`);
    }
  }

  test('serializeUiTars → parseForecast, UI-TARS 1.0 (0–1000 grid)', () => {
    fc.assert(
      fc.property(
        sizeArb.chain((size) => uiTarsStepArb('norm1000', size)),
        thoughtLine,
        (step, thought) => {
          const raw = serializeUiTars(step, '1.0', thought);
          checkUiTarsRoundTrip(step, parseForecast(raw, 'uitars-1.0'), thought, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('serializeUiTars → parseForecast, UI-TARS 1.5 (smart-resized pixels) within half a model pixel', () => {
    fc.assert(
      fc.property(
        sizeArb.chain((size) => fc.tuple(fc.constant(size), uiTarsStepArb('screenshot', size))),
        thoughtLine,
        ([size, step], thought) => {
          const raw = serializeUiTars(step, '1.5', thought, size);
          const r = smartResize(size.imageWidth, size.imageHeight);
          const tolerance = 0.5 * Math.max(size.imageWidth / r.width, size.imageHeight / r.height) + 1e-9;
          checkUiTarsRoundTrip(step, parseForecast(raw, 'uitars-1.5', size), thought, tolerance);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('serializeUiTars writes what the UI-TARS prompts show', () => {
    const s = (action: Action): ForecastStep => ({ screenshot_abstraction: '', action, status: 'not done' });
    assert.equal(serializeUiTars(s({ action_type: 'click', step_instruction: 'OK', point: { space: 'norm1000', x: 123, y: 456 } }), '1.0'), "Thought: OK\nAction: click(start_box='(123,456)')");
    assert.equal(
      serializeUiTars(s({ action_type: 'click', step_instruction: 'OK', point: { space: 'screenshot', x: 640, y: 400 } }), '1.5', 'Click OK.', { imageWidth: 1280, imageHeight: 800 }),
      "Thought: Click OK.\nAction: click(start_box='<|box_start|>(644,406)<|box_end|>')",
    );
    assert.equal(serializeUiTars(s({ action_type: 'hotkey', step_instruction: '', keys: ['ctrl', 'shift', '+'] }), '1.0', 'Zoom.'), "Thought: Zoom.\nAction: hotkey(key='ctrl shift plus')");
    assert.equal(serializeUiTars(s({ action_type: 'type', step_instruction: '', text: "it's\n" }), '1.0', 'Type.'), "Thought: Type.\nAction: type(content='it\\'s\\n')");
  });

  test('serializeUiTars refuses what it cannot write', () => {
    const s = (action: Action): ForecastStep => ({ screenshot_abstraction: '', action, status: 'not done' });
    const badInput = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isForesightError(e, 'BAD_INPUT') && re.test(e.message));
    badInput(() => serializeUiTars(s({ action_type: 'click', step_instruction: 'OK' }), '1.0'), /click step needs a point/);
    badInput(() => serializeUiTars(s({ action_type: 'click', step_instruction: 'OK', point: { space: 'screenshot', x: 1, y: 1 } }), '1.0'), /needs the screenshot size/);
    badInput(() => serializeUiTars(s({ action_type: 'click', step_instruction: 'OK', point: { space: 'norm1000', x: 1, y: 1 } }), '1.5'), /needs the screenshot size/);
    badInput(() => serializeUiTars(s({ action_type: 'tool_call', step_instruction: '', tool: { name: 'x', arguments: {} } }), '1.0'), /no action for tool_call/);
  });
});

// ----------------------------------------------------------------------------------- UI-TARS

describe('smartResize (Qwen2.5-VL, UI-TARS pixel bounds)', () => {
  test('known sizes, computed by the Python algorithm', () => {
    // Each side to the nearest multiple of 28: 1280/28 = 45.7 → 46 → 1288; 800/28 = 28.6 → 29 → 812.
    assert.deepEqual(smartResize(1280, 800), { width: 1288, height: 812 });
    assert.deepEqual(smartResize(1920, 1080), { width: 1932, height: 1092 });
    assert.deepEqual(smartResize(1366, 768), { width: 1372, height: 756 });
    assert.deepEqual(smartResize(1440, 900), { width: 1428, height: 896 });
    assert.deepEqual(smartResize(2560, 1600), { width: 2548, height: 1596 });
    // Python's round: 742/28 = 26.5 → 26 (even), 770/28 = 27.5 → 28, 434/28 = 15.5 → 16
    assert.deepEqual(smartResize(742, 420), { width: 728, height: 420 });
    assert.deepEqual(smartResize(770, 434), { width: 784, height: 448 });
    // above 16384·28² pixels: scaled down, floored to multiples of 28
    assert.deepEqual(smartResize(7680, 4320), { width: 4760, height: 2688 });
    // below 100·28² pixels: scaled up, ceiled
    assert.deepEqual(smartResize(100, 50), { width: 420, height: 224 });
    assert.deepEqual(smartResize(14, 14), { width: 280, height: 280 });
  });

  test('always multiples of the factor, within the pixel bounds, close to the aspect ratio', () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 8000 }), fc.integer({ min: 50, max: 8000 }), (w, h) => {
        fc.pre(Math.max(w, h) / Math.min(w, h) <= 20);
        const r = smartResize(w, h);
        assert.equal(r.width % 28, 0);
        assert.equal(r.height % 28, 0);
        assert.ok(r.width * r.height <= 16384 * 28 * 28);
        assert.ok(r.width * r.height >= 100 * 28 * 28);
        assert.ok(Math.abs(Math.log(r.width / r.height) - Math.log(w / h)) < 0.5);
      }),
    );
  });

  test('refuses empty images and aspect ratios above 200', () => {
    assert.throws(() => smartResize(0, 10), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
    assert.throws(() => smartResize(30000, 100), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /aspect ratio/.test(e.message));
  });
});

describe('UI-TARS format', () => {
  const ctx = { imageWidth: 1280, imageHeight: 800 };
  const one = (raw: string, format: ForecastFormat = 'uitars-1.0', c?: ParseContext): ActionFields => {
    const f = parseForecast(raw, format, c);
    assert.equal(f.steps.length, 1);
    return f.steps[0]!.action;
  };

  test('1.0: a click on the 0–1000 grid, the Thought as the step instruction', () => {
    const f = parseForecast("Thought: I need to open the File menu.\nAction: click(start_box='(123,456)')", 'uitars-1.0');
    assert.deepEqual(f, {
      format: 'uitars-1.0',
      thought: 'I need to open the File menu.',
      steps: [
        {
          screenshot_abstraction: '',
          action: { action_type: 'click', step_instruction: 'I need to open the File menu.', point: { space: 'norm1000', x: 123, y: 456 } },
          status: 'not done',
        },
      ],
    });
  });

  test('1.5: smart-resized pixels map back onto the screenshot (1280x800 → 1288x812)', () => {
    const a = one("Thought: Click Save.\nAction: click(start_box='<|box_start|>(644,406)<|box_end|>')", 'uitars-1.5', ctx);
    assert.deepEqual(a.point, { space: 'screenshot', x: 640, y: 400 });
    const corner = one("Action: click(start_box='(1288,812)')", 'uitars-1.5', ctx);
    assert.deepEqual(corner.point, { space: 'screenshot', x: 1280, y: 800 });
    const b = one("Action: click(start_box='(100,50)')", 'uitars-1.5', ctx);
    assert.ok(Math.abs(b.point!.x - (100 * 1280) / 1288) < 1e-9 && Math.abs(b.point!.y - (50 * 800) / 812) < 1e-9);
  });

  test('1.5 needs the screenshot size', () => {
    assert.throws(
      () => parseForecast("Action: click(start_box='(1,2)')", 'uitars-1.5'),
      (e: unknown) => isForesightError(e, 'BAD_INPUT') && /screenshot size/.test(e.message),
    );
  });

  test('box spellings: (x,y), box tokens, (x1,y1,x2,y2) centre, <point>x y</point>, [x, y], unquoted, positional', () => {
    const p = (box: string) => one(`Action: click(start_box=${box})`).point;
    const at = (x: number, y: number) => ({ space: 'norm1000', x, y });
    assert.deepEqual(p("'(10,20)'"), at(10, 20));
    assert.deepEqual(p("'<|box_start|>(10,20)<|box_end|>'"), at(10, 20));
    assert.deepEqual(p("'(10,20,30,60)'"), at(20, 40));
    assert.deepEqual(p("'<|box_start|>(10,20,30,60)<|box_end|>'"), at(20, 40));
    assert.deepEqual(p("'<point>10 20</point>'"), at(10, 20));
    assert.deepEqual(p("'[10, 20]'"), at(10, 20));
    assert.deepEqual(p('"(10, 20)"'), at(10, 20));
    assert.deepEqual(p('(10,20)'), at(10, 20));
    assert.deepEqual(one("Action: click(point='<point>10 20</point>')").point, at(10, 20));
    assert.deepEqual(one("Action: click('(10,20)')").point, at(10, 20));
  });

  test('every action of the computer and mobile action spaces', () => {
    const cases: Array<[string, Partial<Action>]> = [
      ["left_double(start_box='(1,2)')", { action_type: 'double_click', point: { space: 'norm1000', x: 1, y: 2 } }],
      ["right_single(start_box='(1,2)')", { action_type: 'right_click', point: { space: 'norm1000', x: 1, y: 2 } }],
      ["drag(start_box='(1,2)', end_box='(3,4)')", { action_type: 'drag', point: { space: 'norm1000', x: 1, y: 2 }, end_point: { space: 'norm1000', x: 3, y: 4 } }],
      ["hotkey(key='ctrl c')", { action_type: 'hotkey', keys: ['ctrl', 'c'] }],
      ["hotkey(key='Ctrl+Shift+S')", { action_type: 'hotkey', keys: ['ctrl', 'shift', 's'] }],
      ["hotkey(key='ctrl right')", { action_type: 'hotkey', keys: ['ctrl', 'right'] }],
      ["press(key='enter')", { action_type: 'key', keys: ['enter'] }],
      ["type(content='hello')", { action_type: 'type', text: 'hello' }],
      ["scroll(start_box='(5,6)', direction='down')", { action_type: 'scroll', point: { space: 'norm1000', x: 5, y: 6 }, direction: 'down' }],
      ["scroll(direction='UP')", { action_type: 'scroll', direction: 'up' }],
      ['wait()', { action_type: 'wait' }],
      ["finished(content='The file has 3 lines')", { action_type: 'finished', answer: 'The file has 3 lines' }],
      ['finished()', { action_type: 'finished' }],
      ['call_user()', { action_type: 'call_user' }],
      ["long_press(start_box='(7,8)')", { action_type: 'long_press', point: { space: 'norm1000', x: 7, y: 8 } }],
      ["open_app(app_name='Settings')", { action_type: 'open_app', app: 'Settings' }],
      ['press_home()', { action_type: 'navigate_home' }],
      ['press_back()', { action_type: 'navigate_back' }],
      ['press_recent()', { action_type: 'navigate_recent' }],
    ];
    for (const [call, expected] of cases) {
      const f = parseForecast(`Thought: Do it.\nAction: ${call}`, 'uitars-1.0');
      assert.deepEqual(f.steps[0]!.action, { step_instruction: 'Do it.', ...expected }, call);
      assert.equal(f.steps[0]!.status, expected.action_type === 'finished' ? 'done' : 'not done', call);
    }
  });

  test("type content escapes: \\' \\\" \\n, and a trailing \\n (press Enter) kept as the text's last character", () => {
    assert.equal(one("Action: type(content='it\\'s \\\"quoted\\\"\\nline two\\n')").text, 'it\'s "quoted"\nline two\n');
    assert.equal(one("Action: type(content='/tmp/a b.txt\\n')").text, '/tmp/a b.txt\n');
    assert.equal(one('Action: type(content="say \\"hi\\"")').text, 'say "hi"');
    // an apostrophe the model forgot to escape
    assert.equal(one("Action: type(content='don't stop')").text, "don't stop");
    assert.equal(one("Action: type(content='a, b=c')").text, 'a, b=c');
  });

  test('several Action lines become several steps', () => {
    const f = parseForecast("Thought: Select all and copy.\nAction: hotkey(key='ctrl a')\n\nAction: hotkey(key='ctrl c')\nwait()", 'uitars-1.0');
    assert.deepEqual(f.steps.map((s) => [s.action.action_type, fieldsOf(s.action).keys]), [
      ['hotkey', ['ctrl', 'a']],
      ['hotkey', ['ctrl', 'c']],
      ['wait', undefined],
    ]);
  });

  test('the thought: Thought:, Action_Summary:, <think>, or nothing (then the call is the instruction)', () => {
    assert.equal(parseForecast("Reflection: ok\nAction_Summary: Click the OK button.\nAction: click(start_box='(1,2)')", 'uitars-1.0').thought, 'Click the OK button.');
    assert.equal(parseForecast("<think>Press OK.</think>\nAction: click(start_box='(1,2)')", 'uitars-1.0').thought, 'Press OK.');
    const bare = parseForecast("Action: click(start_box='(1,2)')", 'uitars-1.0');
    assert.equal(bare.thought, undefined);
    assert.equal(bare.steps[0]!.action.step_instruction, "click(start_box='(1,2)')");
    assert.equal(parseForecast("Thought: Open the\n  File menu.\nAction: click(start_box='(1,2)')", 'uitars-1.0').steps[0]!.action.step_instruction, 'Open the File menu.');
  });

  test('errors name what is wrong', () => {
    assert.match(parseError('I would click the button.', 'uitars-1.0').message, /^no "Action:" line found/);
    assert.match(parseError('Thought: hm\nAction:', 'uitars-1.0').message, /the "Action:" line holds no action/);
    assert.match(parseError("Action: tap(start_box='(1,2)')", 'uitars-1.0').message, /unknown action "tap" \(expected one of click, left_single/);
    assert.match(parseError('Action: mouse_down()', 'uitars-1.0').message, /unknown action "mouse_down"/);
    assert.match(parseError('Action: click()', 'uitars-1.0').message, /click\(\): click needs start_box='\(x,y\)'/);
    assert.match(parseError("Action: drag(start_box='(1,2)')", 'uitars-1.0').message, /drag needs end_box/);
    assert.match(parseError("Action: click(start_box='(1200,20)')", 'uitars-1.0').message, /start_box \(1200,20\) is outside the 0–1000 grid/);
    assert.match(parseError("Action: click(start_box='(1300,20)')", 'uitars-1.5', ctx).message, /start_box \(1300,20\) is outside the 1288x812 image the model saw/);
    assert.match(parseError("Action: click(start_box='(1,2,3)')", 'uitars-1.0').message, /start_box must be a point '\(x,y\)' or a box/);
    assert.match(parseError("Action: click(start_box='(1,2)'", 'uitars-1.0').message, /is missing its closing "\)"/);
    assert.match(parseError('Action: type()', 'uitars-1.0').message, /type needs content=/);
    assert.match(parseError("Action: hotkey(key='ctrl hyperdrive')", 'uitars-1.0').message, /key: Unknown key "hyperdrive"/);
    assert.match(parseError("Action: scroll(direction='sideways')", 'uitars-1.0').message, /direction must be one of up, down, left, right, found "sideways"/);
    assert.match(parseError('Action: click the OK button', 'uitars-1.0').message, /cannot read the action "click the OK button"/);
    assert.match(parseError("Action: wait()\nAction: fly(start_box='(1,2)')", 'uitars-1.0').message, /^Action 2 \(fly\(start_box='\(1,2\)'\)\): unknown action "fly"/);
  });
});
