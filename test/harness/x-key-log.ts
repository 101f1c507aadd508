/**
 * An X client that records every key press its window receives, with the X server's own
 * timestamp. On Linux the server stamps events with CLOCK_MONOTONIC in milliseconds (checked:
 * a PropertyNotify's time equals process.hrtime within 1 ms), so a test can compare when input
 * reached the app with when it killed a process, without the scheduling delay of a terminal
 * program that reads the keys (xterm → pty → reader) blurring the figure.
 */
import { createRequire } from 'node:module';

interface XEvent {
  name?: string;
  type: number;
  time?: number;
  keycode?: number;
}
interface XClient {
  AllocID(): number;
  CreateWindow(wid: number, parent: number, x: number, y: number, w: number, h: number, border: number, depth: number, cls: number, visual: number, attrs: Record<string, number>): void;
  ChangeProperty(mode: number, wid: number, prop: number, type: number, format: number, data: string): void;
  MapWindow(wid: number): void;
  GetKeyboardMapping(first: number, count: number, cb: (err: Error | null, map: number[][]) => void): void;
  atoms: Record<string, number>;
  on(ev: 'event', cb: (e: XEvent) => void): void;
  on(ev: 'error', cb: (e: Error) => void): void;
  sync(cb: (err: Error | null) => void): void;
  terminate(): void;
}
interface X11Module {
  createClient(o: { display: string }, cb: (err: Error | null, d: { client: XClient; screen: Array<{ root: number; white_pixel: number }>; min_keycode: number; max_keycode: number }) => void): XClient;
  eventMask: Record<string, number>;
}

export interface KeyPress {
  /** X server time: CLOCK_MONOTONIC milliseconds, modulo 2^32. */
  time: number;
  keycode: number;
  /** The character the keycode's first keysym stands for, when it is printable ASCII. */
  char: string | undefined;
}

export interface XKeyLog {
  /** The window's id, in the decimal form xdotool takes. */
  windowId: string;
  /** Key presses so far, in order. */
  presses(): KeyPress[];
  close(): void;
}

/** CLOCK_MONOTONIC in ms, modulo 2^32: the X server's clock. */
export function monotonicMs(): number {
  return Number((process.hrtime.bigint() / 1_000_000n) % 4_294_967_296n);
}

/** Opens a 400×200 window titled `title` on `display` and records the keys it receives. */
export function openXKeyLog(display: string, title: string): Promise<XKeyLog> {
  const x11 = createRequire(import.meta.url)('x11') as X11Module;
  return new Promise((resolve, reject) => {
    const client = x11.createClient({ display }, (err, d) => {
      if (err) return reject(err);
      const c = d.client;
      const screen = d.screen[0]!;
      const wid = c.AllocID();
      c.CreateWindow(wid, screen.root, 0, 0, 400, 200, 0, 0, 0, 0, {
        backgroundPixel: screen.white_pixel,
        eventMask: (x11.eventMask.KeyPress ?? 0) | (x11.eventMask.StructureNotify ?? 0),
      });
      c.ChangeProperty(0, wid, c.atoms.WM_NAME!, c.atoms.STRING!, 8, title);
      c.MapWindow(wid);
      const raw: Array<{ time: number; keycode: number }> = [];
      let onMapped: (() => void) | undefined;
      const mapped = new Promise<void>((r) => (onMapped = r));
      c.on('event', (e) => {
        if (e.type === 2 && e.time !== undefined && e.keycode !== undefined) raw.push({ time: e.time, keycode: e.keycode });
        if (e.type === 19) onMapped?.(); // MapNotify: the window manager has shown it
      });
      c.on('error', () => undefined);
      const min = d.min_keycode;
      c.GetKeyboardMapping(min, d.max_keycode - min + 1, (err2, map) => {
        if (err2) return reject(err2);
        const charOf = (code: number): string | undefined => {
          const sym = map[code - min]?.[0];
          return sym !== undefined && sym >= 0x20 && sym <= 0x7e ? String.fromCharCode(sym) : undefined;
        };
        const log: XKeyLog = {
          windowId: String(wid),
          presses: () => raw.map((p) => ({ ...p, char: charOf(p.keycode) })),
          close: () => c.terminate(),
        };
        // A window manager that is still starting may drop the map request: ask again until shown.
        const retry = setInterval(() => {
          c.MapWindow(wid);
          c.sync(() => undefined);
        }, 500);
        void mapped.then(() => {
          clearInterval(retry);
          resolve(log);
        });
      });
    });
    client.on('error', reject);
  });
}
