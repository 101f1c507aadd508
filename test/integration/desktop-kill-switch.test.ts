/**
 * The kill switch stops typing at once: a long text is being typed into an xterm whose program
 * records the arrival time of every character; the global hotkey (pressed from outside with
 * xdotool, as a person would) or trigger() stops it, typing throws STOPPED, and the last
 * character arrives within 200 ms.
 *
 * The hotkey case runs the adapter in a child process: uiohook's library keeps an X
 * connection open until process exit, and this test's X server stops before that.
 *
 * Then `foresight run` under its supervisor (main/cli/supervisor.mjs): Ctrl+C stops an agent
 * whose event loop is blocked; kill -9 of the command takes the agent and its xdotool with it
 * and leaves no key pressed; a finished run says nothing on stderr.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KEY_RECORDER_PY } from '../harness/key-recorder.ts';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { runCli, startCli } from '../harness/cli.ts';
import { startFakeOpenAI } from '../harness/fake-openai.ts';
import { openXKeyLog } from '../harness/x-key-log.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import type { Desktop } from '../../main/desktop/index.ts';
import { isForesightError } from '../../common/errors.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DESKTOP_MODULE = new URL('../../main/desktop/index.ts', import.meta.url).href;
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let desk: XDesktop;
let desktop: Desktop;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  process.env.DISPLAY = desk.display;
  const { createDesktop } = await import('../../main/desktop/index.ts');
  desktop = await createDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-kill-'));
  writeFileSync(join(dir, 'recorder.py'), KEY_RECORDER_PY);
});

after(async () => {
  await desktop?.close();
  await desk?.stop();
});


const LONG = 'the quick brown fox jumps over the lazy dog '.repeat(50);

function arrivals(log: string): number[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => Number(l.split(' ')[0]));
}

/** Starts a recording xterm; resolves once it receives keys. */
async function startRecorder(name: string): Promise<string> {
  const log = join(dir, `${name}.log`);
  desk.launch('xterm', ['-T', name, '-e', 'python3', join(dir, 'recorder.py'), log]);
  // Typing goes to the focused window: the xterm of the previous test may still hold the focus.
  await desk.focusWindow(await desk.waitForWindow(name));
  await sleep(500); // python starts and puts the terminal in raw mode
  return log;
}

async function waitForTyping(log: string, chars: number, typing?: Promise<unknown>): Promise<void> {
  let outcome = 'still typing';
  void typing?.then(
    (v) => (outcome = `typing ended with ${String(v)}`),
    (e: unknown) => (outcome = `typing failed: ${String(e)}`),
  );
  for (let i = 0; arrivals(log).length < chars; i++) {
    if (i > 400) throw new Error(`Typing did not start: ${arrivals(log).length} characters arrived (${outcome})`);
    await sleep(25);
  }
}

/** What the child process prints when its typing ends. */
interface ChildOutcome {
  error: string | null;
  reason: string | null;
}

const CHILD = `
const { createDesktop } = await import(${JSON.stringify(DESKTOP_MODULE)});
const desktop = await createDesktop({ killHotkey: 'ctrl+alt+k' });
const kill = desktop.killSwitch;
kill.start();
process.on('SIGINT', () => kill.trigger('SIGINT'));
let error = null;
try {
  await desktop.input.type(process.env.FORESIGHT_TEXT, kill.signal);
} catch (e) {
  error = e.code ?? String(e);
}
await desktop.close();
process.stdout.write(JSON.stringify({ error, reason: kill.reason ?? null }) + '\\n');
`;

function startTypingChild(text: string): Promise<ChildOutcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: REPO,
    env: { ...process.env, DISPLAY: desk.display, FORESIGHT_TEXT: text },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<ChildOutcome>((resolve, reject) =>
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as ChildOutcome);
      } catch {
        reject(new Error(`typing child exited with ${code}:\n${stdout}\n${stderr}`));
      }
    }),
  );
}

// The in-process test runs first: after the hotkey test (xdotool pressing ctrl+alt+k while
// another process types), the Xvfb keyboard now and then stops delivering XTEST keys to any
// window for the rest of that X session (about 1 run in 8; the window has the focus, the
// keymap and modifiers are intact). Each test file has its own X server, so nothing else sees it.
test('trigger() (what SIGINT calls) stops typing within 200 ms; typing throws STOPPED', async (t) => {
  const log = await startRecorder('recorder-trigger');
  const kill = desktop.killSwitch;
  kill.rearm();
  const heard: string[] = [];
  kill.onTrigger((reason) => heard.push(reason));
  const typing = desktop.input.type(LONG, kill.signal);
  const stoppedTyping = typing.then(
    () => undefined,
    (e: unknown) => e,
  );
  await waitForTyping(log, 40, stoppedTyping);
  const triggeredAt = Date.now();
  kill.trigger('SIGINT');
  const error = await stoppedTyping;
  await sleep(300);
  const times = arrivals(log);
  const last = Math.max(...times);
  t.diagnostic(`${times.length} of ${LONG.length} characters typed; last one ${last - triggeredAt} ms after trigger()`);
  assert.ok(isForesightError(error, 'STOPPED'), `typing ended with ${String(error)}`);
  assert.deepEqual(heard, ['SIGINT']);
  assert.equal(kill.reason, 'SIGINT');
  assert.ok(kill.signal.aborted);
  assert.ok(times.length < LONG.length, 'typing did not finish');
  assert.ok(last - triggeredAt <= 200, `last character arrived ${last - triggeredAt} ms after trigger()`);
});

test('the global hotkey (pressed with xdotool) stops typing within 200 ms; typing throws STOPPED', async (t) => {
  const log = await startRecorder('recorder-hotkey');
  const typing = startTypingChild(LONG);
  await waitForTyping(log, 40);
  const pressedAt = Date.now();
  await run('xdotool', ['key', 'ctrl+alt+k'], { env: desk.env });
  const outcome = await typing;
  await sleep(300); // anything still on its way arrives now
  const times = arrivals(log);
  const last = Math.max(...times);
  t.diagnostic(`${times.length} of ${LONG.length} characters typed; last one ${last - pressedAt} ms after the hotkey`);
  assert.equal(outcome.error, 'STOPPED');
  assert.equal(outcome.reason, 'hotkey ctrl+alt+k');
  assert.ok(times.length < LONG.length, 'typing did not finish');
  assert.ok(last - pressedAt <= 200, `last character arrived ${last - pressedAt} ms after the hotkey`);
});

// ------------------------------------------------------------- the supervisor of `foresight run`

const plan = (steps: string[]) => `<answer>\n${steps.map((s, i) => `Step ${i + 1}: "screenshot_abstraction": "", "action": ${s}, "status": "${i === steps.length - 1 ? 'done' : 'not done'}"`).join('\n')}\n</answer>`;

test('a finished `foresight run` prints nothing on stderr', async () => {
  const planFile = join(dir, 'wait.txt');
  writeFileSync(planFile, plan(['{"action_type": "wait", "duration_ms": 10, "step_instruction": "wait"}']));
  const res = await runCli(['run', 'Wait', '--planner', `script:${planFile}`, '--grounder', 'none', '--db', join(dir, 'quiet.db'), '--json'], desk.env);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '');
});

test('Ctrl+C stops an agent whose event loop is blocked: exit 130, the episode recorded as stopped', async () => {
  const server = await startFakeOpenAI(() => '<answer>\nx' + ' '.repeat(3000) + 'x\n</answer>');
  const db = join(dir, 'busy.db');
  try {
    // The agent computes for 20 s after the answer, without ever yielding (test-hooks.ts).
    const run = startCli(['run', 'Anything', '--planner', `openai:${server.baseURL}#busy`, '--grounder', 'none', '--db', db, '--json'], {
      ...desk.env,
      FORESIGHT_TEST_BUSY_PLAN_MS: '20000',
    });
    for (let i = 0; server.requests.length === 0; i++) {
      assert.ok(i < 600 && run.child.exitCode === null, `the agent never asked the model:\n${run.lines.join('\n')}`);
      await sleep(50);
    }
    await sleep(500);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const res = await run.done;
    assert.ok(Date.now() - t0 < 10_000, 'the run ended long before the agent would have looked up');
    assert.equal(res.code, 130, res.stderr);
    const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { type: string; status: string; error: { code: string } };
    assert.deepEqual([summary.type, summary.status, summary.error.code], ['summary', 'stopped', 'STOPPED']);
    const store = SqliteEpisodeStore.open(db);
    try {
      const [ep] = store.listEpisodes({ limit: 1 });
      assert.equal(ep?.status, 'stopped');
    } finally {
      store.close();
    }
    assert.deepEqual(processesNaming(db), [], 'no process of the run is left');
  } finally {
    await server.close();
  }
});

test('kill -9 of `foresight run` while it types: the agent and xdotool die with it, no key stays pressed', async () => {
  const log = await openXKeyLog(desk.display, 'keylog-kill9');
  try {
    await desk.focusWindow(await desk.waitForWindow('^keylog-kill9$'));
    const planFile = join(dir, 'letters.txt');
    writeFileSync(planFile, plan([`{"action_type": "type", "text": "${'q'.repeat(2000)}", "step_instruction": "type"}`]));
    const db = join(dir, 'kill9-typing.db');
    const run = startCli(['run', 'Type', '--planner', `script:${planFile}`, '--grounder', 'none', '--db', db, '--json'], desk.env);
    for (let i = 0; log.presses().length < 40; i++) {
      assert.ok(i < 1200 && run.child.exitCode === null, `typing did not start:\n${run.lines.join('\n')}`);
      await sleep(25);
    }
    run.child.kill('SIGKILL');
    await run.done;
    await sleep(500);
    assert.deepEqual(processesNaming(db), [], 'the agent died with the supervisor');
    const settled = log.presses().length;
    // A key pressed and never released would repeat from ~660 ms on.
    await sleep(1200);
    assert.equal(log.presses().length, settled, 'no key arrives any more');
    assert.ok(settled < 2000, 'typing did not finish');
  } finally {
    log.close();
  }
});

/** Pids of processes whose command line holds `text` (a run's database path names its processes). */
function processesNaming(text: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
