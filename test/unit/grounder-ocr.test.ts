/**
 * The OCR grounder on screenshots drawn from SVG (DejaVu Sans): real Tesseract, real sharp,
 * known boxes. A point must land inside the item the instruction names.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, PointedAction } from '../../common/actions.ts';
import type { Rect } from '../../common/coords.ts';
import { isForesightError } from '../../common/errors.ts';
import type { Grounding } from '../../common/ports.ts';
import { OcrGrounder } from '../../main/grounders/ocr.ts';
import { fileMenuItems, renderScreen, type Screen } from '../fixtures/grounders/screens.ts';

let grounder: OcrGrounder;
let screen: Screen;
const signal = new AbortController().signal;

before(async () => {
  grounder = new OcrGrounder();
  screen = await renderScreen(
    [
      ...fileMenuItems(),
      // light text on the dark desktop, and a label with diacritics on a light panel
      { text: 'Terminal', box: { x: 20, y: 20, width: 100, height: 24 }, color: '#e0e0e0' },
      { text: 'Préférences…', box: { x: 1000, y: 700, width: 160, height: 28 }, fill: '#f6f5f4' },
    ],
    { order: 'bgra' },
  );
});
after(async () => {
  await grounder.close();
});

const click = (step_instruction: string, action_type: PointedAction['action_type'] = 'click'): Action => ({ action_type, step_instruction });

function assertInside(p: { x: number; y: number }, box: Rect, what: string) {
  assert.ok(
    p.x >= box.x && p.x < box.x + box.width && p.y >= box.y && p.y < box.y + box.height,
    `${what}: (${p.x.toFixed(1)}, ${p.y.toFixed(1)}) is outside ${JSON.stringify(box)}`,
  );
}

async function groundOn(s: Screen, instruction: string, type: PointedAction['action_type'] = 'click'): Promise<Grounding> {
  return grounder.ground({ action: click(instruction, type), observation: s.observation }, signal);
}

test('perceive starts OCR once per frame; ground only looks up the cached result', async () => {
  assert.equal(grounder.lastText(screen.observation.frameId), undefined, 'nothing read before perceive');
  grounder.perceive(screen.observation);
  grounder.perceive(screen.observation); // idempotent per frame id
  const g = await groundOn(screen, "click on 'Save As…'");
  assert.equal(g.grounder, 'ocr');
  assert.equal(g.point.space, 'screenshot');
  assertInside(g.point, screen.box('Save As…'), 'Save As…');
  await groundOn(screen, "click on 'Quit'");
  await groundOn(screen, "click on 'New'");
  assert.equal(grounder.stats.recognitions, 1, 'one OCR run for one frame');
  assert.deepEqual(grounder.cachedFrames(), [screen.observation.frameId]);
  const text = grounder.lastText(screen.observation.frameId);
  assert.ok(text, 'the OCR result is exposed');
  assert.equal(text, grounder.lastText(), 'the last frame is the default');
  assert.ok(text.lines.some((l) => l.text.replace('…', '...') === 'Save As...'), 'the lines are there in words');
  assert.equal(text.width, 1280);
});

test('phrasings of the same item: quotes of every kind, ellipsis variants, case, no quotes', async () => {
  const box = screen.box('Save As…');
  for (const instruction of [
    "click on 'Save As…'",
    'click on "Save As..."',
    'click “Save As”',
    "click on 'save as...'",
    'Click Save As… in the File menu',
  ]) {
    const g = await groundOn(screen, instruction);
    assertInside(g.point, box, instruction);
    assert.ok(g.confidence > 0.4 && g.confidence <= 1, `${instruction}: confidence ${g.confidence}`);
  }
  assertInside((await groundOn(screen, "click on 'Open...'")).point, screen.box('Open…'), 'Open... for Open…');
  assertInside((await groundOn(screen, "click on 'Print…'")).point, screen.box('Print...'), 'Print… for Print...');
  assertInside((await groundOn(screen, "click on 'Preferences'")).point, screen.box('Préférences…'), 'diacritics');
});

test('"Save" lands on Save, not on Save As… or Save All', async () => {
  const g = await groundOn(screen, "click on 'Save'");
  assertInside(g.point, screen.box('Save'), 'Save');
  assert.ok(g.confidence > 0.9, `an exact whole-line match is confident (${g.confidence})`);
});

test('highlighted, greyed-out and light-on-dark text are found', async () => {
  assertInside((await groundOn(screen, "click on 'New'")).point, screen.box('New'), 'highlighted New');
  assertInside((await groundOn(screen, "click on 'Reload'")).point, screen.box('Reload'), 'greyed Reload');
  assertInside((await groundOn(screen, "double-click 'Terminal'", 'double_click')).point, screen.box('Terminal'), 'Terminal');
  assertInside((await groundOn(screen, "click on 'File' in the menu bar")).point, screen.box('File'), 'menu bar File');
});

test('drag grounds both ends from two quotes', async () => {
  const g = await groundOn(screen, "drag 'Save All' to 'Close Window'", 'drag');
  assertInside(g.point, screen.box('Save All'), 'drag start');
  assert.ok(g.endPoint);
  assertInside(g.endPoint, screen.box('Close Window'), 'drag end');
});

test('a missing item fails with GROUNDING_FAILED naming the closest texts seen', async () => {
  await assert.rejects(groundOn(screen, "click on 'Export as PDF'"), (e) => {
    assert.ok(isForesightError(e, 'GROUNDING_FAILED'), String(e));
    assert.match(e.message, /Export as PDF/);
    assert.match(e.message, /closest: "/);
    const closest = e.details?.closest as Array<{ text: string }>;
    assert.ok(closest.length > 0);
    return true;
  });
  await assert.rejects(groundOn(screen, 'click on the button'), (e) => isForesightError(e, 'GROUNDING_FAILED') && /names no text/.test(e.message));
});

test('actions that need no point are refused; a stopped signal stops', async () => {
  await assert.rejects(
    grounder.ground({ action: { action_type: 'type', step_instruction: 'type hello', text: 'hello' }, observation: screen.observation }, signal),
    (e) => isForesightError(e, 'BAD_INPUT'),
  );
  const stopped = new AbortController();
  stopped.abort();
  await assert.rejects(
    grounder.ground({ action: click("click 'Quit'"), observation: screen.observation }, stopped.signal),
    (e) => isForesightError(e, 'STOPPED'),
  );
});

test('the cache keeps the last frames only, and a grounded frame is read once', async () => {
  const small = new OcrGrounder({ cacheSize: 2 });
  try {
    const frames = await Promise.all(
      ['Alpha', 'Bravo', 'Charlie'].map((word) =>
        renderScreen([{ text: word, box: { x: 10, y: 10, width: 120, height: 28 }, fill: '#ffffff' }], { width: 200, height: 60 }),
      ),
    );
    for (const f of frames) small.perceive(f.observation);
    assert.deepEqual(
      small.cachedFrames(),
      frames.slice(1).map((f) => f.observation.frameId),
    );
    const g = await small.ground({ action: click("click 'Charlie'"), observation: frames[2]!.observation }, signal);
    assertInside(g.point, frames[2]!.box('Charlie'), 'Charlie');
    // the evicted frame is read again when grounded
    await small.ground({ action: click("click 'Alpha'"), observation: frames[0]!.observation }, signal);
    assert.equal(small.stats.recognitions, 4);
  } finally {
    await small.close();
  }
});
