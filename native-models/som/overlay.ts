/**
 * Drawing marks on a screenshot: each mark's box outlined and its number in a filled tag at
 * the box's top-left corner (above the box when there is room, else inside it). Same size as
 * the screenshot, so points the planner or grounder give stay in screenshot pixels.
 *
 * Drawn straight into the decoded pixels rather than as an SVG overlay: librsvg rasterised a
 * full-screen SVG in ~200–440 ms for a 1920×1080 screenshot on our (loaded) build machine, the
 * planner's wait; the outlines and tags are rectangles, and the ten digits are rendered once per
 * font size (a small SVG each, DejaVu Sans Bold) and blended in.
 *
 * Colours: saturated mid-luminance hues that stand out on white and on near-black UIs alike
 * (none is close to grey, white or black), cycling by mark number so neighbours differ; the
 * number is white with a dark outline, readable on every tag colour. Outlines are exact pixels
 * of their colour (no anti-aliasing), lying just inside the box's edges.
 */
import sharp from 'sharp';
import type { Mark } from '../../common/ports.ts';

export const MARK_COLOURS = ['#e6194b', '#1f78ff', '#12a150', '#f58231', '#a347ff', '#e0169f', '#00a0a0', '#c08000'] as const;

export function markColour(id: number): string {
  return MARK_COLOURS[(id - 1) % MARK_COLOURS.length]!;
}

function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The outline's width and the tag's font size for a screenshot of this size (4K screens get thicker marks). */
export function markStyle(width: number, height: number): { stroke: number; fontSize: number; tagHeight: number; digitWidth: number } {
  const short = Math.min(width, height);
  const stroke = short >= 1600 ? 3 : 2;
  const fontSize = Math.max(11, Math.round(short / 55));
  // DejaVu Sans Bold's digits advance 0.696 em.
  return { stroke, fontSize, tagHeight: fontSize + 4, digitWidth: Math.ceil(fontSize * 0.7) };
}

/** Where a mark's number tag goes: on the box's top-left corner, above it when there is room. */
export function tagRect(m: Mark, width: number, height: number): { x: number; y: number; width: number; height: number } {
  const { tagHeight, digitWidth } = markStyle(width, height);
  const w = String(m.id).length * digitWidth + 6;
  const x = Math.min(Math.max(0, Math.round(m.box.x)), Math.max(0, width - w));
  const top = Math.round(m.box.y);
  const y = top >= tagHeight ? top - tagHeight : Math.max(0, Math.min(top, height - tagHeight));
  return { x, y, width: w, height: tagHeight };
}

interface Glyph {
  width: number;
  height: number;
  /** RGBA */
  data: Buffer;
}

const glyphCache = new Map<number, Promise<Glyph[]>>();

/** The digits 0–9 as white-on-transparent tiles with a dark outline, one per digit, at a font size. */
function digitGlyphs(fontSize: number): Promise<Glyph[]> {
  let g = glyphCache.get(fontSize);
  if (!g) {
    const { tagHeight, digitWidth } = markStyle(fontSize * 55, fontSize * 55);
    g = Promise.all(
      Array.from({ length: 10 }, async (_, d) => {
        const svg =
          `<svg xmlns="http://www.w3.org/2000/svg" width="${digitWidth}" height="${tagHeight}">` +
          `<text x="${digitWidth / 2}" y="${tagHeight / 2}" font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-weight="bold" font-size="${fontSize}" ` +
          `text-anchor="middle" dominant-baseline="central" fill="#ffffff" stroke="#000000" stroke-width="${Math.max(1, fontSize / 8)}" paint-order="stroke">${d}</text></svg>`;
        const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
        return { width: info.width, height: info.height, data };
      }),
    );
    glyphCache.set(fontSize, g);
    g.catch(() => glyphCache.delete(fontSize));
  }
  return g;
}

/** The screenshot (PNG) with its marks drawn, as PNG. */
export async function drawMarks(png: Uint8Array, marks: readonly Mark[], width: number, height: number): Promise<Uint8Array> {
  const style = markStyle(width, height);
  const [decoded, glyphs] = await Promise.all([sharp(png).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }), digitGlyphs(style.fontSize)]);
  const { data, info } = decoded;
  if (info.width !== width || info.height !== height) throw new Error(`the screenshot is ${info.width}x${info.height}, its geometry says ${width}x${height}`);
  const fill = (x0: number, y0: number, x1: number, y1: number, [r, g, b]: [number, number, number]) => {
    const xa = Math.max(0, x0);
    const xb = Math.min(width, x1);
    for (let y = Math.max(0, y0); y < Math.min(height, y1); y++) {
      for (let x = xa; x < xb; x++) {
        const i = (y * width + x) * 3;
        data[i] = r;
        data[i + 1] = g;
        data[i + 2] = b;
      }
    }
  };
  // Outlines first, tags after, so no outline crosses a number.
  for (const m of marks) {
    const c = rgbOf(markColour(m.id));
    const s = style.stroke;
    const x0 = Math.round(m.box.x);
    const y0 = Math.round(m.box.y);
    const x1 = Math.max(x0 + 2 * s, Math.round(m.box.x + m.box.width));
    const y1 = Math.max(y0 + 2 * s, Math.round(m.box.y + m.box.height));
    fill(x0, y0, x1, y0 + s, c);
    fill(x0, y1 - s, x1, y1, c);
    fill(x0, y0, x0 + s, y1, c);
    fill(x1 - s, y0, x1, y1, c);
  }
  for (const m of marks) {
    const c = rgbOf(markColour(m.id));
    const tag = tagRect(m, width, height);
    fill(tag.x, tag.y, tag.x + tag.width, tag.y + tag.height, c);
    let gx = tag.x + 3;
    for (const ch of String(m.id)) {
      const glyph = glyphs[Number(ch)]!;
      for (let y = 0; y < glyph.height; y++) {
        const py = tag.y + y;
        if (py < 0 || py >= height) continue;
        for (let x = 0; x < glyph.width; x++) {
          const px = gx + x;
          if (px < 0 || px >= width) continue;
          const gi = (y * glyph.width + x) * 4;
          const a = glyph.data[gi + 3]! / 255;
          if (a === 0) continue;
          const i = (py * width + px) * 3;
          for (let k = 0; k < 3; k++) data[i + k] = Math.round(a * glyph.data[gi + k]! + (1 - a) * data[i + k]!);
        }
      }
      gx += glyph.width;
    }
  }
  // The observer's PNG settings (main/desktop/observe.ts): fast, and screenshots still compress well.
  const out = await sharp(data, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 2, adaptiveFiltering: false })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
