/**
 * `npm run bench:sessions` — what one frame of the built-in PP-OCRv4 costs on the provider the
 * session manager picks here (on our build machines: CPU, 1 intra-op thread of 2 cores):
 * opening + warm-up, then the detector on a 1280×800 frame at full size and at the manifest's
 * scale (longest side 960), and the recognizer on a batch of text-line crops (48×320); wall
 * time and CPU time of each, and the machine's load average (other jobs inflate the wall time).
 *
 * Usage: npm run bench:sessions [-- --runs 5 --batch 16 --threads N]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { resolveBuiltinModel } from '../native-models/registry.ts';
import { SessionManager } from '../native-models/sessions.ts';
import { threadCounts } from '../native-models/providers.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    batch: { type: 'string', default: '16' },
    threads: { type: 'string' },
  },
});
const runs = Number(values.runs);
const batch = Number(values.batch);

/** A frame that is not all zeros (a flat image can take shortcuts a screenshot does not). */
function frame(dims: number[]): ort.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    data[i] = (s / 0x7fffffff) * 2 - 1;
  }
  return new ort.Tensor('float32', data, dims);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/**
 * Wall time, and the process's CPU time (user + system, every onnxruntime thread included): on a
 * busy machine the wall time counts the other jobs too, while the CPU time of a 1-thread session
 * is what the frame costs on an idle one.
 */
async function time(label: string, run: () => Promise<unknown>): Promise<void> {
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  const f = (n: number) => n.toFixed(0).padStart(5);
  console.log(`${label.padEnd(52)} wall median ${f(pct(ms, 50))} ms (min ${f(Math.min(...ms))})   CPU median ${f(pct(cpu, 50))} ms   (${runs} runs)`);
}

const model = resolveBuiltinModel('pp-ocrv4');
const det = model.graphs.det!;
const rec = model.graphs.rec!;
const manager = new SessionManager();
const probe = await manager.probe();
const intra = values.threads !== undefined ? Number(values.threads) : threadCounts(probe.cores).intraOp;
try {
  let t = performance.now();
  const detS = await manager.open(det.path, { warmup: det.warmup ?? {}, intraOpThreads: intra });
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${probe.cores} cores`);
  console.log(`PP-OCRv4 det: opened on ${detS.provider} with ${intra} intra-op thread(s) of ${probe.cores} cores, warm-up included, in ${(performance.now() - t).toFixed(0)} ms`);
  for (const r of detS.reasons) console.log(`  passed over: ${r}`);
  t = performance.now();
  const recS = await manager.open(rec.path, { warmup: rec.warmup ?? {}, intraOpThreads: intra });
  console.log(`PP-OCRv4 rec: opened on ${recS.provider}, warm-up included, in ${(performance.now() - t).toFixed(0)} ms`);

  const input = det.inputs[0]!;
  const full = { [input]: frame([1, 3, 800, 1280]) };
  const scaled = { [input]: frame([1, 3, 608, 960]) };
  await time('det, 1280×800 frame at full size', () => detS.run(full));
  await time('det, the same frame at longest side 960 (960×608)', () => detS.run(scaled));
  const crops = { [rec.inputs[0]!]: frame([batch, 3, 48, 320]) };
  await time(`rec, a batch of ${batch} text lines (48×320)`, () => recS.run(crops));
} finally {
  await manager.close();
}
