/**
 * `foresight bench run`: step-level replay of a benchmark through a planner and a grounder,
 * scored by the benchmark's official rules (the suite's `score`) and by our forecast-horizon
 * scoring (stage-1 trajectory reward and accuracy at horizon 1..K against the true future).
 *
 * Teacher forcing, as the papers evaluate: every step is planned from the true history and its
 * own screenshot, never from the model's earlier mistakes, so steps are independent and run
 * `concurrency` at a time.
 *
 * Durability: a run lives in `<out>/run.sqlite` (store/bench-store.ts). Each scored step is one
 * committed row; a crash, `kill -9` or Ctrl-C loses only steps in flight. Running the same
 * command again resumes: finished steps are skipped without asking the planner. A different
 * configuration in the same folder is refused (`fresh` starts over).
 *
 * Errors: a malformed answer is re-asked with the parse error (`retries` times) and then
 * scored as a wrong answer; a grounding failure leaves the action without a point (a miss);
 * an unreachable or failing endpoint is retried with back-off and then ends the run as failed
 * (finished steps kept, resumable) — it says nothing about the model, so it must not be scored.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { actionSchema, describeAction, needsPoint, wireActionSchema, type Action, type Forecast, type ForecastFormat, type ForecastStep } from '../../common/actions.ts';
import { ForesightError, isForesightError, toErrorInfo, type ErrorInfo } from '../../common/errors.ts';
import { parseForecast } from '../../common/formats/index.ts';
import type { Grounder, Grounding, Observation, PlanReply } from '../../common/ports.ts';
import { horizonAccuracy, prototypeReward, trajectoryReward } from '../../common/rewards.ts';
import { abortableSleep } from '../../common/sleep.ts';
import { BenchRunStore, type BenchStepRow } from '../../store/index.ts';
import { createGrounder } from '../grounders/index.ts';
import { createReplayPlanner, type ReplayPlanner } from './planners.ts';
import { renderReport, type ReportMiss } from './report.ts';
import type { RunSummary } from './run-summary.ts';
import { replayGeometry, stepTruth, type LoadOptions, type RunContext, type ReplayStep, type ReplaySuite, type ScoredStep, type StepScore, type StepTruth, type SuiteId } from './suite.ts';
import { getSuite } from './suites/index.ts';

export interface BenchRunOptions {
  suite: SuiteId;
  data: string;
  split?: string;
  mode?: string;
  planner: string;
  grounder: string;
  /** Forecast horizon K asked of the planner and scored. */
  horizon: number;
  limit?: number;
  concurrency: number;
  out: string;
  /** Re-asks after a malformed answer. */
  retries: number;
  apiKey?: string;
  timeoutMs?: number;
  /** Delete what `out` holds and start over. */
  fresh?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BenchProgress) => void;
  /** For tests: the clock. */
  now?: () => number;
}

export interface BenchProgress {
  /** Steps scored, this session and earlier ones. */
  done: number;
  /** Steps the run will have, when known. */
  total: number | undefined;
  /** Steps scored in earlier sessions (skipped now). */
  resumed: number;
  /** Steps per second in this session. */
  rate: number;
  /** Milliseconds left at that rate, when the total is known. */
  etaMs: number | undefined;
}

export interface BenchRunResult {
  summary: RunSummary;
  outDir: string;
  /** summary.json, report.html, answers.jsonl and the suite's own prediction files. */
  files: string[];
  resumedSteps: number;
}

/** The part of the options that makes two runs the same run. */
function runConfig(o: BenchRunOptions, suite: ReplaySuite): Record<string, unknown> {
  return {
    suite: o.suite,
    data: resolve(o.data),
    split: o.split ?? suite.splits[0] ?? null,
    mode: o.mode ?? suite.modes[0] ?? null,
    planner: o.planner,
    grounder: o.grounder,
    horizon: o.horizon,
    limit: o.limit ?? null,
  };
}

/** Endpoint trouble is retried this many times, waiting 1 s, 2 s, 4 s … between tries. */
const ENDPOINT_RETRIES = 3;
const TRANSIENT: ReadonlySet<string> = new Set(['ENDPOINT_UNREACHABLE', 'ENDPOINT_ERROR', 'TIMEOUT']);

export async function runBench(opts: BenchRunOptions): Promise<BenchRunResult> {
  const suite = getSuite(opts.suite);
  if (opts.split !== undefined && suite.splits.length > 0 && !suite.splits.includes(opts.split)) {
    throw new ForesightError('BAD_INPUT', `${suite.title} has no split "${opts.split}"; use one of: ${suite.splits.join(', ')}`);
  }
  if (opts.mode !== undefined && !suite.modes.includes(opts.mode)) {
    throw new ForesightError(
      'BAD_INPUT',
      suite.modes.length ? `${suite.title} has no mode "${opts.mode}"; use one of: ${suite.modes.join(', ')}` : `${suite.title} has no modes`,
    );
  }
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new ForesightError('BAD_INPUT', '--concurrency must be a whole number >= 1');
  if (!Number.isInteger(opts.horizon) || opts.horizon < 1) throw new ForesightError('BAD_INPUT', '--horizon must be a whole number >= 1');
  const now = opts.now ?? Date.now;
  const outDir = resolve(opts.out);
  await mkdir(outDir, { recursive: true });
  if (opts.fresh) await removeRunFile(join(outDir, 'run.sqlite'));

  const config = runConfig(opts, suite);
  const runFile = join(outDir, 'run.sqlite');
  let store = BenchRunStore.open(runFile, { now });
  const previous = store.run();
  if (previous && store.countSteps() === 0 && !sameConfig(previous.config, config) && previous.status !== 'running') {
    // Nothing was scored under the old configuration (a wrong --data, say): nothing to keep.
    store.close();
    await removeRunFile(runFile);
    store = BenchRunStore.open(runFile, { now });
  }
  const planner = await createReplayPlanner(opts.planner, plannerOpts(opts));
  const grounder = createGrounder(opts.grounder, plannerOpts(opts));
  // On the run's clock (not performance.now) so that a test's clock drives the timing as well.
  const sessionStart = now();
  const activeMs = () => Math.max(0, now() - sessionStart);
  let finished = false;
  // Only a session that created or claimed the run may end it: a refused resume must leave
  // another process's run as it is.
  let claimed = false;
  try {
    const existing = store.run();
    if (existing) {
      const diff = configDiff(existing.config, config);
      if (diff.length === 1 && diff[0] === 'limit' && raisesLimit(existing.config.limit, config.limit)) {
        // A smoke test with --limit grows into the full run: the steps done are kept.
        store.setConfig(config);
      } else if (diff.length > 0) {
        const what = diff.map((k) => `${k}: ${JSON.stringify(existing.config[k] ?? null)} there, ${JSON.stringify(config[k])} now`).join('; ');
        throw new ForesightError('BAD_INPUT', `${outDir} holds a run with another configuration (${what}). Use another --out, or --fresh to replace it.`);
      }
      store.claimRun();
    } else {
      store.createRun(randomUUID(), opts.suite, config);
    }
    claimed = true;
    const done = store.doneStepIds();
    const resumed = done.size;
    let total = store.run()?.totalSteps ?? undefined;
    if (total === undefined && suite.count) {
      total = await suite.count(resolve(opts.data), loadOptions(config, opts));
      if (opts.limit !== undefined) total = Math.min(total, opts.limit);
      store.setTotal(total);
    }
    const progress = new ProgressClock(resumed, total, opts.onProgress);
    progress.emit();

    const runner = new StepRunner(suite, planner, grounder, store, opts);
    const steps = suite.load(resolve(opts.data), loadOptions(config, opts));
    const signal = opts.signal ?? new AbortController().signal;
    // Every request in flight listens to the signal (the OpenAI SDK adds one listener each).
    setMaxListeners(Math.max(10, opts.concurrency * 4), signal);
    let seq = 0;
    const seen = new Set<string>();
    const iterator = steps[Symbol.asyncIterator]();
    let failure: unknown;
    // A pool: each worker pulls the next step from the loader (async generators queue next()).
    const worker = async (): Promise<void> => {
      for (;;) {
        if (failure !== undefined || signal.aborted) return;
        const next = await iterator.next();
        if (next.done) return;
        const step = next.value;
        const mySeq = seq++;
        if (seen.has(step.id)) throw new ForesightError('INTERNAL', `The ${suite.title} loader gave step id "${step.id}" twice`);
        seen.add(step.id);
        if (done.has(step.id)) continue;
        try {
          await runner.run(step, mySeq, signal);
          progress.step();
        } catch (e) {
          failure ??= e;
          return;
        }
      }
    };
    const workers = Array.from({ length: opts.concurrency }, () => worker().catch((e: unknown) => void (failure ??= e)));
    await Promise.all(workers);
    await iterator.return?.(undefined);
    if (failure !== undefined || signal.aborted) {
      const stoppedByUser = signal.aborted && (failure === undefined || isForesightError(failure, 'STOPPED'));
      const err = stoppedByUser ? new ForesightError('STOPPED', 'The run was stopped') : failure;
      store.endSession(stoppedByUser ? 'stopped' : 'failed', activeMs(), { error: toErrorInfo(err) });
      finished = true;
      const info = toErrorInfo(err);
      const kept = store.countSteps();
      throw new ForesightError(
        info.code,
        kept > 0
          ? `${info.message}. ${kept} steps are scored and kept in ${outDir}; run the same command again to resume.`
          : TRANSIENT.has(info.code)
            ? `${info.message}. Nothing was scored; run the same command again when the endpoint answers.`
            : info.message,
        info.details,
      );
    }
    if (store.run()?.totalSteps !== seq) store.setTotal(seq);

    const ctx: RunContext = {
      emptyEpisodes: opts.limit === undefined && suite.emptyEpisodes ? await suite.emptyEpisodes(resolve(opts.data), loadOptions(config, opts)) : [],
    };
    const summary = summarizeRun(store, suite, opts, activeMs(), ctx);
    const files = await writeOutputs(store, suite, summary, outDir, ctx);
    store.endSession('finished', activeMs(), { summary });
    finished = true;
    return { summary, outDir, files, resumedSteps: resumed };
  } catch (e) {
    // Anything that ends the session outside the pool (counting the steps, opening the data,
    // writing the outputs) is recorded with its own code, so `bench status` can say what it was.
    if (claimed && !finished) {
      finished = true;
      const info = toErrorInfo(e);
      try {
        store.endSession(info.code === 'STOPPED' ? 'stopped' : 'failed', activeMs(), { error: info });
      } catch {
        // The original error matters more.
      }
    }
    throw e;
  } finally {
    store.close();
    await planner.close?.();
    await grounder.close?.();
  }
}

function configDiff(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return Object.keys(b).filter((k) => JSON.stringify(a[k] ?? null) !== JSON.stringify(b[k] ?? null));
}

/** A higher limit, or none, takes in every step the old one did (loaders yield a stable order). */
function raisesLimit(before: unknown, after: unknown): boolean {
  if (after === null || after === undefined) return true;
  return typeof before === 'number' && typeof after === 'number' && after >= before;
}

function sameConfig(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return configDiff(a, b).length === 0;
}

async function removeRunFile(path: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await rm(path + suffix, { force: true });
}

function loadOptions(config: Record<string, unknown>, opts: BenchRunOptions): LoadOptions {
  return {
    ...(config.split !== null ? { split: config.split as string } : {}),
    ...(config.mode !== null ? { mode: config.mode as string } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
  };
}

function plannerOpts(o: BenchRunOptions): { apiKey?: string; timeoutMs?: number } {
  return {
    ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  };
}

class ProgressClock {
  private doneNow = 0;
  private readonly t0 = performance.now();
  constructor(
    private readonly resumed: number,
    private readonly total: number | undefined,
    private readonly onProgress: ((p: BenchProgress) => void) | undefined,
  ) {}

  step(): void {
    this.doneNow++;
    this.emit();
  }

  emit(): void {
    if (!this.onProgress) return;
    const secs = (performance.now() - this.t0) / 1000;
    const rate = secs > 0 ? this.doneNow / secs : 0;
    const done = this.resumed + this.doneNow;
    const left = this.total !== undefined ? Math.max(0, this.total - done) : undefined;
    this.onProgress({
      done,
      total: this.total,
      resumed: this.resumed,
      rate,
      etaMs: left !== undefined && rate > 0 ? (left / rate) * 1000 : undefined,
    });
  }
}

/** One attempt of the planner, as stored. */
interface AnswerRecord {
  raw: string;
  latencyMs: number;
  error?: ErrorInfo;
}

class StepRunner {
  constructor(
    private readonly suite: ReplaySuite,
    private readonly planner: ReplayPlanner,
    private readonly grounder: Grounder,
    private readonly store: BenchRunStore,
    private readonly opts: BenchRunOptions,
  ) {}

  async run(step: ReplayStep, seq: number, signal: AbortSignal): Promise<void> {
    if (step.future.length === 0) throw new ForesightError('INTERNAL', `The ${this.suite.title} loader gave step ${step.id} no true action`);
    const needsImage = this.planner.needsImage || this.grounder.id !== 'none';
    const observation = needsImage ? await observationOf(step) : blankObservation(step);
    if (needsImage) void this.grounder.perceive?.(observation);

    const answers: AnswerRecord[] = [];
    let forecast: Forecast | undefined;
    let parseError: ErrorInfo | undefined;
    let latency = 0;
    let feedback: string | undefined;
    let lastFormat: ForecastFormat | undefined;
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      const reply = await this.ask(step, observation, feedback, signal);
      latency += reply.latencyMs;
      lastFormat = reply.format;
      try {
        // Read as the prototype's script reads answers (a bad later step is left out), and no point
        // refused for lying off the image: the official scripts score any point.
        forecast = parseForecast(reply.raw, reply.format, { imageWidth: step.image.width, imageHeight: step.image.height, checkRange: false, tolerant: true });
        answers.push({ raw: reply.raw, latencyMs: reply.latencyMs });
        parseError = undefined;
        break;
      } catch (e) {
        if (!isForesightError(e)) throw e;
        parseError = e.toInfo();
        answers.push({ raw: reply.raw, latencyMs: reply.latencyMs, error: parseError });
        feedback = e.message;
        // An answer given elsewhere cannot be re-asked.
        if (!this.planner.needsImage) break;
      }
    }

    let prediction: Action | undefined;
    let grounding: Grounding | undefined;
    let groundingError: ErrorInfo | undefined;
    const first = forecast?.steps[0]?.action;
    if (first) {
      const scoresTarget = this.suite.scoresTarget ? this.suite.scoresTarget(first) : needsPoint(first);
      if (!scoresTarget || this.grounder.id === 'none') {
        // The planner's own points, in the space it wrote them: each suite converts them with its
        // official arithmetic (a trip through pixels here could carry a point across a box edge).
        prediction = first;
      } else {
        try {
          // Grounded as what the benchmark scores: the element the step acts on, whatever its type.
          const target: Action = needsPoint(first) ? first : { action_type: 'click', step_instruction: first.step_instruction };
          grounding = await this.retryEndpoint(() => this.grounder.ground({ action: target, observation }, signal), signal);
          const g = grounding;
          // Through the union: a type without a place for a point (or an end point) drops it.
          prediction = actionSchema.parse({ ...first, point: g.point, ...(first.action_type === 'drag' && g.endPoint ? { end_point: g.endPoint } : {}) });
        } catch (e) {
          if (signal.aborted) throw new ForesightError('STOPPED', 'The run was stopped');
          // A failing grounder endpoint says nothing about the model: stop, do not score a miss.
          if (isForesightError(e) && TRANSIENT.has(e.code)) throw e;
          groundingError = toErrorInfo(e);
          // No point: a miss, whatever the planner pointed at itself.
          const bare: Record<string, unknown> = { ...first };
          delete bare.point;
          delete bare.end_point;
          prediction = actionSchema.parse(bare);
        }
      }
    }

    const truth = stepTruth(step);
    const score = this.suite.score(prediction, truth);
    const K = this.opts.horizon;
    const future = step.future.slice(0, K);
    // A model's TraceR1 answer gets the prototype's reward on its very text (gui.py's reading:
    // skipped steps, partial format credit). Other formats have no such script, and the oracle's
    // answer is our own writing of the truth (its points are JSON objects, which gui.py's
    // `{[^}]+}` cannot read): both are scored parsed.
    const lastAnswer = answers[answers.length - 1];
    const reward =
      lastAnswer !== undefined && lastFormat === 'tracer1' && this.planner.id !== 'oracle'
        ? prototypeReward(lastAnswer.raw, future)
        : trajectoryReward(forecast?.steps, future);
    const horizon = horizonAccuracy(forecast?.steps, future, K).map((v) => (v === undefined ? null : v));
    this.store.recordStep({
      stepId: step.id,
      seq,
      episodeId: step.episodeId,
      stepIndex: step.index,
      truth,
      future,
      answers,
      forecast,
      parseError,
      grounding,
      groundingError,
      prediction,
      score,
      horizon,
      reward: reward.reward,
      rewardAccuracy: reward.accuracy,
      plannerLatencyMs: this.planner.needsImage ? latency : null,
    });
  }

  private async ask(step: ReplayStep, observation: Observation, feedback: string | undefined, signal: AbortSignal): Promise<PlanReply> {
    const request = this.planner.needsImage
      ? {
          instruction: step.instruction,
          observation,
          history: step.history,
          horizon: this.opts.horizon,
          stepNumber: step.index + 1,
          ...(feedback !== undefined ? { feedback } : {}),
        }
      : undefined;
    return this.retryEndpoint(() => this.planner.plan(step, { horizon: this.opts.horizon, ...(request ? { request } : {}) }, signal), signal);
  }

  /** Endpoint trouble is retried with back-off; a fault a retry cannot cure (a 401, say) is not. */
  private async retryEndpoint<T>(call: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new ForesightError('STOPPED', 'The run was stopped');
      try {
        return await call();
      } catch (e) {
        if (signal.aborted) throw new ForesightError('STOPPED', 'The run was stopped');
        if (!isForesightError(e) || !TRANSIENT.has(e.code) || e.details?.retryable === false || attempt >= ENDPOINT_RETRIES) throw e;
        await abortableSleep(1000 * 2 ** attempt, signal, () => new ForesightError('STOPPED', 'The run was stopped'));
      }
    }
  }
}

/** PNG bytes of a step's screenshot (JPEG and others are converted), as the planner is sent it. */
async function observationOf(step: ReplayStep): Promise<Observation> {
  let bytes: Uint8Array;
  try {
    bytes = await step.image.read();
  } catch (e) {
    if (isForesightError(e)) throw e;
    throw new ForesightError('BAD_INPUT', `Cannot read the screenshot of step ${step.id}: ${(e as Error).message}`);
  }
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  let png = bytes;
  if (!isPng) {
    try {
      png = await sharp(bytes).png({ compressionLevel: 2 }).toBuffer();
    } catch (e) {
      throw new ForesightError('BAD_INPUT', `The screenshot of step ${step.id} is not an image sharp can read: ${(e as Error).message}`);
    }
  }
  return { ...blankObservation(step), png };
}

/** An observation with the step's geometry and no pixels: enough for planners and grounders that never look. */
function blankObservation(step: ReplayStep): Observation {
  const { width, height } = step.image;
  return {
    frameId: step.id,
    png: new Uint8Array(0),
    geometry: replayGeometry(width, height),
    raw: { width: 0, height: 0, channels: 4, order: 'rgba', data: new Uint8Array(0) },
    capturedAt: 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Summary and outputs

function scoredOf(rows: readonly BenchStepRow[]): ScoredStep[] {
  return rows.map((r) => ({
    ...(r.truth as StepTruth),
    prediction: storedAction(r.prediction, r.stepId, 'prediction'),
    score: r.score as StepScore,
  }));
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function summarizeRun(store: BenchRunStore, suite: ReplaySuite, opts: BenchRunOptions, sessionMs: number, ctx?: RunContext): RunSummary {
  const run = store.run();
  if (!run) throw new ForesightError('INTERNAL', 'No run to summarise');
  const rows = store.steps();
  const scored = scoredOf(rows);
  const K = opts.horizon;
  const horizon = Array.from({ length: K }, (_, i) => {
    let hits = 0;
    let count = 0;
    for (const r of rows) {
      const v = (r.horizon as (number | null)[])[i];
      if (v === null || v === undefined) continue;
      count++;
      hits += v;
    }
    return { k: i + 1, accuracy: count ? hits / count : null, count };
  });
  const latencies = rows
    .map((r) => r.plannerLatencyMs)
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
  // The earlier sessions as recorded, and this one as measured until now.
  const wallMs = run.activeMs - run.sessionMs + sessionMs;
  const cfg = run.config;
  return {
    version: 1,
    run: {
      id: run.id,
      suite: suite.id,
      title: suite.title,
      data: String(cfg.data),
      ...(cfg.split ? { split: String(cfg.split) } : {}),
      ...(cfg.mode ? { mode: String(cfg.mode) } : {}),
      planner: opts.planner,
      grounder: opts.grounder,
      horizon: K,
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      concurrency: opts.concurrency,
      startedAt: new Date(run.startedAt).toISOString(),
      finishedAt: new Date((opts.now ?? Date.now)()).toISOString(),
    },
    steps: {
      total: rows.length,
      scored: rows.length,
      unparsed: rows.filter((r) => r.forecast === undefined).length,
      failed: rows.filter((r) => r.groundingError !== undefined).length,
    },
    suite: suite.summarize(scored, ctx),
    forecast: {
      horizon,
      reward: {
        mean: mean(rows.map((r) => r.reward)),
        accuracy: mean(rows.map((r) => r.rewardAccuracy)),
        count: rows.length,
      },
    },
    timing: {
      wallMs,
      sessions: run.sessions,
      stepsPerSecond: wallMs > 0 ? rows.length / (wallMs / 1000) : 0,
      plannerLatencyMs: latencies.length ? { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) } : null,
    },
  };
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/**
 * An action kept in run.sqlite, read as the union (rows of older releases keep their old
 * spellings, see wireActionSchema); a row that is not an action is reported, not guessed at.
 */
function storedAction(v: unknown, stepId: string, column: string): Action | undefined {
  if (v === undefined || v === null) return undefined;
  const r = wireActionSchema.safeParse(v);
  if (r.success) return r.data;
  throw new ForesightError('STORE_CORRUPT', `run.sqlite: the ${column} of step ${stepId} is not an action: ${r.error.issues[0]?.message ?? ''}`, { stepId });
}

/** Wrong steps listed in report.html. */
const REPORT_MISSES = 50;

function missOf(r: BenchStepRow): ReportMiss {
  const truth = storedAction((r.future as { action?: unknown }[] | undefined)?.[0]?.action, r.stepId, 'future');
  const prediction = storedAction(r.prediction, r.stepId, 'prediction');
  const why =
    (r.parseError as ErrorInfo | undefined)?.message ?? (r.groundingError as ErrorInfo | undefined)?.message ?? (r.score as StepScore | undefined)?.reason;
  return {
    id: r.stepId,
    truth: truth ? describeAction(truth) : '—',
    prediction: prediction ? describeAction(prediction) + (why ? ` (${why})` : '') : `no usable answer${why ? `: ${why}` : ''}`,
  };
}

async function writeOutputs(store: BenchRunStore, suite: ReplaySuite, summary: RunSummary, outDir: string, ctx: RunContext): Promise<string[]> {
  const rows = store.steps();
  const files: string[] = [];
  const answersPath = join(outDir, 'answers.jsonl');
  const lines = rows.map((r) => {
    const answers = r.answers as AnswerRecord[];
    const last = answers[answers.length - 1];
    return JSON.stringify({ id: r.stepId, answer: last?.raw ?? '' });
  });
  await writeFile(answersPath, lines.join('\n') + (lines.length ? '\n' : ''));
  files.push(answersPath);
  const predDir = join(outDir, 'predictions');
  await mkdir(predDir, { recursive: true });
  files.push(...(await suite.writePredictions(scoredOf(rows), predDir, ctx)));
  const summaryPath = join(outDir, 'summary.json');
  await writeFile(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  files.push(summaryPath);
  const reportPath = join(outDir, 'report.html');
  const wrong = rows.filter((r) => !(r.score as StepScore).success);
  await writeFile(
    reportPath,
    renderReport(summary, {
      predictionsFiles: files.filter((f) => f.startsWith(predDir)).map((f) => f.slice(outDir.length + 1)),
      misses: wrong.slice(0, REPORT_MISSES).map(missOf),
      missCount: wrong.length,
    }),
  );
  files.push(reportPath);
  return files;
}

export type { ForecastStep };
