/**
 * The model registry: a model folder is added only when its manifest, every file (size and
 * sha256) and every graph's real inputs and outputs (read from onnxruntime) agree; a missing or
 * corrupt file is refused naming it. The built-in PP-OCRv4 resolves to the npm package's files.
 * A hub model is fetched over real HTTP only when asked, and a corrupt download leaves nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isForesightError } from '../../common/errors.ts';
import { downloadFromHub, hubModelDir, parseHubSpec } from '../../native-models/hub.ts';
import { ModelRegistry, registryDir, resolveBuiltinModel } from '../../native-models/registry.ts';
import { SessionManager } from '../../native-models/sessions.ts';
import { hubRepo, startHub, tinyModel, writeModelDir, type TinyModel } from '../harness/model-dir.ts';

let root: string;
let registry: ModelRegistry;
const manager = new SessionManager();

before(() => {
  root = mkdtempSync(join(tmpdir(), 'foresight-models-'));
});
after(async () => {
  await manager.close();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
const freshDir = () => join(root, `case-${++n}`);

beforeEach(() => {
  registry = new ModelRegistry({ dir: join(freshDir(), 'registry') });
});

const refusedNaming = (pattern: RegExp) => (e: unknown) => {
  assert.ok(isForesightError(e, 'MODEL_INVALID'), String(e));
  assert.match(e.message, pattern);
  return true;
};

void describe('model folders', () => {
  void it('add, list, verify: a sound folder is recorded in the registry file', async () => {
    const dir = writeModelDir(freshDir());
    const added = await registry.add(dir, { manager });
    assert.equal(added.name, 'tiny-ocr');
    const onDisk = JSON.parse(readFileSync(registry.file, 'utf8')) as { models: Array<{ name: string; dir: string }> };
    assert.deepEqual(onDisk.models.map((m) => [m.name, m.dir]), [['tiny-ocr', dir]]);
    const listed = registry.list();
    assert.deepEqual(listed.map((m) => [m.name, m.builtin]), [['pp-ocrv4', true], ['tiny-ocr', false]]);
    const [report] = await registry.verify('tiny-ocr', { manager });
    assert.deepEqual(report, { name: 'tiny-ocr', dir, builtin: false, kind: 'onnx', ok: true, problems: [] });
    const resolved = registry.resolve('tiny-ocr');
    assert.equal(resolved.graphs.det?.path, join(dir, 'det.onnx'));
    assert.equal(resolved.files['keys.txt'], join(dir, 'keys.txt'));
  });

  void it('a missing file is refused, naming it, and nothing is recorded', async () => {
    const dir = writeModelDir(freshDir());
    unlinkSync(join(dir, 'rec.onnx'));
    await assert.rejects(registry.add(dir, { manager }), refusedNaming(new RegExp(`${join(dir, 'rec.onnx')} is missing`)));
    assert.equal(existsSync(registry.file), false);
  });

  void it('a corrupt file (same size, other bytes) is refused with both checksums', async () => {
    const dir = writeModelDir(freshDir());
    const manifest = JSON.parse(readFileSync(join(dir, 'foresight-model.json'), 'utf8')) as { files: Array<{ path: string; sha256: string }> };
    const want = manifest.files.find((f) => f.path === 'rec.onnx')?.sha256;
    const bytes = readFileSync(join(dir, 'rec.onnx'));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    writeFileSync(join(dir, 'rec.onnx'), bytes);
    await assert.rejects(registry.add(dir, { manager }), refusedNaming(new RegExp(`${join(dir, 'rec.onnx')} is corrupt: sha256 [0-9a-f]{64}, expected ${want}`)));
    // A truncated file is told by its size.
    writeFileSync(join(dir, 'rec.onnx'), bytes.subarray(0, 10));
    await assert.rejects(registry.add(dir, { manager }), refusedNaming(/rec\.onnx is corrupt: 10 bytes, expected \d+/));
  });

  void it('a folder that was added and then damaged fails verify, naming the file', async () => {
    const dir = writeModelDir(freshDir());
    await registry.add(dir, { manager });
    unlinkSync(join(dir, 'keys.txt'));
    const [report] = await registry.verify('tiny-ocr', { manager });
    assert.equal(report?.ok, false);
    assert.deepEqual(report?.problems.map((p) => p.message), [`${join(dir, 'keys.txt')} is missing`]);
  });

  void it("a graph whose inputs are not the manifest's is refused, naming both", async () => {
    const m: TinyModel = tinyModel();
    const graphs = m.manifest.graphs as Record<string, { inputs: string[]; warmup?: unknown }>;
    graphs.det!.inputs = ['image'];
    delete graphs.det!.warmup;
    const dir = writeModelDir(freshDir(), m);
    await assert.rejects(
      registry.add(dir, { manager }),
      refusedNaming(new RegExp(`${join(dir, 'det.onnx')} \\(graph "det"\\): the manifest names input "image" the graph does not have, and the graph has input "x" the manifest does not name`)),
    );
  });

  void it('a manifest that is not one is refused, naming the file and the field', async () => {
    const m = tinyModel();
    (m.manifest.files as Array<{ sha256: string }>)[0]!.sha256 = 'abc';
    const dir = writeModelDir(freshDir(), m);
    await assert.rejects(registry.add(dir, { manager }), refusedNaming(new RegExp(`${join(dir, 'foresight-model.json')} is not a valid model manifest: files\\.0\\.sha256: must be 64 lowercase hex digits`)));
    const escape = tinyModel();
    (escape.manifest.files as Array<{ path: string }>)[2]!.path = '../keys.txt';
    const dir2 = writeModelDir(freshDir(), escape);
    await assert.rejects(registry.add(dir2, { manager }), refusedNaming(/files\.2\.path: must stay inside the model directory/));
    await assert.rejects(registry.add(freshDir(), { manager }), (e: unknown) => isForesightError(e, 'NOT_FOUND'));
  });

  void it('a second folder under a taken name is refused; the same folder again is fine', async () => {
    const dir = writeModelDir(freshDir());
    await registry.add(dir, { manager });
    await registry.add(dir, { manager });
    await assert.rejects(registry.add(writeModelDir(freshDir()), { manager }), (e: unknown) => isForesightError(e, 'BAD_INPUT') && e.message.includes(dir));
    await assert.rejects(registry.add(writeModelDir(freshDir(), tinyModel('pp-ocrv4')), { manager }), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
    assert.equal(registry.list().length, 2);
  });

  void it('the registry lives in the data folder: FORESIGHT_DATA, or --models', () => {
    assert.equal(registryDir({ env: { FORESIGHT_DATA: '/srv/fs' } }), '/srv/fs/models');
    assert.equal(registryDir({ dir: '/tmp/x', env: { FORESIGHT_DATA: '/srv/fs' } }), '/tmp/x');
    assert.match(registryDir({ env: {} }), /foresight[/\\]models$/);
  });
});

void describe('the built-in PP-OCRv4', () => {
  void it('resolves to the npm package\'s files, absolute, with its graphs', () => {
    const m = resolveBuiltinModel('pp-ocrv4');
    assert.equal(m.builtin, true);
    assert.deepEqual(Object.keys(m.graphs).sort(), ['det', 'rec']);
    for (const [path, abs] of Object.entries(m.files)) {
      assert.ok(abs.startsWith('/') && abs.endsWith(path), abs);
      assert.equal(statSync(abs).size, m.manifest.files.find((f) => f.path === path)?.size);
    }
    assert.ok(m.files['ppocr_keys_v1.txt']);
    assert.throws(() => resolveBuiltinModel('nope'), (e: unknown) => isForesightError(e, 'NOT_FOUND'));
  });

  void it('verifies: checksums and the real graphs\' inputs and outputs', async () => {
    const [report] = await registry.verify('pp-ocrv4', { manager });
    assert.deepEqual(report?.problems, []);
    assert.equal(report?.ok, true);
  });
});

void describe('a model hub, only when asked', () => {
  void it('parses hf:<owner>/<name>[@rev]', () => {
    assert.deepEqual(parseHubSpec('hf:acme/tiny'), { repo: 'acme/tiny', revision: 'main' });
    assert.deepEqual(parseHubSpec('hf:acme/tiny@v1.2'), { repo: 'acme/tiny', revision: 'v1.2' });
    assert.throws(() => parseHubSpec('hf:tiny'), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
  });

  void it('downloads every file, checks each sha256, reports progress, and the folder then adds', async () => {
    const hub = await startHub({ 'acme/tiny@main': hubRepo() });
    try {
      const dest = hubModelDir(registry.dir, parseHubSpec('hf:acme/tiny'));
      const lines: string[] = [];
      await downloadFromHub(parseHubSpec('hf:acme/tiny'), { dest, endpoint: hub.url, progress: (l) => lines.push(l) });
      assert.deepEqual(readdirSync(dest).sort(), ['det.onnx', 'foresight-model.json', 'keys.txt', 'rec.onnx']);
      assert.match(lines.join('\n'), /rec\.onnx: [\d.]+\/[\d.]+ MB/);
      assert.equal(hub.requests[0], '/acme/tiny/resolve/main/foresight-model.json');
      const added = await registry.add(dest, { manager });
      assert.equal(added.name, 'tiny-ocr');
    } finally {
      await hub.close();
    }
  });

  void it('a corrupt download is refused naming the file, and leaves nothing behind', async () => {
    const files = hubRepo();
    const bad = Buffer.from(files['rec.onnx']!);
    bad.writeUInt8(bad.readUInt8(0) ^ 0xff, 0);
    const hub = await startHub({ 'acme/tiny@main': { ...files, 'rec.onnx': bad } });
    try {
      const dest = hubModelDir(registry.dir, parseHubSpec('hf:acme/tiny'));
      await assert.rejects(downloadFromHub(parseHubSpec('hf:acme/tiny'), { dest, endpoint: hub.url }), refusedNaming(new RegExp(`${join(dest, 'rec.onnx')} is corrupt: sha256 [0-9a-f]{64}, expected`)));
      assert.equal(existsSync(dest), false);
      assert.deepEqual(existsSync(registry.dir) ? readdirSync(join(registry.dir, 'hub')) : [], [], 'no partial folder left');
    } finally {
      await hub.close();
    }
  });

  void it('a hub that stalls mid-file is given up on, naming the file, and leaves nothing', async () => {
    const hub = await startHub({ 'acme/tiny@main': hubRepo() }, { 'rec.onnx': 20 });
    try {
      const dest = join(freshDir(), 'm');
      await assert.rejects(downloadFromHub(parseHubSpec('hf:acme/tiny'), { dest, endpoint: hub.url, idleMs: 2000 }), (e: unknown) => {
        assert.ok(isForesightError(e, 'ENDPOINT_ERROR'), String(e));
        assert.match(e.message, /The model hub sent nothing of rec\.onnx for 2 s/);
        return true;
      });
      assert.equal(existsSync(dest), false);
    } finally {
      await hub.close();
    }
  });

  void it('an unknown repo is NOT_FOUND; a dead network is ENDPOINT_ERROR that says what to do', async () => {
    const hub = await startHub({});
    try {
      const dest = join(freshDir(), 'm');
      await assert.rejects(downloadFromHub(parseHubSpec('hf:acme/none'), { dest, endpoint: hub.url }), (e: unknown) => isForesightError(e, 'NOT_FOUND') && e.message.includes('foresight-model.json'));
    } finally {
      await hub.close();
    }
    // A port nobody listens on: take one, then let it go.
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dest = join(freshDir(), 'm');
    await assert.rejects(downloadFromHub(parseHubSpec('hf:acme/tiny'), { dest, endpoint: `http://127.0.0.1:${port}` }), (e: unknown) => {
      assert.ok(isForesightError(e, 'ENDPOINT_ERROR'));
      assert.match(e.message, /Could not reach the model hub .*ECONNREFUSED.*foresight models add <dir>/);
      return true;
    });
    assert.equal(existsSync(dest), false);
  });
});
