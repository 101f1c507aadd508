/**
 * Waits for the screen to stop changing after an action, so the next observation shows the
 * action's whole effect. Two methods, same promise; the detector picks the first it can use.
 *
 * 'damage' (X11 with the DAMAGE extension, see x11-damage.ts): settled once nothing but a
 * caret has drawn on the observed display for `quietMs`, and not before `minWaitMs` after the
 * action. The capture is taken as soon as the screen has been quiet for a moment and is kept
 * only if nothing drew after it began, so it costs no time at the end; before answering, a
 * round trip to the X server makes sure no drawing is still on its way. This sees every
 * repaint (also those that leave pixels unchanged while an app is busy), not samples 40 ms apart.
 * If a frame turns out to have changed while no damage was reported (a compositing manager can
 * hide drawing from the root window), the detector switches to 'pixels' for good.
 *
 * 'pixels' (everywhere): capture every `intervalMs`, counted from the start of one capture to
 * the start of the next (after `minWaitMs`, so the app has begun to react) until
 * `stableFrames` consecutive captures are identical.
 *
 * Both give up at `timeoutMs` (then `settled: false` with the latest capture).
 *
 * Carets: a change that fits in a thin vertical strip (`caret.maxWidth` x `caret.maxHeight`)
 * may be a blinking caret; it is ignored only once nothing larger has changed for
 * `caret.quietMs` (counted from the action). Before that it resets the wait like any change:
 * a character that has just been typed is also a small change, and the next screenshot must
 * show it. Small changes do not extend the quiet time, so a caret blinking faster than the
 * stable window cannot hold the detector until its timeout. (Carets that blink every 400–800 ms,
 * as GTK's do, rarely fall inside the ~100 ms stable window anyway.)
 */
import { pickDisplay, type Rect } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Capture, RawImage, Screen, SettleInfo, SettleMethod } from '../../common/ports.ts';
import { abortableSleep } from '../../common/sleep.ts';
import type { DamageSource } from './x11-damage.ts';

export interface CaretTolerance {
  /** Largest caret-like change, in logical pixels (scaled by the display's scale factor). */
  maxWidth: number;
  maxHeight: number;
  /** Caret-like changes are ignored only after this long without any other change. */
  quietMs: number;
}

export interface SettleOptions {
  minWaitMs: number;
  /** 'damage': settled once nothing has drawn for this long. */
  quietMs: number;
  /** 'pixels': time between the starts of two captures. */
  intervalMs: number;
  /** 'pixels': consecutive identical captures that make a settled screen (at least 2). */
  stableFrames: number;
  timeoutMs: number;
  /** false: every pixel counts. */
  caret: CaretTolerance | false;
}

/**
 * minWaitMs 100: apps draw the direct effect of a key or click within ~30–60 ms here, but some
 * react once more a little later. GTK's Save As dialog greys out its Save button while it checks
 * a typed name and shows it again ~180 ms later (fading in until ~380 ms); an Enter before that
 * is dropped. With 50 ms the first three frames could all fall before that change: a "settled"
 * screen that was about to change (measured on Xvfb).
 *
 * quietMs 120: opening that dialog draws in bursts with gaps of up to ~95 ms (8 runs), menus
 * and typed text draw at once (a letter in Mousepad ~1 ms after the key): settled ~121 ms after
 * the action instead of ~190 ms. The dialog's check of a typed path comes 117–177 ms after the
 * last key with nothing drawn before it; that is waited out before the next input instead
 * (Pacing in main/agent/executor.ts), so that not every step pays for it.
 */
export const DEFAULT_SETTLE: SettleOptions = {
  minWaitMs: 100,
  quietMs: 120,
  intervalMs: 40,
  stableFrames: 3,
  timeoutMs: 1500,
  caret: { maxWidth: 4, maxHeight: 48, quietMs: 300 },
};

export type FrameChange = { kind: 'same' } | { kind: 'small'; bbox: Rect } | { kind: 'changed' };

/**
 * Compares two captures row by row (memcmp per row). Returns 'small' with the bounding box
 * when every difference fits in maxWidth x maxHeight pixels, else 'changed' (early exit).
 */
export function compareFrames(a: RawImage, b: RawImage, maxWidth = 0, maxHeight = 0): FrameChange {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels || a.order !== b.order) return { kind: 'changed' };
  const bpp = a.channels;
  const rowBytes = a.width * bpp;
  const ba = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const bb = Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  let top = -1;
  let bottom = -1;
  let left = a.width;
  let right = -1;
  for (let y = 0; y < a.height; y++) {
    const start = y * rowBytes;
    if (ba.compare(bb, start, start + rowBytes, start, start + rowBytes) === 0) continue;
    if (top < 0) top = y;
    bottom = y;
    if (bottom - top + 1 > maxHeight) return { kind: 'changed' };
    let l = 0;
    while (l < rowBytes && ba[start + l] === bb[start + l]) l++;
    let r = rowBytes - 1;
    while (r > l && ba[start + r] === bb[start + r]) r--;
    left = Math.min(left, Math.floor(l / bpp));
    right = Math.max(right, Math.floor(r / bpp));
    if (right - left + 1 > maxWidth) return { kind: 'changed' };
  }
  if (top < 0) return { kind: 'same' };
  return { kind: 'small', bbox: { x: left, y: top, width: right - left + 1, height: bottom - top + 1 } };
}

function stopped(): ForesightError {
  return new ForesightError('STOPPED', 'Stopped while waiting for the screen to settle');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableSleep(ms, signal, stopped);
}

/** Time, injectable so tests need no real waiting. */
export interface SettleClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const REAL_CLOCK: SettleClock = { now: () => Date.now(), sleep };

export interface SettleRequest {
  displayId?: string;
  signal?: AbortSignal;
  /** When the action ended (Date.now()); minWaitMs and timeoutMs count from here. Default: now. */
  since?: number;
  /**
   * Called with each capture the damage method takes while the screen is quiet (most become
   * the answer), so the caller can start encoding it during the rest of the quiet time.
   */
  onCapture?: (capture: Capture) => void;
}

export interface SettleResult {
  capture: Capture;
  info: SettleInfo;
}

/** The largest caret-like change in pixels of a display with this scale (0 x 0: none). */
function caretBox(caret: CaretTolerance | false, scale: number): { width: number; height: number } {
  return caret ? { width: Math.ceil(caret.maxWidth * scale), height: Math.ceil(caret.maxHeight * scale) } : { width: 0, height: 0 };
}

function intersects(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The last capture a damage settle returned, to check the next one against. */
interface Baseline {
  image: RawImage;
  /** Damage events received when that capture began. */
  count: number;
}

/** Poll step of the damage method: how late at most a settled screen is noticed. */
const DAMAGE_POLL_MS = 5;

export class SettleDetector {
  readonly options: SettleOptions;
  private damage: DamageSource | undefined;
  private why: string | undefined;
  private baseline: Baseline | undefined;

  /**
   * damage: a source of X damage events (createDesktop opens one on X11); without it, or
   * `whyNoDamage` says why there is none, the detector polls pixels.
   */
  constructor(
    private readonly screen: Screen,
    opts: Partial<SettleOptions> = {},
    private readonly clock: SettleClock = REAL_CLOCK,
    damage?: DamageSource,
    whyNoDamage?: string,
  ) {
    this.options = { ...DEFAULT_SETTLE, ...opts };
    const o = this.options;
    if (!(o.stableFrames >= 2) || !(o.intervalMs >= 0) || !(o.timeoutMs > 0) || !(o.minWaitMs >= 0) || !(o.quietMs > 0)) {
      throw new ForesightError('BAD_INPUT', `Settle options out of range: ${JSON.stringify(o)}`);
    }
    this.damage = damage;
    this.why = damage ? undefined : (whyNoDamage ?? 'no damage source was given');
  }

  /** The method the next settle will use. */
  get method(): SettleMethod {
    return this.damage?.alive ? 'damage' : 'pixels';
  }

  /** Why the detector polls pixels (undefined while it uses damage events). */
  get pixelsReason(): string | undefined {
    if (this.damage && !this.damage.alive) return 'the X connection for damage events closed';
    return this.why;
  }

  /** A sentence for logs and the bench: which rule, with its figures. */
  describe(): string {
    const o = this.options;
    if (this.method === 'damage') return `X damage events: nothing drawn for ${o.quietMs} ms, at least ${o.minWaitMs} ms after the action (timeout ${o.timeoutMs} ms)`;
    return `pixels: ${o.minWaitMs} ms floor, then ${o.stableFrames} identical captures ${o.intervalMs} ms apart (timeout ${o.timeoutMs} ms); ${this.pixelsReason}`;
  }

  async settle(req: SettleRequest = {}): Promise<SettleResult> {
    if (req.signal?.aborted) throw stopped();
    const t0 = req.since ?? this.clock.now();
    const damage = this.damage;
    if (damage?.alive) {
      const r = await this.settleByDamage(req, t0, damage);
      if (r) return r;
    }
    return this.settleByPixels(req, t0);
  }

  /** undefined: the damage source cannot be trusted (any more); poll pixels instead. */
  private async settleByDamage(req: SettleRequest, t0: number, damage: DamageSource): Promise<SettleResult | undefined> {
    const { signal } = req;
    const o = this.options;
    const clock = this.clock;
    const elapsed = () => clock.now() - t0;
    const display = pickDisplay(await this.screen.displays(), req.displayId);
    const area = display.bounds;
    const caret = caretBox(o.caret, display.scaleFactor);
    // When the observed display last changed (the action counts as a change), folded over the
    // events as they arrive. eventsSince(t) includes events at t, so the last one is seen
    // again on the next call; folding it twice changes nothing.
    let lastBig = t0;
    let last = t0;
    let foldedTo = t0;
    const lastChange = (): number => {
      for (const e of damage.eventsSince(foldedTo)) {
        foldedTo = e.at;
        if (!intersects(e.rect, area)) continue;
        const small = o.caret !== false && e.rect.width <= caret.width && e.rect.height <= caret.height;
        if (!small) lastBig = last = e.at;
        else if (o.caret && e.at - lastBig < o.caret.quietMs) last = e.at;
      }
      return last;
    };
    // The capture starts once the screen has been quiet this long, so that it is rarely wasted.
    const captureAfterMs = Math.min(30, o.quietMs / 4);
    let capture: Capture | undefined;
    let capturedFrom = 0;
    let countAtCapture = 0;
    let frames = 0;
    const take = async () => {
      capturedFrom = clock.now();
      countAtCapture = damage.count;
      capture = await this.screen.capture(req.displayId);
      frames++;
      req.onCapture?.(capture);
    };
    const lost = () => {
      this.baseline = undefined;
      return undefined;
    };
    for (;;) {
      if (signal?.aborted) throw stopped();
      if (!damage.alive) return lost();
      const changedAt = lastChange();
      const now = clock.now();
      const valid = capture !== undefined && changedAt < capturedFrom;
      if (!valid && now - changedAt >= captureAfterMs) {
        await take();
        continue;
      }
      const due = Math.max(t0 + o.minWaitMs, changedAt + o.quietMs);
      if (valid && now >= due) {
        await damage.sync(); // all drawing the server did until now has been reported
        if (!damage.alive) return lost();
        if (lastChange() < capturedFrom) {
          const info: SettleInfo = { settled: true, waitedMs: elapsed(), frames, method: 'damage' };
          return this.checked({ capture: capture!, info }, countAtCapture, req, t0);
        }
        continue;
      }
      if (elapsed() >= o.timeoutMs) {
        if (!valid) await take();
        return this.checked({ capture: capture!, info: { settled: false, waitedMs: elapsed(), frames, method: 'damage' } }, countAtCapture, req, t0);
      }
      const next = Math.min(valid ? due : changedAt + captureAfterMs, t0 + o.timeoutMs);
      await clock.sleep(Math.max(1, Math.min(DAMAGE_POLL_MS, next - now)), signal);
    }
  }

  /**
   * Trust, but verify: if this capture differs from the previous one while the X server
   * reported no drawing at all in between, damage events do not see this screen (a
   * compositing manager, say). Then pixels are polled from now on, this time included.
   */
  private async checked(r: SettleResult, countAtCapture: number, req: SettleRequest, t0: number): Promise<SettleResult | undefined> {
    const before = this.baseline;
    this.baseline = { image: r.capture.image, count: countAtCapture };
    if (!before || this.damage!.count !== before.count) return r;
    if (compareFrames(before.image, r.capture.image).kind === 'same') return r;
    this.why = 'the screen changed while the X server reported no drawing (a compositing manager?)';
    await this.damage!.close();
    this.damage = undefined;
    this.baseline = undefined;
    return this.settleByPixels(req, t0);
  }

  private async settleByPixels(req: SettleRequest, t0: number): Promise<SettleResult> {
    const { signal } = req;
    const o = this.options;
    const clock = this.clock;
    const elapsed = () => clock.now() - t0;
    await clock.sleep(Math.max(0, o.minWaitMs - elapsed()), signal);
    // Captures start intervalMs apart (a capture itself takes ~10 ms at 1280x800; sleeping a
    // full interval after it would stretch every interval by that much).
    let lastStart = clock.now();
    let prev = await this.screen.capture(req.displayId);
    let frames = 1;
    let run = 1;
    /** When something larger than a caret last changed (or the action, at first). */
    let lastBigChange = t0;
    const caret = caretBox(o.caret, prev.display.scaleFactor);
    for (;;) {
      if (run >= o.stableFrames) return { capture: prev, info: { settled: true, waitedMs: elapsed(), frames, method: 'pixels' } };
      if (elapsed() >= o.timeoutMs) return { capture: prev, info: { settled: false, waitedMs: elapsed(), frames, method: 'pixels' } };
      const wait = Math.max(0, lastStart + o.intervalMs - clock.now());
      await clock.sleep(Math.min(wait, Math.max(0, o.timeoutMs - elapsed())), signal);
      lastStart = clock.now();
      const cur = await this.screen.capture(req.displayId);
      frames++;
      const change = compareFrames(prev.image, cur.image, caret.width, caret.height);
      if (change.kind === 'same') {
        run++;
      } else if (change.kind === 'small') {
        const quiet = o.caret && clock.now() - lastBigChange >= o.caret.quietMs;
        run = quiet ? run + 1 : 1;
      } else {
        run = 1;
        lastBigChange = clock.now();
      }
      prev = cur;
    }
  }

  /** Stops listening for damage events. */
  async close(): Promise<void> {
    const d = this.damage;
    this.damage = undefined;
    this.why = 'the detector was closed';
    await d?.close();
  }
}
