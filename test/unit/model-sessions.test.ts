/**
 * The onnxruntime session manager: which provider a session runs on (decided from a probe of the
 * machine, for every platform), why the faster ones were passed over, and real CPU sessions on a
 * tiny ONNX model written by the test: cache, warm-up, one run at a time, cancellation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isForesightError } from '../../common/errors.ts';
import {
  assessProviders,
  CUDA_INSTALL_COMMAND,
  GPU_LIBRARIES,
  lookupLibrary,
  parseLdconfig,
  planProviders,
  probeProviders,
  threadCounts,
  type LibraryLookup,
  type ProviderProbe,
} from '../../native-models/providers.ts';
import { SessionManager } from '../../native-models/sessions.ts';
import { doublerModel } from '../harness/onnx-model.ts';

const ORT_DIR = '/opt/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64';
const allLibs = (except: string[] = []): Record<string, LibraryLookup> =>
  Object.fromEntries(GPU_LIBRARIES.map((s) => [s, except.includes(s) ? { found: null } : { found: `/usr/lib/x86_64-linux-gnu/${s}` }]));

/** A Linux workstation with an NVIDIA GPU, CUDA 12, cuDNN 9, TensorRT 10 and onnxruntime's GPU plug-ins. */
function gpuBox(over: Partial<ProviderProbe> = {}): ProviderProbe {
  return {
    platform: 'linux',
    arch: 'x64',
    ortVersion: '1.30.0',
    ortBinDir: ORT_DIR,
    backends: [
      { name: 'cpu', bundled: true },
      { name: 'webgpu', bundled: true },
      { name: 'cuda', bundled: false },
      { name: 'tensorrt', bundled: false },
    ],
    ortFiles: ['libonnxruntime.so.1', 'onnxruntime_binding.node', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so'],
    gpu: { present: true, evidence: 'GPU 0: NVIDIA RTX 4070' },
    libraries: allLibs(),
    cores: 8,
    ...over,
  };
}

/** This kind of machine: no GPU, onnxruntime-node installed with ONNXRUNTIME_NODE_INSTALL=skip. */
const cpuBox = (): ProviderProbe =>
  gpuBox({ ortFiles: ['libonnxruntime.so.1', 'onnxruntime_binding.node'], gpu: { present: false, evidence: 'no /dev/nvidia0, nvidia-smi not found' }, libraries: allLibs(GPU_LIBRARIES as string[]), cores: 2 });

void describe('provider choice', () => {
  void it('Linux with everything installed: TensorRT, then CUDA, then CPU, nothing passed over', () => {
    assert.deepEqual(planProviders(gpuBox()), { order: ['tensorrt', 'cuda', 'cpu'], reasons: [] });
  });

  void it('Linux without a GPU: CPU, and each GPU provider passed over with its reasons', () => {
    const plan = planProviders(cpuBox());
    assert.deepEqual(plan.order, ['cpu']);
    const cuda = plan.reasons.find((r) => r.startsWith('CUDA: '));
    assert.ok(cuda, plan.reasons.join('\n'));
    assert.match(cuda, /no NVIDIA GPU found \(no \/dev\/nvidia0/);
    assert.match(cuda, /installed without its CUDA provider/);
    assert.match(cuda, /libcudart\.so\.12/);
    assert.ok(plan.reasons.some((r) => r.startsWith('TensorRT: ') && r.includes('libnvinfer.so.10')));
  });

  void it('names the exact missing library and what to install', () => {
    const status = assessProviders(gpuBox({ libraries: allLibs(['libcudart.so.12']) })).find((s) => s.provider === 'cuda');
    assert.equal(status?.available, false);
    assert.deepEqual(status?.problems, [{ reason: 'libcudart.so.12 not found', remedy: "install the CUDA 12 runtime (NVIDIA's cuda-libraries-12-x packages), or run on CPU" }]);
    const cudnn = planProviders(gpuBox({ libraries: allLibs(['libcudnn.so.9']) }));
    assert.deepEqual(cudnn.order, ['cpu']);
    assert.match(cudnn.reasons.join('\n'), /CUDA: libcudnn\.so\.9 not found/);
  });

  void it('TensorRT missing alone leaves CUDA first', () => {
    const plan = planProviders(gpuBox({ libraries: allLibs(['libnvinfer.so.10', 'libnvonnxparser.so.10']) }));
    assert.deepEqual(plan.order, ['cuda', 'cpu']);
    assert.deepEqual(plan.reasons, ['TensorRT: libnvinfer.so.10 and libnvonnxparser.so.10 not found']);
  });

  void it('a GPU but onnxruntime-node installed with skip: says the command that fetches the provider', () => {
    const status = assessProviders(gpuBox({ ortFiles: ['libonnxruntime.so.1', 'onnxruntime_binding.node'] })).find((s) => s.provider === 'cuda');
    assert.equal(status?.problems.length, 1);
    assert.match(status?.problems[0]?.reason ?? '', new RegExp(`libonnxruntime_providers_shared\\.so and libonnxruntime_providers_cuda\\.so not in ${ORT_DIR}`));
    assert.ok(status?.problems[0]?.remedy.includes(CUDA_INSTALL_COMMAND));
    assert.equal(CUDA_INSTALL_COMMAND, 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
  });

  void it('a library installed off the loader path is told apart from a missing one', () => {
    const libraries = { ...allLibs(), 'libcudart.so.12': { found: null, elsewhere: '/usr/local/cuda-12.4/lib64/libcudart.so.12' } };
    const status = assessProviders(gpuBox({ libraries })).find((s) => s.provider === 'cuda');
    assert.match(status?.problems[0]?.reason ?? '', /libcudart\.so\.12 is in \/usr\/local\/cuda-12\.4\/lib64 but not on the loader's path/);
    assert.match(status?.problems[0]?.remedy ?? '', /LD_LIBRARY_PATH/);
  });

  void it('Windows: DirectML, then CPU; macOS: CoreML, then CPU; elsewhere CPU', () => {
    const win = gpuBox({ platform: 'win32', backends: [{ name: 'cpu', bundled: true }, { name: 'dml', bundled: true }], libraries: {} });
    assert.deepEqual(planProviders(win), { order: ['dml', 'cpu'], reasons: [] });
    const mac = gpuBox({ platform: 'darwin', arch: 'arm64', backends: [{ name: 'cpu', bundled: true }, { name: 'coreml', bundled: true }], libraries: {} });
    assert.deepEqual(planProviders(mac), { order: ['coreml', 'cpu'], reasons: [] });
    const oldMac = gpuBox({ platform: 'darwin', backends: [{ name: 'cpu', bundled: true }], libraries: {} });
    assert.deepEqual(planProviders(oldMac).order, ['cpu']);
    assert.match(planProviders(oldMac).reasons[0] ?? '', /^CoreML: this onnxruntime-node build \(darwin-x64\) has no CoreML provider/);
    assert.deepEqual(planProviders(gpuBox({ platform: 'freebsd' })).order, ['cpu']);
  });

  void it('linux-arm64 builds carry no CUDA provider', () => {
    const arm = gpuBox({ arch: 'arm64', backends: [{ name: 'cpu', bundled: true }] });
    assert.deepEqual(planProviders(arm).order, ['cpu']);
    assert.match(planProviders(arm).reasons.join('\n'), /CUDA: this onnxruntime-node build \(linux-arm64\) has no CUDA provider/);
  });

  void it('an explicit list without fallback may be empty; with fallback CPU ends it', () => {
    assert.deepEqual(planProviders(cpuBox(), ['cuda'], false).order, []);
    assert.deepEqual(planProviders(cpuBox(), ['cuda']).order, ['cpu']);
    assert.deepEqual(planProviders(gpuBox(), ['cuda']).order, ['cuda', 'cpu']);
  });

  void it('thread counts leave one core to the desktop', () => {
    assert.deepEqual(threadCounts(2), { intraOp: 1, interOp: 1 });
    assert.deepEqual(threadCounts(1), { intraOp: 1, interOp: 1 });
    assert.deepEqual(threadCounts(16), { intraOp: 15, interOp: 1 });
  });
});

void describe('what the loader would find', () => {
  const LDCONFIG = [
    '612 libs found in cache `/etc/ld.so.cache\'',
    '\tlibcudart.so.12 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudart.so.12',
    '\tlibcudnn.so.9 (libc6) => /usr/lib/i386-linux-gnu/libcudnn.so.9',
    '\tlibcublas.so.12 (libc6,AArch64) => /usr/lib/aarch64-linux-gnu/libcublas.so.12',
  ].join('\n');

  void it('reads ldconfig -p for this architecture only', () => {
    const cache = parseLdconfig(LDCONFIG, 'x64');
    assert.equal(cache.get('libcudart.so.12'), '/usr/lib/x86_64-linux-gnu/libcudart.so.12');
    assert.equal(cache.has('libcublas.so.12'), false, 'an arm64 library is no use to an x64 process');
    assert.equal(parseLdconfig(LDCONFIG, 'arm64').get('libcublas.so.12'), '/usr/lib/aarch64-linux-gnu/libcublas.so.12');
  });

  void it('LD_LIBRARY_PATH first, then the cache, then /lib and /usr/lib; CUDA folders only as a hint', () => {
    const files = new Set(['/opt/cuda/lib/libcudart.so.12', '/usr/lib/libcufft.so.11', '/usr/local/cuda/lib64/libcudnn.so.9']);
    const view = {
      ldLibraryPath: ['', '/opt/cuda/lib'],
      cache: new Map([['libcudart.so.12', '/usr/lib/x86_64-linux-gnu/libcudart.so.12'], ['libcublas.so.12', '/usr/lib/x86_64-linux-gnu/libcublas.so.12']]),
      extraDirs: ['/usr/local/cuda/lib64'],
      exists: (p: string) => files.has(p),
    };
    assert.deepEqual(lookupLibrary('libcudart.so.12', view), { found: '/opt/cuda/lib/libcudart.so.12' });
    assert.deepEqual(lookupLibrary('libcublas.so.12', view), { found: '/usr/lib/x86_64-linux-gnu/libcublas.so.12' });
    assert.deepEqual(lookupLibrary('libcufft.so.11', view), { found: '/usr/lib/libcufft.so.11' });
    assert.deepEqual(lookupLibrary('libcudnn.so.9', view), { found: null, elsewhere: '/usr/local/cuda/lib64/libcudnn.so.9' });
    assert.deepEqual(lookupLibrary('libnvinfer.so.10', view), { found: null });
  });
});

void describe('sessions on a real onnxruntime', () => {
  let dir: string;
  let model: string;
  const manager = new SessionManager({ probe: cpuBox() });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'foresight-sessions-'));
    model = join(dir, 'doubler.onnx');
    writeFileSync(model, doublerModel());
  });
  after(async () => {
    await manager.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const image = (h: number, w: number, fill: number) => new ort.Tensor('float32', new Float32Array(3 * h * w).fill(fill), [1, 3, h, w]);

  void it('opens on CPU here, says why not on the GPU providers, and runs', async () => {
    const s = await manager.open(model);
    assert.equal(s.provider, 'cpu');
    const report = s.describe();
    assert.equal(report.provider, 'cpu');
    assert.match(report.reasons.join('\n'), /CUDA: no NVIDIA GPU found/);
    assert.deepEqual([s.inputNames, s.outputNames], [['x'], ['y']]);
    const out = await s.run({ x: image(2, 2, 1.5) });
    assert.deepEqual([...(out.y?.data as Float32Array)], new Array(12).fill(3));
  });

  void it('falls back when a provider the probe found fit cannot open the model, and records onnxruntime\'s own words', async (t) => {
    // The probe claims a GPU with every library; the real onnxruntime here then fails to load the CUDA provider.
    if (assessProviders(await probeProviders()).some((p) => p.provider !== 'cpu' && p.available)) {
      t.skip('this machine really has a GPU provider');
      return;
    }
    const liar = new SessionManager({ probe: gpuBox() });
    try {
      const s = await liar.open(model);
      assert.equal(s.provider, 'cpu');
      assert.equal(s.reasons.length, 2);
      assert.match(s.reasons[0] ?? '', /^TensorRT: .+/);
      assert.match(s.reasons[1] ?? '', /^CUDA: .*(Failed to load|cannot open)/i);
    } finally {
      await liar.close();
    }
  });

  void it('PROVIDER_UNAVAILABLE when only an unavailable provider was asked for, with the reason', async () => {
    await assert.rejects(manager.open(model, { providers: ['cuda'], fallback: false }), (e: unknown) => {
      assert.ok(isForesightError(e, 'PROVIDER_UNAVAILABLE'));
      assert.match(String(e.details?.reason), /no NVIDIA GPU found/);
      return true;
    });
  });

  void it('MODEL_INVALID naming the file for a missing or broken model', async () => {
    await assert.rejects(manager.open(join(dir, 'nope.onnx')), (e: unknown) => isForesightError(e, 'MODEL_INVALID') && e.message === `${join(dir, 'nope.onnx')} is missing`);
    const broken = join(dir, 'broken.onnx');
    writeFileSync(broken, 'this is no protobuf');
    await assert.rejects(manager.open(broken), (e: unknown) => isForesightError(e, 'MODEL_INVALID') && e.message.startsWith(`${broken} cannot be loaded by onnxruntime:`));
  });

  void it('caches by file and options; a replaced file gets a new session', async () => {
    const a = await manager.open(model);
    assert.equal(await manager.open(model), a);
    const b = await manager.open(model, { intraOpThreads: 1 });
    assert.notEqual(b, a);
    const other = join(dir, 'doubler2.onnx');
    writeFileSync(other, doublerModel('x', 'y'));
    const c = await manager.open(other);
    // Rewritten with other names (and so another size): the cache must not hand back the old graph.
    writeFileSync(other, doublerModel('image', 'doubled'));
    const d = await manager.open(other);
    assert.notEqual(d, c);
    assert.deepEqual(d.inputNames, ['image']);
  });

  void it('warms up once on zero inputs of the given shapes', async () => {
    const s = await manager.open(model, { warmup: { x: { dims: [1, 3, 8, 8] } } });
    assert.equal(s.stats.runs, 1);
    await assert.rejects(manager.open(model, { warmup: { image: { dims: [1, 3, 8, 8] } } }), (e: unknown) => isForesightError(e, 'MODEL_INVALID') && /no warm-up shape for the graph input "x"/.test(e.message));
  });

  void it('runs one at a time, in the order asked', async () => {
    const s = await manager.open(model, { intraOpThreads: 1, warmup: { x: { dims: [1, 3, 4, 4] } } });
    const finished: number[] = [];
    const runs = Array.from({ length: 6 }, (_, i) => s.run({ x: image(64, 64, i) }).then((out) => (finished.push(i), (out.y?.data as Float32Array)[0])));
    assert.equal(s.queued, 6);
    const firsts = await Promise.all(runs);
    assert.deepEqual(firsts, [0, 2, 4, 6, 8, 10], 'each caller gets its own result');
    assert.deepEqual(finished, [0, 1, 2, 3, 4, 5]);
    assert.equal(s.stats.maxConcurrent, 1);
  });

  void it('a queued run can be cancelled; the others still run', async () => {
    const s = await manager.open(model, { intraOpThreads: 1, warmup: { x: { dims: [1, 3, 2, 2] } } });
    const before = s.stats.runs;
    const stop = new AbortController();
    const first = s.run({ x: image(32, 32, 1) });
    const second = s.run({ x: image(32, 32, 2) }, { signal: stop.signal });
    const third = s.run({ x: image(32, 32, 3) });
    stop.abort();
    await assert.rejects(second, (e: unknown) => isForesightError(e, 'STOPPED'));
    assert.equal((await first).y?.data[0], 2);
    assert.equal((await third).y?.data[0], 6);
    assert.equal(s.stats.runs - before, 2, 'the cancelled run never reached onnxruntime');
    assert.equal(s.stats.cancelled, 1);
    // An already aborted signal is refused at once, with the caller's own reason when it is typed.
    const gone = new AbortController();
    gone.abort();
    await assert.rejects(s.run({ x: image(2, 2, 0) }, { signal: gone.signal }), (e: unknown) => isForesightError(e, 'STOPPED'));
  });
});
