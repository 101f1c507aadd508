/**
 * Points on a box edge, on the 0–1000 grid, for the image sizes where floating point bites
 * (issue 14 point 1): each suite must compare in the space its official script compares in.
 * A grid value g hits a box whose edge is exactly g/1000 of the image: the script divides both
 * sides (g / 1000 and edge / size), two correctly rounded divisions of the same rational, so
 * they are the same double. A trip through pixels first (g / 1000 × size / size) is not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action } from '../../common/actions.ts';
import { getSuite } from '../../main/replay/suites/index.ts';
import { guiOdysseyAnswer } from '../../main/replay/suites/guiodyssey.ts';
import { osAtlasPrediction } from '../../main/replay/suites/androidcontrol.ts';
import type { StepTruth } from '../../main/replay/suite.ts';
import type { ScreenSpotGold } from '../../main/replay/suites/screenspot.ts';
import type { Mind2WebGold } from '../../main/replay/loaders/mind2web.ts';

const SIZES: readonly [number, number][] = [
  [2880, 1800],
  [1440, 900],
  [1280, 720],
  [1280, 1000],
  [1280, 2630],
  [1920, 1080],
];

const click = (x: number, y: number, space: 'norm1000' | 'norm1' = 'norm1000'): Action => ({ action_type: 'click', step_instruction: 'the target', point: { space, x, y } });

/** Grid values g whose edge g × size / 1000 is a whole pixel. */
function exactEdges(size: number): { g: number; px: number }[] {
  const out: { g: number; px: number }[] = [];
  for (let g = 0; g <= 1000; g++) if ((g * size) % 1000 === 0) out.push({ g, px: (g * size) / 1000 });
  return out;
}

function screenSpotTruth(w: number, h: number, box: ScreenSpotGold['box']): StepTruth<ScreenSpotGold> {
  return {
    id: 's',
    episodeId: 's',
    index: 0,
    categories: {},
    imageWidth: w,
    imageHeight: h,
    gold: { box, platform: 'p', uiType: 'text', instruction: 'i', imgFilename: 'a.png', position: 0 },
  };
}

describe('ScreenSpot, v2 and Pro: a 0–1000 point on a box edge hits, as the scripts compare fractions', () => {
  for (const id of ['screenspot', 'screenspot-v2', 'screenspot-pro']) {
    for (const [w, h] of SIZES) {
      test(`${id} ${w}x${h}`, () => {
        const suite = getSuite(id);
        let checked = 0;
        for (const { g, px } of exactEdges(w)) {
          const midY = 500;
          const cy = (midY * h) / 1000;
          // The edge as the box's left side, then as its right side.
          const left = screenSpotTruth(w, h, { x1: px, y1: Math.floor(cy) - 5, x2: Math.min(w, px + 5), y2: Math.ceil(cy) + 5 });
          const right = screenSpotTruth(w, h, { x1: Math.max(0, px - 5), y1: Math.floor(cy) - 5, x2: px, y2: Math.ceil(cy) + 5 });
          assert.equal(suite.score(click(g, midY), left as StepTruth).success, true, `x=${g} on the left edge ${px} of ${w}`);
          assert.equal(suite.score(click(g, midY), right as StepTruth).success, true, `x=${g} on the right edge ${px} of ${w}`);
          checked++;
        }
        for (const { g, px } of exactEdges(h)) {
          const top = screenSpotTruth(w, h, { x1: w / 2 - 5, y1: px, x2: w / 2 + 5, y2: Math.min(h, px + 5) });
          const bottom = screenSpotTruth(w, h, { x1: w / 2 - 5, y1: Math.max(0, px - 5), x2: w / 2 + 5, y2: px });
          assert.equal(suite.score(click(500, g), top as StepTruth).success, true, `y=${g} on the top edge ${px} of ${h}`);
          assert.equal(suite.score(click(500, g), bottom as StepTruth).success, true, `y=${g} on the bottom edge ${px} of ${h}`);
          checked++;
        }
        assert.ok(checked > 10);
      });
    }
  }

  test('the cases of the issue: 175 on 2880 and 35 on 1800 (through pixels they miss)', () => {
    const suite = getSuite('screenspot-pro');
    assert.equal((175 / 1000) * 2880 < 504, true, 'the pixel trip lands left of the edge');
    assert.equal(suite.score(click(175, 500), screenSpotTruth(2880, 1800, { x1: 504, y1: 800, x2: 600, y2: 1000 }) as StepTruth).success, true);
    assert.equal((35 / 1000) * 1800 > 63, true, 'the pixel trip lands below the edge');
    assert.equal(suite.score(click(500, 35), screenSpotTruth(2880, 1800, { x1: 1400, y1: 0, x2: 1500, y2: 63 }) as StepTruth).success, true);
  });

  test('a point one grid step outside still misses', () => {
    const suite = getSuite('screenspot');
    assert.equal(suite.score(click(174, 500), screenSpotTruth(2880, 1800, { x1: 504, y1: 800, x2: 600, y2: 1000 }) as StepTruth).success, false);
  });
});

function m2wTruth(w: number, h: number, box: Mind2WebGold['box']): StepTruth {
  const gold: Mind2WebGold = {
    op: 4,
    originalOp: 'CLICK',
    value: '',
    box,
    pixelBox: { x: 0, y: 0, width: 1, height: 1 },
    annotationId: 'a',
    actionUid: 'u',
    task: 't',
    website: 'w',
    domain: 'd',
    subdomain: 's',
  } as Mind2WebGold;
  return { id: 'm', episodeId: 'a', index: 0, categories: {}, imageWidth: w, imageHeight: h, gold };
}

describe('Mind2Web: every grid value on a box edge rounded to 3 decimals hits (SeeClick compares 0–1)', () => {
  for (const [w, h] of SIZES) {
    test(`${w}x${h}`, () => {
      const suite = getSuite('mind2web');
      for (let g = 0; g <= 1000; g++) {
        const e = g / 1000;
        const asLeft = m2wTruth(w, h, [e, 0.4, Math.min(1, e + 0.01), 0.6]);
        const asRight = m2wTruth(w, h, [Math.max(0, e - 0.01), 0.4, e, 0.6]);
        assert.equal(suite.score(click(g, 500), asLeft).metrics.elementMatch, true, `x=${g}: left edge ${e}`);
        assert.equal(suite.score(click(g, 500), asRight).metrics.elementMatch, true, `x=${g}: right edge ${e}`);
      }
    });
  }
  test('the cases of the issue: 810 and 401 on a 1280-wide page', () => {
    assert.notEqual(((810 / 1000) * 1280) / 1280, 0.81, 'through pixels 810 is not 0.81');
    const suite = getSuite('mind2web');
    assert.equal(suite.score(click(810, 500), m2wTruth(1280, 900, [0.7, 0.4, 0.81, 0.6])).metrics.elementMatch, true);
    assert.equal(suite.score(click(401, 500), m2wTruth(1280, 900, [0.401, 0.4, 0.5, 0.6])).metrics.elementMatch, true);
  });
});

describe('AndroidControl and GUI-Odyssey: a 0–1000 point is written on the grid as the model gave it', () => {
  for (const [w, h] of SIZES) {
    test(`${w}x${h}`, () => {
      for (let g = 0; g <= 1000; g++) {
        const y = 1000 - g;
        assert.match(osAtlasPrediction(click(g, y), w, h) ?? '', new RegExp(`\\[\\[${g},\\s*${y}\\]\\]`), `g=${g}`);
        assert.equal(guiOdysseyAnswer(click(g, y), w, h), `CLICK: (${g}, ${y})`);
        // A 0–1 point: one multiplication onto the grid.
        assert.equal(guiOdysseyAnswer(click(g / 1000, y / 1000, 'norm1'), w, h), `CLICK: (${g}, ${y})`);
      }
    });
  }
});
