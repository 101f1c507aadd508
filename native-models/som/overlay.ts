/**
 * Drawing marks on a screenshot: each mark's box outlined and its number in a filled tag at
 * the box's top-left corner (above the box when there is room, else inside it), as one SVG
 * composited by sharp. Same size as the screenshot, so points the planner or grounder give
 * stay in screenshot pixels.
 *
 * Colours: saturated mid-luminance hues that stand out on white and on near-black UIs alike
 * (none is close to grey, white or black), cycling by mark number so neighbours differ; the
 * number is white with a dark outline, readable on every tag colour. Edges are crisp (no
 * anti-aliasing) so a box's outline is exactly its colour.
 */
import sharp from 'sharp';
import type { Mark } from '../../common/ports.ts';

export const MARK_COLOURS = ['#e6194b', '#1f78ff', '#12a150', '#f58231', '#a347ff', '#e0169f', '#00a0a0', '#c08000'] as const;

export function markColour(id: number): string {
  return MARK_COLOURS[(id - 1) % MARK_COLOURS.length]!;
}

/** The outline's width and the tag's font size for a screenshot of this size (4K screens get thicker marks). */
export function markStyle(width: number, height: number): { stroke: number; fontSize: number; tagHeight: number } {
  const short = Math.min(width, height);
  const stroke = short >= 1600 ? 3 : 2;
  const fontSize = Math.max(11, Math.round(short / 55));
  return { stroke, fontSize, tagHeight: fontSize + 4 };
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The SVG overlay of the marks on a width × height screenshot. */
export function marksSvg(marks: readonly Mark[], width: number, height: number): string {
  const { stroke, fontSize, tagHeight } = markStyle(width, height);
  const parts: string[] = [];
  for (const m of marks) {
    const colour = markColour(m.id);
    // Whole pixels, the outline inside the box: its outer edge is the box's edge.
    const x = Math.round(m.box.x);
    const y = Math.round(m.box.y);
    const w = Math.max(stroke * 2, Math.round(m.box.x + m.box.width) - x);
    const h = Math.max(stroke * 2, Math.round(m.box.y + m.box.height) - y);
    parts.push(
      `<rect x="${x + stroke / 2}" y="${y + stroke / 2}" width="${w - stroke}" height="${h - stroke}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
    );
  }
  // Tags after all outlines, so no outline crosses a number.
  for (const m of marks) {
    const colour = markColour(m.id);
    const label = escapeXml(String(m.id));
    const tagWidth = Math.round(label.length * fontSize * 0.62 + 6);
    const x = Math.min(Math.max(0, Math.round(m.box.x)), Math.max(0, width - tagWidth));
    const top = Math.round(m.box.y);
    const y = top >= tagHeight ? top - tagHeight : Math.min(top, Math.max(0, height - tagHeight));
    parts.push(
      `<rect x="${x}" y="${y}" width="${tagWidth}" height="${tagHeight}" fill="${colour}"/>`,
      `<text x="${x + tagWidth / 2}" y="${y + tagHeight / 2}" font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-weight="bold" font-size="${fontSize}" text-anchor="middle" dominant-baseline="central" fill="#ffffff" stroke="#000000" stroke-width="${Math.max(1, fontSize / 8)}" paint-order="stroke" shape-rendering="auto">${label}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" shape-rendering="crispEdges">${parts.join('')}</svg>`;
}

/** The screenshot (PNG) with its marks drawn, as PNG. */
export async function drawMarks(png: Uint8Array, marks: readonly Mark[], width: number, height: number): Promise<Uint8Array> {
  const svg = Buffer.from(marksSvg(marks, width, height));
  const out = await sharp(png)
    .composite([{ input: svg, top: 0, left: 0 }])
    .png({ compressionLevel: 6 })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
