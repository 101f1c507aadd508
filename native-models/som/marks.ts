/**
 * Marks from detections and OCR text: the detector's boxes and the text pieces OCR read become
 * one list of numbered marks. A text piece inside a detector box (or nearly the same box)
 * becomes that box's text, so an icon button with a label is one mark carrying the label;
 * text outside every box is a mark of its own. Numbers follow reading order: rows from the
 * top, left to right within a row.
 */
import type { Rect } from '../../common/coords.ts';
import type { Mark } from '../../common/ports.ts';
import type { TextBox, TextLine } from '../../main/grounders/text-match.ts';
import type { Detection } from './detector.ts';

export interface MarkOptions {
  /** A text piece this much inside a box (intersection / the text's area) belongs to it. */
  inside?: number;
  /** Or when text and box overlap by at least this IoU. */
  iou?: number;
  /** A box covering more than this share of the screenshot is a container, not an element: it takes no text. */
  maxContainerShare?: number;
  /** OCR words below this confidence (0..100) are left out: Tesseract reads icons as stray letters. */
  minWordConfidence?: number;
  /** Words further apart than this many line heights are separate pieces (the items of a menu bar). */
  wordGap?: number;
  /** A text-only mark's box is the text's grown by this many pixels, so its outline does not cover the letters. */
  textPadding?: number;
}

const DEFAULTS: Required<MarkOptions> = { inside: 0.7, iou: 0.5, maxContainerShare: 0.25, minWordConfidence: 40, wordGap: 0.8, textPadding: 3 };

function padded(r: Rect, by: number, size: { width: number; height: number }): Rect {
  const x0 = Math.max(0, r.x - by);
  const y0 = Math.max(0, r.y - by);
  const x1 = Math.min(size.width, r.x + r.width + by);
  const y1 = Math.min(size.height, r.y + r.height + by);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

function area(r: Rect): number {
  return Math.max(0, r.width) * Math.max(0, r.height);
}

function intersection(a: Rect, b: Rect): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return ix * iy;
}

export function rectIou(a: Rect, b: Rect): number {
  const inter = intersection(a, b);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

function union(rs: readonly Rect[]): Rect {
  const x0 = Math.min(...rs.map((r) => r.x));
  const y0 = Math.min(...rs.map((r) => r.y));
  const x1 = Math.max(...rs.map((r) => r.x + r.width));
  const y1 = Math.max(...rs.map((r) => r.y + r.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

interface TextPiece {
  text: string;
  box: Rect;
  /** 0..1 */
  confidence: number;
}

/**
 * OCR lines cut into pieces where the gap between two words is wider than `wordGap` line
 * heights: "File  Edit  Search" read as one line are three menu items, "Save As…" stays one.
 * Pieces in the same place (more than half of the smaller one covered) are one.
 */
export function textPieces(lines: readonly TextLine[], opts: MarkOptions = {}): TextPiece[] {
  const o = { ...DEFAULTS, ...opts };
  const pieces: TextPiece[] = [];
  for (const line of lines) {
    const words = (line.words.length ? line.words : [line]).filter((w) => w.confidence >= o.minWordConfidence && /[\p{L}\p{N}]/u.test(w.text));
    if (!words.length) continue;
    const sorted = [...words].sort((a, b) => a.bbox.x - b.bbox.x);
    let run: TextBox[] = [];
    const flush = () => {
      if (!run.length) return;
      pieces.push({
        text: run.map((w) => w.text).join(' '),
        box: union(run.map((w) => w.bbox)),
        confidence: run.reduce((s, w) => s + w.confidence, 0) / run.length / 100,
      });
      run = [];
    };
    for (const w of sorted) {
      const prev = run.at(-1);
      if (prev) {
        const gap = w.bbox.x - (prev.bbox.x + prev.bbox.width);
        const h = Math.max(prev.bbox.height, w.bbox.height);
        if (gap > o.wordGap * h) flush();
      }
      run.push(w);
    }
    flush();
  }
  // OCR's two passes may both read a label, in slightly different boxes: one piece per place,
  // the more confident reading.
  const kept: TextPiece[] = [];
  for (const p of [...pieces].sort((a, b) => b.confidence - a.confidence)) {
    if (!kept.some((k) => intersection(k.box, p.box) > 0.5 * Math.min(area(k.box), area(p.box)))) kept.push(p);
  }
  return kept;
}

interface Draft {
  box: Rect;
  texts: TextPiece[];
  detection?: Detection;
}

/** Sorts boxes into reading order: rows from the top (a box joins a row its vertical middle lies in), left to right. */
export function readingOrder<T extends { box: Rect }>(items: readonly T[]): T[] {
  const byTop = [...items].sort((a, b) => a.box.y - b.box.y || a.box.x - b.box.x);
  const rows: { top: number; bottom: number; items: T[] }[] = [];
  for (const it of byTop) {
    const mid = it.box.y + it.box.height / 2;
    const row = rows.find((r) => mid >= r.top && mid <= r.bottom);
    if (row) row.items.push(it);
    else rows.push({ top: it.box.y, bottom: it.box.y + it.box.height, items: [it] });
  }
  return rows.flatMap((r) => r.items.sort((a, b) => a.box.x - b.box.x || a.box.y - b.box.y));
}

/** Numbered marks of one screenshot from its detections and OCR lines. */
export function buildMarks(detections: readonly Detection[], lines: readonly TextLine[], size: { width: number; height: number }, opts: MarkOptions = {}): Mark[] {
  const o = { ...DEFAULTS, ...opts };
  const screen = size.width * size.height;
  const drafts: Draft[] = detections.map((d) => ({ box: d.box, texts: [], detection: d }));
  for (const piece of textPieces(lines, o)) {
    const textArea = area(piece.box);
    // The smallest element that holds the text: a label inside a button inside a toolbar box belongs to the button.
    let home: Draft | undefined;
    for (const d of drafts) {
      if (!d.detection) continue;
      const inter = intersection(piece.box, d.box);
      const holds = (textArea > 0 && inter / textArea >= o.inside && area(d.box) <= o.maxContainerShare * screen) || rectIou(piece.box, d.box) >= o.iou;
      if (holds && (!home || area(d.box) < area(home.box))) home = d;
    }
    if (home) home.texts.push(piece);
    else drafts.push({ box: padded(piece.box, o.textPadding, size), texts: [piece] });
  }
  return readingOrder(drafts).map((d, i): Mark => {
    const text = readingOrder(d.texts.map((t) => ({ ...t })))
      .map((t) => t.text)
      .join(' ');
    const det = d.detection;
    return {
      id: i + 1,
      box: d.box,
      ...(text ? { text } : {}),
      ...(det?.label !== undefined ? { label: det.label } : {}),
      source: det ? (text ? 'detector+text' : 'detector') : 'text',
      confidence: det ? det.score : Math.max(...d.texts.map((t) => t.confidence)),
    };
  });
}

/**
 * The marks a step instruction names, in order: "click mark 12", "mark #3", "Mark [7]",
 * "drag mark 2 to mark 5". Numbers only after the word mark, so "type 12 in the field" names none.
 */
export function markRefs(instruction: string): number[] {
  const refs: number[] = [];
  for (const m of instruction.matchAll(/\bmark\s*(?:#|no\.?\s*|number\s*)?\[?\s*(\d{1,5})\s*\]?/giu)) refs.push(Number(m[1]));
  return refs;
}

/** "1–23" or "1, 3–5": the mark numbers that exist, for an error message. */
export function markRange(marks: readonly Mark[]): string {
  const ids = marks.map((m) => m.id).sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(i === j ? String(ids[i]) : `${ids[i]}–${ids[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
