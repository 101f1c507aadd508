/**
 * AndroidControl step scoring, reproducing the de-facto script OS-Atlas
 * `eval/eval_scripts/android_control/evaluation_unify.py` (SPEC "Offline benchmarks").
 *
 * The script compares OS-Atlas action strings ("CLICK <point>[[x,y]]</point>", "TYPE [text]",
 * "SCROLL [UP]", "OPEN_APP [name]", "LONG_PRESS <point>[[x,y]]</point>", "PRESS_BACK",
 * "PRESS_HOME", "WAIT"). To stay exact, each normalized action is rendered to that string and
 * the script's rules are applied to the strings:
 * - type match: first whitespace token of both strings equal;
 * - CLICK / LONG_PRESS: Euclidean distance on the 0–1000 grid <= 0.14 * 1000 (inclusive);
 *   a predicted point that is missing counts as (-100, -100), i.e. always a miss;
 * - TYPE / OPEN_APP: whole strings equal (case-sensitive), or token F1 > 0.5 (strict) between
 *   the *second whitespace token* of each string only — e.g. "[hello" of "TYPE [hello world]",
 *   so in practice: the first word of the text (with its "[") equal ignoring case;
 * - every other type (SCROLL, PRESS_BACK, PRESS_HOME, WAIT): whole strings equal, so scroll
 *   directions must be equal.
 * Aggregation: type accuracy and step SR over all steps; grounding accuracy over the steps
 * whose truth and prediction are both CLICK (LONG_PRESS is left out of it).
 */
import type { Direction } from '../../../common/actions.ts';
import { ForesightError } from '../../../common/errors.ts';

export const AC_ACTION_TYPES = [
  'click',
  'long_press',
  'scroll',
  'input_text',
  'open_app',
  'navigate_back',
  'navigate_home',
  'wait',
] as const;
export type AcActionType = (typeof AC_ACTION_TYPES)[number];

/** A point on the 0–1000 grid (x right, y down), as the OS-Atlas strings carry it. */
export interface AcPoint {
  x: number;
  y: number;
}

/** One AndroidControl action, normalized at the loader. */
export interface AcAction {
  action_type: AcActionType;
  /** click / long_press, on the 0–1000 grid. */
  point?: AcPoint;
  /** input_text. */
  text?: string;
  /** scroll. */
  direction?: Direction;
  /** open_app. */
  app?: string;
}

/** Side of the coordinate grid the points live on. */
export const AC_GRID_SIZE = 1000;
/** A click/long-press is correct within this fraction of the screen ("14 % of screen size"). */
export const AC_CLICK_RADIUS_FRACTION = 0.14;
/** The radius on the grid, computed as the script does (0.14*1000); inclusive (<=). */
export const AC_CLICK_RADIUS = AC_CLICK_RADIUS_FRACTION * AC_GRID_SIZE;
/** Text / app name is correct when token F1 is strictly greater than this. */
export const AC_TEXT_F1_THRESHOLD = 0.5;
/** Where the script puts a predicted point it cannot parse. */
export const AC_MISSING_POINT: Readonly<AcPoint> = { x: -100, y: -100 };

const OS_ATLAS_NAMES: Record<AcActionType, string> = {
  click: 'CLICK',
  long_press: 'LONG_PRESS',
  scroll: 'SCROLL',
  input_text: 'TYPE',
  open_app: 'OPEN_APP',
  navigate_back: 'PRESS_BACK',
  navigate_home: 'PRESS_HOME',
  wait: 'WAIT',
};

export interface AcStepScore {
  /** The truth's action type (the aggregation needs it). */
  truthType: AcActionType;
  typeMatch: boolean;
  /** Within the radius; undefined unless truth is click/long_press and the types match. */
  groundingMatch: boolean | undefined;
  /** The step counts as a success (step SR). */
  exactMatch: boolean;
}

export interface AcSummary {
  /** Type matches / all steps. NaN when there are no steps. */
  typeAccuracy: number;
  /** CLICK within radius / steps whose truth and prediction are both click. NaN when none. */
  groundingAccuracy: number;
  /** Successful steps / all steps. NaN when there are no steps. */
  stepSuccessRate: number;
  count: number;
}

/** Python's `str.split()` with no argument: split on runs of whitespace, no empty tokens. */
function pySplit(s: string): string[] {
  return s.split(/\s+/).filter((t) => t.length > 0);
}

/** The script's `calculate_f1_score`: F1 over *sets* of lower-cased whitespace tokens. */
export function tokenF1(predicted: string, truth: string): number {
  const p = new Set(pySplit(predicted.toLowerCase()));
  const g = new Set(pySplit(truth.toLowerCase()));
  let common = 0;
  for (const t of p) if (g.has(t)) common++;
  const precision = p.size === 0 ? 0 : common / p.size;
  const recall = g.size === 0 ? 0 : common / g.size;
  return precision + recall === 0 ? 0 : (2 * (precision * recall)) / (precision + recall);
}

function fmt(n: number): string {
  return String(n);
}

/** Renders an action as the OS-Atlas action string the script compares. */
export function toOsAtlasAction(a: AcAction): string {
  const name = OS_ATLAS_NAMES[a.action_type];
  switch (a.action_type) {
    case 'click':
    case 'long_press':
      return a.point ? `${name} <point>[[${fmt(a.point.x)},${fmt(a.point.y)}]]</point>` : name;
    case 'scroll':
      return a.direction ? `${name} [${a.direction.toUpperCase()}]` : name;
    case 'input_text':
      return `${name} [${a.text ?? ''}]`;
    case 'open_app':
      return `${name} [${a.app ?? ''}]`;
    default:
      return name;
  }
}

function checkTruth(truth: AcAction): void {
  const t = truth.action_type;
  if ((t === 'click' || t === 'long_press') && !truth.point)
    throw new ForesightError('BAD_INPUT', `AndroidControl truth ${t} has no point`);
  if (t === 'input_text' && truth.text === undefined)
    throw new ForesightError('BAD_INPUT', 'AndroidControl truth input_text has no text');
  if (t === 'open_app' && truth.app === undefined)
    throw new ForesightError('BAD_INPUT', 'AndroidControl truth open_app has no app');
}

/** Scores one step as the script does. Throws BAD_INPUT for a truth the script could not read. */
export function scoreAndroidControlStep(pred: AcAction, truth: AcAction): AcStepScore {
  checkTruth(truth);
  const truthType = truth.action_type;
  const predStr = toOsAtlasAction(pred);
  const truthStr = toOsAtlasAction(truth);
  const typeMatch = pred.action_type === truthType;
  if (!typeMatch) return { truthType, typeMatch, groundingMatch: undefined, exactMatch: false };

  if (truthType === 'click' || truthType === 'long_press') {
    const p = pred.point ?? AC_MISSING_POINT;
    const g = truth.point ?? AC_MISSING_POINT; // checked above
    const within = Math.sqrt((p.x - g.x) ** 2 + (p.y - g.y) ** 2) <= AC_CLICK_RADIUS;
    return { truthType, typeMatch, groundingMatch: within, exactMatch: within };
  }
  if (truthType === 'input_text' || truthType === 'open_app') {
    const p1 = pySplit(predStr)[1] ?? '';
    const g1 = pySplit(truthStr)[1] ?? '';
    const ok = predStr === truthStr || tokenF1(p1, g1) > AC_TEXT_F1_THRESHOLD;
    return { truthType, typeMatch, groundingMatch: undefined, exactMatch: ok };
  }
  return { truthType, typeMatch, groundingMatch: undefined, exactMatch: predStr === truthStr };
}

/** Aggregates step scores with the script's denominators. */
export function summarizeAndroidControl(results: readonly AcStepScore[]): AcSummary {
  let typeMatches = 0;
  let successes = 0;
  let clickTypeMatches = 0;
  let clickHits = 0;
  for (const r of results) {
    if (r.typeMatch) typeMatches++;
    if (r.exactMatch) successes++;
    if (r.truthType === 'click' && r.typeMatch) {
      clickTypeMatches++;
      if (r.groundingMatch === true) clickHits++;
    }
  }
  const n = results.length;
  return {
    typeAccuracy: typeMatches / n,
    groundingAccuracy: clickHits / clickTypeMatches,
    stepSuccessRate: successes / n,
    count: n,
  };
}
