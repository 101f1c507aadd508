/**
 * How a screenshot crosses to the model worker (docs/ARCHITECTURE.md, "Decisions": figures).
 * Where /dev/shm exists, the PNG and the raw pixels are written, as they are, into one file of a
 * private directory there (tmpfs: memory, no disk), and the message names the file; the worker
 * reads it and renames it `s<n>`, a spare that the next frame is written over. Elsewhere the bytes go inside the message (structured clone).
 * Either way nothing is re-encoded.
 *
 * The client remembers which frames the current worker already holds and sends only their id;
 * the worker answers NOT_FOUND (`details.missingFrame`) for one it dropped, and the frame goes
 * again whole.
 */
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import type { Observation } from '../../common/ports.ts';
import { SPARE_FILE, WORKER_FRAME_CACHE, type FrameBytes, type FrameMessage } from '../../common/worker-protocol.ts';

export type FrameTransfer = 'shm' | 'inline';

export class FrameChannel {
  readonly transfer: FrameTransfer;
  /** The private /dev/shm directory (shm transfer only). */
  readonly dir: string | undefined;
  private seq = 0;
  /** Frames the current worker holds, oldest first (its cache is as large). */
  private known: string[] = [];
  /** Names of spare files seen in the directory, not yet claimed. */
  private spares: string[] = [];

  constructor(transfer: FrameTransfer = existsSync('/dev/shm') ? 'shm' : 'inline') {
    this.transfer = transfer;
    if (transfer === 'shm') sweepStaleDirs();
    // 0700 (mkdtemp): other users cannot read the screen.
    this.dir = transfer === 'shm' ? mkdtempSync(join(SHM, `${DIR_PREFIX}${process.pid}-`)) : undefined;
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
    this.spares = [];
    if (!this.dir) return;
    for (const f of safeList(this.dir)) {
      try {
        unlinkSync(join(this.dir, f));
      } catch {
        // gone already
      }
    }
  }

  /** Renames a spare file (one the worker has read) to `path`; false when there is none. */
  private claimSpare(path: string): boolean {
    if (!this.dir) return false;
    if (!this.spares.length) {
      const found = safeList(this.dir).filter((f) => SPARE_FILE.test(f));
      for (const extra of found.splice(MAX_SPARES)) rmSync(join(this.dir, extra), { force: true });
      this.spares = found;
    }
    while (this.spares.length) {
      const name = this.spares.pop()!;
      try {
        renameSync(join(this.dir, name), path);
        return true;
      } catch {
        // gone (a reset): try the next
      }
    }
    return false;
  }

  close(): void {
    this.known = [];
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private bytes(png: Uint8Array, raw: Uint8Array): FrameBytes {
    if (!this.dir) return { via: 'inline', png, raw };
    const file = `f${++this.seq}`;
    const path = join(this.dir, file);
    const total = png.length + raw.length;
    // A file the worker has read (renamed s<n>) is written over: its memory pages are in place,
    // where a new file's must be found and zeroed first (1.7 → 0.7 ms of CPU per 4 MB frame here).
    const spare = this.claimSpare(path);
    const fd = openSync(path, spare ? 'r+' : 'w', 0o600);
    try {
      if (spare) ftruncateSync(fd, total);
      // One write of both buffers, straight from their memory.
      let done = writevSync(fd, [png, raw], 0);
      while (done < total) {
        const rest = done < png.length ? [png.subarray(done), raw] : [raw.subarray(done - png.length)];
        done += writevSync(fd, rest, done);
      }
    } finally {
      closeSync(fd);
    }
    return { via: 'file', file, pngBytes: png.length, rawBytes: raw.length };
  }
}

const SHM = '/dev/shm';
const DIR_PREFIX = 'foresight-frames-';

/**
 * Removes the frame directories of agents that are gone: one killed with SIGKILL cannot remove
 * its own, and tmpfs is memory. The pid is in the name; a directory whose pid runs is kept (a pid
 * reused by another process keeps it only until that one ends).
 */
function sweepStaleDirs(): void {
  const mine = new RegExp(`^${DIR_PREFIX}(\\d+)-`);
  for (const name of safeList(SHM)) {
    const pid = Number(mine.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    try {
      rmSync(join(SHM, name), { recursive: true, force: true });
    } catch {
      // another user's, or being removed at the same time
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Spare files beyond this many are deleted rather than kept for reuse. */
const MAX_SPARES = 2;

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
