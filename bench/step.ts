/**
 * `npm run bench:step` — the non-model overhead of one agent step on a real X desktop:
 * settle + capture + encode (observe), persist (every store write of the step) and the loop
 * itself, with a planner that answers instantly. Each step types one character into Mousepad,
 * so every observation must wait for a real screen change to finish drawing. Then
 * `--after-text` pairs of steps type a letter and press BackSpace: a key right after typed text
 * is paced (it waits until 300 ms after the text, then for a settled screen; see Pacing in
 * main/agent/executor.ts), and that wait is reported on its own line.
 *
 * Usage: npm run bench:step [-- --steps 60 --width 1280 --height 800 --settle-method auto|pixels]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ForecastStep } from '../common/actions.ts';
import { serializeTraceR1 } from '../common/formats/index.ts';
import type { EpisodeStore, Observer } from '../common/ports.ts';
import { DEFAULT_AGENT_CONFIG, runEpisode } from '../main/agent/loop.ts';
import { createDesktop } from '../main/desktop/index.ts';
import { createGrounder } from '../main/grounders/index.ts';
import { ScriptPlanner } from '../main/planners/script-planner.ts';
import { SqliteEpisodeStore } from '../store/index.ts';
import { startXDesktop } from '../test/harness/xdesktop.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '60' },
    'after-text': { type: 'string', default: '10' },
    width: { type: 'string', default: '1280' },
    height: { type: 'string', default: '800' },
    // Settle trade-off: a lower floor is faster but may act before a slow widget is ready.
    'settle-min-ms': { type: 'string' },
    'settle-interval-ms': { type: 'string' },
    'settle-quiet-ms': { type: 'string' },
    // auto: X damage events where available; pixels: the polling rule (to compare).
    'settle-method': { type: 'string', default: 'auto' },
  },
});
const steps = Number(values.steps);
const afterText = Number(values['after-text']);
const width = Number(values.width);
const height = Number(values.height);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1).padStart(6)} ms   p95 ${pct(xs, 95).toFixed(1).padStart(6)} ms`;

const desk = await startXDesktop({ width, height });
process.env.DISPLAY = desk.display;
desk.launch('mousepad', []);
await desk.waitForWindow('Mousepad');
await new Promise((r) => setTimeout(r, 1000));

const dir = mkdtempSync(join(tmpdir(), 'foresight-bench-'));
const plan: ForecastStep[] = Array.from({ length: steps }, (_, i) => ({
  screenshot_abstraction: '',
  action: { action_type: 'type' as const, text: String.fromCharCode(97 + (i % 26)), step_instruction: 'type one letter' },
  status: 'not done' as const,
}));
for (let i = 0; i < afterText; i++) {
  plan.push({ screenshot_abstraction: '', action: { action_type: 'type', text: 'x', step_instruction: 'type a letter' }, status: 'not done' });
  plan.push({ screenshot_abstraction: '', action: { action_type: 'key', keys: ['BackSpace'], step_instruction: 'delete it' }, status: 'not done' });
}
plan.push({ screenshot_abstraction: '', action: { action_type: 'finished', step_instruction: 'done' }, status: 'done' });
writeFileSync(join(dir, 'plan.txt'), serializeTraceR1(plan));

const settle = {
  ...(values['settle-min-ms'] !== undefined ? { minWaitMs: Number(values['settle-min-ms']) } : {}),
  ...(values['settle-interval-ms'] !== undefined ? { intervalMs: Number(values['settle-interval-ms']) } : {}),
  ...(values['settle-quiet-ms'] !== undefined ? { quietMs: Number(values['settle-quiet-ms']) } : {}),
};
const settleMethod = values['settle-method'];
if (settleMethod !== 'auto' && settleMethod !== 'pixels') throw new Error(`--settle-method must be auto or pixels, not ${settleMethod}`);
const desktop = await createDesktop({ settle, settleMethod });
const rule = desktop.settleDetector.describe();
const store = SqliteEpisodeStore.open(join(dir, 'bench.db'));
const planner = new ScriptPlanner(join(dir, 'plan.txt'));
const grounder = createGrounder('none', {});

// Timing decorators around the ports: the loop itself is unchanged.
const observeMs: number[] = [];
const settleWaitMs: number[] = [];
const settled: boolean[] = [];
const framesPerSettle: number[] = [];
const observer: Observer = {
  displays: () => desktop.observer.displays(),
  settle: (signal) => desktop.observer.settle(signal),
  async observe(afterAction, signal) {
    const t0 = performance.now();
    const r = await desktop.observer.observe(afterAction, signal);
    if (afterAction) {
      observeMs.push(performance.now() - t0);
      settleWaitMs.push(r.settle?.waitedMs ?? 0);
      settled.push(r.settle?.settled ?? false);
      framesPerSettle.push(r.settle?.frames ?? 0);
    }
    return r;
  },
};
const persistByStep = new Map<string, number>();
const add = (stepId: string, ms: number) => persistByStep.set(stepId, (persistByStep.get(stepId) ?? 0) + ms);
const timed = <R>(stepId: string, f: () => R): R => {
  const t0 = performance.now();
  const r = f();
  add(stepId, performance.now() - t0);
  return r;
};
const executionSteps = new Map<number, string>();
const timedStore: EpisodeStore = {
  createEpisode: (e) => store.createEpisode(e),
  beginStep: (id, n, o, st) => {
    const t0 = performance.now();
    const stepId = store.beginStep(id, n, o, st);
    add(stepId, performance.now() - t0);
    return stepId;
  },
  recordForecast: (id, a) => timed(id, () => store.recordForecast(id, a)),
  recordGrounding: (id, i, g) => timed(id, () => store.recordGrounding(id, i, g)),
  recordApproval: (id, a) => timed(id, () => store.recordApproval(id, a)),
  recordExecution: (id, x) => timed(id, () => store.recordExecution(id, x)),
  beginExecution: (id, x) => {
    const executionId = timed(id, () => store.beginExecution(id, x));
    executionSteps.set(executionId, id);
    return executionId;
  },
  completeExecution: (executionId, o) => timed(executionSteps.get(executionId) ?? '', () => store.completeExecution(executionId, o)),
  finishEpisode: (id, end) => store.finishEpisode(id, end),
};

const stepStart = new Map<number, number>();
const actionMs = new Map<number, number>();
const plannerMs = new Map<number, number>();
const t0 = performance.now();
const outcome = await runEpisode(
  { ...DEFAULT_AGENT_CONFIG, task: 'bench', maxSteps: plan.length, horizon: 1, maxRepeats: plan.length + 1 },
  {
    observer,
    input: desktop.input,
    planner,
    grounder,
    store: timedStore,
    gate: { review: async () => ({ kind: 'approve' }) },
    onEvent: (e) => {
      if (e.type === 'observation') stepStart.set(e.step, performance.now());
      if (e.type === 'forecast') plannerMs.set(e.step, e.latencyMs);
      if (e.type === 'action') actionMs.set(e.step, e.durationMs);
    },
  },
  new AbortController().signal,
);
const wall = performance.now() - t0;

// A step's non-model overhead: from one observation event to the next, minus the planner call
// and the action itself. What is left: parse, ground, record, settle, capture, encode, persist.
const overhead: number[] = [];
for (let s = 1; s <= steps; s++) {
  const start = stepStart.get(s);
  const next = stepStart.get(s + 1);
  if (start === undefined || next === undefined) continue;
  overhead.push(next - start - (actionMs.get(s) ?? 0) - (plannerMs.get(s) ?? 0));
}
// A key right after typed text: its action time holds the pacing wait.
const keyAfterText: number[] = [];
for (let s = steps + 2; s <= steps + 2 * afterText; s += 2) {
  const ms = actionMs.get(s);
  if (ms !== undefined) keyAfterText.push(ms);
}
const persist = [...persistByStep.values()].slice(0, steps);
const encode = observeMs.map((o, i) => o - (settleWaitMs[i] ?? 0)).slice(0, steps);

console.log(`Foresight step overhead, ${width}x${height}, ${steps} steps typing into Mousepad (planner answers instantly); figures below are of those steps`);
console.log(`settle rule: ${rule}`);
console.log(`episode: ${outcome.status} in ${(wall / 1000).toFixed(1)} s; settled ${settled.filter(Boolean).length}/${settled.length} observations`);
console.log(`settle wait (incl. captures)   ${fmt(settleWaitMs.slice(0, steps))}`);
console.log(`encode after the settle         ${fmt(encode)}   (PNG + hash; with damage events mostly done during the quiet time)`);
console.log(`captures per settle            ${fmt(framesPerSettle.slice(0, steps)).replaceAll(' ms', '   ')}`);
console.log(`observe total                  ${fmt(observeMs.slice(0, steps))}`);
console.log(`persist (all writes of a step) ${fmt(persist)}`);
console.log(`NON-MODEL OVERHEAD PER STEP    ${fmt(overhead)}`);
if (keyAfterText.length > 0) console.log(`key right after typed text     ${fmt(keyAfterText)}   (the action, incl. its pacing wait; ${keyAfterText.length} steps)`);
const mem = process.memoryUsage();
console.log(`memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);

await desktop.close();
store.close();
await desk.stop();
