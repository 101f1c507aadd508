/**
 * Set-of-Marks (native-models/som): letterboxing, the decoding of YOLO outputs and NMS, the
 * mapping of boxes back to screenshot pixels (landscape and portrait screenshots, exact and
 * rounded scales), checked on numbers worked out by hand; a generated detector (a real ONNX
 * graph on onnxruntime whose output is a known constant) read end to end; OCR text merged into
 * marks; the marks drawn where the boxes are (the annotated PNG's pixels); the grounder
 * resolving "mark N" and quoted labels; the OpenAI planner sending the marked screenshot and
 * the list of marks; and the refusals of a bad detector directory.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Action } from '../../common/actions.ts';
import type { Rect } from '../../common/coords.ts';
import { isForesightError, type ErrorCode } from '../../common/errors.ts';
import type { Observation } from '../../common/ports.ts';
import type { TextLine } from '../../main/grounders/text-match.ts';
import { OpenAIPlanner } from '../../main/planners/openai-planner.ts';
import { createGrounderBackend } from '../../native-models/backends.ts';
import { decodeCandidates, nonMaxSuppression, type Candidate } from '../../native-models/som/boxes.ts';
import { checkElementDetector, ElementDetector } from '../../native-models/som/detector.ts';
import { parseSomSpec, SomGrounder, type TextReader } from '../../native-models/som/grounder.ts';
import { letterboxGeometry, letterboxTensor, toScreenshot } from '../../native-models/som/letterbox.ts';
import { buildMarks, markRefs } from '../../native-models/som/marks.ts';
import { markColour } from '../../native-models/som/overlay.ts';
import { makeDetector, makeDetectors, rowsFor, type ScreenBox } from '../fixtures/som/detector.ts';
import { startFakeOpenAI, userParts } from '../harness/fake-openai.ts';
import { sha256 } from './fixtures/store-fixtures.ts';

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'foresight-som-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

let dirs = 0;
const freshDir = () => join(tmp, `det-${++dirs}`);
const signal = new AbortController().signal;

async function solidPng(width: number, height: number, rgb: [number, number, number]): Promise<Uint8Array> {
  const buf = await sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
  return new Uint8Array(buf);
}

function observationOf(png: Uint8Array, width: number, height: number): Observation {
  return {
    frameId: sha256(png),
    png,
    geometry: { display: { id: 'primary', bounds: { x: 0, y: 0, width, height }, scaleFactor: 1, primary: true }, imageWidth: width, imageHeight: height },
    raw: { width, height, channels: 4, order: 'bgra', data: new Uint8Array(0) },
    capturedAt: 0,
  };
}

const click = (step_instruction: string): Action => ({ action_type: 'click', step_instruction });

function near(actual: number, expected: number, what: string, tol = 1e-3): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not ${expected}`);
}

function sameRect(actual: Rect, expected: { x1: number; y1: number; x2: number; y2: number }, what: string, tol = 1e-3): void {
  near(actual.x, expected.x1, `${what} x`, tol);
  near(actual.y, expected.y1, `${what} y`, tol);
  near(actual.x + actual.width, expected.x2, `${what} right`, tol);
  near(actual.y + actual.height, expected.y2, `${what} bottom`, tol);
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (e: unknown) => {
      assert.ok(isForesightError(e, code), `expected ${code}, got ${String(e)}`);
      assert.match(e.message, message);
      return true;
    },
  );
}

void describe('letterbox', () => {
  test('a landscape screenshot is scaled to the square\'s width and centred with grey bands above and below', () => {
    assert.deepEqual(letterboxGeometry(400, 250, 320), { size: 320, width: 400, height: 250, scaledWidth: 320, scaledHeight: 200, padX: 0, padY: 60 });
    assert.deepEqual(letterboxGeometry(1280, 800, 640), { size: 640, width: 1280, height: 800, scaledWidth: 640, scaledHeight: 400, padX: 0, padY: 120 });
  });

  test('a portrait screenshot is scaled to the square\'s height with bands left and right', () => {
    assert.deepEqual(letterboxGeometry(250, 400, 320), { size: 320, width: 250, height: 400, scaledWidth: 200, scaledHeight: 320, padX: 60, padY: 0 });
  });

  test('a scale that does not divide evenly rounds the scaled side; an odd band puts the extra pixel at the bottom', () => {
    // 320/333 = 0.96096…; 200 × that = 192.19 → 192; (320 − 192) / 2 = 64
    assert.deepEqual(letterboxGeometry(333, 200, 320), { size: 320, width: 333, height: 200, scaledWidth: 320, scaledHeight: 192, padX: 0, padY: 64 });
    // 640/1366 × 768 = 359.8 → 360; (640 − 360) / 2 = 140
    assert.deepEqual(letterboxGeometry(1366, 768, 640).padY, 140);
    // 320/500 × 301 = 192.64 → 193; (320 − 193) / 2 = 63.5 → 63 on top, 64 below
    assert.deepEqual(letterboxGeometry(500, 301, 320).padY, 63);
    // a half rounds to even, as Python's round() in Ultralytics' LetterBox: 385 × 0.5 = 192.5 → 192, and 387 × 0.5 → 194
    assert.deepEqual([letterboxGeometry(640, 385, 320).scaledHeight, letterboxGeometry(640, 387, 320).scaledHeight], [192, 194]);
  });

  test('boxes come back to screenshot pixels: padding removed, divided by the scale, clamped to the image', () => {
    const land = letterboxGeometry(400, 250, 320); // scale 0.8, 60 px band on top
    sameRect(toScreenshot(land, { x1: 40, y1: 100, x2: 120, y2: 140 })!, { x1: 50, y1: 50, x2: 150, y2: 100 }, 'landscape');
    const port = letterboxGeometry(250, 400, 320); // scale 0.8, 60 px band on the left
    sameRect(toScreenshot(port, { x1: 100, y1: 40, x2: 140, y2: 120 })!, { x1: 50, y1: 50, x2: 100, y2: 150 }, 'portrait');
    // half in the top band: clamped at the image's top edge
    sameRect(toScreenshot(land, { x1: 0, y1: 30, x2: 40, y2: 80 })!, { x1: 0, y1: 0, x2: 50, y2: 25 }, 'clamped');
    // past the right edge of a portrait image (it ends at 260 in the square)
    sameRect(toScreenshot(port, { x1: 240, y1: 0, x2: 300, y2: 8 })!, { x1: 225, y1: 0, x2: 250, y2: 10 }, 'clamped right');
    assert.equal(toScreenshot(land, { x1: 10, y1: 0, x2: 50, y2: 50 }), undefined, 'a box wholly in the band is no box');
    // a rounded scale: each axis by its own factor (320/333 across, 192/200 down)
    sameRect(toScreenshot(letterboxGeometry(333, 200, 320), { x1: 32, y1: 64 + 48, x2: 64, y2: 64 + 96 })!, { x1: 33.3, y1: 50, x2: 66.6, y2: 100 }, 'rounded');
  });

  test('the tensor holds the scaled image in RGB planes 0..1 and grey 114 in the bands', async () => {
    // left half red, right half blue
    const half = (w: number, h: number) =>
      sharp({ create: { width: w, height: h, channels: 3, background: { r: 0, g: 0, b: 255 } } })
        .composite([{ input: { create: { width: w / 2, height: h, channels: 3, background: { r: 255, g: 0, b: 0 } } }, left: 0, top: 0 }])
        .png()
        .toBuffer();
    const S = 320;
    const at = (t: Float32Array, x: number, y: number) => [t[y * S + x]!, t[S * S + y * S + x]!, t[2 * S * S + y * S + x]!].map((v) => Math.round(v * 255));
    const land = await letterboxTensor(new Uint8Array(await half(400, 250)), letterboxGeometry(400, 250, S));
    assert.equal(land.length, 3 * S * S);
    assert.deepEqual(at(land, 160, 30), [114, 114, 114], 'top band');
    assert.deepEqual(at(land, 160, 290), [114, 114, 114], 'bottom band');
    assert.deepEqual(at(land, 40, 160), [255, 0, 0], 'left half, red');
    assert.deepEqual(at(land, 280, 160), [0, 0, 255], 'right half, blue');
    assert.deepEqual(at(land, 40, 61), [255, 0, 0], 'the image starts right below the band');
    const port = await letterboxTensor(new Uint8Array(await half(250, 400)), letterboxGeometry(250, 400, S));
    assert.deepEqual(at(port, 30, 160), [114, 114, 114], 'left band');
    assert.deepEqual(at(port, 290, 160), [114, 114, 114], 'right band');
    assert.deepEqual(at(port, 100, 160), [255, 0, 0]);
    assert.deepEqual(at(port, 220, 160), [0, 0, 255]);
  });
});

void describe('decoding and non-maximum suppression', () => {
  // cx, cy, w, h, then two class scores
  const rows = [
    [100, 100, 40, 20, 0.9, 0.1], // A
    [102, 101, 40, 20, 0.2, 0.8], // B: IoU with A ≈ 0.83, another class → suppressed (class-agnostic)
    [130, 100, 40, 20, 0.7, 0.0], // C: IoU with A = 10×20 / (2×800 − 200) = 0.14 → kept
    [300, 300, 10, 10, 0.1, 0.2], // D: below the confidence threshold
    [200, 50, 30, 30, 0.0, 0.6], // E: alone
  ];
  const yolov8 = (rs: number[][]) => Float32Array.from(rs[0]!.flatMap((_, v) => rs.map((r) => r[v]!)));

  test('the three layouts give the same candidates; the confidence filter drops the weak ones', () => {
    const a = decodeCandidates(yolov8(rows), 'yolov8', 5, 2, 0.25);
    const b = decodeCandidates(Float32Array.from(rows.flat()), 'yolov8-transposed', 5, 2, 0.25);
    // yolov5: objectness 1 and the same class scores, and one row whose objectness halves its score below the threshold
    const c = decodeCandidates(Float32Array.from([...rows.map((r) => [...r.slice(0, 4), 1, ...r.slice(4)]), [10, 10, 4, 4, 0.4, 0.45, 0]].flat()), 'yolov5', 6, 2, 0.25);
    assert.equal(a.length, 4);
    assert.deepEqual(b, a);
    assert.deepEqual(c, a);
    const first = a[0]!;
    assert.deepEqual([first.x1, first.y1, first.x2, first.y2, first.cls], [80, 90, 120, 110, 0]);
    near(first.score, 0.9, 'score');
    assert.equal(a[1]!.cls, 1, 'B\'s best class');
  });

  test('NMS keeps the best of overlapping boxes whatever their class, and boxes that overlap little', () => {
    const cands = decodeCandidates(yolov8(rows), 'yolov8', 5, 2, 0.25);
    const kept = nonMaxSuppression(cands, 0.45);
    assert.deepEqual(
      kept.map((k) => [k.x1 + k.x2, k.y1 + k.y2].map((v) => v / 2)),
      [
        [100, 100],
        [130, 100],
        [200, 50],
      ],
      'A, C, E by score; B went with A',
    );
    // a looser threshold keeps B, a stricter one drops C
    assert.equal(nonMaxSuppression(cands, 0.9).length, 4);
    assert.equal(nonMaxSuppression(cands, 0.1).length, 2);
  });

  test('equal scores keep the output order', () => {
    const twins: Candidate[] = [
      { x1: 0, y1: 0, x2: 10, y2: 10, score: 0.5, cls: 0 },
      { x1: 1, y1: 0, x2: 11, y2: 10, score: 0.5, cls: 0 },
    ];
    assert.equal(nonMaxSuppression(twins, 0.5)[0], twins[0]);
    assert.equal(nonMaxSuppression([...twins].reverse(), 0.5)[0], twins[1]);
  });
});

void describe('a generated detector on onnxruntime', () => {
  const targets = (w: number, h: number): ScreenBox[] => [
    { x1: 0.1 * w, y1: 0.1 * h, x2: 0.3 * w, y2: 0.2 * h, scores: [0.9] },
    { x1: 0.1 * w + 2, y1: 0.1 * h + 1, x2: 0.3 * w + 2, y2: 0.2 * h + 1, scores: [0.6] }, // a duplicate of the first
    { x1: 0.5 * w, y1: 0.6 * h, x2: 0.9 * w, y2: 0.7 * h, scores: [0.8] },
    { x1: 0.52 * w, y1: 0.6 * h, x2: 0.92 * w, y2: 0.7 * h, scores: [0.75] }, // a duplicate of the third
    { x1: 0.4 * w, y1: 0.3 * h, x2: 0.45 * w, y2: 0.35 * h, scores: [0.1] }, // too weak
    { x1: 0.8 * w, y1: 0.05 * h, x2: 0.95 * w, y2: 0.12 * h, scores: [0.3] },
  ];
  const expected = (w: number, h: number) => [targets(w, h)[0]!, targets(w, h)[2]!, targets(w, h)[5]!];

  const S = 640;
  const cases = [
    [1280, 800, 'yolov8'],
    [600, 900, 'yolov8'],
    [1366, 768, 'yolov8-transposed'],
    [720, 1280, 'yolov5'],
  ] as const;
  let dirsOf: string[] = [];
  before(() => {
    dirsOf = makeDetectors(cases.map(([w, h, layout]) => [freshDir(), { size: S, layout, rows: rowsFor(targets(w, h), { width: w, height: h }, S, layout), classes: ['icon'] }] as const));
  });
  for (const [i, [w, h, layout]] of cases.entries()) {
    test(`${w}×${h} (${layout}): NMS drops the duplicates, the weak box is filtered, the rest land on their screenshot boxes`, async () => {
      const det = await ElementDetector.open(dirsOf[i]!);
      try {
        const png = await solidPng(w, h, [240, 240, 240]);
        const res = await det.detect(png, w, h);
        assert.equal(res.candidates, 5, 'five boxes pass the confidence threshold');
        assert.equal(res.detections.length, 3);
        const want = expected(w, h);
        res.detections.forEach((d, i) => sameRect(d.box, want[i]!, `detection ${i + 1}`, 0.01));
        assert.deepEqual(
          res.detections.map((d) => d.label),
          ['icon', 'icon', 'icon'],
        );
      } finally {
        await det.close();
      }
    });
  }
});

void describe('marks: detector boxes and OCR text', () => {
  const det = (x1: number, y1: number, x2: number, y2: number, score = 0.8) => ({ box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 }, score, cls: 0, label: 'icon' });
  const word = (text: string, x1: number, y1: number, x2: number, y2: number, confidence = 90) => ({ text, bbox: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 }, confidence });
  const line = (...words: ReturnType<typeof word>[]): TextLine => ({
    text: words.map((w) => w.text).join(' '),
    bbox: { x: words[0]!.bbox.x, y: words[0]!.bbox.y, width: words.at(-1)!.bbox.x + words.at(-1)!.bbox.width - words[0]!.bbox.x, height: words[0]!.bbox.height },
    confidence: 90,
    words,
  });

  test('a label inside a button is the button\'s text; text outside every box is a mark of its own; numbers in reading order', () => {
    const marks = buildMarks(
      [det(300, 100, 400, 140), det(20, 100, 120, 140), det(600, 20, 620, 40)],
      [
        line(word('Save', 330, 110, 370, 130)), // inside the first box
        line(word('Cancel', 40, 110, 100, 130)), // inside the second
        line(word('Name:', 20, 60, 70, 75)), // outside every box
        line(word('Save', 300, 300, 340, 315), word('As…', 345, 300, 380, 315)), // one piece, outside
      ],
      { width: 800, height: 600 },
    );
    assert.deepEqual(
      marks.map((m) => [m.id, m.text, m.source]),
      [
        [1, undefined, 'detector'], // the icon at the top right, y 20
        [2, 'Name:', 'text'],
        [3, 'Cancel', 'detector+text'],
        [4, 'Save', 'detector+text'],
        [5, 'Save As…', 'text'],
      ],
    );
    assert.deepEqual(marks[3]!.box, { x: 300, y: 100, width: 100, height: 40 }, 'the merged mark is the button\'s box');
    assert.deepEqual(marks[1]!.box, { x: 17, y: 57, width: 56, height: 21 }, 'a text mark is its text grown by 3 px, so the outline leaves the letters free');
  });

  test('near-identical boxes merge; a menu bar read as one line is one mark per item; a label read twice is one; a huge box takes no text; noise is left out', () => {
    const marks = buildMarks(
      [det(10, 10, 50, 30), det(0, 0, 800, 600, 0.5)],
      [
        line(word('File', 12, 12, 48, 28)), // IoU with the first box ≈ 0.72
        line(word('Edit', 80, 12, 110, 28), word('Search', 135, 12, 190, 28), word('View', 215, 12, 250, 28)),
        line(word('|', 400, 400, 403, 420, 95), word('~~', 500, 400, 520, 420, 20)),
        line(word('Edit', 81, 13, 111, 29, 80)), // the other OCR pass's reading of Edit
      ],
      { width: 800, height: 600 },
    );
    assert.deepEqual(
      marks.map((m) => m.text ?? m.source),
      ['detector', 'File', 'Edit', 'Search', 'View'],
      'the screen-sized box (a container) first, without text; the words apart',
    );
  });

  test('"mark 12" and its spellings are read from an instruction; other numbers are not marks', () => {
    assert.deepEqual(markRefs('click mark 12'), [12]);
    assert.deepEqual(markRefs('Click Mark #3 to open it'), [3]);
    assert.deepEqual(markRefs('drag mark [2] to mark 17'), [2, 17]);
    assert.deepEqual(markRefs('type 12 in the field at 40, 50'), []);
    assert.deepEqual(markRefs('click the bookmark 4'), [], 'a word ending in mark is not mark');
  });
});

/** A text reader that "reads" given lines on every frame (OCR's part, without Tesseract). */
class GivenText implements TextReader {
  reads = 0;
  constructor(private readonly lines: TextLine[]) {}
  read(): Promise<readonly TextLine[]> {
    this.reads++;
    return Promise.resolve(this.lines);
  }
}

void describe('the Set-of-Marks grounder', () => {
  const W = 800;
  const H = 500;
  const S = 320;
  const boxes: ScreenBox[] = [
    { x1: 40, y1: 60, x2: 200, y2: 110, scores: [0.9] }, // 1: the Save button
    { x1: 42, y1: 61, x2: 201, y2: 112, scores: [0.5] }, // its duplicate
    { x1: 300, y1: 60, x2: 460, y2: 110, scores: [0.8] }, // 2: Cancel
    { x1: 600, y1: 300, x2: 760, y2: 460, scores: [0.7] }, // 4: a picture, no text
  ];
  const text: TextLine[] = [
    { text: 'Save', bbox: { x: 100, y: 75, width: 40, height: 20 }, confidence: 92, words: [{ text: 'Save', bbox: { x: 100, y: 75, width: 40, height: 20 }, confidence: 92 }] },
    { text: 'Cancel', bbox: { x: 350, y: 75, width: 60, height: 20 }, confidence: 90, words: [{ text: 'Cancel', bbox: { x: 350, y: 75, width: 60, height: 20 }, confidence: 90 }] },
    { text: 'Options', bbox: { x: 40, y: 200, width: 70, height: 18 }, confidence: 88, words: [{ text: 'Options', bbox: { x: 40, y: 200, width: 70, height: 18 }, confidence: 88 }] },
  ];
  let dir: string;
  before(() => {
    dir = makeDetector(freshDir(), { size: S, rows: rowsFor(boxes, { width: W, height: H }, S), classes: ['icon'] });
  });

  test('the marks drawn on the planner\'s screenshot are where the boxes are, on a light and on a dark screen', async () => {
    for (const background of [
      [245, 245, 245],
      [24, 24, 28],
    ] as Array<[number, number, number]>) {
      const g = new SomGrounder(dir, { text: new GivenText(text) });
      try {
        const obs = observationOf(await solidPng(W, H, background), W, H);
        const marked = await g.annotate(obs, signal);
        assert.deepEqual(
          marked.marks.map((m) => [m.id, m.text ?? null]),
          [
            [1, 'Save'],
            [2, 'Cancel'],
            [3, 'Options'],
            [4, null],
          ],
        );
        assert.notEqual(sha256(marked.png), obs.frameId, 'a new picture');
        const { data, info } = await sharp(marked.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        assert.deepEqual([info.width, info.height], [W, H], 'same size as the screenshot');
        const px = (x: number, y: number) => {
          const i = (Math.round(y) * W + Math.round(x)) * 3;
          return `#${[data[i]!, data[i + 1]!, data[i + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
        };
        const bg = `#${background.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
        for (const m of marked.marks) {
          const { x, y, width, height } = m.box;
          const colour = markColour(m.id);
          const x2 = Math.round(x + width) - 1;
          const y2 = Math.round(y + height) - 1;
          const where = `mark ${m.id} on ${bg}`;
          assert.equal(px(x, y + height / 2), colour, `${where}: left edge`);
          assert.equal(px(x2, y + height / 2), colour, `${where}: right edge`);
          assert.equal(px(x + width / 2, y2), colour, `${where}: bottom edge`);
          assert.equal(px(x + width - 4, y), colour, `${where}: top edge, right of the tag`);
          assert.equal(px(x + 1, y - 2), colour, `${where}: its number's tag sits on the top-left corner`);
          // not inside, not around
          assert.notEqual(px(x + 6, y + height / 2), colour, `${where}: inside the box`);
          assert.notEqual(px(x - 3, y + height / 2), colour, `${where}: left of the box`);
          assert.notEqual(px(x2 + 4, y + height / 2), colour, `${where}: right of the box`);
          assert.notEqual(px(x + width / 2, y2 + 4), colour, `${where}: below the box`);
        }
        assert.equal(px(500, 200), bg, 'away from every mark the screenshot is untouched');
        assert.equal(px(250, 85), bg, 'between two buttons too');
      } finally {
        await g.close();
      }
    }
  });

  test('"click mark N" is the centre of that mark; the quoted label is the centre of the button that carries it', async () => {
    const reader = new GivenText(text);
    const g = new SomGrounder(dir, { text: reader });
    try {
      const obs = observationOf(await solidPng(W, H, [250, 250, 250]), W, H);
      g.perceive(obs);
      const m2 = await g.ground({ action: click('click mark 2'), observation: obs }, signal);
      near(m2.point.x, 380, 'x', 0.01);
      near(m2.point.y, 85, 'y', 0.01);
      assert.equal(m2.point.space, 'screenshot');
      near(m2.confidence, 0.8, 'the detector\'s score', 1e-6);
      assert.match(m2.detail ?? '', /mark 2 "Cancel"/);
      const save = await g.ground({ action: click("click on 'Save'"), observation: obs }, signal);
      assert.match(save.detail ?? '', /'Save' → mark 1 "Save"/);
      const options = await g.ground({ action: click("click on 'Options'"), observation: obs }, signal);
      assert.deepEqual([options.point.x, options.point.y], [75, 209], 'a text-only mark: the text\'s centre');
      const drag = await g.ground({ action: { action_type: 'drag', step_instruction: 'drag mark 1 to mark 4' }, observation: obs }, signal);
      assert.deepEqual(drag.endPoint && [drag.endPoint.x, drag.endPoint.y].map(Math.round), [680, 380]);
      assert.equal(reader.reads, 1, 'one perception per frame, however often it is grounded');
    } finally {
      await g.close();
    }
  });

  test('a label off-centre in its button: the mark gives the button\'s centre', async () => {
    const g = new SomGrounder(dir, { text: new GivenText([{ ...text[0]!, bbox: { x: 50, y: 70, width: 40, height: 20 }, words: [{ ...text[0]!.words[0]!, bbox: { x: 50, y: 70, width: 40, height: 20 } }] }]) });
    try {
      const obs = observationOf(await solidPng(W, H, [250, 250, 250]), W, H);
      const save = await g.ground({ action: click("click 'Save'"), observation: obs }, signal);
      assert.deepEqual([save.point.x, save.point.y], [120, 85], 'the button (40..200, 60..110), not the label at 70, 80');
    } finally {
      await g.close();
    }
  });

  test('a mark that does not exist, or an instruction naming nothing: GROUNDING_FAILED saying which marks exist', async () => {
    const g = new SomGrounder(dir, { text: new GivenText(text) });
    try {
      const obs = observationOf(await solidPng(W, H, [250, 250, 250]), W, H);
      await rejectsWith(g.ground({ action: click('click mark 12'), observation: obs }, signal), 'GROUNDING_FAILED', /There is no mark 12 on this screenshot: its marks are 1–4/);
      await rejectsWith(g.ground({ action: click('click the button'), observation: obs }, signal), 'GROUNDING_FAILED', /names no mark and no text/);
      await rejectsWith(g.ground({ action: click("click on 'Print'"), observation: obs }, signal), 'GROUNDING_FAILED', /No mark's text matches 'Print'; marks with text: "Save", "Cancel", "Options"/);
      await rejectsWith(g.ground({ action: { action_type: 'hotkey', keys: ['ctrl', 's'], step_instruction: 'save' }, observation: obs }, signal), 'BAD_INPUT', /needs no point/);
    } finally {
      await g.close();
    }
    const bare = new SomGrounder(dir, { text: false });
    try {
      const obs = observationOf(await solidPng(W, H, [250, 250, 250]), W, H);
      const marked = await bare.annotate(obs, signal);
      assert.deepEqual(marked.marks.map((m) => m.source), ['detector', 'detector', 'detector'], 'without OCR: the detector\'s marks only');
    } finally {
      await bare.close();
    }
  });

  test('the OpenAI planner sends the marked screenshot and lists the marks; without marks its prompt is unchanged', async () => {
    const server = await startFakeOpenAI(() => '<think>t</think><answer>\nStep 1: "screenshot_abstraction": "s", "action": {"action_type": "click", "step_instruction": "click mark 2"}, "status": "done"\n</answer>');
    const g = new SomGrounder(dir, { text: new GivenText(text) });
    try {
      const planner = new OpenAIPlanner(`openai:${server.baseURL}#tracer-test`);
      const obs = observationOf(await solidPng(W, H, [250, 250, 250]), W, H);
      const marks = await g.annotate(obs, signal);
      const req = { instruction: 'Cancel the dialog', observation: obs, history: [], horizon: 3, stepNumber: 1 };
      const withMarks = await planner.plan({ ...req, marks }, signal);
      const plain = await planner.plan(req, signal);
      const [a, b] = server.requests.map(userParts);
      assert.equal(a!.images[0], `data:image/png;base64,${Buffer.from(marks.png).toString('base64')}`, 'the marked screenshot');
      assert.equal(b!.images[0], `data:image/png;base64,${Buffer.from(obs.png).toString('base64')}`);
      assert.match(a!.text, /mark 1: "Save"\nmark 2: "Cancel"\nmark 3: "Options"\nmark 4: icon/);
      assert.match(a!.system, /click mark 12/);
      assert.doesNotMatch(b!.text + b!.system, /mark 1|Set-of-Marks/);
      assert.deepEqual([withMarks.prompt.template, plain.prompt.template], ['tracer1-desktop-som', 'tracer1-desktop']);
      assert.match(withMarks.prompt.user, /mark 2: "Cancel"/, 'the marks are kept with the forecast');
    } finally {
      await g.close();
      await server.close();
    }
  });
});

void describe('refusals', () => {
  const base = { size: 320, rows: [[100, 100, 20, 20, 0.9]] };
  const openDir = (dir: string) => new SomGrounder(dir, { text: false }).open();
  before(() => {
    // every graph of these tests in one python3 run; makeDetector below copies them
    makeDetectors([
      [freshDir(), base],
      [freshDir(), { ...base, inputName: 'pixel_values' }],
      [freshDir(), { ...base, outputName: 'boxes_out' }],
      [freshDir(), { ...base, graphInputShape: ['batch', 3, 'height', 'width'] }],
    ]);
  });

  test('a directory without a manifest, with broken JSON, another role or an unsupported family', () => {
    const empty = freshDir();
    makeDetector(empty, base);
    rmSync(join(empty, 'foresight-model.json'));
    assert.throws(() => createGrounderBackend(`som:${empty}`), (e: unknown) => isForesightError(e, 'MODEL_INVALID') && /has no foresight-model\.json/.test(e.message));
    const broken = makeDetector(freshDir(), base);
    writeFileSync(join(broken, 'foresight-model.json'), '{ "format": ');
    assert.throws(() => new SomGrounder(broken), /is not valid JSON/);
    const planner = makeDetector(freshDir(), { ...base, manifest: { role: 'planner' } });
    assert.throws(() => new SomGrounder(planner), /holds a planner model, not an element detector/);
    const detr = makeDetector(freshDir(), { ...base, manifest: { family: 'detr' } });
    assert.throws(() => new SomGrounder(detr), (e: unknown) => isForesightError(e, 'MODEL_INVALID') && /family "detr" are not supported; supported: yolo/.test(e.message));
    const badLayout = makeDetector(freshDir(), { ...base, manifest: { output: { name: 'output0', layout: 'ssd' } } });
    assert.throws(() => new SomGrounder(badLayout), /output\.layout/);
  });

  test('the spec: som:<dir>[?ocr=off]; anything else is BAD_INPUT saying what to write', () => {
    const dir = makeDetector(freshDir(), base);
    const g = createGrounderBackend(`som:${dir}`);
    assert.ok(g instanceof SomGrounder);
    assert.equal(g.id, `som:${dir}`);
    assert.deepEqual(parseSomSpec(`som:${dir}?ocr=off`), { dir, ocr: false });
    assert.deepEqual(parseSomSpec('som:~/models/icon_detect'), { dir: join(homedir(), 'models/icon_detect'), ocr: true });
    assert.deepEqual(parseSomSpec('som:/models/what?not'), { dir: '/models/what?not', ocr: true }, 'a ? that starts no option is part of the path');
    assert.throws(() => parseSomSpec('som:/m?ocr=maybe'), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /\?ocr= takes on or off, not "maybe"/.test(e.message));
    assert.throws(() => parseSomSpec('som:/m?iou=0.3'), /Unknown option "iou".*takes \?ocr=off only/);
    assert.throws(() => parseSomSpec('som:'), /names no directory: write som:<detector-dir>/);
    assert.throws(() => createGrounderBackend('som'), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /names no directory/.test(e.message));
  });

  test('a file that is not the one the manifest lists, or is missing', () => {
    const changed = makeDetector(freshDir(), base);
    writeFileSync(join(changed, 'model.onnx'), 'not a graph');
    assert.throws(() => new SomGrounder(changed), (e: unknown) => isForesightError(e, 'MODEL_INVALID') && /model\.onnx is not the file foresight-model\.json lists: its sha256 is/.test(e.message));
    const gone = makeDetector(freshDir(), base);
    rmSync(join(gone, 'model.onnx'));
    assert.throws(() => new SomGrounder(gone), /model\.onnx, listed in foresight-model\.json, cannot be read/);
  });

  test('a graph whose input or output does not match the manifest is refused, naming the graph and the input', async () => {
    const renamed = makeDetector(freshDir(), { ...base, inputName: 'pixel_values', manifest: { input: { name: 'images', size: 320 } } });
    await rejectsWith(openDir(renamed), 'MODEL_INVALID', /the graph .*model\.onnx has no input "images" \(its inputs: "pixel_values"\)/);
    const smaller = makeDetector(freshDir(), { ...base, manifest: { input: { name: 'images', size: 640 } } });
    await rejectsWith(openDir(smaller), 'MODEL_INVALID', /the input "images" of .*model\.onnx has the shape \[1, 3, 320, 320\], the manifest says \[1, 3, 640, 640\]/);
    const noOutput = makeDetector(freshDir(), { ...base, outputName: 'boxes_out' });
    writeFileSync(join(noOutput, 'foresight-model.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(noOutput, 'foresight-model.json'), 'utf8')) as object, output: { name: 'output0', layout: 'yolov8' } }));
    await rejectsWith(openDir(noOutput), 'MODEL_INVALID', /has no output "output0" \(its outputs: "boxes_out"\)/);
    const twoClasses = makeDetector(freshDir(), { ...base, classes: ['icon', 'text'] });
    await rejectsWith(openDir(twoClasses), 'MODEL_INVALID', /does not fit the yolov8 layout: a box has 5 values, so 1 class score\(s\), but the manifest names 2 class\(es\)/);
    const dynamic = makeDetector(freshDir(), { ...base, graphInputShape: ['batch', 3, 'height', 'width'] });
    assert.deepEqual(await checkElementDetector(dynamic), { dir: dynamic, name: 'tiny test detector', inputSize: 320, layout: 'yolov8', provider: 'cpu' }, 'symbolic dimensions are accepted');
    await rejectsWith(checkElementDetector(renamed), 'MODEL_INVALID', /has no input "images"/);
  });
});
