/**
 * Reading a YOLO graph's output: candidate boxes in the layouts of manifest.ts, the confidence
 * filter, and non-maximum suppression. Pure functions over plain arrays, tested on their own.
 *
 * NMS is class-agnostic: on a screen one element is one mark, whichever class (icon, button,
 * text field) the detector thinks it is, so two classes' boxes on the same element suppress
 * each other rather than becoming two numbers on one button.
 */
import type { Corners } from './letterbox.ts';
import type { OutputLayout } from './manifest.ts';

export interface Candidate extends Corners {
  score: number;
  /** Index of the best class. */
  cls: number;
}

/** How many values one box has in a layout with C classes. */
export function valuesPerBox(layout: OutputLayout, classes: number): number {
  return layout === 'yolov5' ? 5 + classes : 4 + classes;
}

/**
 * The output's [1, A, B] dims → the number of boxes and classes, or a sentence saying why the
 * dims do not fit the layout (with `classes` when the manifest names them).
 */
export function outputShape(layout: OutputLayout, dims: readonly number[], classes?: number): { boxes: number; classes: number } | string {
  if (dims.length !== 3 || dims[0] !== 1) return `expected [1, ${layout === 'yolov8' ? '4+C, N' : layout === 'yolov5' ? 'N, 5+C' : 'N, 4+C'}], got [${dims.join(', ')}]`;
  const per = layout === 'yolov8' ? dims[1]! : dims[2]!;
  const boxes = layout === 'yolov8' ? dims[2]! : dims[1]!;
  const fixed = layout === 'yolov5' ? 5 : 4;
  const c = per - fixed;
  if (c < 1) return `a box has ${per} values, the ${layout} layout needs ${fixed} + at least one class score`;
  if (classes !== undefined && c !== classes) return `a box has ${per} values, so ${c} class score(s), but the manifest names ${classes} class(es)`;
  return { boxes, classes: c };
}

/** The candidates scoring at least `minScore`, in letterboxed input pixels. */
export function decodeCandidates(data: Float32Array, layout: OutputLayout, boxes: number, classes: number, minScore: number): Candidate[] {
  const per = valuesPerBox(layout, classes);
  // yolov8: value v of box i is at v*N + i; the row layouts: at i*per + v.
  const at = layout === 'yolov8' ? (i: number, v: number) => data[v * boxes + i]! : (i: number, v: number) => data[i * per + v]!;
  const first = layout === 'yolov5' ? 5 : 4;
  const out: Candidate[] = [];
  for (let i = 0; i < boxes; i++) {
    let best = -Infinity;
    let cls = 0;
    for (let c = 0; c < classes; c++) {
      const s = at(i, first + c);
      if (s > best) {
        best = s;
        cls = c;
      }
    }
    const score = layout === 'yolov5' ? best * at(i, 4) : best;
    // NaN fails this test too: a broken output yields no boxes rather than NaN boxes.
    if (!(score >= minScore)) continue;
    const cx = at(i, 0);
    const cy = at(i, 1);
    const w = at(i, 2);
    const h = at(i, 3);
    if (!(w > 0 && h > 0)) continue;
    out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, cls });
  }
  return out;
}

export function iou(a: Corners, b: Corners): number {
  const ix = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const iy = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = ix * iy;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression, class-agnostic: best score first, a box is kept unless it
 * overlaps a kept one by more than `iouThreshold`. At most `maxBoxes` are kept; equal scores
 * keep the output's order, so the result does not depend on the sort's stability.
 */
export function nonMaxSuppression<T extends Candidate>(candidates: readonly T[], iouThreshold: number, maxBoxes = 300): T[] {
  const order = candidates.map((c, i) => ({ c, i })).sort((a, b) => b.c.score - a.c.score || a.i - b.i);
  const kept: T[] = [];
  for (const { c } of order) {
    if (kept.length >= maxBoxes) break;
    if (kept.every((k) => iou(k, c) <= iouThreshold)) kept.push(c);
  }
  return kept;
}
