/**
 * `npm run bench:app`: the app's two figures, on this machine.
 *
 * 1. Live latency: from a new observation in the agent (observe() returned: settled, captured,
 *    PNG encoded) to its pixels in the browser. A real `foresight run` (supervisor + agent, started
 *    by the app server, as from the app) runs a scripted plan of N short waits on Xvfb; headless
 *    Chromium, signed in, follows the live channel (EventSource /events) and, for each
 *    run.observation, loads the screenshot (/blobs/<sha>.png), decodes it, puts it in the page and
 *    stamps the next animation frame. Both clocks are this machine's wall clock. Goal: p50 ≤ 100 ms.
 * 2. Renderer memory: a 200-step episode (200 distinct 1280×800 screenshots) opened in the app's
 *    episode view and scrolled to the end; then the page's JS heap (CDP Performance.getMetrics),
 *    the decoded size of the images it holds (Σ naturalWidth × naturalHeight × 4) and the
 *    renderer processes' resident memory (/proc). Bounded means it does not hold every screenshot
 *    at full size (200 × 1280 × 800 × 4 = 819 MB).
 *
 * Options: --steps N (live steps, default 40), --episode-steps N (default 200).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { ForecastStep } from '../common/actions.ts';
import { serializeTraceR1 } from '../common/formats/index.ts';
import type { Observation } from '../common/ports.ts';
import { launchApp, type RunningApp } from '../main/shell/start.ts';
import { SqliteEpisodeStore } from '../store/index.ts';
import { startXDesktop } from '../test/harness/xdesktop.ts';

const CHROMIUM = process.env.FORESIGHT_CHROMIUM ?? '/usr/bin/chromium';
const { values } = parseArgs({ options: { steps: { type: 'string', default: '40' }, 'episode-steps': { type: 'string', default: '200' } } });
const LIVE_STEPS = Number(values.steps);
const EPISODE_STEPS = Number(values['episode-steps']);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function signIn(app: RunningApp, page: Page): Promise<void> {
  await page.goto(app.signInUrl);
  await page.waitForURL(`${app.origin}/**`);
}

async function liveLatency(): Promise<void> {
  const desk = await startXDesktop();
  const dir = mkdtempSync(join(tmpdir(), 'foresight-bench-app-'));
  // Each step types a word into Mousepad, so that each observation is a new frame.
  const type = (i: number): ForecastStep => ({ screenshot_abstraction: '', action: { action_type: 'type', text: `w${i} `, step_instruction: `type word ${i}` }, status: 'not done' });
  const plan = join(dir, 'plan.txt');
  writeFileSync(plan, serializeTraceR1([...Array.from({ length: LIVE_STEPS }, (_, i) => type(i + 1)), { screenshot_abstraction: '', action: { action_type: 'finished', step_instruction: 'done' }, status: 'done' }]));
  desk.launch('mousepad', []);
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
  const app = await launchApp({ db: join(dir, 'episodes.db'), runEnv: desk.env, log: () => undefined });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await signIn(app, page);
    await page.evaluate(() => {
      const w = window as unknown as { latencies: { fromObserved: number; fromCaptured: number }[]; ended: boolean };
      w.latencies = [];
      w.ended = false;
      const source = new EventSource('/events');
      source.addEventListener('run.observation', (e) => {
        const d = JSON.parse((e as MessageEvent<string>).data) as { frameId: string; capturedAt: number; observedAt?: number };
        const img = new Image();
        img.src = `/blobs/${d.frameId}.png`;
        void img.decode().then(() => {
          document.body.replaceChildren(img);
          requestAnimationFrame(() => {
            const now = performance.timeOrigin + performance.now();
            w.latencies.push({ fromObserved: now - (d.observedAt ?? d.capturedAt), fromCaptured: now - d.capturedAt });
          });
        });
      });
      source.addEventListener('run.ended', () => (w.ended = true));
    });
    const started = await page.evaluate(
      async (spec) =>
        (await (
          await fetch('/api/runs.start', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ task: 'Wait', mode: 'never', planner: { kind: 'spec', spec }, grounder: { kind: 'builtin', id: 'none' }, maxSteps: 500 }),
          })
        ).json()) as { ok: boolean },
      `script:${plan}`,
    );
    if (!started.ok) throw new Error(`runs.start: ${JSON.stringify(started)}`);
    await page.waitForFunction(() => (window as unknown as { ended: boolean }).ended, undefined, { timeout: 300_000, polling: 200 });
    await page.waitForTimeout(300);
    const lat = await page.evaluate(() => (window as unknown as { latencies: { fromObserved: number; fromCaptured: number }[] }).latencies);
    const obs = lat.map((l) => l.fromObserved);
    const cap = lat.map((l) => l.fromCaptured);
    console.log(`live view: ${lat.length} observations of a 1280×800 screen`);
    console.log(`  observation in the agent → pixels in the browser: p50 ${pct(obs, 50).toFixed(1)} ms, p95 ${pct(obs, 95).toFixed(1)} ms, max ${Math.max(...obs).toFixed(1)} ms (goal p50 ≤ 100 ms)`);
    console.log(`  from the capture itself (includes the settle's quiet tail and PNG encoding): p50 ${pct(cap, 50).toFixed(1)} ms, p95 ${pct(cap, 95).toFixed(1)} ms`);
  } finally {
    await browser.close();
    await app.close();
    await desk.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function svgFrame(i: number): string {
  const rows = Array.from({ length: 24 }, (_, r) => `<text x="40" y="${140 + r * 26}" font-family="DejaVu Sans Mono" font-size="16" fill="#222">step ${i} · line ${r} · ${'lorem ipsum '.repeat(((i + r) % 6) + 1)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="800"><rect width="1280" height="800" fill="hsl(${(i * 37) % 360},30%,92%)"/><rect x="0" y="0" width="1280" height="40" fill="#343a40"/><text x="16" y="27" font-family="DejaVu Sans" font-size="16" fill="#fff">Window ${i}</text>${rows}</svg>`;
}

async function seedLongEpisode(db: string): Promise<string> {
  const store = SqliteEpisodeStore.open(db);
  try {
    const id = store.createEpisode({ task: `A long task of ${EPISODE_STEPS} steps`, mode: 'agent', planner: 'script:bench', grounder: 'ocr', settings: { approval: 'each', horizon: 5 } });
    const geometry = { display: { id: 'primary', bounds: { x: 0, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: true }, imageWidth: 1280, imageHeight: 800 };
    for (let i = 1; i <= EPISODE_STEPS; i++) {
      const png = new Uint8Array(await sharp(Buffer.from(svgFrame(i))).png().toBuffer());
      const obs: Observation = { frameId: createHash('sha256').update(png).digest('hex'), png, geometry, raw: { width: 1280, height: 800, channels: 4, order: 'rgba', data: new Uint8Array(0) }, capturedAt: Date.now() };
      const s = store.beginStep(id, i, obs);
      const action = { action_type: 'click' as const, step_instruction: `click on 'Item ${i}'` };
      const forecast = { format: 'tracer1' as const, steps: [{ screenshot_abstraction: `window ${i}`, action, status: 'not done' as const }] };
      store.recordForecast(s, { attempt: 1, raw: '<answer>…</answer>', forecast, latencyMs: 500, model: 'script', history: [] });
      store.recordGrounding(s, 0, { point: { space: 'screenshot', x: 200 + i, y: 300 }, confidence: 0.9, grounder: 'ocr', latencyMs: 5 });
      store.recordApproval(s, { policy: 'each', decision: 'approve', original: forecast, waitedMs: 800 });
      store.recordExecution(s, { action, globalPoint: { x: 200 + i, y: 300 }, result: 'ok', durationMs: 60 });
    }
    store.finishEpisode(id, { status: 'finished' });
    return id;
  } finally {
    store.close();
  }
}

const parentOf = (pid: number): number => Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** Resident memory of the browser's renderer processes (descendants of `browserPid` with --type=renderer). */
function rendererRss(browserPid: number): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      let p = parentOf(pid);
      for (let depth = 0; depth < 4 && p !== browserPid && p > 1; depth++) p = parentOf(p);
      if (p !== browserPid) continue;
      total += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

async function rendererMemory(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foresight-bench-mem-'));
  const db = join(dir, 'episodes.db');
  const id = await seedLongEpisode(db);
  const app = await launchApp({ db, log: () => undefined });
  // A marker on the browser's command line, to find its renderer processes in /proc.
  const marker = `--class=foresight-bench-${process.pid}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', marker] });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await signIn(app, page);
    await page.goto(`${app.origin}/#/episodes/${id}`);
    await page.waitForFunction(() => document.querySelectorAll('img').length > 0, undefined, { timeout: 60_000 });
    // Scroll to the end in viewport-sized steps, letting lazy images load, as a person would.
    for (let i = 0; i < 400; i++) {
      const atEnd = await page.evaluate(() => {
        const el = document.scrollingElement ?? document.documentElement;
        const scrollers = [el, ...Array.from(document.querySelectorAll<HTMLElement>('*')).filter((e) => e.scrollHeight > e.clientHeight + 50 && getComputedStyle(e).overflowY !== 'visible')];
        let moved = false;
        for (const s of scrollers) {
          const before = s.scrollTop;
          s.scrollTop = before + s.clientHeight * 0.9;
          if (s.scrollTop !== before) moved = true;
        }
        return !moved;
      });
      await page.waitForTimeout(40);
      if (atEnd) break;
    }
    await page.waitForTimeout(1500);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('Performance.enable');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
    const images = await page.evaluate(() =>
      Array.from(document.images)
        .filter((i) => i.complete && i.naturalWidth > 0)
        .map((i) => ({ w: i.naturalWidth, h: i.naturalHeight, src: i.currentSrc })),
    );
    const decoded = images.reduce((n, i) => n + i.w * i.h * 4, 0);
    const full = images.filter((i) => i.w >= 1280).length;
    const pid = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map(Number)
      .find((p) => {
        try {
          const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
          return cmd.includes(marker) && !cmd.includes('--type=');
        } catch {
          return false;
        }
      });
    console.log(`renderer memory after opening a ${EPISODE_STEPS}-step episode and scrolling to its end:`);
    console.log(`  JS heap ${mb(heap)}; ${images.length} images loaded (${full} at full size), decoded ≈ ${mb(decoded)} (all ${EPISODE_STEPS} at full size would be ${mb(EPISODE_STEPS * 1280 * 800 * 4)})`);
    if (pid !== undefined) console.log(`  renderer processes' resident memory: ${mb(rendererRss(pid))}`);
  } finally {
    await browser.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await liveLatency();
await rendererMemory();
