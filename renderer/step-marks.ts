/**
 * Which points of a step are drawn over its screenshot, in the screenshot's pixel space.
 *
 * - `executed`: where the executed action acted. The executor turned the grounded point
 *   (screenshot pixels) into global pixels with the frame's geometry; converting the recorded
 *   global point back with the same geometry gives the grounded point of the step that was
 *   really executed — also after a person edited the forecast.
 * - `grounded`: the other points the grounder found (speculative groundings of later
 *   forecast steps, or the first step's when nothing was executed), labelled by forecast step.
 */
import { convertPoint, type Point } from '../common/coords.ts';
import type { StepView } from '../common/contract.ts';

export interface StepMark {
  kind: 'executed' | 'executed-end' | 'grounded';
  /** Screenshot pixels of the frame's geometry (imageWidth × imageHeight). */
  x: number;
  y: number;
  label: string;
  title: string;
}

const near = (a: Point, b: Point) => Math.abs(a.x - b.x) <= 1 && Math.abs(a.y - b.y) <= 1;

export function stepMarks(step: StepView): StepMark[] {
  const frame = step.geometry;
  const marks: StepMark[] = [];
  const toScreenshot = (p: { space: 'global' | 'screenshot' | 'norm1000' | 'norm1'; x: number; y: number }): Point => {
    const s = convertPoint(p, 'screenshot', frame);
    return { x: s.x, y: s.y };
  };

  const executed = [...step.executions].reverse().find((x) => x.globalPoint !== undefined);
  if (executed?.globalPoint) {
    const at = toScreenshot({ space: 'global', ...executed.globalPoint });
    marks.push({ kind: 'executed', ...at, label: '', title: `Executed ${executed.action.action_type} here (${executed.result})` });
    if (executed.globalEndPoint) {
      const end = toScreenshot({ space: 'global', ...executed.globalEndPoint });
      marks.push({ kind: 'executed-end', ...end, label: '', title: `${executed.action.action_type} released here` });
    }
  }

  const seen: Point[] = marks.map((m) => ({ x: m.x, y: m.y }));
  for (const g of step.groundings) {
    if ('error' in g) continue;
    const at = toScreenshot(g.point);
    if (seen.some((p) => near(p, at))) continue;
    seen.push(at);
    marks.push({
      kind: 'grounded',
      ...at,
      label: String(g.forecastStepIndex + 1),
      title: `Forecast step ${g.forecastStepIndex + 1} grounded here by ${g.grounder}${g.detail ? ` (“${g.detail}”)` : ''}`,
    });
  }
  return marks;
}
