/**
 * Memory for captures, made ready before it is needed.
 *
 * A capture needs 4 MB (1280x800 BGRA) of its own: it outlives the next capture. Fresh memory
 * costs its page faults on first touch, and on this VM that is ~16 ms per 4 MB (measured:
 * `Buffer.allocUnsafe(4e6).fill()` 16 ms, refilling the same buffer 0.1 ms) — on the main
 * thread, between the capture and the planner's request. So a worker thread allocates the
 * buffers and touches every page, and hands them over (a transfer: no copy); the capture
 * takes a ready one and asks for the next. The buffers are never reused: once given out, a
 * buffer is its capture's, and the garbage collector frees it like any other.
 */
import { Worker } from 'node:worker_threads';

/** The worker: allocate, touch one byte per page, transfer. */
const WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ bytes, count }) => {
  for (let n = 0; n < count; n++) {
    const buffer = new ArrayBuffer(bytes);
    const view = new Uint8Array(buffer);
    for (let i = 0; i < bytes; i += 4096) view[i] = 0;
    parentPort.postMessage(buffer, [buffer]);
  }
});
`;

export class WarmBuffers {
  private worker: Worker | undefined;
  private readonly ready: ArrayBuffer[] = [];
  /** Buffers asked for and not yet arrived. */
  private pending = 0;
  private size = 0;
  private failed = false;
  /** Buffers handed out warm, and cold (none was ready), for bench:step. */
  warm = 0;
  cold = 0;

  /** keep: buffers held ready (a settle takes one or two captures). */
  constructor(private readonly keep = 2) {}

  /** `bytes` of memory, warm when a buffer of that size was ready. */
  take(bytes: number): Uint8Array {
    if (bytes !== this.size) {
      // Another size (the display changed): what is ready is of no use.
      this.size = bytes;
      this.ready.length = 0;
    }
    const buffer = this.ready.pop();
    this.refill();
    if (buffer) {
      this.warm++;
      return new Uint8Array(buffer);
    }
    this.cold++;
    return new Uint8Array(bytes);
  }

  private refill(): void {
    const want = this.keep - this.ready.length - this.pending;
    if (want <= 0 || this.failed) return;
    const worker = this.start();
    if (!worker) return;
    this.pending += want;
    worker.postMessage({ bytes: this.size, count: want });
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      const worker = new Worker(WORKER, { eval: true });
      worker.unref(); // never what keeps a process alive
      worker.on('message', (buffer: ArrayBuffer) => {
        this.pending = Math.max(0, this.pending - 1);
        if (buffer.byteLength === this.size && this.ready.length < this.keep) this.ready.push(buffer);
      });
      // Without the worker every buffer is simply cold: slower, never wrong.
      worker.on('error', () => this.stop());
      worker.on('exit', () => {
        this.worker = undefined;
        this.pending = 0;
      });
      this.worker = worker;
      return worker;
    } catch {
      this.failed = true;
      return undefined;
    }
  }

  private stop(): void {
    this.failed = true;
    void this.worker?.terminate();
    this.worker = undefined;
  }

  async close(): Promise<void> {
    this.failed = true;
    this.ready.length = 0;
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}
