/**
 * Issue 15, acceptance 2: while the agent is busy with a pathological answer, the kill switch
 * stops the run within 200 ms, and Ctrl+C ends `foresight run` with exit code 130.
 *
 * A fake OpenAI-compatible endpoint answers with a run of 3,000 spaces inside the answer (the
 * input that took the old parser seconds); so that the figure measures the design and not the
 * parser of the day, the agent is also made to compute synchronously for 10 s after the answer
 * (FORESIGHT_TEST_BUSY_PLAN_MS, main/cli/test-hooks.ts): its event loop is blocked throughout.
 * Then the kill switch is pulled, as a person would:
 * - hotkey: ctrl+alt+k pressed with xdotool on the X display;
 * - SIGINT: what Ctrl+C in a terminal does, the signal to every process of the foreground job
 *   (here: the supervisor and the agent).
 * Figures per trigger: the delay until the agent process is gone (the run can no longer act),
 * the delay until `foresight run` has exited, its exit code, and how the episode is recorded.
 *
 * RELIABILITY_SCALE=full: 10 trials per trigger; ci: 3. Exits 1 when a limit is broken.
 */
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { startCli } from '../harness/cli.ts';
import { startFakeOpenAI } from '../harness/fake-openai.ts';
import { startXDesktop } from '../harness/xdesktop.ts';
import { monotonicMs, openXKeyLog } from '../harness/x-key-log.ts';
import { RELIABILITY_SCALE } from '../harness/reliability.ts';

const FULL = RELIABILITY_SCALE === 'full';
const TRIALS = FULL ? 10 : 3;
const STOP_LIMIT_MS = 200;
const BUSY_MS = 10_000;
/** After the answer has been sent, the agent is given this long to be deep in its work. */
const SETTLE_INTO_BUSY_MS = 400;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PATHOLOGICAL = '<think>x</think><answer>\nx' + ' '.repeat(3000) + 'x\n</answer>';

type Trigger = 'hotkey' | 'SIGINT';
interface Trial {
  trigger: Trigger;
  stopMs: number;
  exitMs: number;
  code: number | null;
  status: string | undefined;
  summary: string | undefined;
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(pid)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Whether the process can still act: not gone, not a zombie, not exiting (PF_EXITING in the
 * flags of /proc/<pid>/stat) and no SIGKILL pending. A process with SIGKILL pending never runs
 * its own code again, however long the kernel takes to tear it down on a loaded machine.
 */
function acting(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || (Number(fields[6]) & 0x4) !== 0) return false;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const pending = [...status.matchAll(/^(?:ShdPnd|SigPnd):\s*([0-9a-f]+)$/gm)].some((m) => (BigInt(`0x${m[1]}`) & 0x100n) !== 0n);
    return !pending;
  } catch {
    return false;
  }
}

const desk = await startXDesktop();
// The hotkey goes to a window that logs the X server's time of each key: the delay is counted
// from the moment the key was pressed, not from when xdotool was started or has exited.
const keyLog = await openXKeyLog(desk.display, 'keylog');
const keyLogWindow = await desk.waitForWindow('^keylog$');
const dir = mkdtempSync(join(tmpdir(), 'foresight-killswitch-'));
let answered: (() => void) | undefined;
const server = await startFakeOpenAI(() => {
  answered?.();
  return PATHOLOGICAL;
});
const trials: Trial[] = [];
let unseen = 0;
try {
  for (let i = 0; i < TRIALS * 2; i++) {
    const trigger: Trigger = i % 2 === 0 ? 'hotkey' : 'SIGINT';
    const db = join(dir, `trial-${i}.db`);
    const gotAnswer = new Promise<void>((r) => (answered = r));
    const run = startCli(
      ['run', 'Anything', '--planner', `openai:${server.baseURL}#busy`, '--grounder', 'none', '--db', db, '--json', '--kill-key', 'ctrl+alt+k'],
      { ...desk.env, FORESIGHT_TEST_BUSY_PLAN_MS: String(BUSY_MS) },
    );
    const exited = new Promise<number>((r) => run.child.on('exit', () => r(monotonicMs())));
    await Promise.race([gotAnswer, run.done.then((res) => Promise.reject(new Error(`the run ended before it asked the model (exit ${res.code}):\n${res.stdout}\n${res.stderr}`)))]);
    await sleep(SETTLE_INTO_BUSY_MS);
    const supervisor = run.child.pid!;
    const agents = childPids(supervisor).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('foresight');
      } catch {
        return false;
      }
    });
    if (agents.length !== 1) throw new Error(`expected one agent process under the supervisor, found ${agents.length}`);
    const agent = agents[0]!;
    if (trigger === 'hotkey') await desk.focusWindow(keyLogWindow);
    let t0 = monotonicMs();
    const pressesBefore = keyLog.presses().length;
    if (trigger === 'hotkey') {
      desk.x('xdotool', ['key', 'ctrl+alt+k']);
    } else {
      process.kill(supervisor, 'SIGINT');
      process.kill(agent, 'SIGINT');
    }
    while (acting(agent) && monotonicMs() - t0 < 15_000) await sleep(1);
    const stoppedAt = monotonicMs();
    if (trigger === 'hotkey') {
      // Without the key in the log (Xvfb now and then stops delivering XTEST keys to windows
      // for the rest of its session, see desktop-kill-switch.test.ts), count from before
      // xdotool started: an upper bound.
      const k = keyLog.presses().slice(pressesBefore).find((p) => p.char === 'k');
      if (k) t0 = k.time;
      else unseen++;
    }
    const stopMs = stoppedAt - t0;
    const res = await run.done;
    const exitMs = (await exited) - t0;
    let status: string | undefined;
    const store = SqliteEpisodeStore.open(db);
    try {
      status = store.listEpisodes({ limit: 1 })[0]?.status;
    } finally {
      store.close();
    }
    const last = res.stdout.trim().split('\n').at(-1) ?? '';
    let summary: string | undefined;
    try {
      const s = JSON.parse(last) as { type?: string; status?: string };
      summary = s.type === 'summary' ? s.status : undefined;
    } catch {
      summary = undefined;
    }
    trials.push({ trigger, stopMs, exitMs, code: res.code, status, summary });
    process.stderr.write(`  ${trigger}: agent gone after ${stopMs.toFixed(0)} ms, exit ${res.code} after ${exitMs.toFixed(0)} ms, episode ${status}, summary ${summary}\n`);
  }
} finally {
  keyLog.close();
  await server.close();
  await desk.stop();
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
let broken = false;
console.log(`kill switch while the agent is busy (${BUSY_MS / 1000} s of synchronous work after a ${PATHOLOGICAL.length}-character pathological answer)`);
console.log('  trigger  trials  stop p50  stop max  exit p50  exit max  exit code  episode  summary');
for (const trigger of ['hotkey', 'SIGINT'] as const) {
  const ts = trials.filter((t) => t.trigger === trigger);
  const stops = ts.map((t) => t.stopMs);
  const exits = ts.map((t) => t.exitMs);
  const codes = [...new Set(ts.map((t) => String(t.code)))].join(',');
  const statuses = [...new Set(ts.map((t) => String(t.status)))].join(',');
  const summaries = [...new Set(ts.map((t) => String(t.summary)))].join(',');
  console.log(
    `  ${trigger.padEnd(7)}  ${String(ts.length).padStart(6)}  ${pct(stops, 0.5).toFixed(0).padStart(5)} ms  ${Math.max(...stops).toFixed(0).padStart(5)} ms  ${pct(exits, 0.5).toFixed(0).padStart(5)} ms  ${Math.max(...exits).toFixed(0).padStart(5)} ms  ${codes.padStart(9)}  ${statuses.padEnd(7)}  ${summaries}`,
  );
  if (Math.max(...stops) > STOP_LIMIT_MS || ts.some((t) => t.code !== 130 || t.status !== 'stopped' || t.summary !== 'stopped')) broken = true;
}
if (unseen > 0) console.log(`  (${unseen} hotkey presses did not reach the key log: their delay counts from before xdotool started)`);
console.log(`  limits: stop ≤ ${STOP_LIMIT_MS} ms, exit code 130, episode and summary "stopped"${broken ? ' — BROKEN' : ''}`);
process.exit(broken ? 1 : 0);
