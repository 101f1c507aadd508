import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACTION_TYPES,
  SAME_POINT_TOLERANCE,
  actionFromFields,
  actionSchema,
  describeAction,
  isTerminal,
  needsPoint,
  sameAction,
  wireActionSchema,
  type Action,
  type ActionType,
} from '../../common/actions.ts';
import { actionKey, cycleLength } from '../../main/agent/repetition.ts';
import { isContinuation } from '../../main/agent/review.ts';

const at = (x: number, y: number, space: 'screenshot' | 'norm1000' | 'norm1' | 'global' = 'screenshot') => ({ space, x, y });

/** One example of every member, and the line describeAction gives for it (what logs, history and the CLI show). */
const EXAMPLES: { [K in ActionType]: [Extract<Action, { action_type: K }>, string] } = {
  click: [{ action_type: 'click', step_instruction: "click on 'Save'", point: at(10, 20) }, "click @(10, 20 screenshot) — click on 'Save'"],
  double_click: [{ action_type: 'double_click', step_instruction: 'open the file' }, 'double_click — open the file'],
  right_click: [{ action_type: 'right_click', step_instruction: 'the icon', point: at(1.25, 2, 'norm1000') }, 'right_click @(1.3, 2 norm1000) — the icon'],
  drag: [{ action_type: 'drag', step_instruction: 'drag it', point: at(1, 2), end_point: at(3, 4) }, 'drag @(1, 2 screenshot) — drag it'],
  move: [{ action_type: 'move', step_instruction: 'hover the menu' }, 'move — hover the menu'],
  scroll: [{ action_type: 'scroll', step_instruction: 'the list', direction: 'down', amount: 5 }, 'scroll down x5 — the list'],
  type: [{ action_type: 'type', step_instruction: '', text: 'hello "you"' }, 'type "hello \\"you\\""'],
  hotkey: [{ action_type: 'hotkey', step_instruction: 'save', keys: ['ctrl', 's'] }, 'hotkey ctrl+s — save'],
  key: [{ action_type: 'key', step_instruction: 'submit', keys: ['enter'], point: at(5, 6) }, 'key enter @(5, 6 screenshot) — submit'],
  wait: [{ action_type: 'wait', step_instruction: 'the dialog', duration_ms: 500 }, 'wait — the dialog'],
  finished: [{ action_type: 'finished', step_instruction: 'done', answer: '42' }, 'finished answer="42" — done'],
  call_user: [{ action_type: 'call_user', step_instruction: 'need a password' }, 'call_user — need a password'],
  fail: [{ action_type: 'fail', step_instruction: 'no such file' }, 'fail — no such file'],
  long_press: [{ action_type: 'long_press', step_instruction: 'the photo', point: at(7, 8) }, 'long_press @(7, 8 screenshot) — the photo'],
  open_app: [{ action_type: 'open_app', step_instruction: '', app: 'Clock' }, 'open_app Clock'],
  input_text: [{ action_type: 'input_text', step_instruction: 'the search box', text: 'pizza' }, 'input_text "pizza" — the search box'],
  navigate_home: [{ action_type: 'navigate_home', step_instruction: '' }, 'navigate_home'],
  navigate_back: [{ action_type: 'navigate_back', step_instruction: 'back' }, 'navigate_back — back'],
  navigate_recent: [{ action_type: 'navigate_recent', step_instruction: '' }, 'navigate_recent'],
  select: [{ action_type: 'select', step_instruction: 'the size', value: 'Large' }, 'select — the size'],
  tool_call: [{ action_type: 'tool_call', step_instruction: 'look it up', tool: { name: 'search', arguments: { q: 'x' } } }, 'tool_call search({"q":"x"}) — look it up'],
};

describe('describeAction', () => {
  for (const type of ACTION_TYPES) {
    test(`${type}: its own fields, then the instruction`, () => {
      const [action, line] = EXAMPLES[type];
      assert.equal(describeAction(action), line);
      // Every example is a member the schema accepts as it is.
      assert.deepEqual(actionSchema.parse(action), action);
    });
  }
});

describe('the schema: one member per type, with the fields that type needs', () => {
  test('a member missing its own required field is refused, also when it carries another member’s field instead', () => {
    const refused: [string, unknown][] = [
      ['type with keys instead of text', { action_type: 'type', step_instruction: 'x', keys: ['enter'] }],
      ['input_text without text', { action_type: 'input_text', step_instruction: 'x', value: 'a' }],
      ['hotkey with text instead of keys', { action_type: 'hotkey', step_instruction: 'x', text: 'ctrl+s' }],
      ['key with no keys at all', { action_type: 'key', step_instruction: 'x', keys: [] }],
      ['scroll with an amount but no direction', { action_type: 'scroll', step_instruction: 'x', amount: 3 }],
      ['open_app with text instead of app', { action_type: 'open_app', step_instruction: 'x', text: 'Clock' }],
      ['tool_call with arguments but no tool', { action_type: 'tool_call', step_instruction: 'x', arguments: {} }],
      ['an unknown type', { action_type: 'triple_click', step_instruction: 'x' }],
    ];
    for (const [what, v] of refused) assert.equal(actionSchema.safeParse(v).success, false, what);
  });

  test('actionFromFields names the missing field', () => {
    const r = actionFromFields({ action_type: 'type', step_instruction: 'x', keys: ['enter'] });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.problems.some((p) => p.includes('"text"')), JSON.stringify(r));
  });

  test('a point is welcome, never required; fields of other members are dropped', () => {
    assert.deepEqual(actionSchema.parse({ action_type: 'click', step_instruction: 'OK' }), { action_type: 'click', step_instruction: 'OK' });
    assert.deepEqual(actionSchema.parse({ action_type: 'click', step_instruction: 'OK', text: 'stray', keys: ['a'] }), {
      action_type: 'click',
      step_instruction: 'OK',
    });
    assert.deepEqual(actionSchema.parse({ action_type: 'hotkey', step_instruction: '', keys: ['ctrl', 'a'], direction: 'up' }), {
      action_type: 'hotkey',
      step_instruction: '',
      keys: ['ctrl', 'a'],
    });
  });

  test('the wire view reads the old spellings: a finished answer or a select option written as "text"', () => {
    assert.deepEqual(wireActionSchema.parse({ action_type: 'finished', step_instruction: 'done', text: '42 files' }), {
      action_type: 'finished',
      step_instruction: 'done',
      answer: '42 files',
    });
    assert.deepEqual(wireActionSchema.parse({ action_type: 'finished', step_instruction: '', text: 'old', answer: 'new' }), {
      action_type: 'finished',
      step_instruction: '',
      answer: 'new',
    });
    assert.deepEqual(wireActionSchema.parse({ action_type: 'select', step_instruction: 'size', text: 'Large' }), {
      action_type: 'select',
      step_instruction: 'size',
      value: 'Large',
    });
  });

  test('pointed and terminal types', () => {
    const pointed = ACTION_TYPES.filter((t) => needsPoint(EXAMPLES[t][0]));
    assert.deepEqual(pointed, ['click', 'double_click', 'right_click', 'drag', 'move', 'long_press', 'select']);
    const terminal = ACTION_TYPES.filter((t) => isTerminal(EXAMPLES[t][0]));
    assert.deepEqual(terminal, ['finished', 'call_user', 'fail']);
  });
});

describe('sameAction', () => {
  const click = (p?: ReturnType<typeof at>): Action => ({ action_type: 'click', step_instruction: "click on 'Save'", ...(p ? { point: p } : {}) });

  test('a point that moved beyond the tolerance makes another action; jitter within it does not', () => {
    assert.equal(sameAction(click(at(100, 100)), click(at(400, 100))), false);
    assert.equal(sameAction(click(at(100, 100)), click(at(100 + SAME_POINT_TOLERANCE.screenshot + 1, 100))), false);
    assert.equal(sameAction(click(at(100, 100)), click(at(103, 104))), true, '5 px apart');
    assert.equal(sameAction(click(at(500, 500, 'norm1000')), click(at(503, 504, 'norm1000'))), true);
    assert.equal(sameAction(click(at(500, 500, 'norm1000')), click(at(520, 500, 'norm1000'))), false);
    assert.equal(sameAction(click(at(0.5, 0.5, 'norm1')), click(at(0.52, 0.5, 'norm1'))), false);
  });

  test('a point in another space, or a point where there was none, is another action', () => {
    assert.equal(sameAction(click(at(500, 500, 'norm1000')), click(at(500, 500, 'screenshot'))), false);
    assert.equal(sameAction(click(), click(at(1, 1))), false);
    assert.equal(sameAction(click(), click()), true);
  });

  test('instruction case and spacing do not matter; type, instruction and arguments do', () => {
    assert.equal(sameAction(click(), { action_type: 'click', step_instruction: "  Click on  'save' " }), true);
    assert.equal(sameAction(click(), { action_type: 'double_click', step_instruction: "click on 'Save'" }), false);
    assert.equal(sameAction(click(), { action_type: 'click', step_instruction: "click on 'Save As'" }), false);
    const differ = (a: Action, b: Action, what: string) => {
      assert.equal(sameAction(a, a), true, `${what}: same as itself`);
      assert.equal(sameAction(a, b), false, what);
    };
    differ({ action_type: 'type', step_instruction: '', text: 'a' }, { action_type: 'type', step_instruction: '', text: 'b' }, 'text');
    differ({ action_type: 'select', step_instruction: 's', value: 'Small' }, { action_type: 'select', step_instruction: 's', value: 'Large' }, 'value');
    differ({ action_type: 'open_app', step_instruction: '', app: 'Clock' }, { action_type: 'open_app', step_instruction: '', app: 'Files' }, 'app');
    differ(
      { action_type: 'scroll', step_instruction: '', direction: 'down', amount: 3 },
      { action_type: 'scroll', step_instruction: '', direction: 'down', amount: 10 },
      'amount',
    );
    differ({ action_type: 'scroll', step_instruction: '', direction: 'down' }, { action_type: 'scroll', step_instruction: '', direction: 'up' }, 'direction');
    differ({ action_type: 'hotkey', step_instruction: '', keys: ['ctrl', 'c'] }, { action_type: 'hotkey', step_instruction: '', keys: ['ctrl', 'v'] }, 'keys');
    differ(
      { action_type: 'drag', step_instruction: 'd', point: at(1, 1), end_point: at(10, 10) },
      { action_type: 'drag', step_instruction: 'd', point: at(1, 1), end_point: at(300, 10) },
      'end point',
    );
    differ({ action_type: 'finished', step_instruction: '', answer: '4' }, { action_type: 'finished', step_instruction: '', answer: '5' }, 'answer');
    differ(
      { action_type: 'tool_call', step_instruction: '', tool: { name: 'calc', arguments: { expr: '1+1' } } },
      { action_type: 'tool_call', step_instruction: '', tool: { name: 'calc', arguments: { expr: '1+2' } } },
      'tool arguments',
    );
    assert.equal(
      sameAction(
        { action_type: 'tool_call', step_instruction: '', tool: { name: 'f', arguments: { a: 1, b: { c: 2, d: 3 } } } },
        { action_type: 'tool_call', step_instruction: '', tool: { name: 'f', arguments: { b: { d: 3, c: 2 }, a: 1 } } },
      ),
      true,
      'the order of argument keys does not matter',
    );
  });

  test('an approved plan does not survive new coordinates (approval policy "forecast")', () => {
    const plan = (p: ReturnType<typeof at>) => ({
      format: 'uitars-1.0' as const,
      steps: [
        { screenshot_abstraction: '', action: click(p), status: 'not done' as const },
        { screenshot_abstraction: '', action: { action_type: 'type' as const, step_instruction: 'name', text: 'a.txt' }, status: 'not done' as const },
      ],
    });
    const approved = { forecast: plan(at(100, 100, 'norm1000')), executedSince: 0 };
    assert.equal(isContinuation(approved, plan(at(102, 99, 'norm1000'))), true, 'the same target, a little jitter');
    assert.equal(isContinuation(approved, plan(at(600, 100, 'norm1000'))), false, 'the planner now clicks elsewhere');
  });
});

describe('loop detection still sees the same element clicked again and again', () => {
  test('three clicks a few pixels apart on one element are a cycle; clicks on different elements are not', () => {
    const a = click("click on 'Next'");
    const keys = [actionKey(a, { x: 400, y: 300 }), actionKey(a, { x: 403, y: 302 })];
    assert.equal(cycleLength(keys, actionKey(a, { x: 398, y: 299 })), 1);
    assert.equal(cycleLength(keys, actionKey(a, { x: 700, y: 300 })), 0);
    const t = (text: string): Action => ({ action_type: 'type', step_instruction: '', text });
    assert.equal(cycleLength([actionKey(t('a')), actionKey(t('a'))], actionKey(t('a'))), 1);
    assert.equal(cycleLength([actionKey(t('a')), actionKey(t('a'))], actionKey(t('b'))), 0);
  });

  function click(step_instruction: string): Action {
    return { action_type: 'click', step_instruction };
  }
});
