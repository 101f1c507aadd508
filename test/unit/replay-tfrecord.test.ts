import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { isForesightError } from '../../common/errors.ts';
import { crc32c, encodeTFRecords, maskCrc, maskedCrc32c, readTFRecords, writeTFRecords } from '../../main/replay/tfrecord.ts';
import {
  decodeExample,
  encodeExample,
  getBytes,
  getFloats,
  getInts,
  getString,
  type Example,
  type Feature,
} from '../../main/replay/example-proto.ts';

const ascii = (s: string) => new TextEncoder().encode(s);

async function collect(path: string, opts?: Parameters<typeof readTFRecords>[1]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const r of readTFRecords(path, opts)) out.push(r);
  return out;
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foresight-tfrecord-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('crc32c', () => {
  test('known vectors', () => {
    assert.equal(crc32c(ascii('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 zero bytes
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43); // 32 bytes of 0xff
    const inc = Uint8Array.from({ length: 32 }, (_, i) => i);
    assert.equal(crc32c(inc), 0x46dd794e); // incrementing 00..1f
    const dec = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
    assert.equal(crc32c(dec), 0x113fdb5c); // decrementing 1f..00
  });

  test('incremental equals one-shot', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        const ab = new Uint8Array([...a, ...b]);
        assert.equal(crc32c(b, crc32c(a)), crc32c(ab));
      }),
    );
  });

  test('mask matches the TFRecord definition', () => {
    const crc = 0xe3069283;
    const rot = ((crc >>> 15) | (crc << 17)) >>> 0;
    assert.equal(maskCrc(crc), (rot + 0xa282ead8) % 2 ** 32);
    assert.equal(maskedCrc32c(ascii('123456789')), maskCrc(crc));
  });

  test('matches the length CRC of an empty record as TensorFlow writes it', () => {
    // A record of length 0: 8 zero length bytes, masked crc32c of them.
    const framed = encodeTFRecords([new Uint8Array(0)]);
    assert.equal(framed.length, 16);
    assert.equal(framed.readUInt32LE(8), maskCrc(crc32c(new Uint8Array(8))));
    assert.equal(framed.readUInt32LE(12), maskCrc(0));
  });
});

describe('TFRecord files', () => {
  test('round trip, plain and gzip, with auto detection', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.boolean(), async (records, gz) => {
        const p = join(dir, `rt-${gz ? 'gz' : 'raw'}.tfrecord`);
        await writeTFRecords(p, records, { gzip: gz });
        assert.deepEqual(await collect(p), records);
        assert.deepEqual(await collect(p, { compression: gz ? 'gzip' : 'none' }), records);
      }),
      { numRuns: 40 },
    );
  });

  test('streams records larger than the read chunk', async () => {
    const big = Uint8Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31) & 0xff);
    const records = [ascii('a'), big, ascii('b'), big.subarray(5, 70000)];
    for (const gz of [false, true]) {
      const p = join(dir, `big-${gz}.tfrecord`);
      await writeTFRecords(p, records, { gzip: gz });
      const got = await collect(p);
      assert.equal(got.length, 4);
      got.forEach((r, i) => assert.ok(Buffer.from(r).equals(Buffer.from(records[i]!)), `record ${i}`));
    }
  });

  test('gzip file written by node:zlib of a hand-framed body is read', async () => {
    const p = join(dir, 'hand.tfrecord.gz');
    await writeFile(p, gzipSync(encodeTFRecords([ascii('hello'), ascii('world')])));
    assert.deepEqual((await collect(p)).map((r) => Buffer.from(r).toString()), ['hello', 'world']);
  });

  test('empty file has no records', async () => {
    const p = join(dir, 'empty.tfrecord');
    await writeFile(p, new Uint8Array(0));
    assert.deepEqual(await collect(p), []);
  });

  test('bad data CRC is BAD_INPUT naming file, record and offset; verify:false skips it', async () => {
    const p = join(dir, 'badcrc.tfrecord');
    const body = encodeTFRecords([ascii('first'), ascii('second')]);
    // Second record starts at 12 + 5 + 4 = 21; flip a data byte.
    body[21 + 12 + 2]! ^= 0xff;
    await writeFile(p, body);
    await assert.rejects(collect(p), (e: unknown) => {
      assert.ok(isForesightError(e, 'BAD_INPUT'));
      assert.match(e.message, /CRC mismatch/);
      assert.match(e.message, /record 1 at byte 21 of .*badcrc\.tfrecord/);
      assert.deepEqual({ record: e.details?.record, offset: e.details?.offset }, { record: 1, offset: 21 });
      return true;
    });
    const loose = await collect(p, { verify: false });
    assert.equal(loose.length, 2);
  });

  test('bad length CRC is BAD_INPUT even without verify', async () => {
    const p = join(dir, 'badlen.tfrecord');
    const body = encodeTFRecords([ascii('x')]);
    body[9]! ^= 1;
    await writeFile(p, body);
    await assert.rejects(collect(p, { verify: false }), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /CRC mismatch in length of record 0 at byte 0/.test(e.message));
  });

  test('truncated file is BAD_INPUT: in the header, the data and the footer', async () => {
    const full = encodeTFRecords([ascii('abcdef'), ascii('0123456789')]);
    const second = 12 + 6 + 4;
    for (const cut of [second + 5, second + 15, full.length - 1]) {
      const p = join(dir, `trunc-${cut}.tfrecord`);
      await writeFile(p, full.subarray(0, cut));
      const seen: Uint8Array[] = [];
      await assert.rejects(
        (async () => {
          for await (const r of readTFRecords(p)) seen.push(r);
        })(),
        (e: unknown) => isForesightError(e, 'BAD_INPUT') && e.message.includes(`truncated record 1 at byte ${second} of ${p}`),
      );
      assert.equal(seen.length, 1, 'the good first record is still yielded');
    }
  });

  test('truncated gzip stream is BAD_INPUT', async () => {
    const p = join(dir, 'trunc.tfrecord.gz');
    await writeTFRecords(p, [ascii('a'.repeat(1000)), ascii('b'.repeat(1000))], { gzip: true });
    const gz = await readFile(p);
    await writeFile(p, gz.subarray(0, gz.length - 10));
    await assert.rejects(collect(p), (e: unknown) => isForesightError(e, 'BAD_INPUT') && e.message.includes(p));
  });

  test('missing file is NOT_FOUND', async () => {
    await assert.rejects(collect(join(dir, 'nope.tfrecord')), (e: unknown) => isForesightError(e, 'NOT_FOUND'));
    await assert.rejects(collect(join(dir, 'nope.tfrecord'), { compression: 'none' }), (e: unknown) => isForesightError(e, 'NOT_FOUND'));
  });

  test('breaking out early closes the file', async () => {
    const p = join(dir, 'early.tfrecord');
    await writeTFRecords(p, [ascii('1'), ascii('2'), ascii('3')]);
    for await (const r of readTFRecords(p)) {
      assert.equal(Buffer.from(r).toString(), '1');
      break;
    }
  });
});

describe('tf.train.Example', () => {
  test('decodes a handcrafted Example with packed floats, bytes and a negative int64', () => {
    // prettier-ignore
    const bytes = Uint8Array.from([
      0x0a, 0x3b, // Example.features, 59 bytes
      0x0a, 0x13, // Features.feature entry, 19 bytes
      0x0a, 0x03, 0x78, 0x79, 0x7a, // key "xyz"
      0x12, 0x0c, // value Feature, 12 bytes
      0x12, 0x0a, // float_list, 10 bytes
      0x0a, 0x08, // value, packed, 8 bytes
      0x00, 0x00, 0x80, 0x3f, // 1.0f
      0x00, 0x00, 0x20, 0xc0, // -2.5f
      0x0a, 0x10, // entry, 16 bytes
      0x0a, 0x04, 0x67, 0x6f, 0x61, 0x6c, // key "goal"
      0x12, 0x08, 0x0a, 0x06, // Feature.bytes_list, 6 bytes
      0x0a, 0x04, 0x68, 0x6f, 0x6d, 0x65, // "home"
      0x0a, 0x12, // entry, 18 bytes
      0x0a, 0x01, 0x6e, // key "n"
      0x12, 0x0d, 0x1a, 0x0b, // Feature.int64_list, 11 bytes
      0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, // unpacked -1
    ]);
    const ex = decodeExample(bytes);
    assert.deepEqual([...ex.keys()], ['xyz', 'goal', 'n']);
    assert.deepEqual(getFloats(ex, 'xyz'), [1, -2.5]);
    assert.equal(getString(ex, 'goal'), 'home');
    assert.deepEqual(getInts(ex, 'n'), [-1]);
  });

  test('accepts unpacked floats and packed int64, skips unknown fields', () => {
    // prettier-ignore
    const bytes = Uint8Array.from([
      0x10, 0x07, // unknown varint field 2 in Example
      0x0a, 0x25, // features, 37 bytes
      0x0a, 0x16, // entry, 22
      0x0a, 0x01, 0x66, // key "f"
      0x12, 0x11, 0x12, 0x0a, // Feature 17 bytes; float_list, 10 bytes
      0x0d, 0x00, 0x00, 0x80, 0x3f, // unpacked 1.0f
      0x0d, 0x00, 0x00, 0x00, 0x40, // unpacked 2.0f
      0x1d, 0x01, 0x02, 0x03, 0x04, // unknown fixed32 field 3 in Feature
      0x0a, 0x0b, // entry, 11
      0x0a, 0x01, 0x69, // key "i"
      0x12, 0x06, 0x1a, 0x04, 0x0a, 0x02, 0x96, 0x01, // packed [150]
    ]);
    const ex = decodeExample(bytes);
    assert.deepEqual(getFloats(ex, 'f'), [1, 2]);
    assert.deepEqual(getInts(ex, 'i'), [150]);
  });

  test('int64 beyond the safe range comes back as bigint', () => {
    const vals = [0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n];
    const ex = decodeExample(encodeExample({ v: { kind: 'int64', values: vals } }));
    assert.deepEqual(getInts(ex, 'v'), [0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n]);
  });

  test('random round trips', () => {
    // int64 has no negative zero: -0 would come back as 0
    const safeInt = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.maxSafeNat().map((n) => (n === 0 ? 0 : -n)));
    const bigInt = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).filter((b) => b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER));
    const feature: fc.Arbitrary<Feature> = fc.oneof(
      fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 5 }).map((values) => ({ kind: 'bytes' as const, values })),
      fc.array(fc.float(), { maxLength: 10 }).map((values) => ({ kind: 'float' as const, values })),
      fc.array(fc.oneof(safeInt, bigInt), { maxLength: 10 }).map((values) => ({ kind: 'int64' as const, values })),
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.string(), feature), { selector: ([k]) => k, maxLength: 8 }), (entries) => {
        const ex: Example = new Map(entries);
        const back = decodeExample(encodeExample(ex));
        assert.deepEqual(back, ex);
      }),
    );
  });

  test('round trip through a gzip TFRecord file', async () => {
    const examples: Example[] = [
      new Map<string, Feature>([
        ['episode_id', { kind: 'int64', values: [42] }],
        ['goal', { kind: 'bytes', values: [ascii('Open settings')] }],
        ['xy', { kind: 'float', values: [0.25, 0.5] }],
      ]),
      new Map<string, Feature>([['empty', { kind: 'float', values: [] }]]),
    ];
    const p = join(dir, 'examples.tfrecord.gz');
    await writeTFRecords(p, examples.map(encodeExample), { gzip: true });
    const back = (await collect(p)).map(decodeExample);
    assert.deepEqual(back, examples);
    assert.equal(getString(back[0]!, 'goal'), 'Open settings');
  });

  test('accessors throw BAD_INPUT naming the key', () => {
    const ex = decodeExample(encodeExample({ a: { kind: 'float', values: [1] }, s: { kind: 'bytes', values: [] } }));
    assert.throws(() => getFloats(ex, 'missing_key'), (e: unknown) => isForesightError(e, 'BAD_INPUT') && e.message.includes('"missing_key"'));
    assert.throws(() => getInts(ex, 'a'), (e: unknown) => isForesightError(e, 'BAD_INPUT') && /"a" is float, expected int64/.test(e.message));
    assert.throws(() => getString(ex, 's'), (e: unknown) => isForesightError(e, 'BAD_INPUT') && e.message.includes('"s" has no value'));
    assert.deepEqual(getBytes(ex, 's'), []);
  });

  test('malformed bytes are BAD_INPUT, never a crash or hang', () => {
    assert.throws(() => decodeExample(Uint8Array.from([0x0a, 0x05, 0x0a])), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
    assert.throws(() => decodeExample(Uint8Array.from([0x0b])), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          decodeExample(b);
        } catch (e) {
          assert.ok(isForesightError(e, 'BAD_INPUT'), String(e));
        }
      }),
    );
  });
});
