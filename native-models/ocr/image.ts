/**
 * Pixels into the tensors of the PP-OCR models, straight from the observation's raw buffer
 * (RGBA or BGRA, as the screen adapter captured it): no PNG decoding, no intermediate image.
 * Both models were trained on images read by OpenCV, so channel 0 is blue.
 */
import type { RawImage } from '../../common/ports.ts';
import type { TextRegion } from './db.ts';

/** ImageNet statistics, in the models' channel order (B, G, R), as the detector was trained with. */
const DET_MEAN = [0.485, 0.456, 0.406] as const;
const DET_STD = [0.229, 0.224, 0.225] as const;

/** Byte offsets of blue, green and red within a pixel. */
function channelOffsets(raw: RawImage): [number, number, number] {
  return raw.order === 'bgra' ? [0, 1, 2] : [2, 1, 0];
}

export function checkRaw(raw: RawImage): void {
  if (!(raw.width > 0 && raw.height > 0) || raw.data.length < raw.width * raw.height * raw.channels) {
    throw new RangeError(`raw image ${raw.width}×${raw.height}×${raw.channels} holds only ${raw.data.length} bytes`);
  }
}

/**
 * The detector's input: the image resized (bilinear) to `outW`×`outH`, as a 1×3×H×W tensor
 * normalised with the ImageNet mean and deviation.
 */
export function detectorTensor(raw: RawImage, outW: number, outH: number): Float32Array {
  checkRaw(raw);
  const { width: w, height: h, channels: ch, data } = raw;
  const [ob, og, or] = channelOffsets(raw);
  const plane = outW * outH;
  const out = new Float32Array(3 * plane);
  const scale = [1 / (255 * DET_STD[0]), 1 / (255 * DET_STD[1]), 1 / (255 * DET_STD[2])];
  const bias = [-DET_MEAN[0] / DET_STD[0], -DET_MEAN[1] / DET_STD[1], -DET_MEAN[2] / DET_STD[2]];
  if (outW === w && outH === h) {
    // The screenshot as it is (the default scale): a copy, no interpolation.
    const [s0, s1, s2] = scale as [number, number, number];
    const [b0, b1, b2] = bias as [number, number, number];
    const g = plane;
    const r = 2 * plane;
    for (let i = 0, p = 0; i < plane; i++, p += ch) {
      out[i] = data[p + ob]! * s0 + b0;
      out[g + i] = data[p + og]! * s1 + b1;
      out[r + i] = data[p + or]! * s2 + b2;
    }
    return out;
  }
  const fx = w / outW;
  const fy = h / outH;
  // Source columns and weights, computed once per output column.
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const wxs = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    const sx = Math.min(w - 1, Math.max(0, (x + 0.5) * fx - 0.5));
    const x0 = Math.floor(sx);
    x0s[x] = x0 * ch;
    x1s[x] = Math.min(w - 1, x0 + 1) * ch;
    wxs[x] = sx - x0;
  }
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(h - 1, Math.max(0, (y + 0.5) * fy - 0.5));
    const y0 = Math.floor(sy);
    const wy = sy - y0;
    const r0 = y0 * w * ch;
    const r1 = Math.min(h - 1, y0 + 1) * w * ch;
    const rowOut = y * outW;
    for (let x = 0; x < outW; x++) {
      const a = r0 + x0s[x]!;
      const b = r0 + x1s[x]!;
      const c = r1 + x0s[x]!;
      const d = r1 + x1s[x]!;
      const wx = wxs[x]!;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      const i = rowOut + x;
      out[i] = (data[a + ob]! * w00 + data[b + ob]! * w01 + data[c + ob]! * w10 + data[d + ob]! * w11) * scale[0]! + bias[0]!;
      out[plane + i] = (data[a + og]! * w00 + data[b + og]! * w01 + data[c + og]! * w10 + data[d + og]! * w11) * scale[1]! + bias[1]!;
      out[2 * plane + i] = (data[a + or]! * w00 + data[b + or]! * w01 + data[c + or]! * w10 + data[d + or]! * w11) * scale[2]! + bias[2]!;
    }
  }
  return out;
}

/**
 * Writes one text region into a recogniser batch: the region sampled along its own axes
 * (so a rotated box comes out upright) to `cropW`×`height`, scaled to -1..1, into slot `index`
 * of a batch `batchW` wide; the rest of the row stays 0, the padding the model was trained with.
 */
export function writeCrop(raw: RawImage, region: TextRegion, batch: Float32Array, index: number, height: number, batchW: number, cropW: number): void {
  const { width: w, height: h, channels: ch, data } = raw;
  const [ob, og, or] = channelOffsets(raw);
  const [tl, tr, , bl] = region.corners;
  // Unit steps along the text (u) and across it (v), in source pixels per output pixel.
  const ux = (tr.x - tl.x) / cropW;
  const uy = (tr.y - tl.y) / cropW;
  const vx = (bl.x - tl.x) / height;
  const vy = (bl.y - tl.y) / height;
  const plane = height * batchW;
  const base = index * 3 * plane;
  if (uy === 0 && vx === 0) {
    writeUprightCrop(raw, tl.x, tl.y, ux, vy, batch, base, plane, batchW, cropW, height);
    return;
  }
  const sample = (sx: number, sy: number, off: number): number => {
    const x = Math.min(w - 1, Math.max(0, sx));
    const y = Math.min(h - 1, Math.max(0, sy));
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const x1 = Math.min(w - 1, x0 + 1);
    const y1 = Math.min(h - 1, y0 + 1);
    const fx = x - x0;
    const fy = y - y0;
    const p = (xx: number, yy: number) => data[(yy * w + xx) * ch + off]!;
    return (p(x0, y0) * (1 - fx) + p(x1, y0) * fx) * (1 - fy) + (p(x0, y1) * (1 - fx) + p(x1, y1) * fx) * fy;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < cropW; x++) {
      // Pixel centres: output (x + ½, y + ½) maps into the region, minus ½ for the source's centres.
      const sx = tl.x + (x + 0.5) * ux + (y + 0.5) * vx - 0.5;
      const sy = tl.y + (x + 0.5) * uy + (y + 0.5) * vy - 0.5;
      const i = base + y * batchW + x;
      batch[i] = sample(sx, sy, ob) / 127.5 - 1;
      batch[plane + i] = sample(sx, sy, og) / 127.5 - 1;
      batch[2 * plane + i] = sample(sx, sy, or) / 127.5 - 1;
    }
  }
}

/** Bilinear taps along one axis: for each output index, the two source indices and the second's weight. */
function taps(n: number, origin: number, step: number, size: number): { i0: Int32Array; i1: Int32Array; f: Float32Array } {
  const i0 = new Int32Array(n);
  const i1 = new Int32Array(n);
  const f = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const s = Math.min(size - 1, Math.max(0, origin + (k + 0.5) * step - 0.5));
    const a = Math.floor(s);
    i0[k] = a;
    i1[k] = Math.min(size - 1, a + 1);
    f[k] = s - a;
  }
  return { i0, i1, f };
}

/** writeCrop for an upright region (every box on a screen): the taps are separable, computed once per row and column. */
function writeUprightCrop(
  raw: RawImage,
  left: number,
  top: number,
  stepX: number,
  stepY: number,
  batch: Float32Array,
  base: number,
  plane: number,
  batchW: number,
  cropW: number,
  height: number,
): void {
  const { width: w, height: h, channels: ch, data } = raw;
  const [ob, og, or] = channelOffsets(raw);
  const xs = taps(cropW, left, stepX, w);
  const ys = taps(height, top, stepY, h);
  for (let y = 0; y < height; y++) {
    const r0 = ys.i0[y]! * w;
    const r1 = ys.i1[y]! * w;
    const fy = ys.f[y]!;
    const row = base + y * batchW;
    for (let x = 0; x < cropW; x++) {
      const fx = xs.f[x]!;
      const a = (r0 + xs.i0[x]!) * ch;
      const b = (r0 + xs.i1[x]!) * ch;
      const c = (r1 + xs.i0[x]!) * ch;
      const d = (r1 + xs.i1[x]!) * ch;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const i = row + x;
      batch[i] = (data[a + ob]! * w00 + data[b + ob]! * w01 + data[c + ob]! * w10 + data[d + ob]! * w11) / 127.5 - 1;
      batch[plane + i] = (data[a + og]! * w00 + data[b + og]! * w01 + data[c + og]! * w10 + data[d + og]! * w11) / 127.5 - 1;
      batch[2 * plane + i] = (data[a + or]! * w00 + data[b + or]! * w01 + data[c + or]! * w10 + data[d + or]! * w11) / 127.5 - 1;
    }
  }
}

/**
 * Groups crops of the given widths into batches: sorted by width, a batch takes the next crop
 * while it holds fewer than `maxBatch` and padding every crop to the widest would waste at most
 * `maxPadding` of the batch's pixels. Returns the indices of each batch, narrowest first.
 */
export function batchByWidth(widths: readonly number[], maxBatch: number, maxPadding: number): number[][] {
  const order = widths.map((w, i) => ({ w, i })).sort((a, b) => a.w - b.w || a.i - b.i);
  const batches: number[][] = [];
  let cur: Array<{ w: number; i: number }> = [];
  let sum = 0;
  for (const item of order) {
    if (cur.length) {
      const n = cur.length + 1;
      const waste = 1 - (sum + item.w) / (n * item.w);
      if (cur.length >= maxBatch || waste > maxPadding) {
        batches.push(cur.map((c) => c.i));
        cur = [];
        sum = 0;
      }
    }
    cur.push(item);
    sum += item.w;
  }
  if (cur.length) batches.push(cur.map((c) => c.i));
  return batches;
}

/**
 * Which source columns of an upright region hold ink: a column is ink where some pixel differs
 * from the region's background (its median luma — text covers less than half of a line's box)
 * by more than `fraction` of the strongest contrast in the region. Anti-aliased fringes stay
 * below that, so the blank run between two letters is the gap a reader sees. Undefined for a
 * tilted region.
 */
export function inkColumns(raw: RawImage, region: TextRegion, fraction = 0.3): { x0: number; ink: Uint8Array } | undefined {
  if (Math.abs(region.angle) > 0.02) return undefined;
  const { width: w, height: h, channels: ch, data } = raw;
  const xs = region.corners.map((p) => p.x);
  const ys = region.corners.map((p) => p.y);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(w, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(h, Math.ceil(Math.max(...ys)));
  const cols = x1 - x0;
  const rows = y1 - y0;
  if (cols <= 0 || rows <= 0) return undefined;
  const [ob, og, or] = channelOffsets(raw);
  const luma = new Uint8Array(cols * rows);
  const hist = new Uint32Array(256);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const p = ((y0 + y) * w + x0 + x) * ch;
      const l = (77 * data[p + or]! + 150 * data[p + og]! + 29 * data[p + ob]!) >> 8;
      luma[y * cols + x] = l;
      hist[l]!++;
    }
  }
  let bg = 0;
  for (let acc = 0, half = (cols * rows) / 2; bg < 255; bg++) {
    acc += hist[bg]!;
    if (acc >= half) break;
  }
  let strongest = 0;
  for (let i = 0; i < luma.length; i++) strongest = Math.max(strongest, Math.abs(luma[i]! - bg));
  const limit = Math.max(16, fraction * strongest);
  // Rows inked across most of the width are lines (a link's underline, a border), not letters:
  // they would fill every gap between words.
  const rowIsLine = new Uint8Array(rows);
  for (let y = 0; y < rows; y++) {
    let n = 0;
    for (let x = 0; x < cols; x++) if (Math.abs(luma[y * cols + x]! - bg) > limit) n++;
    rowIsLine[y] = n > 0.7 * cols ? 1 : 0;
  }
  const ink = new Uint8Array(cols);
  for (let x = 0; x < cols; x++) {
    for (let y = 0; y < rows; y++) {
      if (!rowIsLine[y] && Math.abs(luma[y * cols + x]! - bg) > limit) {
        ink[x] = 1;
        break;
      }
    }
  }
  return { x0, ink };
}

/** The longest run of columns without ink in [from, to) (source x), 0 when there is none. */
export function longestBlankRun(columns: { x0: number; ink: Uint8Array }, from: number, to: number): number {
  const a = Math.max(0, Math.floor(from) - columns.x0);
  const b = Math.min(columns.ink.length, Math.ceil(to) - columns.x0);
  let best = 0;
  let run = 0;
  for (let x = a; x < b; x++) {
    run = columns.ink[x] ? 0 : run + 1;
    if (run > best) best = run;
  }
  return best;
}
