/**
 * Letterboxing, as YOLO detectors are trained and exported: the screenshot is scaled to fit an
 * S×S square keeping its aspect ratio, and the rest is padded with grey 114. The image is
 * centred (Ultralytics' LetterBox default, which OmniParser's icon detector was trained with),
 * so the padding is split between both sides: floor of half on the top/left, the rest on the
 * bottom/right; the scaled size is rounded half to even — both as Ultralytics does. Boxes come back in the square's pixels; `toScreenshot` undoes the padding and
 * the scale and clamps to the image.
 */
import sharp from 'sharp';
import type { Rect } from '../../common/coords.ts';

export const PAD_GREY = 114;

export interface Letterbox {
  /** The square side S. */
  size: number;
  /** The screenshot's size. */
  width: number;
  height: number;
  /** The scaled image's size inside the square (rounded to whole pixels). */
  scaledWidth: number;
  scaledHeight: number;
  /** Where the scaled image starts inside the square. */
  padX: number;
  padY: number;
}

/** Python's round(): halves to even (192.5 → 192), as Ultralytics rounds the scaled size. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (Math.abs(d - 0.5) > 1e-9) return Math.round(v);
  return f % 2 === 0 ? f : f + 1;
}

/** The letterbox geometry of a width×height screenshot in a size×size square. */
export function letterboxGeometry(width: number, height: number, size: number): Letterbox {
  const r = Math.min(size / width, size / height);
  const scaledWidth = Math.max(1, Math.min(size, roundHalfEven(width * r)));
  const scaledHeight = Math.max(1, Math.min(size, roundHalfEven(height * r)));
  return {
    size,
    width,
    height,
    scaledWidth,
    scaledHeight,
    padX: Math.floor((size - scaledWidth) / 2),
    padY: Math.floor((size - scaledHeight) / 2),
  };
}

/** A box in corner form. */
export interface Corners {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * A box in the square's pixels back in screenshot pixels: minus the padding, divided by each
 * axis's own scale (scaledWidth / width: rounding makes the two axes differ slightly), clamped
 * to the image. Undefined when nothing of it lies on the image (a box in the padding).
 */
export function toScreenshot(lb: Letterbox, b: Corners): Rect | undefined {
  const sx = lb.scaledWidth / lb.width;
  const sy = lb.scaledHeight / lb.height;
  const clampX = (v: number) => Math.min(lb.width, Math.max(0, v));
  const clampY = (v: number) => Math.min(lb.height, Math.max(0, v));
  const x1 = clampX((b.x1 - lb.padX) / sx);
  const x2 = clampX((b.x2 - lb.padX) / sx);
  const y1 = clampY((b.y1 - lb.padY) / sy);
  const y2 = clampY((b.y2 - lb.padY) / sy);
  if (x2 <= x1 || y2 <= y1) return undefined;
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

/**
 * The detector's input for a screenshot (PNG): float32 [1, 3, S, S], RGB planes in 0..1,
 * letterboxed. Scaled bilinearly, as Ultralytics' LetterBox does (cv2.INTER_LINEAR).
 */
export async function letterboxTensor(png: Uint8Array, lb: Letterbox): Promise<Float32Array> {
  const right = lb.size - lb.scaledWidth - lb.padX;
  const bottom = lb.size - lb.scaledHeight - lb.padY;
  const { data, info } = await sharp(png)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(lb.scaledWidth, lb.scaledHeight, { fit: 'fill', kernel: 'linear' })
    .extend({ top: lb.padY, bottom, left: lb.padX, right, background: { r: PAD_GREY, g: PAD_GREY, b: PAD_GREY } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = lb.size * lb.size;
  if (info.width !== lb.size || info.height !== lb.size || info.channels !== 3) {
    throw new Error(`letterbox produced ${info.width}x${info.height}x${info.channels}, expected ${lb.size}x${lb.size}x3`);
  }
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = data[3 * i]! / 255;
    out[plane + i] = data[3 * i + 1]! / 255;
    out[2 * plane + i] = data[3 * i + 2]! / 255;
  }
  return out;
}
