/**
 * How a screenshot crosses to the model worker (docs/ARCHITECTURE.md, "Decisions": figures).
 * Where /dev/shm exists, the PNG and the raw pixels are written, as they are, into one file of a
 * private directory there (tmpfs: memory, no disk), and the message names the file; the worker
 * reads it and deletes it. Elsewhere the bytes go inside the message (structured clone).
 * Either way nothing is re-encoded.
 *
 * The client remembers which frames the current worker already holds and sends only their id;
 * the worker answers NOT_FOUND (`details.missingFrame`) for one it dropped, and the frame goes
 * again whole.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, unlinkSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import type { Observation } from '../../common/ports.ts';
import { WORKER_FRAME_CACHE, type FrameBytes, type FrameMessage } from '../../common/worker-protocol.ts';

export type FrameTransfer = 'shm' | 'inline';

export class FrameChannel {
  readonly transfer: FrameTransfer;
  /** The private /dev/shm directory (shm transfer only). */
  readonly dir: string | undefined;
  private seq = 0;
  /** Frames the current worker holds, oldest first (its cache is as large). */
  private known: string[] = [];

  constructor(transfer: FrameTransfer = existsSync('/dev/shm') ? 'shm' : 'inline') {
    this.transfer = transfer;
    // 0700 (mkdtemp): other users cannot read the screen.
    this.dir = transfer === 'shm' ? mkdtempSync(join('/dev/shm', `foresight-frames-${process.pid}-`)) : undefined;
  }

  /** The frame as a message: its id when the worker holds it, else whole. */
  message(o: Observation, forceFull = false): FrameMessage {
    const i = this.known.indexOf(o.frameId);
    if (i >= 0 && !forceFull) {
      this.known.splice(i, 1);
      this.known.push(o.frameId);
      return { kind: 'known', frameId: o.frameId };
    }
    const { data, ...raw } = o.raw;
    const frame: FrameMessage = { kind: 'full', frameId: o.frameId, geometry: o.geometry, capturedAt: o.capturedAt, raw, bytes: this.bytes(o.png, data) };
    if (i >= 0) this.known.splice(i, 1);
    this.known.push(o.frameId);
    while (this.known.length > WORKER_FRAME_CACHE) this.known.shift();
    return frame;
  }

  /** The worker said it no longer holds the frame. */
  forget(frameId: string): void {
    this.known = this.known.filter((f) => f !== frameId);
  }

  /** A new worker holds nothing; files the old one never read are deleted. */
  reset(): void {
    this.known = [];
    if (!this.dir) return;
    for (const f of safeList(this.dir)) {
      try {
        unlinkSync(join(this.dir, f));
      } catch {
        // gone already
      }
    }
  }

  close(): void {
    this.known = [];
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private bytes(png: Uint8Array, raw: Uint8Array): FrameBytes {
    if (!this.dir) return { via: 'inline', png, raw };
    const file = `f${++this.seq}`;
    const fd = openSync(join(this.dir, file), 'w', 0o600);
    try {
      // One write of both buffers, straight from their memory.
      let done = writevSync(fd, [png, raw]);
      const total = png.length + raw.length;
      while (done < total) {
        const rest = done < png.length ? [png.subarray(done), raw] : [raw.subarray(done - png.length)];
        done += writevSync(fd, rest);
      }
    } finally {
      closeSync(fd);
    }
    return { via: 'file', file, pngBytes: png.length, rawBytes: raw.length };
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
