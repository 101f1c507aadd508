/**
 * TraceR1: the fields of one step, as the relaxed reader gave them, → a `ForecastStep` with its
 * `Action`. The reading of the answer's structure is in tracer1.ts; what each field may hold,
 * its spellings, and what each action type cannot do without are here. The one place that
 * builds an `Action` from the fields is `traceR1Action`.
 */
import { appNameIn, directionIn, quotedTextIn } from './instruction-args.ts';
import {
  ACTION_TYPES,
  DIRECTIONS,
  actionFromFields,
  coordSpaceSchema,
  type Action,
  type ActionFields,
  type ActionType,
  type Direction,
  type ForecastStep,
  type StepStatus,
  type ToolCall,
} from '../actions.ts';
import type { CoordSpace, SpacePoint } from '../coords.ts';
import { isForesightError } from '../errors.ts';
import { parseKeyCombo } from '../keys.ts';
import { MAX_WAIT_MS, clip, count, type ParseContext, type Problems } from './format.ts';
import { RelaxedJson, SyntaxProblem, describe, isObject, type Json, type JsonObject } from './lexer.ts';

/** Spellings of action types seen in model output, squashed with `squashName`. */
const ACTION_SYNONYMS: Readonly<Record<string, ActionType>> = {
  tap: 'click',
  left_click: 'click',
  left_single: 'click',
  single_click: 'click',
  click_element: 'click',
  double_tap: 'double_click',
  doubleclick: 'double_click',
  left_double: 'double_click',
  dbl_click: 'double_click',
  right_single: 'right_click',
  rightclick: 'right_click',
  context_click: 'right_click',
  long_click: 'long_press',
  long_tap: 'long_press',
  longpress: 'long_press',
  drag_and_drop: 'drag',
  left_drag: 'drag',
  hover: 'move',
  mouse_move: 'move',
  move_to: 'move',
  move_mouse: 'move',
  // "input_text" stays the mobile action; the other spellings of typing are the desktop "type"
  input: 'type',
  type_text: 'type',
  typing: 'type',
  write: 'type',
  press: 'key',
  keypress: 'key',
  press_key: 'key',
  key_press: 'key',
  hotkeys: 'hotkey',
  key_combination: 'hotkey',
  shortcut: 'hotkey',
  sleep: 'wait',
  pause: 'wait',
  finish: 'finished',
  done: 'finished',
  ask_user: 'call_user',
  calluser: 'call_user',
  failed: 'fail',
  infeasible: 'fail',
  home: 'navigate_home',
  press_home: 'navigate_home',
  go_home: 'navigate_home',
  back: 'navigate_back',
  press_back: 'navigate_back',
  go_back: 'navigate_back',
  recent: 'navigate_recent',
  recents: 'navigate_recent',
  press_recent: 'navigate_recent',
  recent_apps: 'navigate_recent',
  app_switch: 'navigate_recent',
  open: 'open_app',
  launch: 'open_app',
  launch_app: 'open_app',
  open_application: 'open_app',
  select_option: 'select',
  tool: 'tool_call',
  function_call: 'tool_call',
  call_tool: 'tool_call',
};

const KNOWN_ACTIONS: ReadonlySet<string> = new Set(ACTION_TYPES);

/** Actions whose step_instruction may be empty: nothing on the screen has to be found for them. */
const NO_TARGET_ACTIONS = {
  wait: true,
  finished: true,
  fail: true,
  call_user: true,
  navigate_home: true,
  navigate_back: true,
  navigate_recent: true,
  hotkey: true,
  key: true,
  type: true,
  click: false,
  double_click: false,
  right_click: false,
  drag: false,
  move: false,
  scroll: false,
  long_press: false,
  open_app: false,
  input_text: false,
  select: false,
  tool_call: false,
} as const satisfies Record<ActionType, boolean>;

function squashName(s: string): string {
  return s.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

function actionTypeOf(name: string): ActionType | undefined {
  const s = squashName(name);
  if (KNOWN_ACTIONS.has(s)) return s as ActionType;
  // own keys only: "constructor" is not a spelling of an action
  return Object.hasOwn(ACTION_SYNONYMS, s) ? ACTION_SYNONYMS[s] : undefined;
}

function unknownActionMessage(name: string): string {
  return `unknown action_type ${JSON.stringify(clip(name, 60))} (expected one of ${ACTION_TYPES.join(', ')})`;
}

const DONE_WORDS = new Set(['done', 'complete', 'completed', 'finished', 'success']);
const NOT_DONE_WORDS = new Set(['not done', 'notdone', 'undone', 'not finished', 'incomplete', 'in progress', 'ongoing', 'pending']);

function statusOf(v: string): StepStatus | undefined {
  const s = v.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
  if (DONE_WORDS.has(s)) return 'done';
  if (NOT_DONE_WORDS.has(s)) return 'not done';
  return undefined;
}

/** The members of an object under squashed keys ("Step Instruction" → step_instruction); the first spelling wins. */
export function fieldsOf(o: JsonObject): Map<string, Json> {
  const m = new Map<string, Json>();
  for (const [k, v] of Object.entries(o)) {
    const key = squashName(k);
    if (!m.has(key)) m.set(key, v);
  }
  return m;
}

function firstOf(f: Map<string, Json>, names: readonly string[]): { name: string; value: Json } | undefined {
  for (const name of names) {
    const value = f.get(name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

/** One step from its members: "screenshot_abstraction", "action" and "status", each checked. */
export function readStep(o: JsonObject, where: string, problems: Problems, ctx: ParseContext | undefined): ForecastStep | undefined {
  const f = fieldsOf(o);
  const before = problems.list.length;

  let abstraction = '';
  const abs = firstOf(f, ['screenshot_abstraction', 'screen_abstraction', 'abstraction']);
  if (abs !== undefined) {
    if (typeof abs.value === 'string') abstraction = abs.value;
    else if (abs.value !== null) problems.add(where, `"screenshot_abstraction" must be text, found ${describe(abs.value)}`);
  }

  let action: Action | undefined;
  const a = f.get('action');
  if (a === undefined) {
    const flat = f.has('action_type') ? ' (put "action_type" and "step_instruction" inside "action": {...})' : '';
    problems.add(where, `"action" is missing${flat}`);
  } else if (!isObject(a)) {
    problems.add(where, `"action" must be an object like {"action_type": "click", "step_instruction": "..."}, found ${describe(a)}`);
  } else {
    action = readAction(a, where, problems, ctx);
  }

  let status: StepStatus | undefined;
  const s = f.get('status');
  if (s === undefined) problems.add(where, '"status" is missing (expected "done" or "not done")');
  else if (typeof s !== 'string') problems.add(where, `"status" must be "done" or "not done", found ${describe(s)}`);
  else {
    status = statusOf(s);
    if (!status) problems.add(where, `"status" is ${JSON.stringify(clip(s, 60))}; expected "done" or "not done"`);
  }

  if (problems.list.length > before || !action || !status) return undefined;
  return { screenshot_abstraction: abstraction, action, status };
}

/**
 * Reads the action of one step from the members of its "action" object: the type (or one of its
 * spellings), the arguments that type needs, and the words for the grounder. Every problem is
 * added to `problems`; undefined when there was any.
 */
function readAction(o: JsonObject, where: string, problems: Problems, ctx: ParseContext | undefined): Action | undefined {
  const f = fieldsOf(o);
  const before = problems.list.length;
  const bad = (msg: string) => problems.add(where, msg);

  const typeField = firstOf(f, ['action_type', 'type']);
  if (typeField === undefined) {
    bad('"action" is missing "action_type"');
    return undefined;
  }
  if (typeof typeField.value !== 'string') {
    bad(`"action_type" must be text such as "click", found ${describe(typeField.value)}`);
    return undefined;
  }
  const type = actionTypeOf(typeField.value);
  if (!type) {
    bad(unknownActionMessage(typeField.value));
    return undefined;
  }

  let text = readText(f, type === 'finished' ? ['text'] : ['text', 'content'], 'text', bad);
  const answer = readText(f, type === 'finished' ? ['answer', 'content'] : ['answer'], 'answer', bad);
  let app = readText(f, ['app', 'app_name', 'application'], 'app', bad);
  const value = readText(f, ['value', 'option'], 'value', bad);

  let keys: string[] | undefined;
  const k = firstOf(f, ['keys', 'key', 'hotkey', 'key_combination', 'combination']);
  if (k !== undefined) {
    const input = typeof k.value === 'string' ? k.value : Array.isArray(k.value) && k.value.every((x) => typeof x === 'string') ? (k.value as string[]) : undefined;
    if (input === undefined) bad(`"${k.name}" must be key names such as ["ctrl", "s"] or "ctrl+s", found ${describe(k.value)}`);
    else {
      try {
        keys = parseKeyCombo(input);
      } catch (e) {
        if (!isForesightError(e)) throw e;
        bad(`"${k.name}": ${clip(e.message, 200)}`);
      }
    }
  }

  let direction: Direction | undefined;
  const d = firstOf(f, ['direction', 'dir']);
  if (d !== undefined) {
    const dv = typeof d.value === 'string' ? d.value.trim().toLowerCase() : undefined;
    if (dv !== undefined && (DIRECTIONS as readonly string[]).includes(dv)) direction = dv as Direction;
    else bad(`"direction" must be one of ${DIRECTIONS.join(', ')}, found ${describe(d.value)}`);
  }

  const amount = readInt(f, ['amount', 'clicks', 'notches'], 'amount', 1, bad);
  let duration = readInt(f, ['duration_ms', 'ms'], 'duration_ms', 0, bad);
  if (duration === undefined) {
    const seconds = firstOf(f, ['seconds', 'duration_s', 'duration_sec']);
    if (seconds !== undefined) {
      const n = toNumber(seconds.value);
      if (n === undefined || n < 0) bad(`"${seconds.name}" must be a number of seconds, found ${describe(seconds.value)}`);
      else duration = Math.round(n * 1000);
    }
  }
  if (duration !== undefined && duration > MAX_WAIT_MS) {
    bad(`a wait of ${count(duration)} ms is longer than the longest allowed, ${count(MAX_WAIT_MS)} ms (${MAX_WAIT_MS / 1000} s)`);
  }

  const point = readPoint(f, ['point', 'coordinate', 'coordinates', 'position', 'start_point', 'start_box'], where, problems, ctx);
  const endPoint = readPoint(f, ['end_point', 'end_coordinate', 'end_coordinates', 'end_box'], where, problems, ctx);

  let tool: ToolCall | undefined;
  const t = f.get('tool');
  const toolName = f.get('tool_name');
  if (t !== undefined || toolName !== undefined) tool = readTool(t, toolName, f, bad);

  let instruction = '';
  const si = f.get('step_instruction');
  if (si === undefined || si === null) {
    if (!NO_TARGET_ACTIONS[type] && !point) bad(`"action" is missing "step_instruction" (say in words what to ${type.replace(/_/g, ' ')} on)`);
  } else if (typeof si !== 'string') {
    bad(`"step_instruction" must be text, found ${describe(si)}`);
  } else {
    instruction = si;
    if (si.trim() === '' && !NO_TARGET_ACTIONS[type] && !point) bad(`"step_instruction" is empty; a ${type} step must say in words what to act on`);
  }

  // The prototype's prompt puts these in the words ("scroll down to …", "type 'x' in …", "open
  // Gmail app"); read them there when the step does not give them (instruction-args.ts).
  if ((type === 'type' || type === 'input_text') && text === undefined) text = quotedTextIn(instruction);
  if (type === 'scroll' && direction === undefined && d === undefined) direction = directionIn(instruction);
  if (type === 'open_app' && (app === undefined || app.trim() === '')) app = appNameIn(instruction);

  // What each action cannot do without.
  if ((type === 'type' || type === 'input_text') && text === undefined) bad(`a ${type} step needs "text", the exact text to type (or that text quoted in its step_instruction)`);
  if ((type === 'hotkey' || type === 'key') && keys === undefined && k === undefined) bad(`a ${type} step needs "keys", e.g. ${type === 'key' ? '["enter"]' : '["ctrl", "s"]'}`);
  if (type === 'scroll' && direction === undefined && d === undefined) bad(`a scroll step needs "direction" (one of ${DIRECTIONS.join(', ')}), or that word in its step_instruction`);
  if (type === 'open_app' && (app === undefined || app.trim() === '')) bad('an open_app step needs "app", the application name (or "open <name> app" in its step_instruction)');
  if (type === 'tool_call' && tool === undefined && t === undefined && toolName === undefined) bad('a tool_call step needs "tool": {"name": "...", "arguments": {...}}');

  if (problems.list.length > before) return undefined;
  return traceR1Action(type, instruction, { text, keys, direction, amount, point, endPoint, answer, app, duration, value, tool }, bad);
}

/** The arguments of an action as read and checked, before they become an `Action`. */
interface TraceR1Args {
  text: string | undefined;
  keys: string[] | undefined;
  direction: Direction | undefined;
  amount: number | undefined;
  point: SpacePoint | undefined;
  endPoint: SpacePoint | undefined;
  answer: string | undefined;
  app: string | undefined;
  duration: number | undefined;
  value: string | undefined;
  tool: ToolCall | undefined;
}

/**
 * The one place a TraceR1 `Action` is built, from arguments already checked against its type:
 * the union member of that type, which keeps the fields it has (a click's "text" is dropped; a
 * finished step's answer written as "text" becomes its answer, a select's option its value).
 */
function traceR1Action(type: ActionType, instruction: string, args: TraceR1Args, bad: (m: string) => void): Action | undefined {
  const action: ActionFields = { action_type: type, step_instruction: instruction };
  if (args.text !== undefined) action.text = args.text;
  if (args.keys !== undefined) action.keys = args.keys;
  if (args.direction !== undefined) action.direction = args.direction;
  if (args.amount !== undefined) action.amount = args.amount;
  if (args.point !== undefined) action.point = args.point;
  if (args.endPoint !== undefined) action.end_point = args.endPoint;
  if (args.answer !== undefined) action.answer = args.answer;
  if (args.app !== undefined) action.app = args.app;
  if (args.duration !== undefined) action.duration_ms = args.duration;
  if (args.value !== undefined) action.value = args.value;
  if (args.tool !== undefined) action.tool = args.tool;
  const built = actionFromFields(action);
  if (!built.ok) {
    // Only reached if a check above misses what the schema requires: still a clear PARSE_ERROR.
    for (const p of built.problems) bad(p);
    return undefined;
  }
  return built.action;
}

function readText(f: Map<string, Json>, names: readonly string[], label: string, bad: (m: string) => void): string | undefined {
  const v = firstOf(f, names);
  if (v === undefined || v.value === null) return undefined;
  if (typeof v.value === 'string') return v.value;
  if (typeof v.value === 'number' || typeof v.value === 'boolean') return String(v.value);
  bad(`"${label}" must be text, found ${describe(v.value)}`);
  return undefined;
}

function toNumber(v: Json): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(v)) return Number(v);
  return undefined;
}

function readInt(f: Map<string, Json>, names: readonly string[], label: string, min: number, bad: (m: string) => void): number | undefined {
  const v = firstOf(f, names);
  if (v === undefined || v.value === null) return undefined;
  const n = toNumber(v.value);
  if (n === undefined || !Number.isInteger(n) || n < min || !Number.isSafeInteger(n)) {
    bad(`"${label}" must be a whole number${min > 0 ? ` of at least ${min}` : ' (0 or more)'}, found ${describe(v.value)}`);
    return undefined;
  }
  return n;
}

const POINT_SPACES: ReadonlySet<string> = new Set(coordSpaceSchema.options);

/**
 * A point the planner gave itself: [x, y], [x1, y1, x2, y2] (the centre), {"x": …, "y": …}
 * with an optional "space", or text such as "(x, y)" / "<point>x y</point>".
 */
function readPoint(f: Map<string, Json>, names: readonly string[], where: string, problems: Problems, ctx: ParseContext | undefined): SpacePoint | undefined {
  const v = firstOf(f, names);
  if (v === undefined || v.value === null) return undefined;
  const label = names[0]!;
  const bad = (m: string) => problems.add(where, m);
  let coords: number[] | undefined;
  let space: CoordSpace = ctx?.pointSpace ?? 'norm1000';
  const value = v.value;
  if (Array.isArray(value)) {
    const ns = value.map(toNumber);
    if (ns.every((n): n is number => n !== undefined)) coords = ns;
  } else if (isObject(value)) {
    const pf = fieldsOf(value);
    const x = pf.get('x');
    const y = pf.get('y');
    const xs = x === undefined ? undefined : toNumber(x);
    const ys = y === undefined ? undefined : toNumber(y);
    if (xs !== undefined && ys !== undefined) coords = [xs, ys];
    const sp = pf.get('space');
    if (sp !== undefined) {
      if (typeof sp === 'string' && POINT_SPACES.has(sp)) space = sp as CoordSpace;
      else {
        bad(`"${label}" has an unknown "space" ${describe(sp)} (expected one of ${coordSpaceSchema.options.join(', ')})`);
        return undefined;
      }
    }
  } else if (typeof value === 'string') {
    coords = numbersIn(value);
  }
  if (coords === undefined || (coords.length !== 2 && coords.length !== 4) || !coords.every(Number.isFinite)) {
    bad(`"${label}" must be [x, y] or {"x": ..., "y": ...}, found ${describe(value)}`);
    return undefined;
  }
  const [x, y] = coords.length === 4 ? [(coords[0]! + coords[2]!) / 2, (coords[1]! + coords[3]!) / 2] : [coords[0]!, coords[1]!];
  const range = ctx?.checkRange === false ? undefined : rangeOf(space, ctx);
  if (range && (x < 0 || y < 0 || x > range.w || y > range.h)) {
    bad(`"${label}" (${x}, ${y}) is outside the ${range.name} (0–${range.w} × 0–${range.h})`);
    return undefined;
  }
  return { space, x, y };
}

function rangeOf(space: CoordSpace, ctx: ParseContext | undefined): { w: number; h: number; name: string } | undefined {
  if (space === 'norm1000') return { w: 1000, h: 1000, name: '0–1000 grid' };
  if (space === 'norm1') return { w: 1, h: 1, name: 'normalised 0–1 range' };
  if (space === 'screenshot' && ctx) return { w: ctx.imageWidth, h: ctx.imageHeight, name: `${ctx.imageWidth}x${ctx.imageHeight} screenshot` };
  return undefined;
}

function numbersIn(s: string): number[] {
  return (s.match(/[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g) ?? []).map(Number);
}

function readTool(t: Json | undefined, toolName: Json | undefined, f: Map<string, Json>, bad: (m: string) => void): ToolCall | undefined {
  let name: Json | undefined;
  let args: Json | undefined;
  if (isObject(t)) {
    const tf = fieldsOf(t);
    name = tf.get('name');
    args = firstOf(tf, ['arguments', 'args', 'parameters'])?.value;
  } else if (typeof t === 'string') {
    name = t;
    args = firstOf(f, ['arguments', 'args', 'parameters'])?.value;
  } else if (t === undefined) {
    name = toolName;
    args = firstOf(f, ['arguments', 'args', 'parameters'])?.value;
  } else {
    bad(`"tool" must be {"name": "...", "arguments": {...}}, found ${describe(t)}`);
    return undefined;
  }
  if (typeof name !== 'string' || name.trim() === '') {
    bad(`"tool" needs a "name", found ${describe(name)}`);
    return undefined;
  }
  if (typeof args === 'string') {
    // Function-calling APIs send arguments as a JSON string.
    try {
      args = new RelaxedJson(args, false).value();
    } catch (e) {
      if (!(e instanceof SyntaxProblem)) throw e;
      bad(`"tool" "arguments" must be an object, found ${describe(args)}`);
      return undefined;
    }
  }
  if (args === undefined || args === null) return { name, arguments: {} };
  if (!isObject(args)) {
    bad(`"tool" "arguments" must be an object, found ${describe(args)}`);
    return undefined;
  }
  return { name, arguments: args };
}

