/**
 * The pure parts of the PP-OCR pipeline, on inputs built here: DB box decoding on synthetic
 * probability maps, CTC greedy decoding and word splitting, batching crops by width, reading
 * order, and the ink columns that put back the spaces the recogniser drops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctcAlphabet, ctcGreedyDecode, ctcWords, maxClassProb } from '../../native-models/ocr/ctc.ts';
import { convexHull, decodeDbMap, minAreaRect, readingOrder, regionBounds, unclip } from '../../native-models/ocr/db.ts';
import { batchByWidth, inkColumns, longestBlankRun } from '../../native-models/ocr/image.ts';
import type { RawImage } from '../../common/ports.ts';

// ---------------------------------------------------------------- DB boxes

function blankMap(width: number, height: number) {
  return { width, height, data: new Float32Array(width * height) };
}

function fill(map: { width: number; data: Float32Array }, x0: number, y0: number, w: number, h: number, p: number) {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) map.data[y * map.width + x] = p;
}

test('DB decoding: each confident region becomes its unclipped box, in image pixels', () => {
  const map = blankMap(100, 60);
  fill(map, 10, 10, 40, 6, 0.9); // a word's shrunk core
  fill(map, 60, 40, 20, 4, 0.95); // another, lower
  fill(map, 10, 40, 30, 6, 0.45); // above the binary threshold, but too weak on average: noise
  fill(map, 90, 5, 2, 2, 0.99); // a speck
  const regions = decodeDbMap(map, 2, 2);
  assert.equal(regions.length, 2, 'the weak region and the speck are dropped');
  const [a, b] = [...regions].sort((p, q) => p.centre.y - q.centre.y);
  // 40×6 core: D = area × 1.5 / perimeter = 240 × 1.5 / 92
  const d = (40 * 6 * 1.5) / 92;
  assert.ok(Math.abs(a!.width - 2 * (40 + 2 * d)) < 1e-6, `width ${a!.width}`);
  assert.ok(Math.abs(a!.height - 2 * (6 + 2 * d)) < 1e-6, `height ${a!.height}`);
  assert.deepEqual(a!.centre, { x: 2 * 30, y: 2 * 13 }, 'centred on the core, scaled by 2');
  assert.equal(a!.angle, 0);
  assert.ok(Math.abs(a!.score - 0.9) < 1e-6);
  assert.ok(b!.centre.x > a!.centre.x);
  const bounds = regionBounds(a!, 200, 120);
  assert.ok(bounds.x >= 0 && bounds.y >= 0 && bounds.x + bounds.width <= 200);
  assert.ok(Math.abs(a!.corners[0].x - (60 - a!.width / 2)) < 1e-6, 'corners start at the top-left');
});

test('DB decoding: the thresholds and the minimum size are honoured', () => {
  const map = blankMap(50, 20);
  fill(map, 5, 5, 30, 5, 0.5);
  assert.equal(decodeDbMap(map, 1, 1).length, 0, 'mean 0.5 is under the box threshold 0.6');
  assert.equal(decodeDbMap(map, 1, 1, { boxThreshold: 0.5 }).length, 1);
  assert.equal(decodeDbMap(map, 1, 1, { binaryThreshold: 0.5, boxThreshold: 0.4 }).length, 0, 'nothing is above a binary threshold of 0.5');
  const thin = blankMap(50, 20);
  fill(thin, 5, 5, 30, 2, 0.9);
  assert.equal(decodeDbMap(thin, 1, 1).length, 0, 'a region 2 px thin is below minSize 3');
  assert.equal(decodeDbMap(thin, 1, 1, { minSize: 2 }).length, 1);
  assert.throws(() => decodeDbMap({ width: 10, height: 10, data: new Float32Array(5) }, 1, 1), RangeError);
});

test('DB decoding: a tilted line gets a rotated box along the text', () => {
  const map = blankMap(120, 120);
  const angle = Math.PI / 8;
  // A 60×6 bar turned by 22.5°, drawn by testing each pixel centre.
  for (let y = 0; y < 120; y++) {
    for (let x = 0; x < 120; x++) {
      const dx = x + 0.5 - 60;
      const dy = y + 0.5 - 60;
      const u = dx * Math.cos(angle) + dy * Math.sin(angle);
      const v = -dx * Math.sin(angle) + dy * Math.cos(angle);
      if (Math.abs(u) <= 30 && Math.abs(v) <= 3) map.data[y * 120 + x] = 0.9;
    }
  }
  const [r] = decodeDbMap(map, 1, 1, { unclipRatio: 0 });
  assert.ok(r);
  assert.ok(Math.abs(r.angle - angle) < 0.06, `angle ${r.angle}`);
  assert.ok(Math.abs(r.width - 60) < 3 && Math.abs(r.height - 6) < 3, `${r.width}×${r.height}`);
});

test('minimum-area rectangle and unclip', () => {
  const square = convexHull([
    { x: 0, y: 0 },
    { x: 4, y: 0 },
    { x: 4, y: 2 },
    { x: 0, y: 2 },
    { x: 2, y: 1 },
  ]);
  assert.equal(square.length, 4, 'the inner point is not on the hull');
  const r = minAreaRect(square);
  assert.deepEqual({ u: r.u, v: r.v, angle: r.angle }, { u: 4, v: 2, angle: 0 });
  assert.deepEqual(r.centre, { x: 2, y: 1 });
  const g = unclip(r, 1.5);
  // D = 8 × 1.5 / 12 = 1
  assert.deepEqual({ u: g.u, v: g.v }, { u: 6, v: 4 });
  // A diamond: its least-area box is turned by 45°.
  const diamond = minAreaRect(convexHull([{ x: 0, y: 5 }, { x: 5, y: 0 }, { x: 10, y: 5 }, { x: 5, y: 10 }]));
  assert.ok(Math.abs(diamond.u * diamond.v - 50) < 1e-9, 'area 50, not the 100 of the upright box');
});

// ---------------------------------------------------------------- reading order

test('reading order: rows top to bottom, left to right within a row, even when a box starts higher', () => {
  const box = (id: string, x: number, y: number, h = 14) => ({ id, centre: { x, y }, height: h });
  const items = [box('Cancel', 300, 102), box('Name', 40, 51), box('Save', 400, 99), box('Field', 200, 49), box('Title', 100, 10, 30)];
  assert.deepEqual(
    readingOrder(items).map((i) => i.id),
    ['Title', 'Name', 'Field', 'Cancel', 'Save'],
  );
  // A tall heading next to a line does not swallow the line below.
  const tall = [box('Heading', 50, 30, 40), box('Right', 300, 25), box('Below', 300, 45)];
  assert.deepEqual(readingOrder(tall).map((i) => i.id), ['Heading', 'Right', 'Below']);
});

// ---------------------------------------------------------------- CTC

/** A probability matrix for the class sequence given (one class per step, probability p). */
function steps(classesPerStep: number[], classes: number, p = 0.9): Float32Array {
  const out = new Float32Array(classesPerStep.length * classes);
  classesPerStep.forEach((c, t) => {
    for (let k = 0; k < classes; k++) out[t * classes + k] = (1 - p) / (classes - 1);
    out[t * classes + c] = p;
  });
  return out;
}

test('CTC: repeats merge, a blank between them keeps both, blanks and edge spaces vanish', () => {
  const alphabet = ctcAlphabet('a\nb\nl\n', 5); // blank, a, b, l, space
  assert.deepEqual(alphabet, ['', 'a', 'b', 'l', ' ']);
  const seq = [0, 4, 1, 1, 0, 3, 3, 0, 3, 4, 4, 2, 0, 4];
  const line = ctcGreedyDecode(steps(seq, 5), 0, seq.length, 5, alphabet);
  assert.equal(line.text, 'all b');
  assert.ok(Math.abs(line.score - 0.9) < 1e-6);
  assert.deepEqual(
    line.chars.map((c) => [c.text, c.step, c.endStep]),
    [
      ['a', 2, 3],
      ['l', 5, 6],
      ['l', 8, 8],
      [' ', 9, 10],
      ['b', 11, 11],
    ],
  );
  // Steps past the crop's width are padding: not read.
  assert.equal(ctcGreedyDecode(steps(seq, 5), 0, seq.length, 5, alphabet, 7).text, 'al');
  // The second sequence of a batch is read from its offset.
  const two = new Float32Array([...steps([1, 0], 5), ...steps([2, 0], 5)]);
  assert.equal(ctcGreedyDecode(two, 2 * 5, 2, 5, alphabet).text, 'b');
  assert.deepEqual(ctcGreedyDecode(steps([0, 0, 4], 5), 0, 3, 5, alphabet), { text: '', score: 0, chars: [] });
  assert.throws(() => ctcAlphabet('a\nb\n', 6), /2 characters, so 4 classes/);
});

test('CTC words: split at spaces, at wide gaps and where the image says so; extents reach halfway', () => {
  const alphabet = ctcAlphabet('S\na\nv\ne\nA\ns\n', 8);
  //           S  a  v  e  _  A  s  .  .  .  .  .  .  a  s
  const seq = [1, 2, 3, 4, 7, 5, 6, 0, 0, 0, 0, 0, 0, 2, 6];
  const line = ctcGreedyDecode(steps(seq, 8), 0, seq.length, 8, alphabet);
  assert.equal(line.text, 'Save Asas');
  const words = ctcWords(line, 16, 4);
  assert.deepEqual(words.map((w) => w.text), ['Save', 'As', 'as'], 'a gap of 6 steps parts "As" and "as"');
  assert.equal(words[0]!.start, 0, 'the first word starts at the line start');
  assert.equal(words[2]!.end, 16, 'the last word ends at the line end');
  // Between "Save" (last char at step 3, centre 3.5) and "As" (first at 5, centre 5.5).
  assert.equal(words[0]!.end, 4.5);
  assert.equal(words[1]!.start, 4.5);
  assert.deepEqual(ctcWords(line, 16, 100).map((w) => w.text), ['Save', 'Asas'], 'no split below the gap');
  const split = ctcWords(line, 16, 100, (a, b) => a.text === 'S' && b.text === 'a');
  assert.deepEqual(split.map((w) => w.text), ['S', 'ave', 'Asas']);
  const probs = steps(seq, 8);
  assert.ok(maxClassProb(probs, 0, 8, 7, 3, 5) > 0.8, 'the space class is likely at step 4');
  assert.ok(maxClassProb(probs, 0, 8, 7, 0, 2) < 0.1);
});

// ---------------------------------------------------------------- batching

test('batching by width: sorted, bounded in size and in padding, every crop once', () => {
  const widths = [100, 40, 44, 300, 42, 98, 41, 320, 43, 90];
  const batches = batchByWidth(widths, 3, 0.3);
  assert.deepEqual(batches.flat().sort((a, b) => a - b), widths.map((_, i) => i), 'every crop exactly once');
  for (const b of batches) {
    assert.ok(b.length <= 3);
    const ws = b.map((i) => widths[i]!);
    const widest = Math.max(...ws);
    const waste = 1 - ws.reduce((s, w) => s + w, 0) / (ws.length * widest);
    assert.ok(waste <= 0.3, `padding ${waste} in ${ws}`);
  }
  assert.deepEqual(
    batches.map((b) => b.map((i) => widths[i])),
    [[40, 41, 42], [43, 44], [90, 98, 100], [300, 320]],
  );
  assert.deepEqual(batchByWidth([], 4, 0.3), []);
  assert.deepEqual(batchByWidth([10, 1000], 8, 0.3), [[0], [1]], 'a short crop is not padded to a long one');
});

// ---------------------------------------------------------------- spaces from the image

function rawImage(width: number, height: number, ink: (x: number, y: number) => boolean): RawImage {
  const data = new Uint8Array(width * height * 4).fill(255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink(x, y)) data.fill(20, (y * width + x) * 4, (y * width + x) * 4 + 3);
    }
  }
  return { width, height, channels: 4, order: 'rgba', data };
}

test('ink columns: the blank run between two words, an underline ignored', () => {
  // Two "words" (x 2–11 and 18–29, rows 3–12) and an underline across both (row 14).
  const raw = rawImage(40, 20, (x, y) => (y >= 3 && y <= 12 && ((x >= 2 && x <= 11) || (x >= 18 && x <= 29))) || (y === 14 && x >= 1 && x <= 31));
  const region = {
    corners: [{ x: 0, y: 0 }, { x: 32, y: 0 }, { x: 32, y: 18 }, { x: 0, y: 18 }] as [{ x: number; y: number }, { x: number; y: number }, { x: number; y: number }, { x: number; y: number }],
    centre: { x: 16, y: 9 },
    width: 32,
    height: 18,
    angle: 0,
    score: 1,
  };
  const cols = inkColumns(raw, region);
  assert.ok(cols);
  assert.equal(longestBlankRun(cols, 5, 25), 6, 'columns 12–17 are blank despite the underline');
  assert.equal(longestBlankRun(cols, 3, 10), 0);
  assert.equal(inkColumns(raw, { ...region, angle: 0.3 }), undefined, 'a tilted region is not measured');
});
