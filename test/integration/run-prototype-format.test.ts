/**
 * Answers written as the TraceR1 prototype's prompt asks (issue 14 point 6): every action holds
 * only `action_type` and `step_instruction`; the scroll direction and the text to type are in the
 * words. `foresight run` reads them there and acts: the wheel turns the way the instruction says
 * (xev sees the X buttons), and the text quoted in the instruction is what Mousepad saves.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { runCli } from '../harness/cli.ts';

let desk: XDesktop;
let dir: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-proto-'));
});
after(async () => {
  await desk.stop();
});

/** A prototype-format answer: each step's action is {"action_type", "step_instruction"} only. */
function protoPlan(steps: [type: string, instruction: string][]): string {
  const lines = steps.map(
    ([type, instruction], i) =>
      `Step ${i + 1}: "screenshot_abstraction": "the screen", "action": ${JSON.stringify({ action_type: type, step_instruction: instruction })}, "status": "${i === steps.length - 1 ? 'done' : 'not done'}"`,
  );
  return `<think>As the prototype writes it.</think>\n<answer>\n${lines.join('\n')}\n</answer>`;
}

test('a scroll whose direction is only in its instruction turns the wheel that way', async () => {
  let events = '';
  const xev: ChildProcess = spawn('xev', ['-geometry', '400x300+100+100', '-event', 'button'], { env: desk.env, stdio: ['ignore', 'pipe', 'ignore'] });
  xev.stdout!.on('data', (d: Buffer) => (events += d.toString()));
  try {
    await desk.waitForWindow('Event Tester');
    desk.x('xdotool', ['mousemove', '300', '250']);
    await sleep(300);
    const planFile = join(dir, 'scroll.txt');
    writeFileSync(
      planFile,
      protoPlan([
        ['scroll', 'scroll down to reveal the rest of the list'],
        ['scroll', 'scroll left to see the first column'],
        ['finished', 'the list has been looked through'],
      ]),
    );
    const res = await runCli(['run', 'Look through the list', '--planner', `script:${planFile}`, '--grounder', 'none', '--db', join(dir, 'scroll.db'), '--json'], desk.env);
    assert.equal(res.code, 0, `foresight run failed:\n${res.stdout}\n${res.stderr}`);
    for (let i = 0; i < 50 && [...events.matchAll(/ButtonPress event/g)].length < 2; i++) await sleep(50);
    const buttons = [...events.matchAll(/ButtonPress event[^]*?button (\d+)/g)].map((m) => Number(m[1]));
    // X buttons 5: wheel down, 6: wheel left (each notch one press).
    assert.ok(buttons.length >= 2, `xev saw ${events}`);
    assert.equal(buttons[0], 5);
    assert.equal(buttons.at(-1), 6);
    assert.deepEqual([...new Set(buttons)], [5, 6]);
  } finally {
    xev.kill();
  }
});

test('an input_text whose text is only quoted in its instruction types that text (saved by Mousepad)', async () => {
  desk.launch('mousepad', []);
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await sleep(500);
  const line = 'Prototype says "hello", naïve café 42 & ½';
  const target = join(dir, 'proto-line.txt');
  const planFile = join(dir, 'type.txt');
  writeFileSync(
    planFile,
    protoPlan([
      ['input_text', `type '${line}' in the document`],
      ['click', "click on 'File' in the menu bar"],
      ['click', "click on 'Save As…' in the File menu"],
      ['input_text', `type '${target}' in the Name field`],
      ['key', 'press Enter to save'],
      ['finished', 'the line is saved'],
    ]).replace('{"action_type":"key","step_instruction":"press Enter to save"}', '{"action_type":"key","keys":["enter"],"step_instruction":"press Enter to save"}'),
  );
  const res = await runCli(['run', 'Type the line and save it', '--planner', `script:${planFile}`, '--grounder', 'ocr', '--db', join(dir, 'type.db'), '--json'], desk.env);
  assert.equal(res.code, 0, `foresight run failed:\n${res.stdout}\n${res.stderr}`);
  for (let i = 0; i < 50 && !existsSync(target); i++) await sleep(100);
  assert.equal(readFileSync(target, 'utf8'), line);
});
