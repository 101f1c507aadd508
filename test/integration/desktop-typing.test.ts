/**
 * Exact Unicode typing on X11: the desktop adapter types non-ASCII letters, CJK, symbols and
 * every shifted punctuation mark into Mousepad (a GTK app), then saves through ctrl+s and the
 * Save As dialog, typing the path; the saved file holds exactly the text.
 * (nut.js alone turns the same line into "Gre, nave caf 42 <tag. 7 done ".)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshHomeEnv, startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import type { Desktop } from '../../main/desktop/index.ts';
import { DEFAULT_TYPING_DEBOUNCE_MS, executeAction, type Pacing } from '../../main/agent/executor.ts';

let desk: XDesktop;
let desktop: Desktop;
let dir: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const t0 = Date.now(); !check(); await sleep(50)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
  }
}

before(async () => {
  desk = await startXDesktop();
  // nut.js and uiohook open process.env.DISPLAY on first use.
  process.env.DISPLAY = desk.display;
  const { createDesktop } = await import('../../main/desktop/index.ts');
  desktop = await createDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-typing-'));
});

after(async () => {
  // Before the X server goes: nut.js's X connection must be closed while it still answers.
  await desktop?.close();
  await desk?.stop();
});

const LINE = 'Grüße, naïve café 42 <tag> & "done" 你好 — ½ ✓';
const PUNCTUATION = '~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./';


async function typeIntoMousepadAndSave(text: string, file: string): Promise<string> {
  const app = desk.launch('mousepad', [], freshHomeEnv());
  const exited = new Promise((r) => app.once('exit', r));
  try {
    await desk.waitForWindow('Untitled 1 - Mousepad');
    await desktop.settleDetector.settle();
    await desktop.input.type(text);
    await desktop.input.hotkey(['ctrl', 's']);
    await desk.waitForWindow('Save As');
    await desktop.settleDetector.settle();
    // As the agent does, with its pacing: the dialog checks a typed name ~150–220 ms after the
    // last key (greying out its Save button, fading it in again until ~450 ms) and drops an
    // Enter pressed before that, while the screen looks still.
    const signal = new AbortController().signal;
    const pacing: Pacing = { settle: (sig) => desktop.observer.settle(sig), typingDebounceMs: DEFAULT_TYPING_DEBOUNCE_MS };
    await executeAction({ action_type: 'type', text: file, step_instruction: 'type the path' }, {}, desktop.input, signal, pacing);
    await desktop.observer.settle(signal);
    await executeAction({ action_type: 'key', keys: ['Return'], step_instruction: 'save' }, {}, desktop.input, signal, pacing);
    await waitFor(`${file} to be written`, () => existsSync(file) && readFileSync(file, 'utf8').length > 0);
    return readFileSync(file, 'utf8');
  } finally {
    app.kill();
    await exited;
  }
}

test('types Unicode and shifted punctuation into Mousepad exactly; the saved file holds the text', async () => {
  const text = `${LINE} ${PUNCTUATION}`;
  const saved = await typeIntoMousepadAndSave(text, join(dir, 'line.txt'));
  assert.equal(saved, text);
});

test('newlines become Enter and tabs Tab; CJK beyond the spare keycodes is still exact', async () => {
  // More distinct characters than an X keymap has spare keycodes, so bindings are recycled.
  const cjk = Array.from({ length: 60 }, (_, i) => String.fromCodePoint(0x4e00 + i * 37)).join('');
  const text = `first line\n\tindented ✓\nÅngström ${cjk}\nlast`;
  const saved = await typeIntoMousepadAndSave(text, join(dir, 'lines.txt'));
  assert.equal(saved, text);
});
