/**
 * A plain X window for the desktop tests, made with the `x11` package (its own connection): it
 * appears when told to (a dialog opening while the model thinks), repaints itself constantly
 * when asked to (a spinner that never stops), and counts the mouse clicks it receives — so a test
 * can prove that nothing was clicked on a screen that never held still.
 *
 * Override-redirect: the window manager neither decorates nor focuses it, so it draws exactly
 * where it is put and takes no keys from the app under test.
 */
import { createRequire } from 'node:module';

interface XEvent {
  type: number;
}
interface XClient {
  AllocID(): number;
  CreateWindow(wid: number, parent: number, x: number, y: number, w: number, h: number, border: number, depth: number, cls: number, visual: number, attrs: Record<string, number>): void;
  ChangeWindowAttributes(wid: number, attrs: Record<string, number>): void;
  ClearArea(wid: number, x: number, y: number, w: number, h: number, exposures: number): void;
  MapWindow(wid: number): void;
  on(ev: 'event', cb: (e: XEvent) => void): void;
  on(ev: 'error', cb: (e: Error) => void): void;
  sync(cb: (err: Error | null) => void): void;
  terminate(): void;
}
interface X11Module {
  createClient(o: { display: string }, cb: (err: Error | null, d: { client: XClient; screen: Array<{ root: number; white_pixel: number; black_pixel: number }> }) => void): XClient;
  eventMask: Record<string, number>;
}

export interface TestWindowOptions {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Shown at once (default) or only when show() is called. */
  mapped?: boolean;
}

export interface TestWindow {
  /** Maps the window; resolves once the X server has done it. */
  show(): Promise<void>;
  /** Repaints the whole window in another shade every `intervalMs`, until closed. */
  animate(intervalMs: number): void;
  /** Button presses the window received. */
  readonly clicks: number;
  close(): void;
}

const BUTTON_PRESS = 4;

export function openTestWindow(display: string, opts: TestWindowOptions): Promise<TestWindow> {
  const x11 = createRequire(import.meta.url)('x11') as X11Module;
  return new Promise((resolve, reject) => {
    const client = x11.createClient({ display }, (err, d) => {
      if (err) return reject(err);
      const c = d.client;
      const screen = d.screen[0]!;
      const wid = c.AllocID();
      c.CreateWindow(wid, screen.root, opts.x, opts.y, opts.width, opts.height, 0, 0, 1, 0, {
        backgroundPixel: 0x3366cc,
        overrideRedirect: 1,
        eventMask: x11.eventMask.ButtonPress ?? BUTTON_PRESS,
      });
      let clicks = 0;
      let timer: ReturnType<typeof setInterval> | undefined;
      c.on('event', (e) => {
        if (e.type === 4) clicks++;
      });
      c.on('error', () => undefined);
      const roundTrip = () => new Promise<void>((r) => c.sync(() => r()));
      const win: TestWindow = {
        async show() {
          c.MapWindow(wid);
          await roundTrip();
        },
        animate(intervalMs: number) {
          let shade = 0;
          timer = setInterval(() => {
            shade = (shade + 1) % 8;
            c.ChangeWindowAttributes(wid, { backgroundPixel: 0x202020 * (shade + 1) });
            c.ClearArea(wid, 0, 0, 0, 0, 0); // 0 x 0: the whole window, repainted with its background
          }, intervalMs);
        },
        get clicks() {
          return clicks;
        },
        close() {
          if (timer) clearInterval(timer);
          c.terminate();
        },
      };
      void (async () => {
        if (opts.mapped !== false) await win.show();
        else await roundTrip();
        resolve(win);
      })();
    });
    client.on('error', reject);
  });
}
