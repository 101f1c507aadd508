/**
 * A window of labelled buttons at a known place on an X display, which records where it was
 * clicked: a test knows each button's box in screen pixels (to build a detector whose boxes lie
 * over them) and reads back which button a click landed on. The picture is drawn with sharp
 * (an SVG with DejaVu Sans labels, readable by OCR) and put into an override-redirect window
 * (no window-manager frame, so it stays exactly where it was put) with PutImage.
 */
import { createRequire } from 'node:module';
import sharp from 'sharp';

interface XEvent {
  name?: string;
  type: number;
  x?: number;
  y?: number;
  keycode?: number;
}
interface XClient {
  AllocID(): number;
  CreateWindow(wid: number, parent: number, x: number, y: number, w: number, h: number, border: number, depth: number, cls: number, visual: number, attrs: Record<string, number>): void;
  CreateGC(gc: number, drawable: number, values: Record<string, number>): void;
  PutImage(format: number, drawable: number, gc: number, width: number, height: number, dstX: number, dstY: number, leftPad: number, depth: number, data: Buffer): void;
  MapWindow(wid: number): void;
  RaiseWindow(wid: number): void;
  on(ev: 'event', cb: (e: XEvent) => void): void;
  on(ev: 'error', cb: (e: Error) => void): void;
  sync(cb: (err: Error | null) => void): void;
  terminate(): void;
}
interface X11Module {
  createClient(o: { display: string }, cb: (err: Error | null, d: { client: XClient; screen: Array<{ root: number; root_depth: number; white_pixel: number }> }) => void): XClient;
  eventMask: Record<string, number>;
}

export interface BoardButton {
  name: string;
  /** In the window's pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface BoardSpec {
  /** Where the window is on the screen, and its size. */
  x: number;
  y: number;
  width: number;
  height: number;
  buttons: BoardButton[];
  /** Text drawn outside the buttons, in the window's pixels (its baseline's left end). */
  captions?: Array<{ text: string; x: number; y: number }>;
}

export interface ButtonBoard {
  /** A button's box in screen pixels. */
  screenBox(name: string): { x1: number; y1: number; x2: number; y2: number };
  /** Left-button presses so far, in screen pixels, with the button each landed on (or undefined). */
  presses(): Array<{ x: number; y: number; button: string | undefined }>;
  close(): void;
}

async function picture(spec: BoardSpec): Promise<Buffer> {
  const parts = [`<rect x="0" y="0" width="${spec.width}" height="${spec.height}" fill="#f2f2f2"/>`];
  for (const b of spec.buttons) {
    parts.push(
      `<rect x="${b.x + 0.5}" y="${b.y + 0.5}" width="${b.width - 1}" height="${b.height - 1}" rx="4" fill="#dfe3e8" stroke="#7a828c"/>`,
      `<text x="${b.x + b.width / 2}" y="${b.y + b.height / 2 + 8}" font-family="DejaVu Sans" font-size="22" text-anchor="middle" fill="#1a1a1a">${b.name}</text>`,
    );
  }
  for (const c of spec.captions ?? []) parts.push(`<text x="${c.x}" y="${c.y}" font-family="DejaVu Sans" font-size="20" fill="#1a1a1a">${c.text}</text>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${spec.width}" height="${spec.height}">${parts.join('')}</svg>`;
  const { data } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  // ZPixmap at depth 24: 32 bits per pixel, blue green red unused (little-endian).
  const out = Buffer.alloc(spec.width * spec.height * 4);
  for (let i = 0, n = spec.width * spec.height; i < n; i++) {
    out[4 * i] = data[3 * i + 2]!;
    out[4 * i + 1] = data[3 * i + 1]!;
    out[4 * i + 2] = data[3 * i]!;
  }
  return out;
}

/** Opens the board on `display` once it is shown and drawn. */
export async function openButtonBoard(display: string, spec: BoardSpec): Promise<ButtonBoard> {
  const pixels = await picture(spec);
  const x11 = createRequire(import.meta.url)('x11') as X11Module;
  return new Promise((resolve, reject) => {
    const client = x11.createClient({ display }, (err, d) => {
      if (err) return reject(err);
      const c = d.client;
      const screen = d.screen[0]!;
      const wid = c.AllocID();
      c.CreateWindow(wid, screen.root, spec.x, spec.y, spec.width, spec.height, 0, 0, 0, 0, {
        backgroundPixel: screen.white_pixel,
        overrideRedirect: 1,
        eventMask: (x11.eventMask.ButtonPress ?? 0) | (x11.eventMask.Exposure ?? 0) | (x11.eventMask.StructureNotify ?? 0),
      });
      const gc = c.AllocID();
      c.CreateGC(gc, wid, {});
      const rowBytes = spec.width * 4;
      // Strips small enough for a request without BIG-REQUESTS (256 KiB).
      const rowsPerStrip = Math.max(1, Math.floor(200_000 / rowBytes));
      const draw = () => {
        for (let y = 0; y < spec.height; y += rowsPerStrip) {
          const h = Math.min(rowsPerStrip, spec.height - y);
          c.PutImage(2, wid, gc, spec.width, h, 0, y, 0, screen.root_depth, pixels.subarray(y * rowBytes, (y + h) * rowBytes));
        }
      };
      const presses: Array<{ x: number; y: number }> = [];
      c.on('event', (e) => {
        if (e.name === 'Expose') draw();
        // keycode is the button's number: 1 the left one
        if (e.name === 'ButtonPress' && e.keycode === 1 && e.x !== undefined && e.y !== undefined) presses.push({ x: spec.x + e.x, y: spec.y + e.y });
      });
      c.on('error', () => undefined);
      c.MapWindow(wid);
      c.RaiseWindow(wid);
      draw();
      c.sync((e2) => {
        if (e2) return reject(e2);
        const box = (name: string) => {
          const b = spec.buttons.find((x) => x.name === name);
          if (!b) throw new Error(`No button ${name} on the board`);
          return { x1: spec.x + b.x, y1: spec.y + b.y, x2: spec.x + b.x + b.width, y2: spec.y + b.y + b.height };
        };
        resolve({
          screenBox: box,
          presses: () =>
            presses.map((p) => ({
              ...p,
              button: spec.buttons.find((b) => {
                const r = box(b.name);
                return p.x >= r.x1 && p.x < r.x2 && p.y >= r.y1 && p.y < r.y2;
              })?.name,
            })),
          close: () => c.terminate(),
        });
      });
    });
    client.on('error', reject);
  });
}
