/**
 * Screen captures through the X server's MIT-SHM extension, on a connection of our own (the
 * `x11` package, pure JavaScript, as x11-damage.ts).
 *
 * Why: libnut's capture (XGetImage) took 35–95 ms per 1280x800 frame inside an agent step here,
 * against ~3 ms for the same request in a quiet process, and it blocks the main thread all the
 * while. The difference is fresh memory: every capture is a new 4 MB reply buffer, a new Xlib
 * image and a new Node buffer, and on this VM first touching 4 MB costs ~16 ms of page faults
 * (measured: `Buffer.allocUnsafe(4e6).fill()` 16 ms, refilling it 0.1 ms). With MIT-SHM the
 * server writes the pixels straight into a shared segment that stays mapped, and we read them
 * with one pread into a buffer that is reused: ~1.5 ms, and the main thread stays free while
 * the server works. See bench:step.
 *
 * The pixels a caller gets must outlive the next capture (an observation is compared with later
 * frames, OCR reads it while the planner thinks), so each capture is copied out of the reused
 * buffer into memory of its own, which a worker thread has made ready (warm-memory.ts); making
 * the pixels opaque happens in the same pass.
 *
 * The segment is a file on /dev/shm, unlinked at once and passed to the server as a descriptor
 * (SHM 1.2 AttachFd): it cannot leak, not even when the process is killed. Where any of that is
 * missing (a remote X server, no /dev/shm, an old server, a visual that is not 32-bit BGRX) open()
 * fails with DISPLAY_UNAVAILABLE and the caller keeps capturing through libnut.
 */
import { closeSync, ftruncateSync, openSync, readSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Rect } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type { RawImage } from '../../common/ports.ts';
import { WarmBuffers } from './warm-memory.ts';
import { hangUp } from './x11-damage.ts';

// The part of the `x11` package used here (it ships no types).
interface Segment {
  size: number;
  fd: number | null;
  /** The provider contract asks for it; unused here: pixels are read with pread (readInto). */
  buffer: Buffer;
}
interface ShmProvider {
  flavor: 'fd';
  zeroCopy: false;
  create(size: number): Segment;
  commit(seg: Segment): void;
  sync(seg: Segment): void;
  destroy(seg: Segment): void;
}
interface ShmSegmentApi {
  shmseg: number;
  size: number;
  getImage(drawable: number, x: number, y: number, width: number, height: number, planeMask: number, format: number, offset: number, cb: (err: Error | null, rep?: { depth: number; size: number }) => void): void;
  detach(cb?: () => void): void;
}
interface ShmExt {
  present?: number;
  ImageFormat: { ZPixmap: number };
  createSegment(size: number, cb: (err: Error | null, seg?: ShmSegmentApi) => void): void;
}
interface XClient {
  require(name: 'shm', cb: (err: Error | null, ext: ShmExt) => void): void;
  close(cb?: (err?: Error) => void): void;
  terminate(): void;
  stream?: { destroy(): void };
  on(event: 'error' | 'end', listener: (err?: Error) => void): void;
}
interface XVisual {
  class: number;
  red_mask: number;
  green_mask: number;
  blue_mask: number;
}
interface XScreen {
  root: number;
  root_depth: number;
  root_visual: number;
  pixel_width: number;
  pixel_height: number;
  depths: Record<string, Record<string, XVisual>>;
}
interface XDisplay {
  client: XClient;
  screen: XScreen[];
  image_byte_order: number;
  format: Record<string, { bits_per_pixel: number; scanline_pad: number }>;
}
interface X11Module {
  createClient(options: { display: string; shm?: ShmProvider }, cb: (err: Error | null, display: XDisplay) => void): XClient;
}

const SHM_DIR = '/dev/shm';

function unavailable(display: string, why: string, cause?: unknown): ForesightError {
  return new ForesightError('DISPLAY_UNAVAILABLE', `No shared-memory captures from X display ${display}: ${why}`, { display }, cause === undefined ? undefined : { cause });
}

let segments = 0;

/**
 * Segments as anonymous /dev/shm files whose descriptor we keep: the server maps them, we pread
 * from the descriptor ourselves (the package's own provider would copy every capture into one
 * more buffer first).
 */
function provider(made: Segment[]): ShmProvider {
  return {
    flavor: 'fd',
    zeroCopy: false,
    create(size) {
      const path = `${SHM_DIR}/foresight-capture-${process.pid}-${segments++}`;
      const fd = openSync(path, 'w+', 0o600);
      try {
        ftruncateSync(fd, size);
      } finally {
        unlinkSync(path);
      }
      const seg = { size, fd, buffer: Buffer.alloc(0) };
      made.push(seg);
      return seg;
    },
    commit() {},
    sync() {},
    destroy(seg) {
      if (seg.fd === null) return;
      try {
        closeSync(seg.fd);
      } catch {
        // already closed
      }
      seg.fd = null;
    },
  };
}

interface Attached {
  api: ShmSegmentApi;
  seg: Segment;
}

export interface X11ShmCaptureOptions {
  /** Give up connecting (or on one capture) after this long (default 3 s). */
  timeoutMs?: number;
}

export class X11ShmCapture {
  private dead = false;
  private attached: Attached | undefined;
  /** The reused buffer every capture is read into first (warm memory: no page faults). */
  private staging = Buffer.alloc(0);
  /** Memory for the captures handed out, touched beforehand (see warm-memory.ts). */
  readonly memory = new WarmBuffers();
  /** Captures run one at a time: they share the segment and the staging buffer. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly display: string,
    private readonly client: XClient,
    private readonly ext: ShmExt,
    private readonly root: XScreen,
    private readonly provide: ShmProvider,
    /** Every segment the provider made, in order (closed with the connection). */
    private readonly made: Segment[],
    private readonly timeoutMs: number,
  ) {}

  /**
   * Connects to `display` and checks that shared-memory captures work there (a segment is
   * attached and one pixel read). DISPLAY_UNAVAILABLE, saying why, when they do not.
   */
  static open(display: string, opts: X11ShmCaptureOptions = {}): Promise<X11ShmCapture> {
    const timeoutMs = opts.timeoutMs ?? 3000;
    const x11 = createRequire(import.meta.url)('x11') as X11Module;
    const made: Segment[] = [];
    const shm = provider(made);
    return new Promise((resolve, reject) => {
      let client: XClient | undefined;
      let done = false;
      const fail = (why: string, cause?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        hangUp(client);
        reject(unavailable(display, why, cause));
      };
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
      try {
        client = x11.createClient({ display, shm }, (err, d) => {
          if (err) return fail(err.message, err);
          const screen = d.screen[0];
          if (!screen) return fail('the server has no screen');
          const why = unsupportedFormat(d, screen);
          if (why) return fail(why);
          d.client.require('shm', (err2, ext) => {
            if (err2 || !ext?.present) return fail(`the server has no MIT-SHM extension (${err2?.message ?? 'not found'})`, err2);
            const capture = new X11ShmCapture(display, d.client, ext, screen, shm, made, timeoutMs);
            // One real capture of a pixel: AttachFd works only on a local connection to a server
            // that can map the segment, which only trying tells.
            capture.grab({ x: 0, y: 0, width: 1, height: 1 }).then(
              () => {
                if (done) return void capture.close();
                done = true;
                clearTimeout(timer);
                resolve(capture);
              },
              (e: unknown) => fail(e instanceof Error ? e.message : String(e), e),
            );
          });
        });
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e), e);
        return;
      }
      client.on('error', (err) => fail(err?.message ?? 'connection error', err));
    }).then((c) => {
      const capture = c as X11ShmCapture;
      capture.client.on('error', () => capture.kill());
      capture.client.on('end', () => capture.kill());
      return capture;
    });
  }

  /** False once the connection is gone (the caller then captures another way). */
  get alive(): boolean {
    return !this.dead;
  }

  /** The pixels of `rect` (root-window pixels) as packed, opaque BGRA. */
  grab(rect: Rect): Promise<RawImage> {
    const run = this.queue.then(() => this.grabNow(rect));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async grabNow(rect: Rect): Promise<RawImage> {
    if (this.dead) throw unavailable(this.display, 'the connection is closed');
    const { x, y, width, height } = rect;
    if (width <= 0 || height <= 0 || x < 0 || y < 0 || x + width > this.root.pixel_width || y + height > this.root.pixel_height) {
      // An X protocol error would end the connection: refuse here.
      throw new ForesightError('DISPLAY_UNAVAILABLE', `Cannot capture ${width}x${height} at ${x},${y}: outside the X screen (${this.root.pixel_width}x${this.root.pixel_height})`, { display: this.display });
    }
    const bytes = width * height * 4;
    const { api, seg } = await this.segment(bytes);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(unavailable(this.display, `the server did not answer a capture within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      api.getImage(this.root.root, x, y, width, height, 0xffffffff, this.ext.ImageFormat.ZPixmap, 0, (err, rep) => {
        clearTimeout(timer);
        if (err) return reject(unavailable(this.display, `the capture failed (${err.message})`, err));
        if (!rep || rep.size < bytes) return reject(unavailable(this.display, `the server wrote ${rep?.size ?? 0} bytes for ${bytes}`));
        resolve();
      });
    });
    if (seg.fd === null) throw unavailable(this.display, 'the segment is closed');
    if (this.staging.length < bytes) this.staging = Buffer.alloc(bytes);
    const got = readSync(seg.fd, this.staging, 0, bytes, 0);
    if (got < bytes) throw unavailable(this.display, `read ${got} of ${bytes} bytes from the segment`);
    // Memory of its own for the caller, opaque: one pass, 32 bits at a time.
    const data = this.memory.take(bytes);
    const from = new Uint32Array(this.staging.buffer, this.staging.byteOffset, bytes / 4);
    const to = new Uint32Array(data.buffer, 0, bytes / 4);
    for (let i = 0; i < to.length; i++) to[i] = from[i]! | 0xff000000;
    return { width, height, channels: 4, order: 'bgra', data };
  }

  /** A segment attached to the server that holds `bytes` (made anew only when captures grow). */
  private async segment(bytes: number): Promise<Attached> {
    if (this.attached && this.attached.seg.size >= bytes) return this.attached;
    const old = this.attached;
    this.attached = undefined;
    old?.api.detach();
    const size = Math.max(bytes, this.root.pixel_width * this.root.pixel_height * 4);
    const api = await new Promise<ShmSegmentApi>((resolve, reject) => {
      this.ext.createSegment(size, (err, s) => (err || !s ? reject(unavailable(this.display, `attaching a shared segment failed (${err?.message ?? 'no segment'})`, err)) : resolve(s)));
    });
    // createSegment made exactly one segment through our provider: the last one.
    const seg = this.made.at(-1);
    if (!seg) throw unavailable(this.display, 'the shared segment was not created');
    this.attached = { api, seg };
    return this.attached;
  }

  private kill(): void {
    if (this.dead) return;
    this.dead = true;
    hangUp(this.client);
    for (const s of this.made) this.provide.destroy(s);
    void this.memory.close();
  }

  close(): Promise<void> {
    if (this.dead) return Promise.resolve();
    this.dead = true;
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        for (const s of this.made) this.provide.destroy(s);
        void this.memory.close();
        resolve();
      };
      const timer = setTimeout(() => {
        hangUp(this.client);
        finish();
      }, 1000);
      try {
        this.attached?.api.detach();
        this.client.close(finish);
      } catch {
        hangUp(this.client);
        finish();
      }
    });
  }
}

/** Why the root window's pixels are not 32-bit little-endian BGRX (undefined: they are). */
function unsupportedFormat(d: XDisplay, screen: XScreen): string | undefined {
  if (d.image_byte_order !== 0) return 'the server sends images most significant byte first';
  const format = d.format[String(screen.root_depth)];
  if (!format || format.bits_per_pixel !== 32) return `the root window has ${format?.bits_per_pixel ?? '?'} bits per pixel (depth ${screen.root_depth}), not 32`;
  const visual = screen.depths[String(screen.root_depth)]?.[String(screen.root_visual)];
  if (!visual || visual.red_mask !== 0xff0000 || visual.green_mask !== 0xff00 || visual.blue_mask !== 0xff) return 'the root visual is not 8-bit RGB in BGRX order';
  return undefined;
}
