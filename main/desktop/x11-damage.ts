/**
 * Screen changes as the X server reports them (the DAMAGE extension), for the settle detector.
 *
 * Why: polling captures can only tell that two frames ~40 ms apart are equal. The X server
 * knows each time anything draws, within a millisecond, including redraws that leave the pixels
 * as they were (GTK repaints at its frame clock while a widget animates or fades in, and keeps
 * repainting while its file chooser works on a typed path). Listening costs one socket and no
 * captures. Measured on Xvfb with Mousepad: a typed letter is one damage rectangle ~1 ms after
 * the key; opening GTK's Save As dialog draws in bursts with gaps of up to ~95 ms.
 *
 * One Damage object on the root window, RawRectangles level: without a compositing manager,
 * drawing into any window damages the root's visible region, so one object sees the whole
 * screen; under xcompmgr the compositor's painting of the root is reported (checked). Should a
 * compositor paint where the root's damage does not show, the settle detector notices (a frame
 * that changed while no damage arrived) and falls back to polling.
 *
 * Speaks X11 with the `x11` package (pure JavaScript, its own socket): nothing native, and a
 * dead X server ends this connection only (alive turns false) instead of the process.
 */
import { createRequire } from 'node:module';
import type { Rect } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';

export interface DamageEvent {
  /** When it was received (the detector's clock, Date.now by default). */
  at: number;
  /** The damaged area in root-window pixels. */
  rect: Rect;
}

/** What the settle detector needs from a source of damage events. */
export interface DamageSource {
  /** False once the connection is gone: the detector then polls pixels instead. */
  readonly alive: boolean;
  /** Events received so far, ever (to tell whether any arrived between two moments). */
  readonly count: number;
  /** Events received at or after `since`, oldest first (a few seconds are kept). */
  eventsSince(since: number): readonly DamageEvent[];
  /** Resolves once every damage the server had produced when it was called has been received. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

// The part of the `x11` package used here (it ships no types).
interface XClient {
  AllocID(): number;
  require(name: 'damage', cb: (err: Error | null, ext: DamageExt) => void): void;
  sync(cb: (err: Error | null) => void): void;
  close(cb?: (err?: Error) => void): void;
  terminate(): void;
  stream?: { destroy(): void };
  on(event: 'event', listener: (ev: { name?: string; area?: { x: number; y: number; w: number; h: number } }) => void): void;
  on(event: 'error' | 'end', listener: (err?: Error) => void): void;
}
interface DamageExt {
  ReportLevel: { RawRectangles: number };
  Create(damage: number, drawable: number, level: number): void;
  Destroy(damage: number): void;
}
interface XDisplay {
  client: XClient;
  screen: Array<{ root: number }>;
}
interface X11Module {
  createClient(options: { display: string }, cb: (err: Error | null, display: XDisplay) => void): XClient;
}

export interface X11DamageOptions {
  /** Clock for event times; must be the settle detector's (default Date.now). */
  now?: () => number;
  /**
   * How long events are kept (default 30 s: far longer than a settle wait, and longer than most
   * model requests plus grounding, which the stale check before acting looks back over; past
   * that it compares pixels, see SettleDetector.changesSince).
   */
  retainMs?: number;
  /** Most events kept, for screens that never stop drawing (default 20,000). */
  maxEvents?: number;
  /** Give up connecting (or on a round trip) after this long (default 3 s). */
  timeoutMs?: number;
}

/** Ends a connection of the `x11` package in any state (terminate() throws on one that never finished its setup). */
export function hangUp(client: Pick<XClient, 'terminate' | 'stream'> | undefined): void {
  try {
    client?.terminate();
  } catch {
    client?.stream?.destroy();
  }
}

function unavailable(display: string, why: string, cause?: unknown): ForesightError {
  return new ForesightError('DISPLAY_UNAVAILABLE', `No damage events from X display ${display}: ${why}`, { display }, cause === undefined ? undefined : { cause });
}

export class X11Damage implements DamageSource {
  private readonly events: DamageEvent[] = [];
  private head = 0;
  private received = 0;
  private dead = false;
  private readonly now: () => number;
  private readonly retainMs: number;
  private readonly maxEvents: number;
  private readonly timeoutMs: number;

  private constructor(
    private readonly client: XClient,
    private readonly ext: DamageExt,
    private readonly damageId: number,
    opts: X11DamageOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.retainMs = opts.retainMs ?? 30_000;
    this.maxEvents = opts.maxEvents ?? 20_000;
    this.timeoutMs = opts.timeoutMs ?? 3000;
  }

  /**
   * Connects to `display` and starts listening. DISPLAY_UNAVAILABLE when the server cannot be
   * reached in time or has no DAMAGE extension (the caller then polls pixels).
   */
  static open(display: string, opts: X11DamageOptions = {}): Promise<X11Damage> {
    const x11 = createRequire(import.meta.url)('x11') as X11Module;
    const timeoutMs = opts.timeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      let client: XClient | undefined;
      let settled = false;
      const fail = (why: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        hangUp(client);
        reject(unavailable(display, why, cause));
      };
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
      try {
        client = x11.createClient({ display }, (err, d) => {
          if (err) return fail(err.message, err);
          const c = d.client;
          c.require('damage', (err2, ext) => {
            if (err2 || !ext) return fail(`the server has no DAMAGE extension (${err2?.message ?? 'not found'})`, err2);
            if (settled) return;
            const id = c.AllocID();
            ext.Create(id, d.screen[0]!.root, ext.ReportLevel.RawRectangles);
            const damage = new X11Damage(c, ext, id, opts);
            c.sync((err3) => {
              if (err3) return fail(`creating the damage object failed (${err3.message})`, err3);
              if (settled) return;
              settled = true;
              clearTimeout(timer);
              damage.listen();
              resolve(damage);
            });
          });
        });
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e), e);
        return;
      }
      // Errors before setup completes reach the callback; these are for the rest of its life.
      client.on('error', (err) => {
        if (!settled) fail(err?.message ?? 'connection error', err);
      });
    });
  }

  private listen(): void {
    this.client.on('event', (ev) => {
      if (ev.name !== 'DamageNotify' || !ev.area) return;
      this.received++;
      const at = this.now();
      this.events.push({ at, rect: { x: ev.area.x, y: ev.area.y, width: ev.area.w, height: ev.area.h } });
      this.prune(at);
    });
    // An X protocol error or a dropped connection: stop trusting this source (the detector
    // falls back to polling); never let it reach the process as an unhandled 'error'.
    this.client.on('error', () => this.kill());
    this.client.on('end', () => this.kill());
  }

  private kill(): void {
    if (this.dead) return;
    this.dead = true;
    hangUp(this.client);
  }

  private prune(now: number): void {
    const live = this.events.length - this.head;
    let drop = Math.max(0, live - this.maxEvents);
    while (this.head + drop < this.events.length && now - this.events[this.head + drop]!.at > this.retainMs) drop++;
    this.head += drop;
    if (this.head > 4096 && this.head * 2 > this.events.length) {
      this.events.splice(0, this.head);
      this.head = 0;
    }
  }

  get alive(): boolean {
    return !this.dead;
  }

  get count(): number {
    return this.received;
  }

  eventsSince(since: number): readonly DamageEvent[] {
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.at < since) lo = mid + 1;
      else hi = mid;
    }
    return this.events.slice(lo);
  }

  /**
   * A round trip on this connection: the server answers after it has sent every event it
   * produced before the request, so all of them have been received when this resolves.
   * A server that does not answer in time ends the source (alive turns false).
   */
  sync(): Promise<void> {
    if (this.dead) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        resolve();
      }, this.timeoutMs);
      this.client.sync((err) => {
        clearTimeout(timer);
        if (err) this.kill();
        resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.dead) return Promise.resolve();
    this.dead = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        hangUp(this.client);
        resolve();
      }, 1000);
      try {
        this.ext.Destroy(this.damageId);
        this.client.close(() => {
          clearTimeout(timer);
          resolve();
        });
      } catch {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
