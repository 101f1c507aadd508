/**
 * The agent's side of the model worker: starts native-models/worker.ts (by path, never by
 * import), speaks common/worker-protocol.ts to it, and supervises it.
 *
 * - Requests have ids, a deadline each (TIMEOUT, and a `cancel` to the worker) and follow their
 *   caller's AbortSignal (STOPPED at once, and a `cancel`).
 * - A crash — the process exits or is killed, the channel fails, or the heartbeat stops — fails
 *   every request in flight with WORKER_CRASHED at once, then the worker is started again after
 *   a back-off (200 ms, doubling to 5 s) and every backend it hosted is made again with the same
 *   spec and options; requests made meanwhile wait for it (within their deadline). After
 *   MAX_CRASHES crashes within CRASH_WINDOW_MS it is not restarted again: every request then
 *   fails with WORKER_CRASHED saying so.
 * - Shutdown is bounded: `shutdown` and its answer, then SIGTERM, then SIGKILL; the process is
 *   reaped before close() returns, and the frame directory is removed.
 */
import { fileURLToPath } from 'node:url';
import { ForesightError, isForesightError, type ErrorInfo } from '../../common/errors.ts';
import type { Observation } from '../../common/ports.ts';
import {
  parseResultValue,
  parseWorkerMessage,
  WORKER_ENV,
  WORKER_PROTOCOL_VERSION,
  type BackendDescription,
  type FrameMessage,
  type ResultKind,
  type ResultValue,
  type WorkerBackendOptions,
  type WorkerRequest,
} from '../../common/worker-protocol.ts';
import { FrameChannel, type FrameTransfer } from './frames.ts';
import { forkWorker, type StartWorker, type WorkerHost, type WorkerProcess } from './transport.ts';

/** The worker's entry, started by path: main/ never imports native-models/. */
export const WORKER_ENTRY = fileURLToPath(new URL('../../native-models/worker.ts', import.meta.url));

/** Why a worker went away. */
export type CrashReason =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: NodeJS.Signals }
  | { kind: 'channel'; message: string }
  | { kind: 'heartbeat'; silentMs: number }
  | { kind: 'start'; message: string };

export type WorkerEvent =
  | { type: 'started'; pid: number | undefined; restart: number }
  | { type: 'crashed'; pid: number | undefined; reason: CrashReason; failedRequests: number; restartInMs?: number }
  | { type: 'gave_up'; crashes: number };

export interface ModelWorkerOptions {
  start?: StartWorker;
  entry?: string;
  frames?: FrameTransfer;
  /** How long a worker may take to say it is ready (tsx compiles the backends' sources). */
  startTimeoutMs?: number;
  heartbeatMs?: number;
  /** Silence after which a worker counts as hung and is killed. */
  heartbeatTimeoutMs?: number;
  backoffMs?: { first: number; max: number };
  /** Crashes within CRASH_WINDOW_MS after which the worker is not restarted. */
  maxCrashes?: number;
  /** Shutdown: how long the worker has to answer `shutdown`, then to heed SIGTERM. */
  closeMs?: { shutdown: number; term: number };
  onEvent?: (e: WorkerEvent) => void;
}

const CRASH_WINDOW_MS = 60_000;

interface Pending {
  kind: ResultKind;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** For a frame the worker dropped: the request again, with the frame whole. */
  frameId?: string;
}

interface BackendRecord {
  role: 'planner' | 'grounder';
  spec: string;
  options: WorkerBackendOptions;
}

type State = 'starting' | 'ready' | 'restarting' | 'failed' | 'closing' | 'closed';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // observed by whoever waits; a gate nobody waits on must not be unhandled
  return { promise, resolve, reject };
}

export class ModelWorker {
  private readonly opts: Required<Omit<ModelWorkerOptions, 'onEvent'>> & Pick<ModelWorkerOptions, 'onEvent'>;
  private proc: WorkerProcess | undefined;
  private state: State = 'starting';
  private gate: Deferred = deferred();
  private readonly pending = new Map<number, Pending>();
  private readonly backends = new Map<string, BackendRecord>();
  private nextId = 1;
  private nextBackend = 1;
  private restarts = 0;
  private crashes: number[] = [];
  private consecutiveCrashes = 0;
  private lastHeard = 0;
  private pingSeq = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly frames: FrameChannel;

  private constructor(opts: ModelWorkerOptions) {
    this.opts = {
      start: opts.start ?? forkWorker,
      entry: opts.entry ?? WORKER_ENTRY,
      frames: opts.frames ?? (process.platform === 'linux' ? 'shm' : 'inline'),
      startTimeoutMs: opts.startTimeoutMs ?? 30_000,
      heartbeatMs: opts.heartbeatMs ?? 1_000,
      heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? 15_000,
      backoffMs: opts.backoffMs ?? { first: 200, max: 5_000 },
      maxCrashes: opts.maxCrashes ?? 5,
      closeMs: opts.closeMs ?? { shutdown: 3_000, term: 2_000 },
      onEvent: opts.onEvent,
    };
    this.frames = new FrameChannel(this.opts.frames);
  }

  /** Starts a worker and waits until it is ready. */
  static async start(opts: ModelWorkerOptions = {}): Promise<ModelWorker> {
    const w = new ModelWorker(opts);
    w.launch();
    try {
      await w.gate.promise;
    } catch (e) {
      await w.close();
      throw e;
    }
    return w;
  }

  get host(): WorkerHost | undefined {
    return this.proc?.host;
  }

  /** The current worker's pid (it changes with each restart). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get frameTransfer(): FrameTransfer {
    return this.frames.transfer;
  }

  get restartCount(): number {
    return this.restarts;
  }

  /** Resolves once a worker is ready (at once when one is). */
  async whenReady(signal?: AbortSignal, timeoutMs?: number): Promise<void> {
    if (this.state === 'ready') return;
    await this.wait(this.gate.promise, signal, timeoutMs, 'for the model worker to start');
  }

  // ---------------------------------------------------------------- backends

  /** Makes a planner or grounder in the worker; it is made again in every restarted worker. */
  async createBackend<R extends 'planner' | 'grounder'>(
    role: R,
    spec: string,
    options: WorkerBackendOptions,
  ): Promise<{ backendId: string; value: ResultValue<R extends 'planner' ? 'createPlanner' : 'createGrounder'> }> {
    const backendId = `b${this.nextBackend++}`;
    const kind = (role === 'planner' ? 'createPlanner' : 'createGrounder') as R extends 'planner' ? 'createPlanner' : 'createGrounder';
    const value = await this.request(kind, (id) => ({ type: 'create', id, backendId, role, spec, options }), { timeoutMs: this.opts.startTimeoutMs });
    this.backends.set(backendId, { role, spec, options });
    return { backendId, value };
  }

  describe(backendId: string, timeoutMs = 10_000): Promise<BackendDescription> {
    return this.request('describe', (id) => ({ type: 'describe', id, backendId }), { timeoutMs });
  }

  async closeBackend(backendId: string, timeoutMs = 5_000): Promise<void> {
    if (!this.backends.delete(backendId) || this.state !== 'ready') return;
    await this.request('close', (id) => ({ type: 'close', id, backendId }), { timeoutMs });
  }

  // ---------------------------------------------------------------- requests

  /** Sends a frame to be perceived; nothing is sent while no worker is ready (ground() perceives then). */
  perceive(backendId: string, observation: Observation): void {
    if (this.state !== 'ready' || !this.proc) return;
    const frame = this.frames.message(observation);
    if (!this.proc.send({ type: 'perceive', backendId, frame })) this.frames.forget(observation.frameId);
  }

  /**
   * A request with a frame: sent with the frame's id when the worker holds it; if the worker
   * dropped it, once more with the frame whole.
   */
  async requestWithFrame<K extends 'plan' | 'ground' | 'annotate'>(
    kind: K,
    observation: Observation,
    build: (id: number, frame: FrameMessage) => WorkerRequest,
    opts: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<ResultValue<K>> {
    const deadline = performance.now() + opts.timeoutMs;
    try {
      return await this.request(kind, (id) => build(id, this.frames.message(observation)), opts, observation.frameId);
    } catch (e) {
      if (!(isForesightError(e, 'NOT_FOUND') && e.details?.missingFrame === observation.frameId)) throw e;
      this.frames.forget(observation.frameId);
      return await this.request(kind, (id) => build(id, this.frames.message(observation, true)), { ...opts, timeoutMs: Math.max(1, deadline - performance.now()) });
    }
  }

  /** One request: waits for a ready worker, sends, and settles with the checked answer. */
  async request<K extends ResultKind>(kind: K, build: (id: number) => WorkerRequest, opts: { timeoutMs: number; signal?: AbortSignal }, frameId?: string): Promise<ResultValue<K>> {
    const t0 = performance.now();
    await this.whenReady(opts.signal, opts.timeoutMs);
    const left = opts.timeoutMs - (performance.now() - t0);
    if (left <= 0) throw timeoutError(kind, opts.timeoutMs);
    const id = this.nextId++;
    const proc = this.proc;
    if (!proc) throw new ForesightError('WORKER_CRASHED', 'The model worker went away before the request could be sent; it is being restarted');
    const answer = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { kind, resolve, reject, ...(frameId !== undefined ? { frameId } : {}) });
      if (!proc.send(build(id))) {
        this.pending.delete(id);
        reject(new ForesightError('WORKER_CRASHED', 'The model worker could not be reached (its channel is closed); it is being restarted', { pid: proc.pid }));
      }
    });
    const cancel = () => {
      if (this.pending.delete(id)) proc.send({ type: 'cancel', id });
    };
    try {
      return (await this.wait(answer, opts.signal, left, `for the ${kind} answer`, kind)) as ResultValue<K>;
    } finally {
      cancel();
    }
  }

  /** Waits for `p`, but no longer than `timeoutMs` (TIMEOUT) and not past the signal (STOPPED). */
  private wait<T>(p: Promise<T>, signal: AbortSignal | undefined, timeoutMs: number | undefined, what: string, kind?: string): Promise<T> {
    if (signal?.aborted) return Promise.reject(new ForesightError('STOPPED', `Stopped while waiting ${what}`));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        done();
        reject(new ForesightError('STOPPED', `Stopped while waiting ${what}`));
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              done();
              reject(kind ? timeoutError(kind, timeoutMs) : new ForesightError('TIMEOUT', `Waited ${timeoutMs} ms ${what}`));
            }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          done();
          resolve(v);
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  }

  // ---------------------------------------------------------------- lifecycle

  private launch(): void {
    const gate = this.gate;
    let proc: WorkerProcess;
    this.frames.reset();
    try {
      proc = this.opts.start({
        entry: this.opts.entry,
        env: {
          ...plainEnv(process.env),
          [WORKER_ENV.parentPid]: String(process.pid),
          ...(this.frames.dir ? { [WORKER_ENV.frameDir]: this.frames.dir } : {}),
        },
      });
    } catch (e) {
      this.crashed(undefined, { kind: 'start', message: e instanceof Error ? e.message : String(e) });
      return;
    }
    this.proc = proc;
    let exitedResolve!: () => void;
    this.exited = new Promise<void>((r) => (exitedResolve = r));
    this.lastHeard = performance.now();
    const startTimer = setTimeout(() => {
      if (this.proc !== proc || (this.state !== 'starting' && this.state !== 'restarting')) return;
      proc.kill('SIGKILL');
      this.crashed(proc, { kind: 'start', message: `it did not say it was ready within ${this.opts.startTimeoutMs} ms` });
    }, this.opts.startTimeoutMs);
    proc.onMessage((raw) => {
      if (this.proc !== proc) return;
      this.lastHeard = performance.now();
      const parsed = parseWorkerMessage(raw);
      if (!parsed.ok) return this.protocolError(parsed.error, raw);
      const m = parsed.value;
      switch (m.type) {
        case 'ready':
          clearTimeout(startTimer);
          if (m.protocol !== WORKER_PROTOCOL_VERSION) {
            proc.kill('SIGKILL');
            this.fail(new ForesightError('INTERNAL', `The model worker speaks protocol ${m.protocol}, this agent ${WORKER_PROTOCOL_VERSION}: reinstall Foresight`));
            return;
          }
          void this.onReady(proc, gate);
          return;
        case 'pong':
          return;
        case 'result':
          return this.settle(m.id, m.result);
        case 'protocol_error':
          process.stderr.write(`foresight: the model worker refused a message: ${m.error.message}\n`);
          return;
      }
    });
    proc.onError((e) => {
      if (this.proc !== proc) return;
      proc.kill('SIGKILL');
      this.crashed(proc, { kind: 'channel', message: e.message });
    });
    proc.onExit((code, signal) => {
      clearTimeout(startTimer);
      exitedResolve();
      if (this.proc !== proc || this.state === 'closing' || this.state === 'closed') return;
      this.crashed(proc, signal ? { kind: 'killed', signal } : { kind: 'exited', code: code ?? 1 });
    });
  }

  /** A new worker said it is ready: make its backends again (after a restart), then let requests through. */
  private async onReady(proc: WorkerProcess, gate: Deferred): Promise<void> {
    const restart = this.restarts;
    try {
      for (const [backendId, b] of this.backends) {
        const id = this.nextId++;
        const kind: ResultKind = b.role === 'planner' ? 'createPlanner' : 'createGrounder';
        const made = new Promise<unknown>((resolve, reject) => {
          this.pending.set(id, { kind, resolve, reject });
          proc.send({ type: 'create', id, backendId, role: b.role, spec: b.spec, options: b.options });
        });
        await this.wait(made, undefined, this.opts.startTimeoutMs, `for backend ${backendId} to be made again`, kind);
      }
    } catch (e) {
      if (this.proc !== proc) return;
      proc.kill('SIGKILL');
      this.crashed(proc, { kind: 'start', message: `a backend could not be made again: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    if (this.proc !== proc || (this.state !== 'starting' && this.state !== 'restarting')) return;
    this.state = 'ready';
    this.startHeartbeat(proc);
    this.opts.onEvent?.({ type: 'started', pid: proc.pid, restart });
    gate.resolve();
  }

  private startHeartbeat(proc: WorkerProcess): void {
    clearInterval(this.heartbeat);
    this.lastHeard = performance.now();
    this.heartbeat = setInterval(() => {
      if (this.proc !== proc || this.state !== 'ready') return;
      const silent = performance.now() - this.lastHeard;
      if (silent > this.opts.heartbeatTimeoutMs) {
        proc.kill('SIGKILL');
        this.crashed(proc, { kind: 'heartbeat', silentMs: Math.round(silent) });
        return;
      }
      proc.send({ type: 'ping', seq: ++this.pingSeq });
    }, this.opts.heartbeatMs);
    // The channel keeps the process alive while the worker runs; the timer need not.
    this.heartbeat.unref();
  }

  private settle(id: number, result: { ok: true; value: unknown } | { ok: false; error: ErrorInfo }): void {
    const p = this.pending.get(id);
    if (!p) return; // cancelled or timed out: the worker's late answer is dropped
    this.pending.delete(id);
    if (this.consecutiveCrashes > 0 && this.state === 'ready') this.consecutiveCrashes = 0;
    if (!result.ok) {
      const { code, message, details } = result.error;
      p.reject(new ForesightError(code, message, details));
      return;
    }
    const checked = parseResultValue(p.kind, result.value);
    if (checked.ok) p.resolve(checked.value);
    else p.reject(new ForesightError(checked.error.code, checked.error.message));
  }

  private protocolError(error: ErrorInfo, raw: unknown): void {
    process.stderr.write(`foresight: ${error.message}\n`);
    const id = raw !== null && typeof raw === 'object' && 'id' in raw && typeof raw.id === 'number' ? raw.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (id !== undefined && p) {
      this.pending.delete(id);
      p.reject(new ForesightError(error.code, error.message));
    }
  }

  /** The worker is gone: fail what was in flight, and start another one after the back-off. */
  private crashed(proc: WorkerProcess | undefined, reason: CrashReason): void {
    if (proc && this.proc !== proc) return;
    if (this.state === 'closing' || this.state === 'closed' || this.state === 'failed') return;
    clearInterval(this.heartbeat);
    const pid = proc?.pid;
    const error = new ForesightError('WORKER_CRASHED', `The model worker (pid ${pid ?? '?'}) ${describeCrash(reason)}; the request was lost and the worker is being restarted`, {
      pid,
      reason,
    });
    const failed = this.pending.size;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.frames.reset();
    const now = performance.now();
    this.crashes = [...this.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    this.consecutiveCrashes++;
    if (this.crashes.length >= this.opts.maxCrashes) {
      this.opts.onEvent?.({ type: 'crashed', pid, reason, failedRequests: failed });
      this.opts.onEvent?.({ type: 'gave_up', crashes: this.crashes.length });
      this.fail(
        new ForesightError('WORKER_CRASHED', `The model worker crashed ${this.crashes.length} times within ${CRASH_WINDOW_MS / 1000} s (last: ${describeCrash(reason)}); it is not restarted again`, {
          reason,
          crashes: this.crashes.length,
        }),
      );
      return;
    }
    const delay = Math.min(this.opts.backoffMs.max, this.opts.backoffMs.first * 2 ** (this.consecutiveCrashes - 1));
    this.opts.onEvent?.({ type: 'crashed', pid, reason, failedRequests: failed, restartInMs: delay });
    const old = this.gate;
    this.gate = deferred();
    // Waiters of a starting worker's gate now wait for the next one.
    if (this.state === 'starting' || this.state === 'restarting') this.gate.promise.then(old.resolve, old.reject);
    this.state = 'restarting';
    this.proc = undefined;
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.launch();
    }, delay);
  }

  private fail(error: ForesightError): void {
    clearInterval(this.heartbeat);
    this.state = 'failed';
    this.proc?.kill('SIGKILL');
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.gate.reject(error);
    this.gate = deferred();
    this.gate.reject(error);
  }

  /**
   * Bounded shutdown: asks the worker to close its backends and exit; after closeMs.shutdown
   * SIGTERM, after closeMs.term SIGKILL. Returns when the process has exited and been reaped.
   */
  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return this.exited;
    const wasReady = this.state === 'ready';
    this.state = 'closing';
    clearInterval(this.heartbeat);
    clearTimeout(this.restartTimer);
    const proc = this.proc;
    const stopped = new ForesightError('STOPPED', 'The model worker was shut down');
    for (const p of this.pending.values()) p.reject(stopped);
    this.pending.clear();
    this.gate.reject(stopped);
    if (proc) {
      const exited = this.exited;
      const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      if (wasReady) proc.send({ type: 'shutdown', id: this.nextId++ });
      if (!(await within(wasReady ? this.opts.closeMs.shutdown : 0))) {
        proc.kill('SIGTERM');
        if (!(await within(this.opts.closeMs.term))) {
          proc.kill('SIGKILL');
          await exited;
        }
      }
    }
    this.state = 'closed';
    this.frames.close();
  }
}

function timeoutError(kind: string, ms: number): ForesightError {
  return new ForesightError('TIMEOUT', `The model worker did not answer the ${kind} request within ${ms} ms`, { timeoutMs: ms });
}

/** A crash in words: `was killed by SIGKILL`. */
export function describeCrash(r: CrashReason): string {
  switch (r.kind) {
    case 'exited':
      return `exited with code ${r.code}`;
    case 'killed':
      return `was killed by ${r.signal}`;
    case 'channel':
      return `lost its channel (${r.message})`;
    case 'heartbeat':
      return `stopped answering for ${r.silentMs} ms and was killed`;
    case 'start':
      return `could not start: ${r.message}`;
  }
}

function plainEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
