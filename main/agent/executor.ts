/**
 * Turns one grounded action into input. Every point is converted from the observation's
 * screenshot space to global coordinates here and checked against the displays: nothing is
 * ever clicked or typed off screen.
 */
import { needsPoint, plannerPoint, type Action } from '../../common/actions.ts';
import { assertNever } from '../../common/assert.ts';
import { assertOnScreen, convertPoint, type Display, type Point, type Rect, type SpacePoint } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import { abortableSleep } from '../../common/sleep.ts';
import type { Grounding, Input, Observation } from '../../common/ports.ts';

export interface ExecutionTarget {
  globalPoint?: Point;
  globalEndPoint?: Point;
}

const DEFAULT_SCROLL_NOTCHES = 3;
const DEFAULT_WAIT_MS = 1000;
const LONG_PRESS_MS = 800;

/** The loop decides what to ground next to resolveTarget; the rule itself is the union's table. */
export { needsPoint };

/**
 * Where an action lands, in global coordinates, refused when outside every display or inside a
 * no-click zone (the app's own window: the agent must never act on the app that watches it).
 */
export function resolveTarget(
  action: Action,
  grounding: Grounding | undefined,
  observation: Observation,
  displays: readonly Display[],
  noClickZones: readonly Rect[] = [],
): ExecutionTarget {
  const toGlobal = (p: SpacePoint): Point => {
    const g = snapToFrameEdge(convertPoint(p, 'global', observation.geometry), observation.geometry.display.bounds);
    assertOnScreen(g, displays);
    assertOutsideZones(g, noClickZones);
    return { x: g.x, y: g.y };
  };
  const start = grounding?.point ?? plannerPoint(action);
  const end = action.action_type === 'drag' ? (grounding?.endPoint ?? action.end_point) : undefined;
  const target: ExecutionTarget = {};
  if (start) target.globalPoint = toGlobal(start);
  if (end) target.globalEndPoint = toGlobal(end);
  if (needsPoint(action) && !target.globalPoint) {
    throw new ForesightError('GROUNDING_FAILED', `No point to ${action.action_type} at for "${action.step_instruction}"`);
  }
  if (action.action_type === 'drag' && !target.globalEndPoint) {
    throw new ForesightError('GROUNDING_FAILED', `No end point for drag "${action.step_instruction}"`);
  }
  return target;
}

/** Refuses a point inside any zone (global logical pixels; right and bottom edges exclusive). */
export function assertOutsideZones(p: Point, zones: readonly Rect[]): void {
  const zone = zones.find((r) => p.x >= r.x && p.x < r.x + r.width && p.y >= r.y && p.y < r.y + r.height);
  if (!zone) return;
  throw new ForesightError(
    'OUT_OF_SCREEN',
    `The point (${Math.round(p.x)}, ${Math.round(p.y)}) lies in Foresight's own window (${zone.x}, ${zone.y}, ${zone.width}×${zone.height}); the agent never acts there. Move the app to another display or let it shrink to its panel while a run acts.`,
    { point: { x: p.x, y: p.y }, zone: { ...zone }, reason: 'no_click_zone' },
  );
}

/**
 * A point on the far edge of the frame (0–1000 grid value 1000, x = image width) lies on the
 * display's exclusive edge; pull it in by up to one pixel. Anything farther out is refused.
 */
function snapToFrameEdge(p: Point, b: Rect): Point {
  const snap = (v: number, lo: number, hi: number) => (v >= hi && v <= hi + 1 ? hi - 0.5 : v < lo && v >= lo - 1 ? lo : v);
  return { x: snap(p.x, b.x, b.x + b.width), y: snap(p.y, b.y, b.y + b.height) };
}


/**
 * The timing between inputs that the screen cannot show. Apps start debounced work a little
 * after the last typed character: GTK's file chooser checks a typed path ~150–220 ms later
 * (greying out its Save button, then fading it in until ~450 ms) and drops an Enter pressed
 * before it is done; a web search box fetches suggestions 150–300 ms after the last key. The
 * screen stays still until then, so a settle detector cannot see it coming. Therefore any
 * input other than more text waits until `typingDebounceMs` after the text, and then for the
 * screen to settle. With a real model the forecast alone takes longer, so this costs nothing;
 * a scripted plan pays it on the steps that follow typing.
 */
export interface Pacing {
  /** Waits until the screen stops changing (Observer.settle). */
  settle(signal: AbortSignal): Promise<unknown>;
  /** Quiet time owed to the app after typed text before another kind of input (default 300). */
  typingDebounceMs: number;
  /** When typed text last ended (clock.now()); executeAction keeps it up to date. */
  textEndedAt?: number;
  /** Time for the waits above and for `wait` actions (default: the system's); tests give a fake one. */
  clock?: Clock;
}

/** Time as the executor sees it. */
export interface Clock {
  now(): number;
  /** Resolves after ms; rejects with stopped() as soon as the signal aborts. */
  sleep(ms: number, signal: AbortSignal, stopped: () => Error): Promise<void>;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now(), sleep: abortableSleep };

export const DEFAULT_TYPING_DEBOUNCE_MS = 300;

/** Pays what is still owed after typed text: sleeps, then settles. False when nothing was owed. */
async function afterText(pacing: Pacing, signal: AbortSignal): Promise<boolean> {
  if (pacing.textEndedAt === undefined) return false;
  const clock = pacing.clock ?? SYSTEM_CLOCK;
  const owed = pacing.textEndedAt + pacing.typingDebounceMs - clock.now();
  pacing.textEndedAt = undefined;
  if (owed <= 0) return false;
  await clock.sleep(owed, signal, () => new ForesightError('STOPPED', 'Stopped while waiting for the app to take the typed text'));
  await settleBeforeInput(pacing, signal);
  return true;
}

/** A settle can end just as the kill switch fires; the input that was to follow must not go out then. */
async function settleBeforeInput(pacing: Pacing, signal: AbortSignal): Promise<void> {
  await pacing.settle(signal);
  if (signal.aborted) throw new ForesightError('STOPPED', 'Stopped while waiting for the screen to settle');
}

/** Types text; a final newline (UI-TARS' "submit") is pressed as Enter, paced like any input after text. */
async function typeText(text: string, input: Input, signal: AbortSignal, pacing: Pacing): Promise<void> {
  const submit = text.endsWith('\n') && text.length > 1;
  await input.type(submit ? text.replace(/\r?\n$/, '') : text, signal);
  pacing.textEndedAt = (pacing.clock ?? SYSTEM_CLOCK).now();
  if (submit) {
    if (!(await afterText(pacing, signal))) await settleBeforeInput(pacing, signal);
    await input.hotkey(['enter']);
  }
}

/** Runs one action. Text typed without a point leaves `pacing.textEndedAt` set for the next. */
export async function executeAction(
  action: Action,
  target: ExecutionTarget,
  input: Input,
  signal: AbortSignal,
  pacing: Pacing,
): Promise<void> {
  if (signal.aborted) throw new ForesightError('STOPPED', 'Stopped before acting');
  const p = target.globalPoint;
  const moreText = (action.action_type === 'type' || action.action_type === 'input_text') && !p;
  if (!moreText && action.action_type !== 'wait') await afterText(pacing, signal);
  // resolveTarget refuses a pointed action without a point; this says so again where it is used.
  const at = (): Point => {
    if (!p) throw new ForesightError('GROUNDING_FAILED', `No point to ${action.action_type} at for "${action.step_instruction}"`);
    return p;
  };
  switch (action.action_type) {
    case 'click':
      return input.click(at(), 'left', 1);
    case 'select':
      await input.click(at(), 'left', 1);
      if (action.value) {
        await pacing.settle(signal);
        await input.type(action.value, signal);
      }
      return;
    case 'double_click':
      return input.click(at(), 'left', 2);
    case 'right_click':
      return input.click(at(), 'right', 1);
    case 'move':
      return input.move(at());
    case 'long_press':
      return input.longPress(at(), action.duration_ms ?? LONG_PRESS_MS);
    case 'drag': {
      const end = target.globalEndPoint;
      if (!end) throw new ForesightError('GROUNDING_FAILED', `No end point for drag "${action.step_instruction}"`);
      return input.drag(at(), end);
    }
    case 'scroll':
      return input.scroll(p, action.direction, action.amount ?? DEFAULT_SCROLL_NOTCHES);
    case 'type':
    case 'input_text':
      if (p) {
        await input.click(p, 'left', 1);
        await pacing.settle(signal);
      }
      return typeText(action.text, input, signal, pacing);
    case 'hotkey':
    case 'key':
      return input.hotkey(action.keys);
    case 'navigate_back':
      return input.hotkey(['alt', 'left']);
    case 'wait':
      return (pacing.clock ?? SYSTEM_CLOCK).sleep(action.duration_ms ?? DEFAULT_WAIT_MS, signal, () => new ForesightError('STOPPED', 'Stopped while waiting'));
    case 'navigate_home':
    case 'navigate_recent':
    case 'open_app':
    case 'tool_call':
      throw new ForesightError('BAD_INPUT', `${action.action_type} is not available on a desktop yet`);
    case 'finished':
    case 'call_user':
    case 'fail':
      return; // terminal: the loop ends the episode
    default:
      return assertNever(action, 'action');
  }
}
