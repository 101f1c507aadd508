/**
 * The model worker process: it hosts every planner and grounder of a run (endpoint clients,
 * Tesseract, onnxruntime sessions) so that a model that hangs or crashes takes only this process
 * down, never the agent that moves the mouse. The agent's client (main/worker/) starts this file
 * by path — a `child_process.fork` in Node, a `utilityProcess` in Electron — supervises it and
 * restarts it after a crash.
 *
 * It makes backends through native-models/backends.ts, one per id the client names, and answers
 * the requests of common/worker-protocol.ts, each checked as it arrives. Each plan or ground
 * request runs with an AbortSignal of its own, which a `cancel` message aborts; answers are
 * Result values whose error keeps its code. Frames arrive once and stay in a small cache.
 *
 * A backend may describe itself for the episode's settings: an object with
 * `describe(): { backend, provider? }` (an onnxruntime session reports the execution provider it
 * runs on); otherwise its id is its description.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { ForesightError, isForesightError, toErrorInfo, type ErrorInfo, type Result } from '../common/errors.ts';
import type { Grounder, Observation, Planner } from '../common/ports.ts';
import {
  parseWorkerRequest,
  looseRequestId,
  spareFileOf,
  WORKER_ENV,
  WORKER_FRAME_CACHE,
  WORKER_PROTOCOL_VERSION,
  type BackendDescription,
  type FrameMessage,
  type WorkerMessage,
  type WorkerRequest,
} from '../common/worker-protocol.ts';
import { createGrounderBackend, createPlannerBackend } from './backends.ts';

/** How long shutdown waits for the backends to close before exiting anyway. */
const CLOSE_BACKENDS_MS = 2_000;

/** How messages reach the client: Electron's parentPort in a utilityProcess, else the fork's IPC channel. */
interface ParentLink {
  send(m: WorkerMessage, then?: () => void): void;
  onMessage(cb: (raw: unknown) => void): void;
  onGone(cb: () => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

function parentLink(): ParentLink {
  const port = (process as NodeJS.Process & { parentPort?: ElectronParentPort }).parentPort;
  if (port) {
    return {
      send: (m, then) => {
        port.postMessage(m);
        if (then) setImmediate(then);
      },
      onMessage: (cb) => port.on('message', (e) => cb(e.data)),
      // Electron kills a utility process with its parent.
      onGone: () => {},
    };
  }
  if (!process.send) throw new ForesightError('INTERNAL', 'The model worker was started without an IPC channel; main/worker/ starts it');
  return {
    send: (m, then) => {
      if (!process.connected) return;
      try {
        process.send!(m, undefined, undefined, () => then?.());
      } catch {
        // The channel closed under us: the client is gone, and 'disconnect' ends this process.
      }
    },
    onMessage: (cb) => process.on('message', cb),
    onGone: (cb) => process.on('disconnect', cb),
  };
}

type Hosted = { role: 'planner'; planner: Planner } | { role: 'grounder'; grounder: Grounder };

interface Describable {
  describe(): BackendDescription | Promise<BackendDescription>;
}
const isDescribable = (o: object): o is Describable => typeof (o as Partial<Describable>).describe === 'function';

/**
 * The frames received so far, newest last, at most WORKER_FRAME_CACHE. A frame file is read once,
 * into a buffer of its own, and renamed a spare for the client to write a later frame over.
 *
 * Buffers are reused: the buffer of a frame that left the cache, once no request that was given
 * it is still running, holds the next frame. Fresh memory is what a frame's transfer costs
 * here: 4 MB of new pages took 20–80 ms to fault in on a loaded 2-core machine, where reading
 * into pages already in use takes ~1 ms (bench/worker.ts). The rule for backends, therefore: an
 * Observation's bytes are valid while a request that was given it runs, and after a perceive
 * until WORKER_FRAME_CACHE newer frames have arrived; a backend that keeps pixels longer copies
 * them (the OCR grounder reads them at once into an image of its own).
 */
class FrameCache {
  private readonly frames = new Map<string, { observation: Observation; slab?: Buffer }>();
  /** Requests running with each frame. */
  private readonly uses = new Map<string, number>();
  /** Slabs of frames that left the cache while a request still used them. */
  private readonly retiring = new Map<string, Buffer>();
  private readonly spare: Buffer[] = [];

  constructor(private readonly dir: string | undefined) {}

  /** The observation a message names; undefined when it names a frame this cache no longer holds. */
  resolve(f: FrameMessage): Observation | undefined {
    if (f.kind === 'known') {
      const hit = this.frames.get(f.frameId);
      if (hit) {
        this.frames.delete(f.frameId);
        this.frames.set(f.frameId, hit);
      }
      return hit?.observation;
    }
    let png: Uint8Array;
    let raw: Uint8Array;
    let slab: Buffer | undefined;
    if (f.bytes.via === 'inline') {
      ({ png, raw } = f.bytes);
    } else {
      if (!this.dir) throw new ForesightError('BAD_INPUT', 'A frame file arrived, but this worker was given no frame directory');
      const path = join(this.dir, f.bytes.file);
      const size = f.bytes.pngBytes + f.bytes.rawBytes;
      slab = this.slab(size);
      try {
        readExactly(path, slab, size);
      } catch (e) {
        this.spare.push(slab);
        throw isForesightError(e) ? e : new ForesightError('NOT_FOUND', `The frame file ${path} could not be read: ${(e as Error).message}`, { missingFrame: f.frameId });
      } finally {
        try {
          // Read: the client may write a later frame over it (its pages are then reused).
          renameSync(path, join(this.dir, spareFileOf(f.bytes.file)));
        } catch {
          // already gone: the client cleans its directory when a worker restarts
        }
      }
      png = slab.subarray(0, f.bytes.pngBytes);
      raw = slab.subarray(f.bytes.pngBytes, size);
    }
    if (raw.length < f.raw.width * f.raw.height * f.raw.channels) {
      if (slab) this.spare.push(slab);
      throw new ForesightError('BAD_INPUT', `The frame's pixels are ${raw.length} bytes, fewer than ${f.raw.width}×${f.raw.height}×${f.raw.channels}`);
    }
    const observation: Observation = { frameId: f.frameId, png, geometry: f.geometry, capturedAt: f.capturedAt, raw: { ...f.raw, data: raw } };
    // A frame sent again while held replaces the entry; its old bytes may be in use, so they are not reused.
    this.frames.delete(f.frameId);
    this.frames.set(f.frameId, slab ? { observation, slab } : { observation });
    while (this.frames.size > WORKER_FRAME_CACHE) {
      const [oldest, entry] = this.frames.entries().next().value ?? [];
      if (oldest === undefined || entry === undefined) break;
      this.frames.delete(oldest);
      if (entry.slab) this.retire(oldest, entry.slab);
    }
    return observation;
  }

  /** resolve() for a request, which holds the frame until release(); NOT_FOUND makes the client send it whole. */
  acquire(f: FrameMessage): Observation {
    const o = this.resolve(f);
    if (!o) throw new ForesightError('NOT_FOUND', `The model worker no longer holds frame ${f.frameId}`, { missingFrame: f.frameId });
    this.uses.set(o.frameId, (this.uses.get(o.frameId) ?? 0) + 1);
    return o;
  }

  release(frameId: string): void {
    const n = (this.uses.get(frameId) ?? 1) - 1;
    if (n > 0) return void this.uses.set(frameId, n);
    this.uses.delete(frameId);
    const slab = this.retiring.get(frameId);
    if (slab) {
      this.retiring.delete(frameId);
      this.spare.push(slab);
    }
  }

  private retire(frameId: string, slab: Buffer): void {
    if (this.uses.has(frameId)) this.retiring.set(frameId, slab);
    else this.spare.push(slab);
    // Screens rarely change size; a few spares are enough.
    while (this.spare.length > 2) this.spare.shift();
  }

  private slab(size: number): Buffer {
    const i = this.spare.findIndex((b) => b.length >= size && b.length <= size * 1.5);
    if (i >= 0) return this.spare.splice(i, 1)[0]!.subarray(0, size);
    return Buffer.allocUnsafeSlow(size);
  }
}

/** Reads a frame file of exactly `size` bytes into `into`. */
function readExactly(path: string, into: Buffer, size: number): void {
  const fd = openSync(path, 'r');
  try {
    const actual = fstatSync(fd).size;
    if (actual !== size) throw new ForesightError('BAD_INPUT', `The frame file ${path} holds ${actual} bytes, the message says ${size}`);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, into, at, size - at, at);
      if (n === 0) throw new ForesightError('BAD_INPUT', `The frame file ${path} ended after ${at} of ${size} bytes`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

class ModelWorkerHost {
  private readonly backends = new Map<string, Hosted>();
  private readonly inflight = new Map<number, AbortController>();
  private readonly frames: FrameCache;
  private shuttingDown = false;

  constructor(
    private readonly link: ParentLink,
    frameDir: string | undefined,
  ) {
    this.frames = new FrameCache(frameDir);
  }

  start(): void {
    this.link.onMessage((raw) => this.receive(raw));
    this.link.send({ type: 'ready', pid: process.pid, protocol: WORKER_PROTOCOL_VERSION });
  }

  private reply(id: number, result: Result<unknown>): void {
    try {
      this.link.send({ type: 'result', id, result });
    } catch {
      // A value the channel cannot clone (a function in an error's details): send the error without them.
      const error: ErrorInfo = result.ok ? { code: 'INTERNAL', message: 'The answer could not be sent to the agent' } : { code: result.error.code, message: result.error.message };
      this.link.send({ type: 'result', id, result: { ok: false, error } });
    }
  }

  private receive(raw: unknown): void {
    const parsed = parseWorkerRequest(raw);
    if (!parsed.ok) {
      const id = looseRequestId(raw);
      if (id !== undefined) this.reply(id, parsed);
      else this.link.send({ type: 'protocol_error', error: parsed.error });
      return;
    }
    const req = parsed.value;
    if (req.type === 'shutdown') {
      // Exit once the answer is written: the client waits for it before it resorts to signals.
      void this.answer(req).then((result) => this.link.send({ type: 'result', id: req.id, result }, () => process.exit(0)));
    } else if ('id' in req && req.type !== 'cancel') {
      void this.answer(req).then((result) => this.reply(req.id, result));
    } else {
      this.handleOneWay(req);
    }
  }

  private handleOneWay(req: WorkerRequest): void {
    switch (req.type) {
      case 'cancel':
        this.inflight.get(req.id)?.abort();
        return;
      case 'ping':
        this.link.send({ type: 'pong', seq: req.seq });
        return;
      case 'perceive': {
        try {
          const g = this.grounder(req.backendId);
          const o = this.frames.resolve(req.frame);
          // A frame that is gone is perceived when it is grounded.
          if (o) g.perceive(o);
        } catch (e) {
          process.stderr.write(`foresight model worker: perceive failed: ${toErrorInfo(e).message}\n`);
        }
        return;
      }
      default:
        return;
    }
  }

  private async answer(req: WorkerRequest): Promise<Result<unknown>> {
    const ac = new AbortController();
    if ('id' in req) this.inflight.set(req.id, ac);
    try {
      return { ok: true, value: await this.run(req, ac.signal) };
    } catch (e) {
      return { ok: false, error: toErrorInfo(e) };
    } finally {
      if ('id' in req) this.inflight.delete(req.id);
    }
  }

  private async run(req: WorkerRequest, signal: AbortSignal): Promise<unknown> {
    switch (req.type) {
      case 'create': {
        if (this.backends.has(req.backendId)) throw new ForesightError('BAD_INPUT', `Backend ${req.backendId} already exists in the model worker`);
        if (req.role === 'planner') {
          const planner = createPlannerBackend(req.spec, req.options);
          this.backends.set(req.backendId, { role: 'planner', planner });
          return { id: planner.id, format: planner.format };
        }
        const grounder = createGrounderBackend(req.spec, req.options);
        this.backends.set(req.backendId, { role: 'grounder', grounder });
        return { id: grounder.id, speculative: grounder.speculative === true, annotates: typeof grounder.annotate === 'function' };
      }
      case 'plan': {
        const planner = this.planner(req.backendId);
        const { frame, ...rest } = req.request;
        const observation = this.frames.acquire(frame);
        try {
          return await planner.plan({ ...rest, observation }, signal);
        } finally {
          this.frames.release(observation.frameId);
        }
      }
      case 'ground': {
        const grounder = this.grounder(req.backendId);
        const observation = this.frames.acquire(req.request.frame);
        try {
          return await grounder.ground({ action: req.request.action, observation }, signal);
        } finally {
          this.frames.release(observation.frameId);
        }
      }
      case 'annotate': {
        const grounder = this.grounder(req.backendId);
        if (!grounder.annotate) throw new ForesightError('BAD_INPUT', `Grounder ${grounder.id} draws no marks (it has no annotate step)`);
        const observation = this.frames.acquire(req.frame);
        try {
          const marked = await grounder.annotate(observation, signal);
          return { frameId: marked.frameId, png: marked.png, marks: [...marked.marks] };
        } finally {
          this.frames.release(observation.frameId);
        }
      }
      case 'describe': {
        const b = this.backend(req.backendId);
        const o = b.role === 'planner' ? b.planner : b.grounder;
        if (isDescribable(o)) return await o.describe();
        return { backend: o.id };
      }
      case 'close': {
        const b = this.backend(req.backendId);
        this.backends.delete(req.backendId);
        if (b.role === 'grounder') await b.grounder.close?.();
        return null;
      }
      case 'shutdown':
        await this.shutdown();
        return null;
      case 'cancel':
      case 'ping':
      case 'perceive':
        throw new ForesightError('INTERNAL', `${req.type} has no answer`);
    }
  }

  /** Closes every backend, waiting at most CLOSE_BACKENDS_MS. */
  private async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const ac of this.inflight.values()) ac.abort();
    const closing = [...this.backends.values()].map((b) => (b.role === 'grounder' ? b.grounder.close?.() : undefined)).filter((p) => p !== undefined);
    this.backends.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(closing), new Promise((r) => (timer = setTimeout(r, CLOSE_BACKENDS_MS)))]);
    clearTimeout(timer);
  }

  private backend(id: string): Hosted {
    const b = this.backends.get(id);
    if (!b) throw new ForesightError('NOT_FOUND', `The model worker hosts no backend ${id}`);
    return b;
  }

  private planner(id: string): Planner {
    const b = this.backend(id);
    if (b.role !== 'planner') throw new ForesightError('BAD_INPUT', `Backend ${id} is a grounder, not a planner`);
    return b.planner;
  }

  private grounder(id: string): Grounder {
    const b = this.backend(id);
    if (b.role !== 'grounder') throw new ForesightError('BAD_INPUT', `Backend ${id} is a planner, not a grounder`);
    return b.grounder;
  }
}

function main(): void {
  const parent = process.env[WORKER_ENV.parentPid];
  // The agent died between the fork and setpriv's prctl: nobody would ever stop this process.
  if (parent !== undefined && parent !== String(process.ppid)) process.exit(1);
  // Ctrl+C in a terminal reaches the whole foreground process group: the agent decides what a
  // stop means and shuts this process down itself.
  process.on('SIGINT', () => {});
  const link = parentLink();
  // The agent is gone (its channel closed): nothing will ask this process for anything again.
  link.onGone(() => process.exit(0));
  new ModelWorkerHost(link, process.env[WORKER_ENV.frameDir] || undefined).start();
}

main();
