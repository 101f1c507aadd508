/**
 * The image-size maths of Qwen-family vision processors, shared by the planners' formats
 * (UI-TARS-1.5 answers in pixels of the resized image) and the grounders (which send and read
 * points in that space). Platform-free.
 */
import { ForesightError } from './errors.ts';

/** Patch size × merge size of Qwen2-VL / Qwen2.5-VL: every side is a multiple of it. */
export const QWEN_PATCH_FACTOR = 28;
/** UI-TARS's pixel bounds (its own smart_resize defaults). */
export const UITARS_MIN_PIXELS = 100 * 28 * 28;
export const UITARS_MAX_PIXELS = 16384 * 28 * 28;
/** Qwen2.5-VL's preprocessor_config.json defaults. */
export const QWEN25VL_MIN_PIXELS = 56 * 56;
export const QWEN25VL_MAX_PIXELS = 28 * 28 * 16384;

/**
 * The size Qwen2.5-VL resizes an image to before the model sees it (qwen_vl_utils
 * `smart_resize`, with UI-TARS's pixel bounds as defaults): each side rounded to a multiple of
 * `factor` (Python's round: halves to even), then both scaled down (floor) or up (ceil) to
 * keep the area within [minPixels, maxPixels]. UI-TARS-1.5 answers in pixels of this size.
 */
export function smartResize(
  width: number,
  height: number,
  factor = QWEN_PATCH_FACTOR,
  minPixels = UITARS_MIN_PIXELS,
  maxPixels = UITARS_MAX_PIXELS,
): { width: number; height: number } {
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new ForesightError('BAD_INPUT', `Cannot resize an image of ${width}x${height}`);
  }
  if (Math.max(width, height) / Math.min(width, height) > 200) {
    throw new ForesightError('BAD_INPUT', `The aspect ratio of ${width}x${height} is above 200, which Qwen-VL processors refuse`);
  }
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return { width: w, height: h };
}

/** Python's round(): halves go to the even neighbour (round(28.5) == 28). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
