import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alnumKey,
  extractQuoted,
  levenshtein,
  normalizeText,
  rankMatches,
  targetsOf,
  type TextLine,
} from '../../main/grounders/text-match.ts';

/** A line of words laid out left to right, 10 px per character, like OCR would report it. */
function line(text: string, y: number, x = 0, confidence = 95): TextLine {
  let cx = x;
  const words = text.split(' ').map((w) => {
    const box = { text: w, bbox: { x: cx, y, width: w.length * 10, height: 16 }, confidence };
    cx += (w.length + 1) * 10;
    return box;
  });
  return { text, bbox: { x, y, width: cx - x - 10, height: 16 }, confidence, words };
}

test('normalisation: ellipsis, case, diacritics, quotes and spaces', () => {
  assert.equal(normalizeText('Save As…'), normalizeText('save  as...'));
  assert.equal(normalizeText('Préférences'), 'preferences');
  assert.equal(normalizeText('Don’t Save'), "don't save");
  assert.equal(alnumKey('Save As...'), 'save as');
  assert.equal(levenshtein('kitten', 'sitting'), 3);
});

test('quoted labels: single, double, curly, backticks; apostrophes are not quotes', () => {
  assert.deepEqual(extractQuoted("click on 'Save As…'"), ['Save As…']);
  assert.deepEqual(extractQuoted('click "Save As..." in the menu'), ['Save As...']);
  assert.deepEqual(extractQuoted('click “Save”'), ['Save']);
  assert.deepEqual(extractQuoted('click ‘Open’ then `Quit`'), ['Open', 'Quit']);
  assert.deepEqual(extractQuoted("click on Mousepad's 'File' menu"), ['File']);
  assert.deepEqual(extractQuoted("click 'Don't Save'"), ["Don't Save"]);
  assert.deepEqual(extractQuoted("drag 'a.txt' to 'Trash'"), ['a.txt', 'Trash']);
  assert.deepEqual(extractQuoted('click the Save button'), []);
});

test('targets: first quote, drag halves, select value, unquoted words', () => {
  assert.deepEqual(targetsOf("click on 'Save' in the 'File' menu"), { start: { kind: 'quoted', text: 'Save' } });
  assert.deepEqual(targetsOf("drag 'a' to 'b'", { drag: true }), {
    start: { kind: 'quoted', text: 'a' },
    end: { kind: 'quoted', text: 'b' },
  });
  assert.deepEqual(targetsOf('drag the report.txt icon onto the Trash', { drag: true }), {
    start: { kind: 'words', text: 'drag the report.txt icon' },
    end: { kind: 'words', text: 'the Trash' },
  });
  assert.deepEqual(targetsOf('select the font size', { value: '12' }), { start: { kind: 'quoted', text: '12' } });
  assert.deepEqual(targetsOf('click on the button'), {});
  assert.deepEqual(targetsOf('open the file menu'), { start: { kind: 'words', text: 'open the file menu' } });
});

const menu = [
  line('File Edit Search', 0),
  line('New', 30),
  line('Save', 60),
  line('Save As...', 90),
  line('Save All', 120),
  line('Ctrl+N account. You may harm your system.', 30, 200),
];

test('an exact phrase beats a fuzzy one; ties go to the whole, shortest line', () => {
  const save = rankMatches(menu, { kind: 'quoted', text: 'Save' })[0]!;
  assert.equal(save.line, 'Save');
  assert.equal(save.score, 1);
  const saveAs = rankMatches(menu, { kind: 'quoted', text: 'Save As…' })[0]!;
  assert.equal(saveAs.line, 'Save As...');
  assert.equal(saveAs.score, 1);
  const edit = rankMatches(menu, { kind: 'quoted', text: 'Edit' })[0]!;
  assert.equal(edit.text, 'Edit');
  assert.equal(edit.bbox.x, 50, 'the box of the word, not of its line');
  const typo = rankMatches(menu, { kind: 'quoted', text: 'Sace Al' })[0]!;
  assert.equal(typo.line, 'Save All');
  assert.ok(typo.score < 0.9 && typo.score > 0.6);
});

test('exact case wins a tie between two places', () => {
  const lines = [line('save', 0), line('Save', 40)];
  assert.equal(rankMatches(lines, { kind: 'quoted', text: 'Save' })[0]!.bbox.y, 40);
  assert.equal(rankMatches(lines, { kind: 'quoted', text: 'save' })[0]!.bbox.y, 0);
});

test('unquoted instructions match by their content words', () => {
  const top = (text: string) => rankMatches(menu, { kind: 'words', text })[0];
  assert.equal(top('click on Save As in the File menu')?.line, 'Save As...');
  assert.equal(top('click the Save button to save the document')?.line, 'Save');
  assert.equal(top('open the file menu')?.text, 'File');
  assert.equal(top('click the Export button'), undefined, 'stop words alone never match');
  const next = rankMatches([line('Back', 0), line('Next', 0, 100)], { kind: 'words', text: 'click the blue icon next to Firefox' })[0];
  assert.ok(next && next.score < 0.5, 'one word of three is below the OCR grounder\'s 0.5 bar');
});
