/**
 * `npm run bench:ocr` — the two OCR grounders on one fixed set of screens (test/fixtures/ocr/:
 * Mousepad's File menu and Save As dialog, a web form and a Chinese form in Chromium, with the
 * labels a person reads there): label recall (a label counts when a line or a run of words
 * spells it exactly, … and ... alike; test/fixtures/ocr/recall.ts) and milliseconds per frame
 * (p50 over every frame after a warm-up one, each frame read afresh).
 *
 * Usage: npm run bench:ocr [-- --repeats 3 --backends ocr,ocr:paddle --scales 1,1.25,1.5,2 --render]
 *   --scales  also measures PP-OCR at other detection scales (the trade-off in pipeline.ts)
 *   --render  draws the scenes anew (Xvfb + Mousepad, Chromium) and saves them as the fixed set
 *
 * `runOcrBenchmark` and `formatOcrTable` are exported for other benchmarks (bench:worker).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Observation } from '../common/ports.ts';
import { OcrGrounder } from '../main/grounders/ocr.ts';
import type { TextLine } from '../main/grounders/text-match.ts';
import { PaddleOcrGrounder } from '../native-models/ocr/grounder.ts';
import { DETECTION_SCALE } from '../native-models/ocr/pipeline.ts';
import { labelRecall } from '../test/fixtures/ocr/recall.ts';
import { loadScenes, renderScenes, saveScenes, type Scene } from '../test/fixtures/ocr/scenes.ts';

export interface OcrBackend {
  /** As shown in the table: the grounder spec, with settings that differ from its defaults. */
  name: string;
  /** Reads a frame afresh (the frame id is new every time, so no cache answers). */
  read(observation: Observation): Promise<TextLine[]>;
  close(): Promise<void>;
}

export function tesseractBackend(): OcrBackend {
  const g = new OcrGrounder();
  return {
    name: 'ocr (Tesseract, 2 passes)',
    read: async (o) => {
      // A lookup awaits the reading; whether the made-up label is found does not matter.
      const action = { action_type: 'click' as const, step_instruction: "click on 'x'" };
      await g.ground({ action, observation: o }, new AbortController().signal).catch(() => undefined);
      const t = g.lastText(o.frameId);
      if (!t) throw new Error(`Tesseract read nothing on ${o.frameId}`);
      return t.lines;
    },
    close: () => g.close(),
  };
}

export function paddleBackend(detectionScale = DETECTION_SCALE): OcrBackend {
  const g = new PaddleOcrGrounder({ detectionScale });
  return {
    name: detectionScale === DETECTION_SCALE ? 'ocr:paddle (PP-OCRv4)' : `ocr:paddle, detection ×${detectionScale}`,
    read: async (o) => (await g.read(o)).lines,
    close: () => g.close(),
  };
}

export interface OcrBenchRow {
  backend: string;
  /** Labels read / labels, per scene and in all. */
  scenes: Array<{ scene: string; found: number; labels: number; missing: string[]; msP50: number }>;
  found: number;
  labels: number;
  recall: number;
  /** Per frame, after the warm-up frame: median and slowest. */
  msP50: number;
  msMax: number;
  /** CPU time of this process per frame (every thread), median: what the frame costs on a busy machine. */
  cpuMsP50: number;
  /** The first frame: sessions or workers started, models loaded. */
  firstFrameMs: number;
}

export interface OcrBenchResult {
  rows: OcrBenchRow[];
  frames: number;
  size: string;
  loadAverage: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The same observation under a new frame id, so a grounder's cache does not answer. */
function fresh(o: Observation, n: number): Observation {
  return { ...o, frameId: `${o.frameId}#${n}` };
}

/**
 * Measures each backend on the scenes: one warm-up frame, then `repeats` readings of every
 * scene. Backends run one after the other, never at once.
 */
export async function runOcrBenchmark(
  opts: { scenes?: Scene[]; repeats?: number; backends?: Array<() => OcrBackend> } = {},
): Promise<OcrBenchResult> {
  const scenes = opts.scenes ?? (await loadScenes()) ?? (await renderScenes());
  const repeats = opts.repeats ?? 3;
  const makers = opts.backends ?? [tesseractBackend, () => paddleBackend()];
  const rows: OcrBenchRow[] = [];
  let n = 0;
  for (const make of makers) {
    const backend = make();
    try {
      const t0 = performance.now();
      await backend.read(fresh(scenes[0]!.observation, n++));
      const firstFrameMs = performance.now() - t0;
      const all: number[] = [];
      const cpu: number[] = [];
      const perScene: OcrBenchRow['scenes'] = [];
      for (const s of scenes) {
        const times: number[] = [];
        let lines: TextLine[] = [];
        for (let i = 0; i < repeats; i++) {
          const t = performance.now();
          const c = process.cpuUsage();
          lines = await backend.read(fresh(s.observation, n++));
          times.push(performance.now() - t);
          const used = process.cpuUsage(c);
          cpu.push((used.user + used.system) / 1000);
        }
        all.push(...times);
        const r = labelRecall(s.labels, lines);
        perScene.push({ scene: s.name, found: r.found.length, labels: s.labels.length, missing: r.missing, msP50: median(times) });
      }
      const found = perScene.reduce((a, s) => a + s.found, 0);
      const labels = perScene.reduce((a, s) => a + s.labels, 0);
      rows.push({ backend: backend.name, scenes: perScene, found, labels, recall: found / labels, msP50: median(all), msMax: Math.max(...all), cpuMsP50: median(cpu), firstFrameMs });
    } finally {
      await backend.close();
    }
  }
  const o = scenes[0]!.observation.geometry;
  return { rows, frames: scenes.length * repeats, size: `${o.imageWidth}×${o.imageHeight}`, loadAverage: loadavg()[0] ?? NaN };
}

/** The comparison as a Markdown table (as in README), then what each backend missed. */
export function formatOcrTable(result: OcrBenchResult): string {
  const sceneNames = result.rows[0]?.scenes.map((s) => s.scene) ?? [];
  const head = ['backend', 'label recall', ...sceneNames, 'ms/frame p50', 'max', 'CPU ms/frame p50', 'first frame (ms)'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of result.rows) {
    lines.push(
      `| ${[
        r.backend,
        `${r.found}/${r.labels} (${(100 * r.recall).toFixed(0)} %)`,
        ...r.scenes.map((s) => `${s.found}/${s.labels}`),
        r.msP50.toFixed(0),
        r.msMax.toFixed(0),
        r.cpuMsP50.toFixed(0),
        r.firstFrameMs.toFixed(0),
      ].join(' | ')} |`,
    );
  }
  lines.push('', `${result.size} screenshots, ${result.frames} frames per backend, load average ${result.loadAverage.toFixed(1)} at the end.`);
  for (const r of result.rows) {
    const missed = r.scenes.flatMap((s) => s.missing.map((m) => `${s.scene}: ${JSON.stringify(m)}`));
    lines.push(`${r.backend} missed: ${missed.length ? missed.join(', ') : 'nothing'}`);
  }
  return lines.join('\n');
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/ocr.ts');
if (isMain) {
  const { values } = parseArgs({
    options: {
      repeats: { type: 'string', default: '3' },
      backends: { type: 'string', default: 'ocr,ocr:paddle' },
      scales: { type: 'string' },
      render: { type: 'boolean', default: false },
    },
  });
  let scenes: Scene[] | undefined;
  if (values.render) {
    scenes = await renderScenes();
    saveScenes(scenes);
    console.log(`Rendered and saved ${scenes.length} scenes to test/fixtures/ocr/`);
  }
  const makers: Array<() => OcrBackend> = [];
  for (const b of values.backends.split(',').map((s) => s.trim())) {
    if (b === 'ocr') makers.push(tesseractBackend);
    else if (b === 'ocr:paddle') makers.push(() => paddleBackend());
    else throw new Error(`Unknown backend ${b}: use ocr, ocr:paddle`);
  }
  for (const s of values.scales?.split(',') ?? []) {
    const scale = Number(s);
    if (!(scale > 0)) throw new Error(`Bad scale ${s}`);
    if (scale !== DETECTION_SCALE || !makers.length) makers.push(() => paddleBackend(scale));
  }
  const result = await runOcrBenchmark({ ...(scenes ? { scenes } : {}), repeats: Number(values.repeats), backends: makers });
  console.log(formatOcrTable(result));
}
