/**
 * Captures become observations: PNG (what the planner sees and the store keeps), its sha256
 * as frame id, and the raw pixels kept for OCR and settle comparison.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import sharp from 'sharp';
import { ForesightError } from '../../common/errors.ts';
import type { Capture, Observation, ObserveOptions, Observer, RawImage, Screen, ScreenChange, SettleInfo } from '../../common/ports.ts';
import type { Display } from '../../common/coords.ts';
import type { SettleDetector } from './settle.ts';

export interface EncodeOptions {
  /**
   * zlib level 0–9, default 2. On a 1280x800 Save As dialog levels 1–3 took ~11–12 ms
   * (85–62 KiB), 6 took 14 ms (58 KiB), 9 ~32 ms.
   */
  compressionLevel?: number;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** Packed RGB from BGRA/RGBA/RGB pixels (PNG needs no alpha: screens are opaque). */
export function toRgb(raw: RawImage, into?: Buffer): Buffer {
  const { width, height, channels, order, data } = raw;
  const n = width * height;
  if (data.length < n * channels) throw new ForesightError('BAD_INPUT', `Image buffer holds ${data.length} bytes, ${width}x${height}x${channels} needs ${n * channels}`);
  const out = into && into.length === n * 3 ? into : Buffer.allocUnsafe(n * 3);
  if (channels === 4 && data.byteOffset % 4 === 0 && LITTLE_ENDIAN) {
    // One 32-bit read per pixel (little-endian: the first byte is the lowest): ~1.5x faster.
    const px = new Uint32Array(data.buffer, data.byteOffset, n);
    const [rs, bs] = order === 'bgra' ? [16, 0] : [0, 16];
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      const v = px[i]!;
      out[j] = (v >>> rs) & 255;
      out[j + 1] = (v >>> 8) & 255;
      out[j + 2] = (v >>> bs) & 255;
    }
    return out;
  }
  const [r, b] = order === 'bgra' ? [2, 0] : [0, 2];
  for (let i = 0, j = 0; i < n * channels; i += channels, j += 3) {
    out[j] = data[i + r]!;
    out[j + 1] = data[i + 1]!;
    out[j + 2] = data[i + b]!;
  }
  return out;
}

/**
 * RGB buffers for the encoder, reused once an encoding is done (sharp lets go of its input when
 * it resolves): fresh memory costs its page faults on first touch, ~12 ms per 3 MB on this VM,
 * between the capture and the planner's request (see x11-capture.ts).
 */
const rgbScratch: Buffer[] = [];

export async function encodeObservation(capture: Capture, opts: EncodeOptions = {}): Promise<Observation> {
  const { image } = capture;
  const rgb = toRgb(image, rgbScratch.pop());
  let png: Buffer;
  try {
    png = await sharp(rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
      .png({ compressionLevel: opts.compressionLevel ?? 2, adaptiveFiltering: false })
      .toBuffer();
  } finally {
    if (rgbScratch.length < 2) rgbScratch.push(rgb);
  }
  const bytes = new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  return {
    frameId: createHash('sha256').update(bytes).digest('hex'),
    png: bytes,
    geometry: { display: capture.display, imageWidth: image.width, imageHeight: image.height },
    raw: image,
    capturedAt: capture.capturedAt,
  };
}

export interface DesktopObserverOptions {
  /** The display to observe (default: the primary one). */
  displayId?: string;
  encode?: EncodeOptions;
}

/** The Observer port: settle (after an action), capture, encode. */
export class DesktopObserver implements Observer {
  constructor(
    private readonly screen: Screen,
    private readonly settleDetector: SettleDetector,
    private readonly opts: DesktopObserverOptions = {},
  ) {}

  displays(): Promise<Display[]> {
    return this.screen.displays();
  }

  async settle(signal: AbortSignal): Promise<SettleInfo> {
    const req = this.opts.displayId === undefined ? { signal } : { signal, displayId: this.opts.displayId };
    return (await this.settleDetector.settle(req)).info;
  }

  async observe(afterAction: boolean, signal: AbortSignal, opts: ObserveOptions = {}): Promise<{ observation: Observation; settle?: SettleInfo }> {
    if (signal.aborted) throw new ForesightError('STOPPED', 'Stopped before looking at the screen');
    const req = this.opts.displayId === undefined ? { signal } : { signal, displayId: this.opts.displayId };
    if (afterAction) {
      // Encoding starts as soon as the detector has a capture (it waits out the quiet time
      // after that); only the capture it answers with is used. Each encoded frame that has not
      // been superseded meanwhile goes to onCandidate (speculative observation).
      let early: { capture: Capture; observation: Promise<Observation> } | undefined;
      const onCapture = (capture: Capture, invalidated: AbortSignal) => {
        const observation = encodeObservation(capture, this.opts.encode);
        early = { capture, observation };
        observation.then(
          (o) => {
            if (!invalidated.aborted && !signal.aborted) opts.onCandidate?.(o, invalidated);
          },
          () => undefined, // a superseded capture's failure is nobody's; the answer's is awaited below
        );
      };
      const { capture, info } = await this.settleDetector.settle({ ...req, onCapture, ...(opts.actionStartedAt !== undefined ? { actionStartedAt: opts.actionStartedAt } : {}) });
      const observation = early?.capture === capture ? await early.observation : await encodeObservation(capture, this.opts.encode);
      return { observation, settle: info };
    }
    const capturedAt = Date.now();
    const capture = await this.screen.capture(this.opts.displayId);
    const observation = await encodeObservation(capture, this.opts.encode);
    return { observation: { ...observation, capturedAt: Math.min(capturedAt, observation.capturedAt) } };
  }

  changesSince(observation: Observation, signal: AbortSignal): Promise<ScreenChange> {
    const req = this.opts.displayId === undefined ? { signal } : { signal, displayId: this.opts.displayId };
    return this.settleDetector.changesSince(observation.raw, observation.capturedAt, req);
  }
}
