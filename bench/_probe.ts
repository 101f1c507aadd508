/**
 * `npm run bench:step` — the overhead of one agent step on a real X desktop that the model's
 * time does not hide: from the end of one action to the start of the next, minus the time of
 * the model request whose forecast was acted on. It holds settle + capture + encode (observe),
 * persist (every store write of the step), the stale check and the loop itself. The planner
 * answers after `--model-ms` (0: at once; it listens to the abort signal, as an endpoint's
 * client does, so speculation can cancel it). Each step types one character into Mousepad, so
 * every observation must wait for a real screen change to finish drawing. Then `--after-text`
 * pairs of steps type a letter and press BackSpace: a key right after typed text is paced (it
 * waits until 300 ms after the text, then for a settled screen; see Pacing in
 * main/agent/executor.ts), and that wait is reported on its own line.
 *
 * Safety is checked from outside the loop: a second X connection listens to damage events, and
 * at each action the bench counts drawing (larger than a caret) since the acted-on frame was
 * captured — an action on a stale forecast — and actions whose observation did not settle.
 *
 * Usage: npm run bench:step [-- --steps 60 --model-ms 500 --speculate on|off --capture-after-ms 30 --width 1280 --height 800 --settle-method auto|pixels]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ForecastStep } from '../common/actions.ts';
import { serializeTraceR1 } from '../common/formats/index.ts';
import { abortableSleep } from '../common/sleep.ts';
import { ForesightError } from '../common/errors.ts';
import type { EpisodeStore, Input, Observation, Observer, Planner } from '../common/ports.ts';
import { DEFAULT_AGENT_CONFIG, runEpisode } from '../main/agent/loop.ts';
import { createDesktop, X11Damage } from '../main/desktop/index.ts';
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
    // How long the screen must be quiet before the speculative capture (SettleOptions.captureAfterMs).
    'capture-after-ms': { type: 'string' },
    // auto: X damage events where available; pixels: the polling rule (to compare).
    'settle-method': { type: 'string', default: 'auto' },
    // How long the model thinks (a real endpoint: hundreds of ms to seconds).
    'model-ms': { type: 'string', default: '0' },
    speculate: { type: 'string', default: 'on' },
    // host: X tools run by a small tool-host process, as a supervised agent's are; self: by this process.
    tools: { type: 'string', default: 'host' },
    capture: { type: 'string', default: 'shm' },
  },
});
const modelMs = Number(values['model-ms']);
if (!(modelMs >= 0)) throw new Error(`--model-ms must be a number of milliseconds, not ${values['model-ms']}`);
if (values.speculate !== 'on' && values.speculate !== 'off') throw new Error(`--speculate must be on or off, not ${values.speculate}`);
const speculate = values.speculate === 'on';
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
  ...(values['capture-after-ms'] !== undefined ? { captureAfterMs: Number(values['capture-after-ms']) } : {}),
};
const settleMethod = values['settle-method'];
if (settleMethod !== 'auto' && settleMethod !== 'pixels') throw new Error(`--settle-method must be auto or pixels, not ${settleMethod}`);
const desktop = await createDesktop({ settle, settleMethod, tools: values.tools === 'self' ? 'self' : 'host' });
const rule = desktop.settleDetector.describe();
if (values.capture === 'libnut') desktop.screen.useShm(undefined, 'bench');
const capMs: number[] = [];
const sc = desktop.screen as any; const origCap = sc.capture.bind(sc); sc.capture = async (id?: string) => { const a = performance.now(); const r = await origCap(id); capMs.push(performance.now() - a); return r; };
const store = SqliteEpisodeStore.open(join(dir, 'bench.db'));
const script = new ScriptPlanner(join(dir, 'plan.txt'));
// The model: answers after modelMs, unless the request is aborted first. Its latency is the
// whole request as the loop waited for it.
let requests = 0;
const reqTimes: { at: number; capturedAt: number }[] = [];
const inputEndWall: number[] = [];
let cancelled = 0;
/** The last request that answered: when it was sent and when it answered. */
let answered = { start: 0, end: 0 };
const planner: Planner = {
  id: script.id,
  format: script.format,
  async plan(req, signal) {
    requests++;
    const t0 = performance.now();
    reqTimes.push({ at: Date.now(), capturedAt: req.observation.capturedAt });
    try {
      await abortableSleep(modelMs, signal, () => new ForesightError('STOPPED', 'request aborted'));
    } catch (e) {
      cancelled++;
      throw e;
    }
    const reply = await script.plan(req, signal);
    answered = { start: t0, end: performance.now() };
    return { ...reply, latencyMs: answered.end - t0 };
  },
};
const grounder = createGrounder('none', {});

// Timing decorators around the ports: the loop itself is unchanged.
const observeMs: number[] = [];
const settleWaitMs: number[] = [];
const settled: boolean[] = [];
const framesPerSettle: number[] = [];
const observations = new Map<string, Observation>();
const observer: Observer = {
  displays: () => desktop.observer.displays(),
  settle: (signal) => desktop.observer.settle(signal),
  changesSince: (o, signal) => desktop.observer.changesSince(o, signal),
  async observe(afterAction, signal, opts) {
    const t0 = performance.now();
    const r = await desktop.observer.observe(afterAction, signal, opts);
    observations.set(r.observation.frameId, r.observation);
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

// An independent witness of the screen: its own X connection to the damage events.
const witness = process.env.DISPLAY && settleMethod === 'auto' ? await X11Damage.open(process.env.DISPLAY) : undefined;
const caret = { width: 4, height: 48 };
let actedFrame: Observation | undefined;
let actedSettled = true;
let actionsOnChangedScreen = 0;
let actionsUnsettled = 0;
const inputStart: number[] = [];
const inputEnd: number[] = [];
/** Every input call of one action: the first one's start and the last one's end are the action's. */
const timedInput = <A extends unknown[]>(f: (...a: A) => Promise<void>) =>
  async (...a: A): Promise<void> => {
    if (actedFrame) {
      // The first input of an action on this frame: did anything draw since it was captured?
      const drawn = witness?.eventsSince(actedFrame.capturedAt).filter((e) => e.rect.width > caret.width || e.rect.height > caret.height) ?? [];
      if (drawn.length > 0) actionsOnChangedScreen++;
      if (!actedSettled) actionsUnsettled++;
      actedFrame = undefined;
      inputStart.push(performance.now());
    }
    await f(...a);
    inputEnd[inputStart.length - 1] = performance.now();
    inputEndWall[inputStart.length - 1] = Date.now();
  };
const di = desktop.input;
const input: Input = {
  move: timedInput((p) => di.move(p)),
  click: timedInput((p, b, c) => di.click(p, b, c)),
  longPress: timedInput((p, ms) => di.longPress(p, ms)),
  drag: timedInput((a, b) => di.drag(a, b)),
  scroll: timedInput((p, d, n) => di.scroll(p, d, n)),
  type: timedInput((t, sig) => di.type(t, sig)),
  hotkey: timedInput((k) => di.hotkey(k)),
  releaseAll: () => di.releaseAll(),
};

const stepStart = new Map<number, number>();
const actionMs = new Map<number, number>();
const plannerMs = new Map<number, number>();
/** The model time of the forecast each action came from, in the order of the actions. */
const actedModelMs: number[] = [];
const actedRequest: Array<{ start: number; end: number }> = [];
let stale = 0;
const t0 = performance.now();
const outcome = await runEpisode(
  { ...DEFAULT_AGENT_CONFIG, task: 'bench', maxSteps: plan.length, horizon: 1, maxRepeats: plan.length + 1, speculate },
  {
    observer,
    input,
    planner,
    grounder,
    store: timedStore,
    gate: { review: async () => ({ kind: 'approve' }) },
    onEvent: (e) => {
      if (e.type === 'observation') {
        stepStart.set(e.step, performance.now());
        actedFrame = observations.get(e.frameId);
        actedSettled = e.settle?.settled ?? true;
      }
      if (e.type === 'stale') stale++;
      if (e.type === 'forecast') {
        plannerMs.set(e.step, e.latencyMs);
        actedModelMs.push(e.latencyMs);
        actedRequest.push(answered);
      }
      if (e.type === 'action') actionMs.set(e.step, e.durationMs);
    },
  },
  new AbortController().signal,
);
const wall = performance.now() - t0;

// A step's overhead the model does not hide: from the end of one action to the start of the
// next, minus the model time of the forecast the next action came from. What is left: settle,
// capture, encode, persist, parse, ground, the stale check — whatever of it is not overlapped
// with the model. (One forecast per action here: no stale ones; checked below.)
const overhead: number[] = [];
const stepTime: number[] = [];
const requestLag: number[] = [];
const afterAnswer: number[] = [];
for (let a = 1; a < Math.min(steps, inputStart.length); a++) {
  const gap = inputStart[a]! - inputEnd[a - 1]!;
  stepTime.push(gap);
  overhead.push(gap - (actedModelMs[a] ?? 0));
  const r = actedRequest[a];
  if (r) {
    requestLag.push(r.start - inputEnd[a - 1]!);
    afterAnswer.push(inputStart[a]! - r.end);
  }
}
// A key right after typed text: its action time holds the pacing wait.
const keyAfterText: number[] = [];
for (let s = steps + 2; s <= steps + 2 * afterText; s += 2) {
  const ms = actionMs.get(s);
  if (ms !== undefined) keyAfterText.push(ms);
}
const persist = [...persistByStep.values()].slice(0, steps);
const encode = observeMs.map((o, i) => o - (settleWaitMs[i] ?? 0)).slice(0, steps);

console.log(`Foresight step overhead, ${width}x${height}, ${steps} steps typing into Mousepad (the model answers after ${modelMs} ms; speculation ${speculate ? 'on' : 'off'}); figures below are of those steps`);
console.log(`capture: ${desktop.screen.captureMethod}; memory warm ${(desktop.screen as any).shm?.memory.warm} cold ${(desktop.screen as any).shm?.memory.cold}`);
console.log(`settle rule: ${rule}; speculative capture after ${desktop.settleDetector.options.captureAfterMs} ms of quiet`);
console.log(`episode: ${outcome.status} in ${(wall / 1000).toFixed(1)} s; settled ${settled.filter(Boolean).length}/${settled.length} observations`);
console.log(`capture call                     ${fmt(capMs)}`);
console.log(`settle wait (incl. captures)   ${fmt(settleWaitMs.slice(0, steps))}`);
console.log(`encode after the settle         ${fmt(encode)}   (PNG + hash; with damage events mostly done during the quiet time)`);
console.log(`captures per settle            ${fmt(framesPerSettle.slice(0, steps)).replaceAll(' ms', '   ')}`);
console.log(`observe total                  ${fmt(observeMs.slice(0, steps))}`);
console.log(`persist (all writes of a step) ${fmt(persist)}`);
console.log(`step time (action to action)   ${fmt(stepTime)}`);
console.log(`STEP TIME MINUS MODEL TIME     ${fmt(overhead)}   (the overhead the model does not hide)`);
console.log(`  of which: action → request   ${fmt(requestLag)}   (the acted-on request sent; negative: before the action ended, impossible)`);
console.log(`            answer → action    ${fmt(afterAnswer)}   (parse, ground, persist, stale check; the settle when the model was quicker)`);
console.log(`model requests: ${requests}, cancelled by speculation ${cancelled} (${requests ? ((100 * cancelled) / requests).toFixed(1) : '0.0'}%); stale forecasts ${stale}`);
console.log(
  `actions on a screen that drew after the acted-on frame: ${witness ? actionsOnChangedScreen : 'n/a (no damage events)'}; on an unsettled observation: ${actionsUnsettled}; of ${inputStart.length} actions`,
);
if (keyAfterText.length > 0) console.log(`key right after typed text     ${fmt(keyAfterText)}   (the action, incl. its pacing wait; ${keyAfterText.length} steps)`);
for (let a = 1; a < Math.min(12, inputEndWall.length); a++) {
  const end = inputEndWall[a - 1]!;
  const ev = witness?.eventsSince(end - 5).filter((e) => e.at < end + 300).map((e) => `${e.at - end}:${e.rect.width}x${e.rect.height}@${e.rect.x},${e.rect.y}`) ?? [];
  const rq = reqTimes.filter((r) => r.at > end && r.at < end + 1000).map((r) => `req ${r.at - end} (captured ${r.capturedAt - end})`);
  console.log(`action ${a}: ${rq.join(', ')} | damage ${ev.join(' ')}`);
}
const mem = process.memoryUsage();
console.log(`memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);

await witness?.close();
await desktop.close();
store.close();
await desk.stop();
