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
import type { Capture, RawImage, Screen, ScreenChange, SettleInfo, SettleMethod } from '../../common/ports.ts';
import { abortableSleep } from '../../common/sleep.ts';
import type { DamageEvent, DamageSource } from './x11-damage.ts';

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
  /**
   * 'damage': a capture is taken once the screen has been quiet this long (at most quietMs / 2)
   * after the action's first drawing. It is the speculative observation: the planner may start
   * on it while the rest of the quiet time is waited out (see SettleRequest.onCapture).
   */
  captureAfterMs: number;
  /**
   * 'damage': how long the capture waits for the action's first drawing; past it (an action
   * that changes nothing on the screen) the capture is taken anyway.
   */
  firstDrawMs: number;
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
  // The direct effect of a key or click is drawn within ~30–60 ms here, typed text at once
  // (~1 ms). So the capture waits for the first drawing (at most firstDrawMs: a capture before
  // the app drew would be asked about and cancelled), then for captureAfterMs of quiet: 15 ms
  // put the planner's request ~37 ms after a typed letter (30 ms: ~55 ms), and drawing that
  // goes on after such a gap is what cancels a speculative request (bench:step).
  captureAfterMs: 15,
  firstDrawMs: 80,
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
   * Called with each capture taken while the screen looks quiet (most become the answer), so the
   * caller can start encoding it — and asking the planner about it — during the rest of the
   * quiet time. `invalidated` aborts as soon as anything but a caret draws after the capture
   * began (or, polling pixels, a later capture differs): the capture will not be the answer.
   * It never aborts for the capture the settle answers with.
   */
  onCapture?: (capture: Capture, invalidated: AbortSignal) => void;
  /** When the action began (the detector's clock): drawing from then on is the action's effect. */
  actionStartedAt?: number;
}


export interface SettleResult {
  capture: Capture;
  info: SettleInfo;
}

/** The largest caret-like change in pixels of a display with this scale (0 x 0: none). */
function caretBox(caret: CaretTolerance | false, scale: number): { width: number; height: number } {
  return caret ? { width: Math.ceil(caret.maxWidth * scale), height: Math.ceil(caret.maxHeight * scale) } : { width: 0, height: 0 };
}

function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
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

/** When a capture began, on the detector's clock, and the damage events received by then. */
interface CaptureMark {
  from: number;
  count: number;
}

/** The side of the blocks the pixel stale check averages (a cheap, downscaled comparison). */
const STALE_BLOCK = 4;
/** A block counts as changed when its mean differs by more than this (0–255, per channel sum / 3). */
const STALE_BLOCK_TOLERANCE = 2;

/**
 * A copy of a frame averaged over STALE_BLOCK x STALE_BLOCK blocks (one grey level per block):
 * 1/16 of the pixels to keep and compare, and indifferent to a pixel or two of dithering.
 */
export function downscale(image: RawImage): { width: number; height: number; data: Uint8Array } {
  const bw = Math.ceil(image.width / STALE_BLOCK);
  const bh = Math.ceil(image.height / STALE_BLOCK);
  const sums = new Uint32Array(bw * bh);
  const counts = new Uint16Array(bw * bh);
  const ch = image.channels;
  const d = image.data;
  for (let y = 0; y < image.height; y++) {
    const row = (y / STALE_BLOCK) | 0;
    let i = y * image.width * ch;
    for (let x = 0; x < image.width; x++, i += ch) {
      const b = row * bw + ((x / STALE_BLOCK) | 0);
      sums[b]! += d[i]! + d[i + 1]! + d[i + 2]!;
      counts[b]!++;
    }
  }
  const data = new Uint8Array(bw * bh);
  for (let b = 0; b < data.length; b++) data[b] = Math.round(sums[b]! / (3 * counts[b]!));
  return { width: bw, height: bh, data };
}

/** The box of blocks that differ between two downscaled frames, in frame pixels; undefined: none. */
function changedBox(a: ReturnType<typeof downscale>, b: ReturnType<typeof downscale>): Rect | 'size' | undefined {
  if (a.width !== b.width || a.height !== b.height) return 'size';
  let top = -1, bottom = -1, left = a.width, right = -1;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const k = y * a.width + x;
      if (Math.abs(a.data[k]! - b.data[k]!) <= STALE_BLOCK_TOLERANCE) continue;
      if (top < 0) top = y;
      bottom = y;
      left = Math.min(left, x);
      right = Math.max(right, x);
    }
  }
  if (top < 0) return undefined;
  return { x: left * STALE_BLOCK, y: top * STALE_BLOCK, width: (right - left + 1) * STALE_BLOCK, height: (bottom - top + 1) * STALE_BLOCK };
}

function describeRect(r: Rect): string {
  return `${r.width}x${r.height} at (${r.x}, ${r.y})`;
}

export class SettleDetector {
  readonly options: SettleOptions;
  private damage: DamageSource | undefined;
  private why: string | undefined;
  private baseline: Baseline | undefined;
  /** When each capture this detector took began: the stale check counts drawing from there. */
  private readonly marks = new WeakMap<RawImage, CaptureMark>();
  /** Downscaled copies of frames, made once for the pixel stale check. */
  private readonly small = new WeakMap<RawImage, ReturnType<typeof downscale>>();

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
    if (!(o.stableFrames >= 2) || !(o.intervalMs >= 0) || !(o.timeoutMs > 0) || !(o.minWaitMs >= 0) || !(o.quietMs > 0) || !(o.captureAfterMs >= 0) || !(o.firstDrawMs >= 0)) {
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
    // Drawing between the action's start and now (typed text is drawn before the action ends):
    // the action's effect has begun to show, and the quiet before the capture counts from it.
    const before = req.actionStartedAt === undefined ? [] : damage.eventsSince(req.actionStartedAt).filter((e) => e.at < t0 && intersects(e.rect, area));
    /** Anything drew on the display since the action began. */
    let drew = before.length > 0;
    const drawnBefore = before.at(-1)?.at;
    const lastChange = (): number => {
      for (const e of damage.eventsSince(foldedTo)) {
        foldedTo = e.at;
        if (!intersects(e.rect, area)) continue;
        drew = true;
        const small = o.caret !== false && e.rect.width <= caret.width && e.rect.height <= caret.height;
        if (!small) lastBig = last = e.at;
        else if (o.caret && e.at - lastBig < o.caret.quietMs) last = e.at;
      }
      return last;
    };
    // The capture starts once the screen has been quiet this long, so that it is rarely wasted
    // (and a speculative forecast on it rarely cancelled). Each capture drawn over doubles it (at
    // most quietMs / 2): an animation at 60 Hz draws every ~17 ms, and would otherwise cancel a
    // request per frame until maxSpeculativeCancels.
    let captureAfterMs = Math.min(o.captureAfterMs, o.quietMs / 2);
    let capture: Capture | undefined;
    let capturedFrom = 0;
    let countAtCapture = 0;
    let frames = 0;
    let invalidate: AbortController | undefined;
    const take = async () => {
      invalidate?.abort(); // the previous capture is superseded
      capturedFrom = clock.now();
      countAtCapture = damage.count;
      capture = await this.screen.capture(req.displayId);
      this.marks.set(capture.image, { from: capturedFrom, count: countAtCapture });
      frames++;
      invalidate = new AbortController();
      req.onCapture?.(capture, invalidate.signal);
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
      // Something drew after the capture began: whoever works on it may stop now.
      if (!valid && invalidate && !invalidate.signal.aborted) {
        invalidate.abort();
        captureAfterMs = Math.min(captureAfterMs * 2, o.quietMs / 2);
      }
      // The capture waits for the action's first drawing (or firstDrawMs), then for the quiet.
      const quietFrom = changedAt === t0 && drawnBefore !== undefined ? drawnBefore : changedAt;
      const captureAt = Math.max(quietFrom + captureAfterMs, drew ? 0 : t0 + o.firstDrawMs);
      if (!valid && now >= captureAt) {
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
      const next = Math.min(valid ? due : captureAt, t0 + o.timeoutMs);
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
    this.marks.set(prev.image, { from: lastStart, count: 0 });
    let frames = 1;
    let run = 1;
    // The first capture of the current run of equal frames: the answer once the run is long
    // enough, so a speculative forecast made on it holds.
    let candidate = prev;
    let invalidate = new AbortController();
    req.onCapture?.(prev, invalidate.signal);
    /** When something larger than a caret last changed (or the action, at first). */
    let lastBigChange = t0;
    const caret = caretBox(o.caret, prev.display.scaleFactor);
    for (;;) {
      if (run >= o.stableFrames) return { capture: candidate, info: { settled: true, waitedMs: elapsed(), frames, method: 'pixels' } };
      if (elapsed() >= o.timeoutMs) {
        if (candidate !== prev) invalidate.abort();
        return { capture: prev, info: { settled: false, waitedMs: elapsed(), frames, method: 'pixels' } };
      }
      const wait = Math.max(0, lastStart + o.intervalMs - clock.now());
      await clock.sleep(Math.min(wait, Math.max(0, o.timeoutMs - elapsed())), signal);
      lastStart = clock.now();
      const cur = await this.screen.capture(req.displayId);
      this.marks.set(cur.image, { from: lastStart, count: 0 });
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
      // A new run, or a small change let through (a caret, or typed text once nothing larger
      // changed for caret.quietMs): the answer must show it, so this capture is the candidate.
      if (run === 1 || change.kind === 'small') {
        invalidate.abort();
        candidate = cur;
        invalidate = new AbortController();
        req.onCapture?.(cur, invalidate.signal);
      }
      prev = cur;
    }
  }

  /**
   * The stale check before acting: did the screen change after `image` (a capture of this
   * detector, or one taken at `capturedAt`) began — beyond a blinking caret and the pointer?
   *
   * With damage events: what the X server reported since, after a round trip. Nothing: the
   * frame holds (once the screen has been quiet for quietMs — a frame taken when a settle timed
   * out, or the first look at the screen, may wait for that). Something drew: once it has been
   * quiet again for quietMs (at most timeoutMs; a screen that keeps drawing is changed), a
   * capture now is compared with the frame, and only a difference larger than a caret counts.
   * That second look is needed because toolkits repaint more than the caret when it blinks —
   * GTK redraws a whole text entry (measured: 1021x34 in the Save As dialog, every ~600 ms) —
   * so any forecast that takes longer than a blink would otherwise be stale.
   *
   * Without damage events: a capture now, compared with the frame over downscaled copies
   * (STALE_BLOCK) — a change that came and went in between is not seen.
   */
  async changesSince(image: RawImage, capturedAt: number, req: { displayId?: string; signal?: AbortSignal } = {}): Promise<ScreenChange> {
    const { signal } = req;
    if (signal?.aborted) throw stopped();
    const o = this.options;
    const clock = this.clock;
    const mark: Partial<CaptureMark> & { from: number } = this.marks.get(image) ?? { from: capturedAt };
    const display = pickDisplay(await this.screen.displays(), req.displayId);
    const caret = caretBox(o.caret, display.scaleFactor);
    const damage = this.damage;
    if (damage?.alive) {
      const big = (e: DamageEvent) => intersects(e.rect, display.bounds) && !(o.caret !== false && e.rect.width <= caret.width && e.rect.height <= caret.height);
      const t0 = clock.now();
      for (;;) {
        await damage.sync();
        if (!damage.alive) break;
        const now = clock.now();
        const since = damage.eventsSince(mark.from);
        const drawn = since.filter(big);
        // Events are kept for a few seconds (X11Damage's retainMs): when the model and the
        // grounder took longer, the count still tells that something drew, not what. Then the
        // pixels decide (below), once the screen is quiet.
        const forgotten = mark.count !== undefined && damage.count - mark.count > since.length;
        if (forgotten && drawn.length === 0) {
          // Nothing larger than a caret drew in the events kept, so the screen is quiet now.
          const cur = await this.screen.capture(req.displayId);
          const diff = compareFrames(image, cur.image, caret.width, caret.height);
          if (diff.kind !== 'changed') return { changed: false, method: 'damage' };
          const box = changedBox(this.downscaled(image), downscale(cur.image));
          return {
            changed: true,
            method: 'damage',
            what: `the screen differs from the frame${box && box !== 'size' ? ` in ${describeRect(box)}` : ''} ${Math.round(cur.capturedAt - mark.from)} ms after it was captured (drawn too long ago for the damage events kept)`,
            drawingMs: 0,
          };
        }
        if (drawn.length === 0) {
          const lastBefore = damage.eventsSince(mark.from - o.quietMs).filter((e) => e.at < mark.from && big(e)).at(-1)?.at;
          if (lastBefore === undefined || now >= lastBefore + o.quietMs) return { changed: false, method: 'damage' };
          await clock.sleep(Math.max(1, Math.min(DAMAGE_POLL_MS, lastBefore + o.quietMs - now)), signal);
          continue;
        }
        const first = drawn[0]!.at;
        const last = drawn.at(-1)!.at;
        const box = drawn.map((e) => e.rect).reduce(union);
        const what = `${drawn.length} drawing${drawn.length === 1 ? '' : 's'} over ${describeRect(box)}, from ${Math.round(first - mark.from)} ms after the frame was captured, for ${Math.round(last - first)} ms`;
        const changed: ScreenChange = { changed: true, method: 'damage', what, drawingMs: last - first };
        if (now < last + o.quietMs) {
          if (now - t0 >= o.timeoutMs) return { ...changed, what: `${what}, and still drawing` };
          await clock.sleep(Math.max(1, Math.min(DAMAGE_POLL_MS, last + o.quietMs - now)), signal);
          continue;
        }
        // Quiet now: what the screen shows decides. (Drawing that begins during this capture may
        // be missed, as it may begin just after any check: that race is the action's, not this
        // check's. Looking again would not help: under load a capture takes as long as the gap
        // between two caret blinks, and the check would never end.)
        const cur = await this.screen.capture(req.displayId);
        return compareFrames(image, cur.image, caret.width, caret.height).kind === 'changed' ? changed : { changed: false, method: 'damage' };
      }
    }
    const now = await this.screen.capture(req.displayId);
    const box = changedBox(this.downscaled(image), downscale(now.image));
    if (box === undefined) return { changed: false, method: 'pixels' };
    // A caret can straddle two blocks in each direction.
    const caretLike = box !== 'size' && o.caret !== false && box.width <= caret.width + STALE_BLOCK && box.height <= caret.height + STALE_BLOCK;
    if (caretLike) return { changed: false, method: 'pixels' };
    return {
      changed: true,
      method: 'pixels',
      what: `${box === 'size' ? 'the screen changed size' : `the frame just before acting differs in ${describeRect(box)}`}, ${Math.round(now.capturedAt - capturedAt)} ms after the forecast's frame was captured`,
      drawingMs: 0,
    };
  }

  private downscaled(image: RawImage): ReturnType<typeof downscale> {
    let small = this.small.get(image);
    if (!small) {
      small = downscale(image);
      this.small.set(image, small);
    }
    return small;
  }

  /** Stops listening for damage events. */
  async close(): Promise<void> {
    const d = this.damage;
    this.damage = undefined;
    this.why = 'the detector was closed';
    await d?.close();
  }
}
