import { z } from 'zod';
import { assertNever } from './assert.ts';
import type { CoordSpace, SpacePoint } from './coords.ts';

/**
 * The action space: one zod object per action type, discriminated by `action_type`, each
 * with only the fields that type uses; the TypeScript type is derived from it. A switch over
 * `action_type` ends in `assertNever`, and the tables below are typed `Record<ActionType, …>`,
 * so a new member is a compile error wherever it must be decided on.
 *
 * Every member has `step_instruction`: in words what to act on (a grounder turns it into a
 * point). A point of the planner's own (UI-TARS style) is welcome on the members that act
 * somewhere, never required: without it, a grounder finds one. What a member cannot be
 * executed without is required: the text to type, the keys to press, the direction to
 * scroll, the app to open, the tool to call. A recorded demonstration (ROADMAP 2) is the
 * same members with `global` points and, until someone describes it, an empty instruction.
 */

export const DIRECTIONS = ['up', 'down', 'left', 'right'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const coordSpaceSchema = z.enum(['screenshot', 'norm1000', 'norm1', 'global']);

export const spacePointSchema = z.object({
  space: coordSpaceSchema,
  x: z.number().finite(),
  y: z.number().finite(),
});

/** A tool and its arguments (ROADMAP 4: multimodal tool use). */
export const toolCallSchema = z.object({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()) });
export type ToolCall = z.infer<typeof toolCallSchema>;

const instruction = { step_instruction: z.string() };
/** A point the planner gave itself; grounders may use or ignore it. */
const at = { point: spacePointSchema.optional() };
const textField = z.string();
/** Lower-case key names, modifiers first (common/keys.ts): ['ctrl', 'shift', 's'], ['enter']. */
const keysField = z.array(z.string().min(1)).min(1);
const durationField = z.number().int().nonnegative();

const member = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ action_type: z.literal(type), ...instruction, ...shape });

export const actionSchema = z.discriminatedUnion('action_type', [
  // Desktop
  member('click', at),
  member('double_click', at),
  member('right_click', at),
  /** `end_point`: where to release. */
  member('drag', { ...at, end_point: spacePointSchema.optional() }),
  member('move', at),
  /** `amount`: wheel notches; `point`: where the wheel turns (else where the pointer is). */
  member('scroll', { ...at, direction: z.enum(DIRECTIONS), amount: z.number().int().positive().optional() }),
  /** `point`: click there first (else type into whatever has the focus). */
  member('type', { ...at, text: textField }),
  /** `point`: the element the keys are meant for (Mind2Web's ENTER on an element); the desktop presses them where the focus is. */
  member('hotkey', { ...at, keys: keysField }),
  member('key', { ...at, keys: keysField }),
  member('wait', { duration_ms: durationField.optional() }),
  /** `answer`: the answer to the user's question, if the task asked one. */
  member('finished', { answer: z.string().optional() }),
  member('call_user', {}),
  member('fail', {}),
  // Mobile and web (benchmarks)
  member('long_press', { ...at, duration_ms: durationField.optional() }),
  member('open_app', { app: z.string() }),
  member('input_text', { ...at, text: textField }),
  member('navigate_home', {}),
  member('navigate_back', {}),
  /** The recent-apps screen (Android's overview button): GUI-Odyssey's PRESS_RECENT. */
  member('navigate_recent', {}),
  /** `value`: the option to choose. */
  member('select', { ...at, value: z.string().optional() }),
  // Tools (ROADMAP 4)
  member('tool_call', { tool: toolCallSchema }),
]);
export type Action = z.infer<typeof actionSchema>;
export type ActionType = Action['action_type'];
export type ActionOf<T extends ActionType> = Extract<Action, { action_type: T }>;

/** Every action type, in the order prompts and messages list them. */
export const ACTION_TYPES: readonly ActionType[] = actionSchema.options.map((o) => o.shape.action_type.value);

type AllKeys<T> = T extends unknown ? keyof T : never;
type FieldType<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? Exclude<T[K], undefined> : never) : never;
/**
 * The wire shape: any member's fields, all optional (what a format reader collects before it
 * knows which fields its type keeps, and what a writer iterates over). Derived from the union.
 */
export type ActionFields = { action_type: ActionType; step_instruction: string } & {
  [K in Exclude<AllKeys<Action>, 'action_type' | 'step_instruction'>]?: FieldType<Action, K>;
};

/**
 * Spellings the wire has always allowed, moved to the field their member keeps: a `finished`
 * step's answer written as `text`, a `select` step's option written as `text`. Rows written
 * before the union hold them so (the loop read `answer ?? text`).
 */
function upgradeWireFields(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  if (o.action_type === 'finished' && o.answer === undefined && typeof o.text === 'string') return { ...o, answer: o.text };
  if (o.action_type === 'select' && o.value === undefined && typeof o.text === 'string') return { ...o, value: o.text };
  return v;
}

/**
 * An action as the wire carries it (TraceR1 JSON, the store's `action_json`, predictions):
 * fields another member would have are dropped, the old spellings above are moved.
 */
export const wireActionSchema = z.preprocess(upgradeWireFields, actionSchema);

/**
 * A member from the fields a reader collected; the problems in words when a field the type
 * cannot do without is missing or malformed.
 */
export function actionFromFields(fields: ActionFields): { ok: true; action: Action } | { ok: false; problems: string[] } {
  const r = wireActionSchema.safeParse(fields);
  if (r.success) return { ok: true, action: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) => {
      const name = i.path.length ? `"${i.path.join('.')}"` : 'the action';
      return i.code === 'invalid_type' && i.input === undefined ? `a ${fields.action_type} step needs ${name}` : `${name}: ${i.message}`;
    }),
  };
}

/** Whether a type needs a point on the screen (and so a grounder). */
const NEEDS_POINT = {
  click: true,
  double_click: true,
  right_click: true,
  drag: true,
  move: true,
  long_press: true,
  select: true,
  // May carry a point (scroll there, click before typing, the element a key is for), but act without one.
  scroll: false,
  type: false,
  input_text: false,
  hotkey: false,
  key: false,
  wait: false,
  finished: false,
  call_user: false,
  fail: false,
  open_app: false,
  navigate_home: false,
  navigate_back: false,
  navigate_recent: false,
  tool_call: false,
} as const satisfies Record<ActionType, boolean>;
type PointedType = { [K in ActionType]: (typeof NEEDS_POINT)[K] extends true ? K : never }[ActionType];
export type PointedAction = ActionOf<PointedType>;

export function needsPoint(a: Action): a is PointedAction {
  return NEEDS_POINT[a.action_type];
}

/** `needsPoint` for a type a reader has recognised, before it builds the action. */
export function typeNeedsPoint(t: ActionType): boolean {
  return NEEDS_POINT[t];
}

/** Whether a type ends the episode. */
const TERMINAL = {
  finished: true,
  call_user: true,
  fail: true,
  click: false,
  double_click: false,
  right_click: false,
  drag: false,
  move: false,
  scroll: false,
  type: false,
  hotkey: false,
  key: false,
  wait: false,
  long_press: false,
  open_app: false,
  input_text: false,
  navigate_home: false,
  navigate_back: false,
  navigate_recent: false,
  select: false,
  tool_call: false,
} as const satisfies Record<ActionType, boolean>;
type TerminalType = { [K in ActionType]: (typeof TERMINAL)[K] extends true ? K : never }[ActionType];
export type TerminalAction = ActionOf<TerminalType>;

export function isTerminal(a: Action): a is TerminalAction {
  return TERMINAL[a.action_type];
}

/** The planner's own point, on the members that may carry one. */
export function plannerPoint(a: Action): SpacePoint | undefined {
  return 'point' in a ? a.point : undefined;
}

export const STEP_STATUSES = ['done', 'not done'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const forecastStepSchema = z.object({
  screenshot_abstraction: z.string(),
  action: actionSchema,
  status: z.enum(STEP_STATUSES),
});
export type ForecastStep = z.infer<typeof forecastStepSchema>;

export const FORECAST_FORMATS = ['tracer1', 'uitars-1.0', 'uitars-1.5'] as const;
export type ForecastFormat = (typeof FORECAST_FORMATS)[number];

export const forecastSchema = z.object({
  format: z.enum(FORECAST_FORMATS),
  /** The model's reasoning (<think> or Thought:), kept for the log. */
  thought: z.string().optional(),
  steps: z.array(forecastStepSchema).min(1),
});
export type Forecast = z.infer<typeof forecastSchema>;

/** A forecast as the store keeps it: its actions read through `wireActionSchema`. */
export const wireForecastSchema = forecastSchema.extend({
  steps: z.array(forecastStepSchema.extend({ action: wireActionSchema })).min(1),
});

/**
 * A short human-readable line for one action, for logs, the planner's history and the CLI.
 * Benchmarks feed it to planners as teacher-forced history, so its wording is kept stable.
 */
export function describeAction(a: Action): string {
  const parts: string[] = [a.action_type];
  const point = () => {
    const p = plannerPoint(a);
    if (p) parts.push(`@(${round(p.x)}, ${round(p.y)} ${p.space})`);
  };
  switch (a.action_type) {
    case 'click':
    case 'double_click':
    case 'right_click':
    case 'drag':
    case 'move':
    case 'long_press':
    case 'select':
      point();
      break;
    case 'scroll':
      parts.push(a.direction + (a.amount ? ` x${a.amount}` : ''));
      point();
      break;
    case 'type':
    case 'input_text':
      parts.push(JSON.stringify(a.text));
      point();
      break;
    case 'hotkey':
    case 'key':
      parts.push(a.keys.join('+'));
      point();
      break;
    case 'open_app':
      parts.push(a.app);
      break;
    case 'finished':
      if (a.answer !== undefined) parts.push(`answer=${JSON.stringify(a.answer)}`);
      break;
    case 'tool_call':
      parts.push(`${a.tool.name}(${JSON.stringify(a.tool.arguments)})`);
      break;
    case 'wait':
    case 'call_user':
    case 'fail':
    case 'navigate_home':
    case 'navigate_back':
    case 'navigate_recent':
      break;
    default:
      return assertNever(a, 'action');
  }
  const head = parts.join(' ');
  return a.step_instruction ? `${head} — ${a.step_instruction}` : head;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** What identifies an action besides its type and instruction: its arguments, and its points. */
interface ActionIdentity {
  /** The arguments, canonical (JSON with sorted keys): equal text means the same arguments. */
  args: string;
  point?: SpacePoint | undefined;
  endPoint?: SpacePoint | undefined;
}

function identityOf(a: Action): ActionIdentity {
  switch (a.action_type) {
    case 'click':
    case 'double_click':
    case 'right_click':
    case 'move':
      return { args: '', point: a.point };
    case 'drag':
      return { args: '', point: a.point, endPoint: a.end_point };
    case 'long_press':
      return { args: canonical([a.duration_ms]), point: a.point };
    case 'select':
      return { args: canonical([a.value]), point: a.point };
    case 'scroll':
      return { args: canonical([a.direction, a.amount]), point: a.point };
    case 'type':
    case 'input_text':
      return { args: canonical([a.text]), point: a.point };
    case 'hotkey':
    case 'key':
      return { args: canonical(a.keys), point: a.point };
    case 'wait':
      return { args: canonical([a.duration_ms]) };
    case 'finished':
      return { args: canonical([a.answer]) };
    case 'open_app':
      return { args: canonical([a.app]) };
    case 'tool_call':
      return { args: canonical([a.tool.name, a.tool.arguments]) };
    case 'call_user':
    case 'fail':
    case 'navigate_home':
    case 'navigate_back':
    case 'navigate_recent':
      return { args: '' };
    default:
      return assertNever(a, 'action');
  }
}

/** JSON with object keys sorted and `undefined` as null, so equal values give equal text. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x === undefined) return null;
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return x;
    return Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)));
  });
}

/**
 * How far apart two points of one space may lie and still name the same target. A model that
 * forecasts the same element again points a few pixels off its last guess; the smallest
 * targets people click (check boxes, toolbar icons) are 16–24 px wide, so a point that moved
 * more than half of one (8 px) names another target, or another place in a text. On the 0–1000
 * grid 5 units are 6–10 px across a 1280–1920 px screenshot and 4–5 px down one 800–1080 px
 * high: about the same distance. Screen-wise, the loop's repetition check uses 16 px cells.
 */
export const SAME_POINT_TOLERANCE: Readonly<Record<CoordSpace, number>> = {
  screenshot: 8,
  global: 8,
  norm1000: 5,
  norm1: 0.005,
};

/**
 * Whether two points name the same place: both absent, or in the same space within its
 * tolerance. Points in different spaces are different: without the frame's geometry they
 * cannot be compared, and one planner speaks one space.
 */
export function samePoint(p: SpacePoint | undefined, q: SpacePoint | undefined): boolean {
  if (p === undefined || q === undefined) return p === q;
  return p.space === q.space && Math.hypot(p.x - q.x, p.y - q.y) <= SAME_POINT_TOLERANCE[p.space];
}

/**
 * Two actions are "the same" for plan continuation (an approved plan survives a re-forecast
 * only when its steps are the same actions): same type, same instruction (case and spacing
 * aside), same arguments, and the same points within `SAME_POINT_TOLERANCE`.
 */
export function sameAction(a: Action, b: Action): boolean {
  if (a.action_type !== b.action_type) return false;
  if (normalizeInstruction(a.step_instruction) !== normalizeInstruction(b.step_instruction)) return false;
  const x = identityOf(a);
  const y = identityOf(b);
  return x.args === y.args && samePoint(x.point, y.point) && samePoint(x.endPoint, y.endPoint);
}

/**
 * A key equal for two actions with the same type, instruction and arguments, points left out
 * (the loop's repetition check adds the point it executed at, on a grid of its own).
 */
export function actionArgumentsKey(a: Action): string {
  return [a.action_type, normalizeInstruction(a.step_instruction), identityOf(a).args].join('|');
}

export function normalizeInstruction(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').trim();
}
