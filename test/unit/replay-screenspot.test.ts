import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { isForesightError } from '../../common/errors.ts';
import {
  loadScreenSpot,
  pngSize,
  pointInBox,
  summarizeScreenSpot,
  type ScreenSpotSample,
} from '../../main/replay/screenspot.ts';

let root = '';

async function png(path: string, width: number, height: number): Promise<void> {
  const buf = await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 200, b: 200 } } })
    .png()
    .toBuffer();
  await writeFile(path, buf);
}

async function json(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value));
}

function expectBadInput(re: RegExp) {
  return (e: unknown) => {
    assert.ok(isForesightError(e, 'BAD_INPUT'), `expected BAD_INPUT, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'screenspot-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pngSize', () => {
  test('reads IHDR width/height of a sharp PNG and rejects other bytes', async () => {
    const p = join(root, 'probe.png');
    await png(p, 123, 45);
    assert.deepEqual(pngSize(new Uint8Array(await readFile(p))), { width: 123, height: 45 });
    assert.equal(pngSize(new Uint8Array(24)), undefined);
    assert.equal(pngSize(new Uint8Array([0x89, 0x50])), undefined);
  });
});

describe('pointInBox (inclusive edges, compared as fractions of the image, as the official scripts)', () => {
  // A 100 x 200 image; the box spans pixels 10..30 and 20..40.
  const box = { x1: 10, y1: 20, x2: 30, y2: 40 };
  const at = (x: number, y: number) => pointInBox({ x: x / 100, y: y / 200 }, box, 100, 200);
  test('corners and edges hit', () => {
    for (const [x, y] of [
      [10, 20],
      [30, 40],
      [10, 40],
      [30, 20],
      [20, 30],
    ] as const) {
      assert.equal(at(x, y), true, `${x},${y}`);
    }
  });
  test('one pixel outside misses', () => {
    for (const [x, y] of [
      [9, 30],
      [31, 30],
      [20, 19],
      [20, 41],
      [29.999, 40.001],
    ] as const) {
      assert.equal(at(x, y), false, `${x},${y}`);
    }
  });
  test('non-finite points miss', () => {
    assert.equal(pointInBox({ x: NaN, y: 0.15 }, box, 100, 200), false);
    assert.equal(pointInBox({ x: 0.2, y: Infinity }, box, 100, 200), false);
  });
});

describe('ScreenSpot / v2 (pixel xywh, size from the PNG)', () => {
  let dir = '';
  before(async () => {
    dir = join(root, 'ss');
    await mkdir(join(dir, 'screenspot_imgs'), { recursive: true });
    await png(join(dir, 'screenspot_imgs', 'm1.png'), 100, 200);
    await png(join(dir, 'screenspot_imgs', 'd1.png'), 300, 150);
    await json(join(dir, 'screenspot_mobile.json'), [
      { img_filename: 'm1.png', bbox: [10, 20, 30, 40], instruction: 'open mail', data_type: 'text', data_source: 'ios' },
      { img_filename: 'm1.png', bbox: [0, 0, 5, 5], instruction: 'menu', data_type: 'icon', data_source: 'android' },
    ]);
    await json(join(dir, 'screenspot_desktop.json'), [
      { img_filename: 'd1.png', bbox: [100, 50, 20, 10], instruction: 'save', data_type: 'icon', data_source: 'macos' },
    ]);
  });

  test('converts xywh to x1y1x2y2 and reads image size from the PNG', async () => {
    const s = await loadScreenSpot(dir, 'screenspot');
    assert.equal(s.length, 3);
    // files in name order: desktop before mobile
    const [d, m0, m1] = s as [ScreenSpotSample, ScreenSpotSample, ScreenSpotSample];
    assert.deepEqual(d.box, { x1: 100, y1: 50, x2: 120, y2: 60 });
    assert.equal(d.platform, 'desktop');
    assert.equal(d.imageWidth, 300);
    assert.equal(d.imageHeight, 150);
    assert.equal(d.uiType, 'icon');
    assert.equal(d.dataSource, 'macos');
    assert.deepEqual(m0.box, { x1: 10, y1: 20, x2: 40, y2: 60 });
    assert.equal(m0.platform, 'mobile');
    assert.equal(m0.imageWidth, 100);
    assert.equal(m0.imageHeight, 200);
    assert.equal(m0.instruction, 'open mail');
    assert.equal(m0.imagePath, join(dir, 'screenspot_imgs', 'm1.png'));
    assert.equal(m0.id, 'screenspot_mobile.json#0');
    assert.equal(m1.id, 'screenspot_mobile.json#1');
    assert.equal(m0.group, undefined);
  });

  test('limit', async () => {
    assert.equal((await loadScreenSpot(dir, 'screenspot', { limit: 2 })).length, 2);
    assert.equal((await loadScreenSpot(dir, 'screenspot', { limit: 0 })).length, 0);
  });

  test('v2 file names and image folder', async () => {
    const v2 = join(root, 'ssv2');
    await mkdir(join(v2, 'screenspotv2_image'), { recursive: true });
    await png(join(v2, 'screenspotv2_image', 'w.png'), 64, 32);
    await json(join(v2, 'screenspot_web_v2.json'), [
      { img_filename: 'w.png', bbox: [1, 2, 3, 4], instruction: 'x', data_type: 'text', data_source: 'shop' },
    ]);
    const [s] = await loadScreenSpot(v2, 'screenspot-v2');
    assert.ok(s);
    assert.equal(s.platform, 'web');
    assert.deepEqual(s.box, { x1: 1, y1: 2, x2: 4, y2: 6 });
    assert.equal(s.imageWidth, 64);
    assert.equal(s.variant, 'screenspot-v2');
  });

  test('missing image → BAD_INPUT naming it', async () => {
    const bad = join(root, 'ss-missing');
    await mkdir(bad, { recursive: true });
    await json(join(bad, 'screenspot_web.json'), [
      { img_filename: 'nope.png', bbox: [1, 2, 3, 4], instruction: 'x', data_type: 'text' },
    ]);
    await assert.rejects(loadScreenSpot(bad, 'screenspot'), expectBadInput(/nope\.png/));
  });

  test('malformed JSON → BAD_INPUT naming the file', async () => {
    const bad = join(root, 'ss-json');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'screenspot_web.json'), '[{"img_filename": ');
    await assert.rejects(loadScreenSpot(bad, 'screenspot'), expectBadInput(/screenspot_web\.json: not valid JSON/));
  });

  test('bad entry → BAD_INPUT naming file, index and field', async () => {
    const bad = join(root, 'ss-entry');
    await mkdir(bad, { recursive: true });
    await png(join(bad, 'a.png'), 10, 10);
    await json(join(bad, 'screenspot_mobile.json'), [
      { img_filename: 'a.png', bbox: [1, 2, 3, 4], instruction: 'x', data_type: 'text' },
      { img_filename: 'a.png', bbox: [1, 2, 3], instruction: 'x', data_type: 'text' },
    ]);
    await assert.rejects(loadScreenSpot(bad, 'screenspot'), expectBadInput(/screenspot_mobile\.json: entry 1: bbox/));
    await json(join(bad, 'screenspot_mobile.json'), [
      { img_filename: 'a.png', bbox: [1, 2, 3, 4], instruction: 'x', data_type: 'button' },
    ]);
    await assert.rejects(loadScreenSpot(bad, 'screenspot'), expectBadInput(/entry 0: data_type/));
    await json(join(bad, 'screenspot_mobile.json'), { not: 'a list' });
    await assert.rejects(loadScreenSpot(bad, 'screenspot'), expectBadInput(/screenspot_mobile\.json: expected a JSON array/));
  });

  test('non-PNG image → BAD_INPUT', async () => {
    const bad = join(root, 'ss-notpng');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'a.png'), 'this is not a png at all, really not');
    await json(join(bad, 'screenspot_mobile.json'), [
      { img_filename: 'a.png', bbox: [1, 2, 3, 4], instruction: 'x', data_type: 'text' },
    ]);
    await assert.rejects(loadScreenSpot(bad, 'screenspot'), expectBadInput(/not a PNG/));
  });

  test('missing directory → BAD_INPUT', async () => {
    await assert.rejects(loadScreenSpot(join(root, 'nowhere'), 'screenspot'), expectBadInput(/does not exist/));
  });
});

describe('ScreenSpot-Pro (pixel x1y1x2y2 with img_size)', () => {
  let dir = '';
  before(async () => {
    dir = join(root, 'pro');
    await mkdir(join(dir, 'annotations'), { recursive: true });
    await mkdir(join(dir, 'images', 'vscode_linux'), { recursive: true });
    await png(join(dir, 'images', 'vscode_linux', 's1.png'), 40, 20);
    const base = { img_filename: 'vscode_linux/s1.png', img_size: [3840, 2160], platform: 'linux' };
    await json(join(dir, 'annotations', 'vscode_linux.json'), [
      { ...base, id: 'vs_1', bbox: [100, 200, 150, 260], instruction: 'run', ui_type: 'icon', group: 'Dev', application: 'vscode' },
      { ...base, id: 'vs_2', bbox: [0, 0, 10, 10], instruction: 'file', ui_type: 'text', group: 'Dev', application: 'vscode' },
    ]);
    await json(join(dir, 'annotations', 'word_windows.json'), [
      {
        ...base,
        platform: 'windows',
        id: 'w_1',
        bbox: [5, 5, 25, 15],
        instruction: 'bold',
        ui_type: 'icon',
        group: 'Office',
        application: 'word',
      },
    ]);
  });

  test('keeps x1y1x2y2 and uses img_size (not the file size)', async () => {
    const s = await loadScreenSpot(dir, 'screenspot-pro');
    assert.equal(s.length, 3);
    const [a] = s;
    assert.ok(a);
    assert.equal(a.id, 'vs_1');
    assert.deepEqual(a.box, { x1: 100, y1: 200, x2: 150, y2: 260 });
    assert.equal(a.imageWidth, 3840);
    assert.equal(a.imageHeight, 2160);
    assert.equal(a.platform, 'linux');
    assert.equal(a.group, 'Dev');
    assert.equal(a.application, 'vscode');
    assert.equal(a.uiType, 'icon');
    assert.equal(a.imagePath, join(dir, 'images', 'vscode_linux', 's1.png'));
  });

  test('inverted box or missing img_size → BAD_INPUT with file and index', async () => {
    const bad = join(root, 'pro-bad');
    await mkdir(join(bad, 'annotations'), { recursive: true });
    await json(join(bad, 'annotations', 'x.json'), [
      { img_filename: 'a.png', bbox: [10, 10, 5, 20], img_size: [100, 100], instruction: 'i', ui_type: 'text', platform: 'p', application: 'a' },
    ]);
    await assert.rejects(loadScreenSpot(bad, 'screenspot-pro'), expectBadInput(/x\.json: entry 0: bbox/));
    await json(join(bad, 'annotations', 'x.json'), [
      { img_filename: 'a.png', bbox: [1, 1, 5, 20], instruction: 'i', ui_type: 'text', platform: 'p', application: 'a' },
    ]);
    await assert.rejects(loadScreenSpot(bad, 'screenspot-pro'), expectBadInput(/x\.json: entry 0: img_size/));
  });

  test('missing image → BAD_INPUT naming it', async () => {
    const bad = join(root, 'pro-missing');
    await mkdir(join(bad, 'annotations'), { recursive: true });
    await json(join(bad, 'annotations', 'x.json'), [
      { img_filename: 'gone/shot.png', bbox: [1, 1, 5, 20], img_size: [100, 100], instruction: 'i', ui_type: 'text', platform: 'p', application: 'a' },
    ]);
    await assert.rejects(loadScreenSpot(bad, 'screenspot-pro'), expectBadInput(/gone\/shot\.png/));
  });

  test('duplicate ids → BAD_INPUT', async () => {
    const bad = join(root, 'pro-dup');
    await mkdir(join(bad, 'annotations'), { recursive: true });
    await png(join(bad, 'a.png'), 4, 4);
    const e = { id: 'same', img_filename: 'a.png', bbox: [1, 1, 2, 2], img_size: [4, 4], instruction: 'i', ui_type: 'text', platform: 'p', application: 'a' };
    await json(join(bad, 'annotations', 'x.json'), [e, e]);
    await assert.rejects(loadScreenSpot(bad, 'screenspot-pro'), expectBadInput(/entry 1: duplicate sample id "same"/));
  });

  test('summary by group / application / platform, computed by hand', async () => {
    const s = await loadScreenSpot(dir, 'screenspot-pro');
    const preds = new Map([
      ['vs_1', { x: 150, y: 260 }], // corner: hit (icon, Dev, linux)
      ['vs_2', { x: 11, y: 5 }], // one pixel right of x2: miss (text, Dev, linux)
      // w_1 has no prediction: wrong (icon, Office, windows)
      ['other', { x: 0, y: 0 }],
    ]);
    const r = summarizeScreenSpot(s, preds);
    assert.deepEqual(
      { total: r.overall.total, correct: r.overall.correct, missing: r.overall.missing },
      { total: 3, correct: 1, missing: 1 },
    );
    assert.equal(r.overall.accuracy, 1 / 3);
    assert.equal(r.overall.text.accuracy, 0);
    assert.equal(r.overall.icon.accuracy, 1 / 2);
    assert.equal(r.byGroup.Dev?.accuracy, 1 / 2);
    assert.equal(r.byGroup.Dev?.icon.accuracy, 1);
    assert.equal(r.byGroup.Dev?.text.accuracy, 0);
    assert.equal(r.byGroup.Office?.accuracy, 0);
    assert.equal(r.byGroup.Office?.text.total, 0);
    assert.equal(r.byGroup.Office?.text.accuracy, 0);
    assert.equal(r.byApplication.vscode?.correct, 1);
    assert.equal(r.byApplication.word?.missing, 1);
    assert.deepEqual(Object.keys(r.byPlatform).sort(), ['linux', 'windows']);
    assert.equal(r.unknownPredictions, 1);
  });
});

describe('summarizeScreenSpot (ScreenSpot layout)', () => {
  function sample(id: string, platform: string, uiType: 'text' | 'icon'): ScreenSpotSample {
    return {
      id,
      variant: 'screenspot',
      imagePath: '/x.png',
      imgFilename: 'x.png',
      imageWidth: 100,
      imageHeight: 100,
      instruction: 'i',
      box: { x1: 10, y1: 10, x2: 20, y2: 20 },
      platform,
      uiType,
      source: { file: 'f', index: 0 },
    };
  }
  test('per platform text/icon, overall (weighted) and cell average (unweighted)', () => {
    const samples = [
      sample('m1', 'mobile', 'text'),
      sample('m2', 'mobile', 'text'),
      sample('m3', 'mobile', 'text'),
      sample('m4', 'mobile', 'icon'),
      sample('w1', 'web', 'icon'),
    ];
    const inside = { x: 10, y: 20 };
    const outside = { x: 21, y: 15 };
    const preds = new Map<string, { x: number; y: number } | undefined>([
      ['m1', inside],
      ['m2', inside],
      ['m3', outside],
      ['m4', undefined],
      ['w1', inside],
    ]);
    const r = summarizeScreenSpot(samples, preds);
    assert.equal(r.overall.correct, 3);
    assert.equal(r.overall.accuracy, 3 / 5);
    assert.equal(r.overall.missing, 1);
    assert.equal(r.byPlatform.mobile?.text.accuracy, 2 / 3);
    assert.equal(r.byPlatform.mobile?.icon.accuracy, 0);
    assert.equal(r.byPlatform.mobile?.accuracy, 2 / 4);
    assert.equal(r.byPlatform.web?.icon.accuracy, 1);
    assert.equal(r.byPlatform.web?.text.total, 0);
    // cells: mobile/text 2/3, mobile/icon 0, web/icon 1 (web/text empty, skipped)
    assert.equal(r.cellAverage, (2 / 3 + 0 + 1) / 3);
    assert.deepEqual(r.byGroup, {});
    assert.deepEqual(r.byApplication, {});
  });
  test('no samples → zeros', () => {
    const r = summarizeScreenSpot([], new Map());
    assert.equal(r.overall.accuracy, 0);
    assert.equal(r.cellAverage, 0);
  });
});
