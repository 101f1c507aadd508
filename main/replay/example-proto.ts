/**
 * Minimal protobuf decoder/encoder for `tf.train.Example`, the record payload of AndroidControl
 * and AITW TFRecord files:
 *
 *   message Example  { Features features = 1; }
 *   message Features { map<string, Feature> feature = 1; }
 *   message Feature  { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
 *   message BytesList { repeated bytes value = 1; }
 *   message FloatList { repeated float value = 1 [packed = true]; }
 *   message Int64List { repeated int64 value = 1 [packed = true]; }
 *
 * Packed and unpacked repeated fields are both accepted; unknown fields are skipped.
 */
import { ForesightError } from '../../common/errors.ts';

export type Feature =
  | { kind: 'bytes'; values: Uint8Array[] }
  | { kind: 'float'; values: number[] }
  | { kind: 'int64'; values: (number | bigint)[] };

export type Example = Map<string, Feature>;

function malformed(what: string, pos: number): ForesightError {
  return new ForesightError('BAD_INPUT', `malformed tf.train.Example: ${what} at byte ${pos}`, { offset: pos });
}

// ---------------------------------------------------------------------------------------------
// Decoding.

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint as a number; only for tags and lengths (must fit in 2^53). */
  uint(): number {
    let result = 0;
    let mul = 1;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('truncated varint', start);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) throw malformed('varint too large', start);
        return result;
      }
      mul *= 128;
    }
    throw malformed('varint longer than 10 bytes', start);
  }

  /** A varint as a signed 64-bit integer: a number when safe, else a bigint. */
  int64(): number | bigint {
    const start = this.pos;
    // Fast path: up to 7 bytes (49 bits) fit in a double exactly and are non-negative.
    let small = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw malformed('truncated varint', start);
      const b = this.buf[this.pos++]!;
      small += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return small;
      mul *= 128;
    }
    this.pos = start;
    let v = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('truncated varint', start);
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        const s = BigInt.asIntN(64, v);
        return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
      }
      shift += 7n;
    }
    throw malformed('varint longer than 10 bytes', start);
  }

  /** Bounds of a length-delimited field's payload; advances past it. */
  lenDelimited(): [number, number] {
    const at = this.pos;
    const len = this.uint();
    const start = this.pos;
    if (len > this.end - start) throw malformed('length-delimited field runs past its end', at);
    this.pos = start + len;
    return [start, start + len];
  }

  skip(wireType: number, tagPos: number): void {
    switch (wireType) {
      case 0:
        this.uint64Skip();
        return;
      case 1:
        this.fixed(8);
        return;
      case 2:
        this.lenDelimited();
        return;
      case 5:
        this.fixed(4);
        return;
      default:
        throw malformed(`unsupported wire type ${wireType}`, tagPos);
    }
  }

  fixed(n: number): number {
    const start = this.pos;
    if (this.end - start < n) throw malformed(`truncated ${n}-byte field`, start);
    this.pos += n;
    return start;
  }

  private uint64Skip(): void {
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('truncated varint', start);
      if ((this.buf[this.pos++]! & 0x80) === 0) return;
    }
    throw malformed('varint longer than 10 bytes', start);
  }
}

function decodeBytesList(r: Reader, start: number, end: number): Uint8Array[] {
  const sub = new Reader(r.buf, start, end);
  const out: Uint8Array[] = [];
  while (sub.pos < sub.end) {
    const tagPos = sub.pos;
    const tag = sub.uint();
    if (tag >>> 3 === 1 && (tag & 7) === 2) {
      const [s, e] = sub.lenDelimited();
      out.push(r.buf.slice(s, e));
    } else sub.skip(tag & 7, tagPos);
  }
  return out;
}

function decodeFloatList(r: Reader, start: number, end: number): number[] {
  const sub = new Reader(r.buf, start, end);
  const view = new DataView(r.buf.buffer, r.buf.byteOffset, r.buf.byteLength);
  const out: number[] = [];
  while (sub.pos < sub.end) {
    const tagPos = sub.pos;
    const tag = sub.uint();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 2) {
      const [s, e] = sub.lenDelimited();
      if ((e - s) % 4 !== 0) throw malformed('packed float list length not a multiple of 4', tagPos);
      for (let p = s; p < e; p += 4) out.push(view.getFloat32(p, true));
    } else if (field === 1 && wt === 5) {
      out.push(view.getFloat32(sub.fixed(4), true));
    } else sub.skip(wt, tagPos);
  }
  return out;
}

function decodeInt64List(r: Reader, start: number, end: number): (number | bigint)[] {
  const sub = new Reader(r.buf, start, end);
  const out: (number | bigint)[] = [];
  while (sub.pos < sub.end) {
    const tagPos = sub.pos;
    const tag = sub.uint();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 2) {
      const [s, e] = sub.lenDelimited();
      const packed = new Reader(r.buf, s, e);
      while (packed.pos < packed.end) out.push(packed.int64());
    } else if (field === 1 && wt === 0) {
      out.push(sub.int64());
    } else sub.skip(wt, tagPos);
  }
  return out;
}

/** Decodes a Feature; undefined when no kind is set. Repeated occurrences of one kind merge. */
function decodeFeature(r: Reader, start: number, end: number): Feature | undefined {
  const sub = new Reader(r.buf, start, end);
  let f: Feature | undefined;
  while (sub.pos < sub.end) {
    const tagPos = sub.pos;
    const tag = sub.uint();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (wt === 2 && field >= 1 && field <= 3) {
      const [s, e] = sub.lenDelimited();
      if (field === 1) {
        const v = decodeBytesList(r, s, e);
        f = f?.kind === 'bytes' ? { kind: 'bytes', values: [...f.values, ...v] } : { kind: 'bytes', values: v };
      } else if (field === 2) {
        const v = decodeFloatList(r, s, e);
        f = f?.kind === 'float' ? { kind: 'float', values: [...f.values, ...v] } : { kind: 'float', values: v };
      } else {
        const v = decodeInt64List(r, s, e);
        f = f?.kind === 'int64' ? { kind: 'int64', values: [...f.values, ...v] } : { kind: 'int64', values: v };
      }
    } else sub.skip(wt, tagPos);
  }
  return f;
}

const utf8 = new TextDecoder('utf-8');

/**
 * Decodes a serialized tf.train.Example. A map entry whose Feature has no kind set is left
 * out; a repeated key keeps its last value (protobuf map semantics).
 */
export function decodeExample(bytes: Uint8Array): Example {
  const out: Example = new Map();
  const top = new Reader(bytes, 0, bytes.length);
  while (top.pos < top.end) {
    const tagPos = top.pos;
    const tag = top.uint();
    if (tag >>> 3 !== 1 || (tag & 7) !== 2) {
      top.skip(tag & 7, tagPos);
      continue;
    }
    const [fs, fe] = top.lenDelimited(); // Features
    const features = new Reader(bytes, fs, fe);
    while (features.pos < features.end) {
      const tp = features.pos;
      const t = features.uint();
      if (t >>> 3 !== 1 || (t & 7) !== 2) {
        features.skip(t & 7, tp);
        continue;
      }
      const [es, ee] = features.lenDelimited(); // map entry
      const entry = new Reader(bytes, es, ee);
      let key = '';
      let value: Feature | undefined;
      while (entry.pos < entry.end) {
        const ep = entry.pos;
        const et = entry.uint();
        const field = et >>> 3;
        if (field === 1 && (et & 7) === 2) {
          const [ks, ke] = entry.lenDelimited();
          key = utf8.decode(bytes.subarray(ks, ke));
        } else if (field === 2 && (et & 7) === 2) {
          const [vs, ve] = entry.lenDelimited();
          value = decodeFeature(entry, vs, ve);
        } else entry.skip(et & 7, ep);
      }
      if (value === undefined) out.delete(key);
      else {
        out.delete(key); // keep insertion order of the last occurrence
        out.set(key, value);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding (for tests and fixtures).

class Writer {
  private parts: Uint8Array[] = [];
  private cur: number[] = [];
  length = 0;

  byte(b: number): void {
    this.cur.push(b);
    this.length++;
  }

  uint(n: number): void {
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }

  uint64(v: bigint): void {
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  bytes(b: Uint8Array): void {
    this.flush();
    this.parts.push(b);
    this.length += b.length;
  }

  /** Writes a length-delimited field whose body is produced by `body`. */
  message(field: number, body: Writer): void {
    this.uint((field << 3) | 2);
    this.uint(body.length);
    this.bytes(body.finish());
  }

  finish(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0]!;
    const out = new Uint8Array(this.length);
    let p = 0;
    for (const part of this.parts) {
      out.set(part, p);
      p += part.length;
    }
    return out;
  }

  private flush(): void {
    if (this.cur.length > 0) {
      this.parts.push(Uint8Array.from(this.cur));
      this.cur = [];
    }
  }
}

const utf8Enc = new TextEncoder();

function encodeFeature(key: string, f: Feature): Writer {
  const list = new Writer();
  if (f.kind === 'bytes') {
    for (const v of f.values) {
      list.uint((1 << 3) | 2);
      list.uint(v.length);
      list.bytes(v);
    }
  } else if (f.kind === 'float') {
    if (f.values.length > 0) {
      const body = new Uint8Array(f.values.length * 4);
      const view = new DataView(body.buffer);
      f.values.forEach((v, i) => view.setFloat32(i * 4, v, true));
      list.uint((1 << 3) | 2);
      list.uint(body.length);
      list.bytes(body);
    }
  } else if (f.values.length > 0) {
    const body = new Writer();
    for (const v of f.values) {
      if (typeof v === 'number' && !Number.isSafeInteger(v)) {
        throw new ForesightError('BAD_INPUT', `int64 feature "${key}" has a non-integer or unsafe number ${v}`, { key });
      }
      const b = BigInt(v);
      if (b < -(1n << 63n) || b >= 1n << 63n) {
        throw new ForesightError('BAD_INPUT', `int64 feature "${key}" value ${v} out of range`, { key });
      }
      body.uint64(BigInt.asUintN(64, b));
    }
    list.message(1, body);
  }
  const feature = new Writer();
  feature.message(f.kind === 'bytes' ? 1 : f.kind === 'float' ? 2 : 3, list);
  return feature;
}

/** Serializes features (in iteration order) as a tf.train.Example. */
export function encodeExample(features: Example | Readonly<Record<string, Feature>>): Uint8Array {
  const entries = features instanceof Map ? [...features] : Object.entries(features);
  const feats = new Writer();
  for (const [key, f] of entries) {
    const entry = new Writer();
    const k = utf8Enc.encode(key);
    entry.uint((1 << 3) | 2);
    entry.uint(k.length);
    entry.bytes(k);
    entry.message(2, encodeFeature(key, f));
    feats.message(1, entry);
  }
  const ex = new Writer();
  ex.message(1, feats);
  return ex.finish();
}

// ---------------------------------------------------------------------------------------------
// Accessors.

function need<K extends Feature['kind']>(ex: Example, key: string, kind: K): Extract<Feature, { kind: K }> {
  const f = ex.get(key);
  if (f === undefined) throw new ForesightError('BAD_INPUT', `Example has no feature "${key}"`, { key });
  if (f.kind !== kind) {
    throw new ForesightError('BAD_INPUT', `Example feature "${key}" is ${f.kind}, expected ${kind}`, { key, kind: f.kind });
  }
  return f as Extract<Feature, { kind: K }>;
}

export function getBytes(ex: Example, key: string): Uint8Array[] {
  return need(ex, key, 'bytes').values;
}

/** The first value of a bytes feature as UTF-8 text. */
export function getString(ex: Example, key: string): string {
  const first = need(ex, key, 'bytes').values[0];
  if (first === undefined) throw new ForesightError('BAD_INPUT', `Example feature "${key}" has no value`, { key });
  return utf8.decode(first);
}

export function getFloats(ex: Example, key: string): number[] {
  return need(ex, key, 'float').values;
}

export function getInts(ex: Example, key: string): (number | bigint)[] {
  return need(ex, key, 'int64').values;
}
