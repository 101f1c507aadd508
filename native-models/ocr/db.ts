/**
 * Text boxes from the probability map of a DB detector ("Real-time Scene Text Detection with
 * Differentiable Binarization", Liao et al., AAAI 2020). The network is trained to mark a
 * *shrunk* copy of every text region (each polygon moved inwards by D = A(1 - r²)/L, r = 0.4),
 * so that neighbouring words stay apart; at inference the map is thresholded, each connected
 * region becomes a box, and the box is grown back ("unclipped") by D' = A'·ratio/L' — A' and L'
 * being the area and perimeter of the shrunk box — which inverts the shrinking for a ratio near
 * 1.5. Pure functions on typed arrays, so they are tested on synthetic maps.
 */

export interface DbOptions {
  /** A map pixel is text when its probability exceeds this. */
  binaryThreshold: number;
  /** A region is kept when its mean probability reaches this (weak regions are noise or icons). */
  boxThreshold: number;
  /** How far a shrunk box is grown back, as D' = area × ratio / perimeter. */
  unclipRatio: number;
  /** Regions whose short side (map pixels) is below this are dropped: a speck, not a letter. */
  minSize: number;
  /** At most this many regions are decoded (the largest first would need sorting; a screen rarely has more). */
  maxCandidates: number;
}

export const DB_DEFAULTS: DbOptions = {
  binaryThreshold: 0.3,
  boxThreshold: 0.6,
  unclipRatio: 1.5,
  minSize: 3,
  maxCandidates: 2000,
};

export interface Point {
  x: number;
  y: number;
}

/** A detected text region: a rectangle, possibly rotated, in image pixels. */
export interface TextRegion {
  /** Corners clockwise from the top-left one (for an upright box: TL, TR, BR, BL). */
  corners: [Point, Point, Point, Point];
  /** Centre, side lengths along the text (width) and across it (height), rotation in radians. */
  centre: Point;
  width: number;
  height: number;
  angle: number;
  /** Mean probability over the region's pixels. */
  score: number;
}

export interface ProbabilityMap {
  width: number;
  height: number;
  /** Row-major probabilities in 0..1. */
  data: Float32Array;
}

/** A rotated rectangle: centre, sides (u along `angle`, v across), angle in radians. */
export interface RotatedRect {
  centre: Point;
  u: number;
  v: number;
  angle: number;
}

/**
 * Decodes a DB probability map into text regions, in the coordinates of the image the map was
 * made from: map pixel (x, y) covers image pixels [x·scaleX, (x+1)·scaleX) and likewise in y.
 */
export function decodeDbMap(map: ProbabilityMap, scaleX: number, scaleY: number, opts: Partial<DbOptions> = {}): TextRegion[] {
  const o = { ...DB_DEFAULTS, ...opts };
  const { width: w, height: h, data } = map;
  if (data.length < w * h) throw new RangeError(`probability map holds ${data.length} values, ${w}×${h} expected`);
  const labels = new Int32Array(w * h);
  const stack = new Int32Array(w * h);
  // Per row of the region being filled: its leftmost and rightmost pixel (-1: row not touched).
  const rowMin = new Int32Array(h).fill(-1);
  const rowMax = new Int32Array(h).fill(-1);
  const regions: TextRegion[] = [];
  let next = 0;
  for (let start = 0; start < w * h; start++) {
    if (labels[start] !== 0 || !(data[start]! > o.binaryThreshold)) continue;
    if (next >= o.maxCandidates) break;
    next++;
    // Flood fill (4-neighbours), keeping per row the leftmost and rightmost pixel: the convex
    // hull of a region only needs those, and the score needs the sum of probabilities.
    let sum = 0;
    let count = 0;
    let top = 0;
    let yMin = h;
    let yMax = -1;
    stack[top++] = start;
    labels[start] = next;
    while (top > 0) {
      const p = stack[--top]!;
      const x = p % w;
      const y = (p - x) / w;
      sum += data[p]!;
      count++;
      if (rowMin[y] === -1 || x < rowMin[y]!) rowMin[y] = x;
      if (x > rowMax[y]!) rowMax[y] = x;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
      if (x > 0 && labels[p - 1] === 0 && data[p - 1]! > o.binaryThreshold) {
        labels[p - 1] = next;
        stack[top++] = p - 1;
      }
      if (x < w - 1 && labels[p + 1] === 0 && data[p + 1]! > o.binaryThreshold) {
        labels[p + 1] = next;
        stack[top++] = p + 1;
      }
      if (y > 0 && labels[p - w] === 0 && data[p - w]! > o.binaryThreshold) {
        labels[p - w] = next;
        stack[top++] = p - w;
      }
      if (y < h - 1 && labels[p + w] === 0 && data[p + w]! > o.binaryThreshold) {
        labels[p + w] = next;
        stack[top++] = p + w;
      }
    }
    // Pixel squares, not pixel centres: a region one pixel tall has a height of one.
    const pts: Point[] = [];
    for (let y = yMin; y <= yMax; y++) {
      const lo = rowMin[y]!;
      const hi = rowMax[y]!;
      rowMin[y] = -1;
      rowMax[y] = -1;
      if (lo < 0) continue;
      pts.push({ x: lo, y }, { x: lo, y: y + 1 }, { x: hi + 1, y }, { x: hi + 1, y: y + 1 });
    }
    const score = sum / count;
    if (score < o.boxThreshold) continue;
    const rect = minAreaRect(convexHull(pts));
    if (Math.min(rect.u, rect.v) < o.minSize) continue;
    const grown = unclip(rect, o.unclipRatio);
    if (Math.min(grown.u, grown.v) < o.minSize + 2) continue;
    regions.push(toRegion(grown, scaleX, scaleY, score));
  }
  return regions;
}

/**
 * Grows a rectangle by D = area × ratio / perimeter on every side. Offsetting a rectangle's
 * outline by D (as a polygon clipper does) and taking the minimum-area rectangle of the result
 * gives exactly this rectangle, so no polygon offsetting is needed.
 */
export function unclip(r: RotatedRect, ratio: number): RotatedRect {
  const area = r.u * r.v;
  const perimeter = 2 * (r.u + r.v);
  const d = perimeter > 0 ? (area * ratio) / perimeter : 0;
  return { centre: r.centre, u: r.u + 2 * d, v: r.v + 2 * d, angle: r.angle };
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in y-down coordinates' terms of the cross product. */
export function convexHull(points: readonly Point[]): Point[] {
  const ps = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (ps.length <= 2) return ps;
  const cross = (o: Point, a: Point, b: Point) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const lower: Point[] = [];
  for (const p of ps) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = ps.length - 1; i >= 0; i--) {
    const p = ps[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * The rectangle of least area around a convex polygon: one of its sides lies on a hull edge
 * (Freeman & Shapira), so each edge direction is tried. `angle` is the direction of the side
 * chosen as the text's length (the longer one), folded into (-π/4, π/4] so an upright word
 * has angle 0 and its width along x.
 */
export function minAreaRect(hull: readonly Point[]): RotatedRect {
  if (hull.length === 0) return { centre: { x: 0, y: 0 }, u: 0, v: 0, angle: 0 };
  let best: { area: number; angle: number; minA: number; maxA: number; minB: number; maxB: number } | undefined;
  const n = hull.length;
  // Axis-aligned first: screens are upright, and among equal areas this one should win.
  const directions = [0];
  for (let i = 0; i < n; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % n]!;
    if (a.x !== b.x || a.y !== b.y) directions.push(Math.atan2(b.y - a.y, b.x - a.x));
  }
  for (const theta of directions) {
    const c = Math.cos(theta);
    const s = Math.sin(theta);
    let minA = Infinity;
    let maxA = -Infinity;
    let minB = Infinity;
    let maxB = -Infinity;
    for (const p of hull) {
      const pa = p.x * c + p.y * s;
      const pb = -p.x * s + p.y * c;
      if (pa < minA) minA = pa;
      if (pa > maxA) maxA = pa;
      if (pb < minB) minB = pb;
      if (pb > maxB) maxB = pb;
    }
    const area = (maxA - minA) * (maxB - minB);
    if (!best || area < best.area - 1e-9) best = { area, angle: theta, minA, maxA, minB, maxB };
  }
  const b = best!;
  const ca = (b.minA + b.maxA) / 2;
  const cb = (b.minB + b.maxB) / 2;
  const c = Math.cos(b.angle);
  const s = Math.sin(b.angle);
  const centre = { x: ca * c - cb * s, y: ca * s + cb * c };
  let u = b.maxA - b.minA;
  let v = b.maxB - b.minB;
  let angle = b.angle;
  // Fold the angle into (-π/4, π/4], swapping the sides when turning by a quarter.
  while (angle > Math.PI / 4 + 1e-12) {
    angle -= Math.PI / 2;
    [u, v] = [v, u];
  }
  while (angle <= -Math.PI / 4 + 1e-12) {
    angle += Math.PI / 2;
    [u, v] = [v, u];
  }
  return { centre, u, v, angle };
}

function toRegion(r: RotatedRect, sx: number, sy: number, score: number): TextRegion {
  const c = Math.cos(r.angle);
  const s = Math.sin(r.angle);
  const hu = r.u / 2;
  const hv = r.v / 2;
  // Corners in map space (TL, TR, BR, BL for an upright box), then scaled to the image.
  const local: Array<[number, number]> = [
    [-hu, -hv],
    [hu, -hv],
    [hu, hv],
    [-hu, hv],
  ];
  const corners = local.map(([a, b]) => ({ x: (r.centre.x + a * c - b * s) * sx, y: (r.centre.y + a * s + b * c) * sy })) as TextRegion['corners'];
  const dist = (p: Point, q: Point) => Math.hypot(p.x - q.x, p.y - q.y);
  return {
    corners,
    centre: { x: r.centre.x * sx, y: r.centre.y * sy },
    width: dist(corners[0], corners[1]),
    height: dist(corners[1], corners[2]),
    angle: Math.atan2(corners[1].y - corners[0].y, corners[1].x - corners[0].x),
    score,
  };
}

/** The axis-aligned bounds of a region, clipped to an image of the given size. */
export function regionBounds(r: TextRegion, imageWidth: number, imageHeight: number): { x: number; y: number; width: number; height: number } {
  const xs = r.corners.map((p) => p.x);
  const ys = r.corners.map((p) => p.y);
  const x0 = Math.max(0, Math.min(...xs));
  const y0 = Math.max(0, Math.min(...ys));
  const x1 = Math.min(imageWidth, Math.max(...xs));
  const y1 = Math.min(imageHeight, Math.max(...ys));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/**
 * Reading order: regions grouped into rows (a region joins a row when it overlaps the row's
 * vertical span by at least half of the smaller height), rows top to bottom, each row left to
 * right. Sorting by (y, x) alone puts a label whose box starts a pixel higher before the one
 * to its left on the same line.
 */
export function readingOrder<T extends { centre: Point; height: number }>(items: readonly T[]): T[] {
  const sorted = [...items].sort((a, b) => a.centre.y - b.centre.y || a.centre.x - b.centre.x);
  const rows: Array<{ top: number; bottom: number; items: T[] }> = [];
  for (const it of sorted) {
    const top = it.centre.y - it.height / 2;
    const bottom = it.centre.y + it.height / 2;
    const row = rows.find((r) => {
      const overlap = Math.min(r.bottom, bottom) - Math.max(r.top, top);
      return overlap >= 0.5 * Math.min(r.bottom - r.top, bottom - top);
    });
    // The row keeps its first item's span: grown by a tall item it would swallow the next line.
    if (row) {
      row.items.push(it);
    } else {
      rows.push({ top, bottom, items: [it] });
    }
  }
  rows.sort((a, b) => a.top - b.top);
  return rows.flatMap((r) => r.items.sort((a, b) => a.centre.x - b.centre.x));
}
