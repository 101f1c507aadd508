/**
 * Issue 11, acceptance 3: `foresight run … --grounder som:<dir>` completes a task on Xvfb
 * using marks. A window of three buttons is put at a known place; a detector is generated
 * whose boxes lie over them (with duplicates for NMS to drop, a weak box to filter and an
 * element without text); a script plan says "click mark 2", then quotes a label (found through
 * the OCR text merged into the detector's mark), then "click mark 1". The window records where
 * it was clicked: each click must land on the right button, at its box's centre.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { makeDetector, rowsFor, type ScreenBox } from '../fixtures/som/detector.ts';
import { runCli } from '../harness/cli.ts';
import { openButtonBoard, type ButtonBoard } from '../harness/x-button-board.ts';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';

let desk: XDesktop;
let board: ButtonBoard;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-som-run-'));
  board = await openButtonBoard(desk.display, {
    x: 160,
    y: 120,
    width: 820,
    height: 320,
    buttons: [
      { name: 'Alpha', x: 40, y: 60, width: 200, height: 70 },
      { name: 'Beta', x: 310, y: 60, width: 200, height: 70 },
      { name: 'Gamma', x: 580, y: 60, width: 200, height: 70 },
    ],
    captions: [{ text: 'Press the buttons in order', x: 40, y: 250 }],
  });
});
after(async () => {
  board.close();
  await desk.stop();
});

const q = (s: string) => JSON.stringify(s);
const step = (n: number, instruction: string, status = 'not done') =>
  `Step ${n}: "screenshot_abstraction": "three buttons", "action": {"action_type": "click", "step_instruction": ${q(instruction)}}, "status": ${q(status)}`;

test('a script plan naming marks presses the right buttons through som:<dir>', async () => {
  const screen = { width: desk.width, height: desk.height };
  const S = 640;
  const [alpha, beta, gamma] = ['Alpha', 'Beta', 'Gamma'].map((n) => board.screenBox(n)) as [ReturnType<ButtonBoard['screenBox']>, ReturnType<ButtonBoard['screenBox']>, ReturnType<ButtonBoard['screenBox']>];
  const shifted = (b: typeof alpha, d: number) => ({ x1: b.x1 + d, y1: b.y1 + d, x2: b.x2 + d, y2: b.y2 + d });
  const boxes: ScreenBox[] = [
    { ...alpha, scores: [0.91] },
    { ...beta, scores: [0.88] },
    { ...gamma, scores: [0.86] },
    { ...shifted(beta, 4), scores: [0.6] }, // duplicates NMS must drop
    { ...shifted(alpha, -3), scores: [0.55] },
    { x1: 900, y1: 360, x2: 940, y2: 400, scores: [0.7] }, // an element without text, below the buttons
    { x1: 600, y1: 600, x2: 700, y2: 650, scores: [0.1] }, // too weak
  ];
  const detector = makeDetector(join(dir, 'detector'), { size: S, rows: rowsFor(boxes, screen, S), classes: ['icon'], confidence: 0.3, iou: 0.5 });
  const plan = join(dir, 'plan.txt');
  writeFileSync(
    plan,
    `<think>Three buttons are marked 1, 2 and 3 from the left.</think>\n<answer>\n${[
      step(1, 'click mark 2'),
      step(2, "click on 'Gamma'"),
      step(3, 'click mark 1', 'done'),
    ].join('\n')}\n</answer>`,
  );
  const db = join(dir, 'episodes.db');

  const res = await runCli(['run', 'Press Beta, Gamma, then Alpha', '--planner', `script:${plan}`, '--grounder', `som:${detector}`, '--db', db, '--json'], desk.env);
  assert.equal(res.code, 0, `foresight run failed:\n${res.stdout}\n${res.stderr}`);

  const presses = board.presses();
  assert.deepEqual(
    presses.map((p) => p.button),
    ['Beta', 'Gamma', 'Alpha'],
    'each click landed on the button the step named',
  );
  for (const [p, b] of [
    [presses[0]!, beta],
    [presses[1]!, gamma],
    [presses[2]!, alpha],
  ] as const) {
    assert.ok(Math.abs(p.x - (b.x1 + b.x2) / 2) <= 1 && Math.abs(p.y - (b.y1 + b.y2) / 2) <= 1, `the click at ${p.x},${p.y} is the centre of the button's mark`);
  }

  const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { status: string; episodeId: string };
  assert.equal(summary.status, 'finished');
  const store = SqliteEpisodeStore.open(db);
  try {
    const ep = store.getEpisode(summary.episodeId);
    assert.equal(ep.grounder, `som:${detector}`);
    assert.deepEqual(
      ep.steps.map((s) => s.groundings[0]?.detail),
      ['mark 2 "Beta"', `'Gamma' → mark 3 "Gamma"`, 'mark 1 "Alpha"'],
      'the labels OCR read inside the buttons are the marks\' text',
    );
    const prompt = ep.steps[0]?.forecasts[0]?.prompt?.user ?? '';
    assert.match(prompt, /mark 1: "Alpha"\nmark 2: "Beta"\nmark 3: "Gamma"\n/, 'the marks the planner was shown are kept with its forecast');
    assert.match(prompt, /mark \d: "[^"\n]*buttons[^"\n]*"/, 'text outside every box is a mark of its own');
    assert.match(prompt, /mark \d: icon/, 'the element without text is marked too');
  } finally {
    store.close();
  }
});
