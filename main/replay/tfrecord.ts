/**
 * Dependency-free TFRecord reader and writer (the container format of AndroidControl and
 * AITW). A file is a sequence of records, each
 *
 *   uint64 length (little-endian) | uint32 masked_crc32c(length) | data[length] | uint32 masked_crc32c(data)
 *
 * optionally GZIP-compressed as a whole. The reader streams: it never holds more than one
 * record (plus one read chunk) in memory.
 */
import { createReadStream } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { ForesightError } from '../../common/errors.ts';

// ---------------------------------------------------------------------------------------------
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-4.

const CRC_TABLES: Uint32Array[] = (() => {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  const tables = [t0];
  for (let t = 1; t < 4; t++) {
    const prev = tables[t - 1]!;
    const cur = new Uint32Array(256);
    for (let n = 0; n < 256; n++) cur[n] = (t0[prev[n]! & 0xff]! ^ (prev[n]! >>> 8)) >>> 0;
    tables.push(cur);
  }
  return tables;
})();

/** CRC32C of `data`; pass a previous result as `crc` to continue over several pieces. */
export function crc32c(data: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3] = CRC_TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 4 <= n; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t3[c & 0xff]! ^ t2[(c >>> 8) & 0xff]! ^ t1[(c >>> 16) & 0xff]! ^ t0[c >>> 24]!;
  }
  for (; i < n; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The TFRecord mask: rotate right by 15 and add a constant, modulo 2^32. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}

// ---------------------------------------------------------------------------------------------
// Reading.

export interface ReadTFRecordsOptions {
  /** 'auto' (default) detects GZIP by its magic bytes 1f 8b. */
  compression?: 'auto' | 'none' | 'gzip';
  /** Check the CRC of each record's data (default true). The length CRC is always checked. */
  verify?: boolean;
}

const HIGH_WATER_MARK = 1 << 20;

/** Pulls exact byte counts out of a stream of chunks without quadratic copying. */
class ChunkReader {
  private chunks: Buffer[] = [];
  private len = 0;
  /** Bytes handed out so far (offset in the decompressed stream). */
  offset = 0;

  constructor(private readonly it: AsyncIterator<unknown>) {}

  /** Up to `n` bytes; fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.len < n) {
      const r = await this.it.next();
      if (r.done) break;
      const c = r.value as Buffer;
      if (c.length > 0) {
        this.chunks.push(c);
        this.len += c.length;
      }
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.len);
    const take = Math.min(n, this.len);
    const out = all.subarray(0, take);
    const rest = all.subarray(take);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.len = rest.length;
    this.offset += take;
    return out;
  }
}

async function sniffGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

function notFound(path: string, e: unknown): ForesightError {
  return new ForesightError('NOT_FOUND', `TFRecord file not found: ${path}`, { file: path }, { cause: e });
}

function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

/**
 * Streams the records of a TFRecord file. Errors are ForesightError: NOT_FOUND for a missing
 * file, BAD_INPUT (naming the file, record index and byte offset) for a truncated record, a
 * CRC mismatch or a corrupt GZIP stream. Offsets count bytes of the decompressed stream.
 */
export async function* readTFRecords(path: string, opts: ReadTFRecordsOptions = {}): AsyncGenerator<Uint8Array> {
  const compression = opts.compression ?? 'auto';
  const verify = opts.verify ?? true;
  let gzip: boolean;
  try {
    gzip = compression === 'gzip' || (compression === 'auto' && (await sniffGzip(path)));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw notFound(path, e);
    throw e;
  }

  const raw = createReadStream(path, { highWaterMark: HIGH_WATER_MARK });
  const stream: Readable = gzip ? pipeline(raw, createGunzip({ chunkSize: HIGH_WATER_MARK }), () => {}) : raw;
  const it = stream[Symbol.asyncIterator]();
  const reader = new ChunkReader(it);
  const where = (index: number, offset: number) => `record ${index} at byte ${offset} of ${path}`;
  const bad = (message: string, index: number, offset: number, cause?: unknown) =>
    new ForesightError('BAD_INPUT', message, { file: path, record: index, offset, gzip }, cause === undefined ? undefined : { cause });

  let index = 0;
  try {
    for (;;) {
      const start = reader.offset;
      let header: Buffer;
      let data: Buffer;
      let footer: Buffer;
      try {
        header = await reader.read(12);
        if (header.length === 0) return;
        if (header.length < 12) throw bad(`truncated record ${index} at byte ${start} of ${path} (header)`, index, start);
        const lenCrc = header.readUInt32LE(8);
        if (maskedCrc32c(header.subarray(0, 8)) !== lenCrc) {
          throw bad(`CRC mismatch in length of ${where(index, start)}`, index, start);
        }
        const len64 = header.readBigUInt64LE(0);
        if (len64 > BigInt(bufferConstants.MAX_LENGTH)) {
          throw bad(`record length ${len64} too large in ${where(index, start)}`, index, start);
        }
        const len = Number(len64);
        data = await reader.read(len);
        if (data.length < len) throw bad(`truncated record ${index} at byte ${start} of ${path} (data)`, index, start);
        footer = await reader.read(4);
        if (footer.length < 4) throw bad(`truncated record ${index} at byte ${start} of ${path} (data CRC)`, index, start);
      } catch (e) {
        if (e instanceof ForesightError) throw e;
        if (isErrno(e, 'ENOENT')) throw notFound(path, e);
        const msg = e instanceof Error ? e.message : String(e);
        const code = (e as { code?: unknown } | null)?.code;
        if (typeof code === 'string' && code.startsWith('Z_')) {
          throw bad(`corrupt gzip stream at ${where(index, start)}: ${msg}`, index, start, e);
        }
        throw e;
      }
      if (verify && maskedCrc32c(data) !== footer.readUInt32LE(0)) {
        throw bad(`CRC mismatch in data of ${where(index, start)}`, index, start);
      }
      // Copy so a kept record does not pin the whole read chunk.
      yield new Uint8Array(data);
      index++;
    }
  } finally {
    raw.destroy();
    if (stream !== raw) stream.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing (for tests and fixtures).

/** Encodes records into TFRecord framing (uncompressed). */
export function encodeTFRecords(records: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const rec of records) {
    const header = Buffer.alloc(12);
    header.writeBigUInt64LE(BigInt(rec.length), 0);
    header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
    const footer = Buffer.alloc(4);
    footer.writeUInt32LE(maskedCrc32c(rec), 0);
    parts.push(header, Buffer.from(rec.buffer, rec.byteOffset, rec.byteLength), footer);
  }
  return Buffer.concat(parts);
}

export async function writeTFRecords(path: string, records: readonly Uint8Array[], opts: { gzip?: boolean } = {}): Promise<void> {
  const body = encodeTFRecords(records);
  await writeFile(path, opts.gzip ? gzipSync(body) : body);
}
