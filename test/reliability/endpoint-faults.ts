/**
 * Reliability: the endpoint fault matrix (issue 15, acceptance 3). For each fault a real
 * `foresight run` (on its own Xvfb: the run observes the screen before it asks the model) talks
 * to the fake endpoint speaking that fault over real HTTP, with a short --timeout and
 * --retries 1. Printed per fault: the exit code, the error code and fault, the time from the
 * request's start to the end of the episode, and whether that stayed within
 * timeout × attempts + back-off + margin. Exits non-zero when a fault ends as anything but
 * ENDPOINT_ERROR (exit 1) or runs past its bound.
 *
 * RELIABILITY_SCALE=ci: every fault against the planner, the stall and the HTML page against
 * the grounder, four runs at a time. full: every fault against both, each twice, one at a time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '../harness/cli.ts';
import { closedPortURL, startFakeOpenAI, type Reply } from '../harness/fake-openai.ts';
import { startXDesktop } from '../harness/xdesktop.ts';
import { RELIABILITY_SCALE } from '../harness/reliability.ts';

const scale = RELIABILITY_SCALE;
const TIMEOUT_MS = 1000;
const RETRIES = 1;
const ATTEMPTS = RETRIES + 1;
/** The client waits 1 s before its one retry. */
const BACKOFF_MS = 1000;
/** Recording the failure, timers on a loaded machine (2 cores shared with other work). */
const MARGIN_MS = 1500;
const BOUND_MS = TIMEOUT_MS * ATTEMPTS + BACKOFF_MS + MARGIN_MS;

interface Fault {
  name: string;
  /** What the fake answers; undefined: nothing listens (a closed port). */
  reply: Reply | undefined;
}

const FAULTS: Fault[] = [
  { name: 'headers, then stall', reply: { fault: 'stall' } },
  { name: 'slow-drip body', reply: { fault: 'drip', bytesPerTick: 4, tickMs: 100 } },
  { name: 'truncated JSON', reply: { fault: 'truncated' } },
  { name: 'HTML with 200', reply: { fault: 'html' } },
  { name: 'empty choices', reply: { fault: 'empty_choices' } },
  { name: 'null content', reply: { fault: 'null_content' } },
  { name: '500 + JSON error', reply: { status: 500, body: { error: { message: 'CUDA out of memory', type: 'server_error' } } } },
  { name: '503 + JSON error', reply: { status: 503, body: { error: { message: 'The model is loading', type: 'unavailable' } } } },
  { name: 'reset mid-body', reply: { fault: 'reset' } },
  { name: 'refused (closed port)', reply: undefined },
];

const GROUNDER_CI = new Set(['headers, then stall', 'HTML with 200']);

interface Row {
  fault: string;
  target: 'planner' | 'grounder';
  exit: number | null;
  code: string;
  detail: string;
  ms: number;
  requests: number;
  ok: boolean;
  message: string;
}

const CLICK_PLAN = `<think>One click.</think>
<answer>
Step 1: "screenshot_abstraction": "An empty desktop", "action": {"action_type": "click", "step_instruction": "click on 'OK'"}, "status": "not done"
</answer>`;

async function runOne(fault: Fault, target: Row['target'], dir: string, env: NodeJS.ProcessEnv, i: number): Promise<Row> {
  let current: Reply = 'unused';
  const server = await startFakeOpenAI(() => current);
  let baseURL = server.baseURL;
  if (fault.reply === undefined) {
    await server.close();
    baseURL = await closedPortURL();
  } else {
    current = fault.reply;
  }
  const planFile = join(dir, 'click.txt');
  writeFileSync(planFile, CLICK_PLAN);
  const endpoint = target === 'planner' ? `openai:${baseURL}#faulty-planner` : `openai:${baseURL}#ui-tars-7b`;
  const args = [
    'run',
    'Click OK',
    '--planner',
    target === 'planner' ? endpoint : `script:${planFile}`,
    '--grounder',
    target === 'planner' ? 'none' : endpoint,
    '--db',
    join(dir, `run-${i}.db`),
    '--timeout',
    String(TIMEOUT_MS),
    '--retries',
    String(RETRIES),
    '--json',
  ];
  try {
    const run = startCli(args, env);
    // The planner is asked right after the first observation; the grounder right after the forecast.
    // (A run that never gets there is timed from now and fails below by its code.)
    await run.waitForLine(target === 'planner' ? /"type":"observation"/ : /"type":"forecast"/, 60_000).catch(() => undefined);
    const t0 = performance.now();
    // Timed to the episode's end (the fault's cost), not to the process exit (closing the desktop).
    const end = await run.waitForLine(/"type":"episode_end"/, 60_000).then(
      () => performance.now(),
      () => Number.POSITIVE_INFINITY,
    );
    const res = await run.done;
    const ms = end - t0;
    let code = '(none)';
    let detail = '';
    let message = res.stderr.trim().split('\n').at(-1) ?? '';
    const last = res.stdout.trim().split('\n').at(-1) ?? '';
    try {
      const summary = JSON.parse(last) as { error?: { code?: string; message?: string; details?: { fault?: unknown } } };
      code = summary.error?.code ?? '(none)';
      detail = typeof summary.error?.details?.fault === 'string' ? summary.error.details.fault : '';
      message = summary.error?.message ?? message;
    } catch {
      // No summary line: the row says so through its code.
    }
    const requests = fault.reply === undefined ? 0 : server.requests.length;
    const ok = res.code === 1 && code === 'ENDPOINT_ERROR' && ms <= BOUND_MS && !res.stderr.includes('handles were left open');
    return { fault: fault.name, target, exit: res.code, code, detail, ms, requests, ok, message };
  } finally {
    await server.close().catch(() => undefined);
  }
}

async function main(): Promise<number> {
  const desk = await startXDesktop({ windowManager: false });
  const dir = mkdtempSync(join(tmpdir(), 'foresight-endpoint-faults-'));
  const rows: Row[] = [];
  try {
    const plan: Array<{ fault: Fault; target: Row['target'] }> = [];
    const rounds = scale === 'full' ? 2 : 1;
    for (let r = 0; r < rounds; r++) {
      for (const fault of FAULTS) plan.push({ fault, target: 'planner' });
      for (const fault of FAULTS) if (scale === 'full' || GROUNDER_CI.has(fault.name)) plan.push({ fault, target: 'grounder' });
    }
    // Nothing acts on the screen in these runs (every fault comes before an action), so in ci
    // four share the desktop at once to stay within the time CI gives; full runs one at a time.
    const parallel = scale === 'ci' ? 4 : 1;
    let next = 0;
    const results: Row[] = new Array<Row>(plan.length);
    const worker = async (): Promise<void> => {
      while (next < plan.length) {
        const i = next++;
        const p = plan[i]!;
        results[i] = await runOne(p.fault, p.target, dir, desk.env, i);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    rows.push(...results);
  } finally {
    await desk.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`endpoint fault matrix (${scale}): --timeout ${TIMEOUT_MS} --retries ${RETRIES}; bound = ${TIMEOUT_MS} ms × ${ATTEMPTS} attempts + ${BACKOFF_MS} ms back-off + ${MARGIN_MS} ms margin = ${BOUND_MS} ms`);
  console.log(`${pad('fault', 24)}${pad('endpoint', 10)}${pad('exit', 6)}${pad('error', 16)}${pad('details.fault', 16)}${pad('requests', 10)}${pad('time to fail', 14)}within bound`);
  for (const r of rows) {
    console.log(
      `${pad(r.fault, 24)}${pad(r.target, 10)}${pad(String(r.exit), 6)}${pad(r.code, 16)}${pad(r.detail, 16)}${pad(String(r.requests), 10)}${pad(`${Math.round(r.ms)} ms`, 14)}${r.ok ? 'yes' : 'NO'}`,
    );
  }
  console.log('what the user is told:');
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.fault}/${r.target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    console.log(`  ${pad(`${r.fault} (${r.target})`, 36)} ${r.message.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')}`);
  }
  const bad = rows.filter((r) => !r.ok);
  const worst = Math.max(...rows.map((r) => r.ms));
  console.log(`${rows.length - bad.length} of ${rows.length} faults ended as ENDPOINT_ERROR (exit 1) within the bound; slowest ${Math.round(worst)} ms`);
  return bad.length === 0 ? 0 : 1;
}

process.exitCode = await main();
