/**
 * onnxruntime sessions for the model worker: one per model file and options, opened on the
 * fastest provider that can run here (falling back, with the reason kept), warmed up once, and
 * fed one run at a time.
 *
 * Why one run at a time: onnxruntime already spreads one run over the intra-op threads, so two
 * concurrent runs of the same session only compete for those cores (and double the arena's
 * memory); a queue keeps the latency of each run predictable and lets a caller that gave up
 * (a new screenshot arrived, the user pressed stop) leave the queue before costing anything.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ForesightError, isForesightError } from '../common/errors.ts';
import { planProviders, probeProviders, PROVIDER_LABEL, threadCounts, type ProviderId, type ProviderProbe, type ProviderReport } from './providers.ts';

export { ProviderReportSchema, type ProviderId, type ProviderReport } from './providers.ts';
export type Tensor = ort.Tensor;
export type Feeds = Record<string, ort.Tensor>;
export type Fetches = Record<string, ort.Tensor>;

export type WarmupType = 'float32' | 'int64' | 'int32' | 'uint8';

/** A zero-filled input of this shape per graph input, run once at open (the manifest's `warmup`). */
export type WarmupShapes = Record<string, { dims: number[]; type?: WarmupType }>;

export interface SessionOptions {
  /** Providers to try, in order (default: the platform's preference). */
  providers?: ProviderId[];
  /** Fall back to the next provider and finally CPU (default true); false: PROVIDER_UNAVAILABLE instead. */
  fallback?: boolean;
  warmup?: WarmupShapes;
  /** Overrides the default (cores − 1, at least 1). */
  intraOpThreads?: number;
}

export interface RunOptions {
  /** Aborting it drops a queued run; a run already inside onnxruntime finishes, but its caller is answered at once. */
  signal?: AbortSignal;
}

/** The seam to onnxruntime, so a test can stand in for a provider that cannot run here. */
export type CreateSession = (path: string, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;

const defaultCreate: CreateSession = (path, options) => ort.InferenceSession.create(path, options);

const cancelled = (signal: AbortSignal) =>
  isForesightError(signal.reason) ? signal.reason : new ForesightError('STOPPED', 'The model run was cancelled before it started');

function zeros(type: WarmupType, dims: number[]): ort.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  switch (type) {
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(n), dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(n), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(n), dims);
    case 'uint8':
      return new ort.Tensor('uint8', new Uint8Array(n), dims);
    default: {
      const never: never = type;
      throw new Error(`unknown tensor type ${String(never)}`);
    }
  }
}

export class ModelSession {
  readonly path: string;
  readonly provider: ProviderId;
  readonly reasons: readonly string[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs finished, and the most that were ever inside onnxruntime at once (1: the queue holds). */
  readonly stats = { runs: 0, cancelled: 0, maxConcurrent: 0 };
  #session: ort.InferenceSession;
  #tail: Promise<unknown> = Promise.resolve();
  #inside = 0;
  #queued = 0;
  #released = false;

  constructor(path: string, session: ort.InferenceSession, provider: ProviderId, reasons: string[]) {
    this.path = path;
    this.#session = session;
    this.provider = provider;
    this.reasons = reasons;
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
  }

  /** Runs waiting for their turn (not counting the one inside onnxruntime). */
  get queued(): number {
    return this.#queued;
  }

  describe(): ProviderReport {
    return { provider: this.provider, reasons: [...this.reasons] };
  }

  /** Queues one run; runs of this session never overlap. */
  run(feeds: Feeds, opts: RunOptions = {}): Promise<Fetches> {
    const { signal } = opts;
    if (signal?.aborted) {
      this.stats.cancelled++;
      return Promise.reject(cancelled(signal));
    }
    if (this.#released) return Promise.reject(new ForesightError('INTERNAL', `The session of ${this.path} was closed`));
    this.#queued++;
    const turn = this.#tail.then(async () => {
      this.#queued--;
      if (signal?.aborted) {
        this.stats.cancelled++;
        throw cancelled(signal);
      }
      this.#inside++;
      this.stats.maxConcurrent = Math.max(this.stats.maxConcurrent, this.#inside);
      try {
        return await this.#session.run(feeds);
      } finally {
        this.#inside--;
        this.stats.runs++;
      }
    });
    // The next run waits for this one however it ends.
    this.#tail = turn.catch(() => undefined);
    if (signal === undefined) return turn;
    return new Promise<Fetches>((resolvePromise, reject) => {
      // Answer the caller now. A queued run then sees the aborted signal at its turn and is
      // skipped; one already inside onnxruntime finishes and its result is dropped.
      const onAbort = () => reject(cancelled(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      turn.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolvePromise(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  async warmup(shapes: WarmupShapes): Promise<void> {
    const feeds: Feeds = {};
    for (const name of this.inputNames) {
      const shape = shapes[name];
      if (shape === undefined) {
        throw new ForesightError('MODEL_INVALID', `${this.path}: no warm-up shape for the graph input "${name}" (the manifest names ${Object.keys(shapes).join(', ') || 'none'})`);
      }
      feeds[name] = zeros(shape.type ?? 'float32', shape.dims);
    }
    await this.run(feeds);
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.#tail;
    await this.#session.release();
  }
}

/** A string that is the same for equal options, whatever order their keys came in. */
function optionsKey(o: SessionOptions): string {
  const warmup = o.warmup ? Object.keys(o.warmup).sort().map((k) => [k, o.warmup![k]]) : null;
  return JSON.stringify([o.providers ?? null, o.fallback ?? true, warmup, o.intraOpThreads ?? null]);
}

export interface SessionManagerOptions {
  /** The machine's providers (default: probed once, at the first open). */
  probe?: ProviderProbe | (() => Promise<ProviderProbe>);
  create?: CreateSession;
}

/**
 * Opens and caches sessions. The cache key is the model file (its real path, size and
 * modification time, so a replaced file gets a new session) and the options.
 */
export class SessionManager {
  #cache = new Map<string, Promise<ModelSession>>();
  #probe: Promise<ProviderProbe> | undefined;
  readonly #probeSource: ProviderProbe | (() => Promise<ProviderProbe>);
  readonly #create: CreateSession;

  constructor(opts: SessionManagerOptions = {}) {
    this.#probeSource = opts.probe ?? probeProviders;
    this.#create = opts.create ?? defaultCreate;
  }

  probe(): Promise<ProviderProbe> {
    const src = this.#probeSource;
    this.#probe ??= typeof src === 'function' ? src() : Promise.resolve(src);
    return this.#probe;
  }

  open(modelPath: string, opts: SessionOptions = {}): Promise<ModelSession> {
    const path = resolve(modelPath);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return Promise.reject(new ForesightError('MODEL_INVALID', `${path} is missing`, { file: path }));
    }
    const key = `${path}\0${stat.size}\0${stat.mtimeMs}\0${optionsKey(opts)}`;
    let entry = this.#cache.get(key);
    if (entry === undefined) {
      entry = this.#openUncached(path, opts);
      this.#cache.set(key, entry);
      // A failed open is not cached: the user may fix the file or the driver and try again.
      entry.catch(() => this.#cache.delete(key));
    }
    return entry;
  }

  async #openUncached(path: string, opts: SessionOptions): Promise<ModelSession> {
    const probe = await this.probe();
    const fallback = opts.fallback ?? true;
    const plan = planProviders(probe, opts.providers, fallback);
    const reasons = [...plan.reasons];
    if (plan.order.length === 0) {
      const wanted = (opts.providers ?? []).map((p) => PROVIDER_LABEL[p]).join(', ');
      throw new ForesightError('PROVIDER_UNAVAILABLE', `${wanted} cannot run here: ${reasons.join('; ')}`, { reason: reasons.join('; '), providers: opts.providers ?? [] });
    }
    const threads = threadCounts(probe.cores);
    const base: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: opts.intraOpThreads ?? threads.intraOp,
      interOpNumThreads: threads.interOp,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Warnings (e.g. "some nodes were not assigned to the preferred provider") are normal; errors still reach stderr.
      logSeverityLevel: 3,
      // Idle threads sleep instead of spinning: on a desktop of two cores a spinning pool takes the
      // CPU from the apps the agent operates (measured with PP-OCR, docs/ARCHITECTURE.md).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    for (const provider of plan.order) {
      let session: ort.InferenceSession;
      try {
        session = await this.#create(path, { ...base, executionProviders: [provider] });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (provider === 'cpu') {
          // CPU is compiled in: if it cannot load the file, the file is the problem.
          throw new ForesightError('MODEL_INVALID', `${path} cannot be loaded by onnxruntime: ${msg}`, { file: path }, { cause: e });
        }
        reasons.push(`${PROVIDER_LABEL[provider]}: ${msg.split('\n')[0]}`);
        continue;
      }
      const managed = new ModelSession(path, session, provider, reasons);
      if (opts.warmup !== undefined) {
        try {
          await managed.warmup(opts.warmup);
        } catch (e) {
          await managed.release();
          if (isForesightError(e)) throw e;
          const msg = e instanceof Error ? e.message : String(e);
          throw new ForesightError('MODEL_INVALID', `${path}: the warm-up run on zero inputs failed: ${msg}`, { file: path }, { cause: e });
        }
      }
      return managed;
    }
    const reason = reasons.join('; ');
    throw new ForesightError('PROVIDER_UNAVAILABLE', `No provider could open ${path}: ${reason}`, { reason, file: path });
  }

  /** Releases every session (waiting for their runs). */
  async close(): Promise<void> {
    const entries = [...this.#cache.values()];
    this.#cache.clear();
    for (const e of entries) {
      const s = await e.catch(() => undefined);
      await s?.release();
    }
  }
}
