/**
 * The Screen port over nut.js: the displays and their geometry, and raw captures.
 *
 * nut.js knows only the main screen. On X11 the monitors come from `xrandr --listmonitors`
 * (all inside the root window, whose pixels are both logical and physical: scale 1) and each
 * is captured as a region of the root window. Elsewhere the main screen is the one display,
 * its size in logical pixels from nut.js and its scale from the capture's pixel density.
 */
import { createRequire } from 'node:module';
import { screen, Region, type Image } from '@nut-tree-fork/nut-js';
import { pickDisplay, type Display } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Capture, RawImage, Screen } from '../../common/ports.ts';
import type { InputToolRunner } from './text-typer.ts';
import type { X11ShmCapture } from './x11-capture.ts';
import { listX11Monitors, probeX11 } from './x11.ts';

export interface NutScreenOptions {
  /** Environment whose DISPLAY nut.js will use (default process.env; it must be the same DISPLAY). */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** How long a display list is reused before asking again (monitors come and go). */
  displaysTtlMs?: number;
  /** Who starts xrandr (default: this process; see tool-host.mjs). */
  runTool?: InputToolRunner;
}

export class NutScreen implements Screen {
  private readonly env: NodeJS.ProcessEnv;
  private readonly x11: boolean;
  private readonly ttlMs: number;
  private readonly runTool: InputToolRunner | undefined;
  private cached: { at: number; displays: Promise<Display[]>; known: boolean } | undefined;
  /** A newer list being read while the cached one answers. */
  private refreshing: Promise<Display[]> | undefined;
  private shm: X11ShmCapture | undefined;
  private shmWhy: string | undefined = 'not opened';

  constructor(opts: NutScreenOptions = {}) {
    this.env = opts.env ?? process.env;
    const platform = opts.platform ?? process.platform;
    this.x11 = platform !== 'darwin' && platform !== 'win32';
    this.ttlMs = opts.displaysTtlMs ?? 1000;
    this.runTool = opts.runTool;
  }

  /**
   * Captures through MIT-SHM from now on (x11-capture.ts: ~1.5 ms a frame instead of libnut's
   * 35–95 ms here); without it, or once it fails, through libnut, for the reason given.
   */
  useShm(capture: X11ShmCapture | undefined, why?: string): void {
    this.shm = capture;
    this.shmWhy = capture ? undefined : (why ?? 'not opened');
  }

  /** How captures are taken, for logs and the bench. */
  get captureMethod(): string {
    return this.shm?.alive ? 'MIT-SHM' : `libnut (XGetImage; no MIT-SHM: ${this.shm ? 'its connection closed' : this.shmWhy})`;
  }

  /** Throws DISPLAY_UNAVAILABLE unless there is a display nut.js can safely open. */
  async ensureDisplay(): Promise<void> {
    if (this.x11) await probeX11(this.env);
  }

  /**
   * The displays, read again when the list is older than displaysTtlMs. While it is read again
   * the previous list answers (xrandr takes ~20–40 ms, and the settle after every action asks
   * first): a monitor plugged or unplugged is seen one call later. displaysTtlMs 0: every call
   * reads the list and waits for it.
   */
  displays(): Promise<Display[]> {
    const now = Date.now();
    const cached = this.cached;
    if (!cached || (now - cached.at > this.ttlMs && !this.refreshing)) {
      const displays = this.readDisplays();
      const entry = { at: now, displays, known: false };
      displays.then(
        () => {
          entry.known = true;
          if (this.refreshing === displays) this.refreshing = undefined;
          this.cached = entry;
        },
        () => {
          if (this.refreshing === displays) this.refreshing = undefined;
          if (this.cached === entry) this.cached = undefined;
        },
      );
      if (cached?.known && this.ttlMs > 0) this.refreshing = displays;
      else this.cached = entry;
    }
    const answer = this.cached!.displays;
    return answer.then((ds) => ds.map((d) => ({ ...d, bounds: { ...d.bounds } })));
  }

  private async readDisplays(): Promise<Display[]> {
    await this.ensureDisplay();
    if (this.x11) {
      const monitors = await listX11Monitors(this.env, this.runTool);
      if (monitors.length > 0) return monitors;
    }
    const [width, height] = [await screen.width(), await screen.height()];
    let scaleFactor = 1;
    if (!this.x11) {
      // nut.js reports the main screen in logical points and captures it in physical pixels.
      const probe = await screen.grabRegion(new Region(0, 0, Math.min(16, width), Math.min(16, height)));
      scaleFactor = probe.pixelDensity.scaleX > 0 ? probe.pixelDensity.scaleX : 1;
    }
    return [{ id: 'main', bounds: { x: 0, y: 0, width, height }, scaleFactor, primary: true }];
  }

  /** The display with this id, or the primary one. BAD_INPUT for an unknown id. */
  async display(displayId?: string): Promise<Display> {
    return pickDisplay(await this.displays(), displayId);
  }

  async capture(displayId?: string): Promise<Capture> {
    const display = await this.display(displayId);
    const b = display.bounds;
    const rootW = await screen.width();
    const rootH = await screen.height();
    const whole = b.x === 0 && b.y === 0 && b.width === rootW && b.height === rootH;
    if (this.x11 && (b.x < 0 || b.y < 0 || b.x + b.width > rootW || b.y + b.height > rootH)) {
      // XGetImage outside the root window is an X protocol error, and Xlib's default handler exits.
      throw new ForesightError('DISPLAY_UNAVAILABLE', `Display ${display.id} (${b.width}x${b.height} at ${b.x},${b.y}) is not inside the X screen (${rootW}x${rootH})`, { displayId: display.id });
    }
    const capturedAt = Date.now();
    const shm = this.shm;
    if (shm?.alive) {
      try {
        return { display, image: await shm.grab(b), capturedAt };
      } catch (e) {
        // The X server is still there for libnut if it is there at all; it decides below.
        this.useShm(undefined, e instanceof Error ? e.message : String(e));
      }
    }
    let img: Image;
    try {
      img = whole ? await screen.grab() : await screen.grabRegion(new Region(b.x, b.y, b.width, b.height));
    } catch (e) {
      throw new ForesightError('DISPLAY_UNAVAILABLE', `Could not capture display ${display.id}: ${e instanceof Error ? e.message : String(e)}`, { displayId: display.id }, { cause: e });
    }
    return { display, image: toRawImage(img), capturedAt };
  }
}

/** nut.js image (BGRA, rows possibly padded, alpha undefined on X11) → packed, opaque BGRA. */
export function toRawImage(img: Pick<Image, 'width' | 'height' | 'data' | 'byteWidth' | 'bitsPerPixel'>): RawImage {
  const { width, height } = img;
  const rowBytes = width * 4;
  if (img.bitsPerPixel !== 32) throw new ForesightError('INTERNAL', `Unexpected capture format: ${img.bitsPerPixel} bits per pixel`);
  let data: Uint8Array;
  if (img.byteWidth === rowBytes) {
    data = new Uint8Array(img.data.buffer, img.data.byteOffset, rowBytes * height);
  } else {
    data = new Uint8Array(rowBytes * height);
    for (let y = 0; y < height; y++) data.set(img.data.subarray(y * img.byteWidth, y * img.byteWidth + rowBytes), y * rowBytes);
  }
  // X11 leaves the alpha byte 0: make the pixels opaque so any consumer can use them as is.
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width, height, channels: 4, order: 'bgra', data };
}

interface LibnutX11 {
  setXDisplayName(name: string): void;
  getActiveWindow(): number;
}

/**
 * Closes the X connection libnut keeps open (it reopens on its next call). libnut registers
 * XCloseDisplay with atexit(); if the X server is gone by then, Xlib's I/O error handler ends
 * the process with exit code 1. Close it while the server still runs (Desktop.close()).
 * How: point libnut at a display that cannot exist and make one call that tolerates a NULL
 * display (getActiveWindow): that closes the old connection; then point it back.
 */
export function releaseNutX11Connection(display: string): void {
  let libnut: LibnutX11;
  try {
    libnut = createRequire(import.meta.url)('@nut-tree-fork/libnut-linux') as LibnutX11;
  } catch {
    return;
  }
  libnut.setXDisplayName('unix:65535');
  libnut.getActiveWindow(); // prints "Could not open main display": expected
  libnut.setXDisplayName(display);
}
