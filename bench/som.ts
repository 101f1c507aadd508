/**
 * `npm run bench:som` — what Set-of-Marks adds before the planner may start, without OCR (its
 * own figures are the OCR grounder's): letterboxing a screenshot into the detector's input, the
 * graph's postprocessing (decode, NMS, mapping back) on N candidate boxes, building the marks,
 * and drawing them (SVG composite + PNG encode). The detector is a generated graph whose output
 * is a constant of N boxes (test/fixtures/som), so inference itself costs nothing here; a real
 * YOLO's forward pass comes on top (onnxruntime, CPU or GPU).
 *
 * Usage: npm run bench:som [-- --width 1920 --height 1080 --boxes 8400 --kept 120 --runs 10]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { ElementDetector } from '../native-models/som/detector.ts';
import { buildMarks } from '../native-models/som/marks.ts';
import { drawMarks } from '../native-models/som/overlay.ts';
import { makeDetector, rowsFor, type ScreenBox } from '../test/fixtures/som/detector.ts';

const { values } = parseArgs({
  options: {
    width: { type: 'string', default: '1920' },
    height: { type: 'string', default: '1080' },
    boxes: { type: 'string', default: '8400' },
    kept: { type: 'string', default: '120' },
    runs: { type: 'string', default: '10' },
    size: { type: 'string', default: '640' },
  },
});
const W = Number(values.width);
const H = Number(values.height);
const N = Number(values.boxes);
const KEPT = Number(values.kept);
const RUNS = Number(values.runs);
const S = Number(values.size);

// KEPT elements on a grid, each also found 3 more times slightly shifted (NMS work), the rest below the threshold.
const cols = Math.ceil(Math.sqrt((KEPT * W) / H));
const cell = { w: W / cols, h: H / Math.ceil(KEPT / cols) };
const boxes: ScreenBox[] = [];
for (let i = 0; i < N; i++) {
  const k = i % KEPT;
  const x = (k % cols) * cell.w + 4;
  const y = Math.floor(k / cols) * cell.h + 4;
  const d = Math.floor(i / KEPT) % 4;
  const score = i < KEPT * 4 ? 0.9 - d * 0.1 : 0.01;
  boxes.push({ x1: x + d, y1: y + d, x2: x + cell.w * 0.7 + d, y2: y + cell.h * 0.6 + d, scores: [score] });
}

const dir = mkdtempSync(join(tmpdir(), 'foresight-bench-som-'));
try {
  makeDetector(dir, { size: S, rows: rowsFor(boxes, { width: W, height: H }, S), classes: ['icon'] });
  const det = await ElementDetector.open(dir);
  // a screenshot as a desktop looks: flat panels, buttons with labels, lines of text
  const widgets = boxes.slice(0, KEPT).map(
    (b, i) =>
      `<rect x="${b.x1}" y="${b.y1}" width="${b.x2 - b.x1}" height="${b.y2 - b.y1}" rx="3" fill="${i % 2 ? '#dde1e6' : '#2b2f36'}"/>` +
      `<text x="${b.x1 + 6}" y="${b.y1 + 18}" font-family="DejaVu Sans" font-size="13" fill="${i % 2 ? '#111' : '#eee'}">Item ${i + 1}</text>`,
  );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="${W}" height="${H}" fill="#f4f4f4"/>${widgets.join('')}</svg>`;
  const png = new Uint8Array(await sharp(Buffer.from(svg)).png({ compressionLevel: 2, adaptiveFiltering: false }).toBuffer());
  const rows: Array<Record<string, number>> = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const res = await det.detect(png, W, H);
    const t1 = performance.now();
    const marks = buildMarks(res.detections, [], { width: W, height: H });
    const t2 = performance.now();
    await drawMarks(png, marks, W, H);
    const t3 = performance.now();
    rows.push({ ...res.timings, marks: marks.length, buildMs: t2 - t1, drawMs: t3 - t2, totalMs: t3 - t0, candidates: res.candidates });
  }
  await det.close();
  const median = (k: string) => {
    const v = rows.map((x) => x[k]!).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)]!;
  };
  console.log(`Set-of-Marks on a ${W}×${H} screenshot, detector input ${S}×${S}, ${N} boxes out of the graph (${median('candidates')} above the threshold), ${median('marks')} marks; median of ${RUNS} runs:`);
  console.log(`  letterbox (PNG decode, scale, pad, to float32 planes)  ${median('preprocessMs').toFixed(1)} ms`);
  console.log(`  graph (a constant here; a real YOLO's forward pass comes on top)  ${median('inferenceMs').toFixed(1)} ms`);
  console.log(`  decode + NMS + back to screenshot pixels               ${median('postprocessMs').toFixed(1)} ms`);
  console.log(`  marks (merge, reading order)                           ${median('buildMs').toFixed(1)} ms`);
  console.log(`  drawing (decode, outlines and tags, PNG encode)        ${median('drawMs').toFixed(1)} ms`);
  console.log(`  total                                                  ${median('totalMs').toFixed(1)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
