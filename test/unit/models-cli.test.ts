/**
 * `foresight models` through the real CLI, as a user types it: doctor says CPU is usable and
 * CUDA is not, and why; add refuses a broken folder naming the file; a hub model needs
 * --download and then comes over HTTP with progress on stderr.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../harness/cli.ts';
import { hubRepo, startHub, writeModelDir } from '../harness/model-dir.ts';

let root: string;
let env: NodeJS.ProcessEnv;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'foresight-models-cli-'));
  // FORESIGHT_DATA keeps the user's own registry out of it; HF_ENDPOINT points nowhere unless a test sets it.
  env = { ...process.env, FORESIGHT_DATA: join(root, 'data'), HF_ENDPOINT: 'http://127.0.0.1:9' };
});
after(() => rmSync(root, { recursive: true, force: true }));

/** Whether this machine has an NVIDIA GPU the way the doctor looks for one. */
const GPU_HERE = existsSync('/dev/nvidia0');

void describe('foresight models', () => {
  void it('doctor: CPU available, CUDA not, with the reason and what to do', async () => {
    const r = await runCli(['models', 'doctor'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\s+CPU\s+available/m);
    assert.match(r.stdout, /Models run on: (CPU|CUDA|TensorRT)\./);
    assert.match(r.stdout, /pp-ocrv4\s+usable on /);
    if (!GPU_HERE) {
      assert.match(r.stdout, /^\s+CUDA\s+not available:$/m);
      assert.match(r.stdout, /- CUDA: no NVIDIA GPU found \(no \/dev\/nvidia0[^)]*\); CUDA needs an NVIDIA GPU and its driver; run on CPU/);
      // Each missing library by name, with what to install.
      assert.match(r.stdout, /- CUDA: libcudart\.so\.12[^;]* not found; install the CUDA 12 runtime/);
      assert.match(r.stdout, /Models run on: CPU\./);
    }
  });

  void it('doctor --json: the same facts for programs', async () => {
    const r = await runCli(['models', 'doctor', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { providers: Array<{ provider: string; available: boolean; problems: Array<{ reason: string; remedy: string }> }>; models: Array<{ name: string; usable: boolean }> };
    const cpu = report.providers.find((p) => p.provider === 'cpu');
    assert.equal(cpu?.available, true);
    if (!GPU_HERE) {
      const cuda = report.providers.find((p) => p.provider === 'cuda');
      assert.equal(cuda?.available, false);
      assert.ok((cuda?.problems.length ?? 0) > 0 && cuda!.problems.every((p) => p.reason !== '' && p.remedy !== ''));
    }
    assert.deepEqual(report.models.map((m) => [m.name, m.usable]), [['pp-ocrv4', true]]);
  });

  void it('add refuses a folder with a missing file, naming it; verify says which model is refused', async () => {
    const dir = writeModelDir(join(root, 'broken'));
    unlinkSync(join(dir, 'det.onnx'));
    const refused = await runCli(['models', 'add', dir], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`MODEL_INVALID: Model tiny-ocr refused: ${join(dir, 'det.onnx')} is missing`));
    const verify = await runCli(['models', 'verify'], env);
    assert.equal(verify.code, 0, 'nothing broken was recorded');
    assert.match(verify.stdout, /^pp-ocrv4: ok/m);
    assert.doesNotMatch(verify.stdout, /tiny-ocr/);
  });

  void it('a hub model: refused without --download; with it, fetched with progress and checksums, then listed', async () => {
    const registry = join(root, 'hub-registry');
    const offline = await runCli(['models', 'add', 'hf:acme/tiny', '--models', registry], env);
    assert.equal(offline.code, 2);
    assert.match(offline.stderr, /BAD_INPUT: hf:acme\/tiny is on a model hub, and Foresight goes online only when asked: add --download/);

    const hub = await startHub({ 'acme/tiny@v1': hubRepo() });
    try {
      const r = await runCli(['models', 'add', 'hf:acme/tiny@v1', '--download', '--models', registry], { ...env, HF_ENDPOINT: hub.url });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /hf:acme\/tiny@v1: 3 files/);
      assert.match(r.stderr, /every sha256 checked/);
      assert.match(r.stdout, /^Added tiny-ocr from /);
    } finally {
      await hub.close();
    }
    const list = await runCli(['models', 'list', '--models', registry, '--json'], env);
    const models = JSON.parse(list.stdout) as Array<{ name: string; dir: string }>;
    assert.ok(models.some((m) => m.name === 'tiny-ocr' && m.dir.startsWith(join(registry, 'hub'))));
  });
});
