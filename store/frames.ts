/**
 * Screenshots as content-addressed files: `<dir>/<sha[0..2]>/<sha>.png`, where sha is the
 * sha256 of the PNG bytes. Identical frames (a screen that did not change) are stored once.
 * A file appears under its final name only complete (written to a temporary name, synced,
 * then renamed), so a row that names a sha always finds the whole file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ForesightError } from '../common/errors.ts';
import { pngSize } from '../common/png.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isSha256Hex(s: string): boolean {
  return SHA256_HEX.test(s);
}


export class FrameFiles {
  constructor(readonly dir: string) {}

  /** Where the file of a sha lives (whether or not it exists). */
  pathOf(sha256: string): string {
    if (!isSha256Hex(sha256)) throw new ForesightError('BAD_INPUT', `"${sha256}" is not a sha256 in lower-case hex`);
    return join(this.dir, sha256.slice(0, 2), `${sha256}.png`);
  }

  /** Stores the PNG unless a complete copy is already there; returns its sha256. */
  put(png: Uint8Array): string {
    const sha = sha256Hex(png);
    const path = this.pathOf(sha);
    if (sizeOf(path) === png.byteLength) return sha;
    mkdirSync(join(this.dir, sha.slice(0, 2)), { recursive: true });
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'wx');
      let written = 0;
      while (written < png.byteLength) written += writeSync(fd, png, written, png.byteLength - written);
      // Synced before the rename (and so before the row that names it commits): after a power
      // loss a row may be missing, but never its file.
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, path);
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
      throw e;
    }
    return sha;
  }

  /** The PNG bytes of a sha, checked against it. */
  read(sha256: string): Buffer {
    const path = this.pathOf(sha256);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ForesightError('NOT_FOUND', `Screenshot ${sha256} is missing: no file ${path}`, { path, sha256 });
      }
      throw e;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new ForesightError('STORE_CORRUPT', `Screenshot file ${path} is damaged: its sha256 is ${actual}`, { path, sha256, actual });
    }
    return bytes;
  }
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

export { pngSize };
