/**
 * Screenshots of every view of the app, in light and dark, for people to look at (issue 12,
 * acceptance 3): the run with its forecast drawn over the screen, an approval with an edit
 * (the point dragged, the instruction changed), an episode's timeline, the episode list,
 * benchmarks, settings and the first start. Written to test-artifacts/screens/ (or
 * $FORESIGHT_SCREENS_DIR); the folder is printed.
 *
 * Real: the episode database (seed.ts, through the store), the settings (a data folder with two
 * endpoints and a stored key, and a fresh one for the first start), thumbnails, the HTTP server
 * and its sign-in checks, the renderer's production build, Chromium. Scripted: the run's state
 * and the benchmark listing (a run needs an agent on a desktop, a benchmark run a replay — both
 * have their own tests; this one is about what the page draws), served through the contract's
 * own schemas by the real server. The scripted gate
 * records the decision the page sends, so the edit is checked as the server receives it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { actionSchema, type Forecast } from '../../common/actions.ts';
import type { AppGateDecision, BenchRunView, CallRequest, PendingReview, RunState } from '../../common/contract.ts';
import { createHandlers, exportEpisode, type Handlers } from '../../main/shell/api.ts';
import { loadRendererAssets } from '../../main/shell/assets.ts';
import { startServer, type RunningServer } from '../../main/shell/server.ts';
import { Settings } from '../../main/shell/settings.ts';
import { Thumbnails } from '../../main/shell/thumbnails.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { ensureRendererBuild } from './renderer-build.ts';
import { GEOMETRY, OPEN_BUTTON, ORIGINAL_INSTRUCTION, SAVE_BUTTON, TASKS, seedEpisodes, type Seeded } from './seed.ts';

const CHROMIUM = process.env.FORESIGHT_CHROMIUM ?? '/usr/bin/chromium';
const OUT = resolve(process.env.FORESIGHT_SCREENS_DIR ?? 'test-artifacts/screens');
const SCHEMES = ['light', 'dark'] as const;
const T0 = Date.UTC(2025, 9, 9, 14, 30, 0);

let dir: string;
let seeded: Seeded;
let store: SqliteEpisodeStore;
let server: RunningServer;
let browser: Browser;
const pageErrors: string[] = [];
const decisions: AppGateDecision[] = [];

const act = (fields: Record<string, unknown>) => actionSchema.parse(fields);
const FORECAST: Forecast = {
  format: 'tracer1',
  thought: 'The document is unsaved; the toolbar has a Save button.',
  steps: [
    { screenshot_abstraction: 'editor', action: act({ action_type: 'click', step_instruction: ORIGINAL_INSTRUCTION }), status: 'not done' },
    { screenshot_abstraction: 'save dialog', action: act({ action_type: 'type', step_instruction: 'type the file name', text: 'report.txt' }), status: 'not done' },
    { screenshot_abstraction: 'save dialog', action: act({ action_type: 'key', step_instruction: 'confirm the dialog', keys: ['enter'] }), status: 'done' },
  ],
};

/** The scripted side: what the run, settings and benchmark calls answer. */
const scripted = {
  firstStart: false,
  run: null as RunState | null,
};

const BENCH_RUNS: BenchRunView[] = [
  {
    id: 'r1',
    dir: '/home/ana/bench/androidcontrol-high-2025-10-08',
    name: 'androidcontrol-high-2025-10-08',
    suite: 'androidcontrol (high)',
    status: 'complete',
    scoredSteps: 8444,
    totalSteps: 8444,
    figures: { 'step SR': 0.753, 'type acc': 0.912, 'grounding acc': 0.801, episodes: 1543 },
    resumeCommand: 'npx foresight bench run --suite androidcontrol --level high --out /home/ana/bench/androidcontrol-high-2025-10-08',
    updatedAt: T0 - 86_400_000,
  },
  {
    id: 'r2',
    dir: '/home/ana/bench/guiodyssey-test',
    name: 'guiodyssey-test',
    suite: 'gui-odyssey',
    status: 'interrupted',
    scoredSteps: 5210,
    totalSteps: 14_880,
    figures: { AMS: 0.861, SR: 0.402, episodes: 412 },
    resumeCommand: 'npx foresight bench run --suite guiodyssey --out /home/ana/bench/guiodyssey-test',
    updatedAt: T0 - 3_600_000,
  },
  {
    id: 'r3',
    dir: '/home/ana/bench/screenspot-v2',
    name: 'screenspot-v2',
    suite: 'screenspot-v2',
    status: 'complete',
    scoredSteps: 1272,
    totalSteps: 1272,
    figures: { accuracy: 0.874, text: 0.921, icon: 0.812 },
    updatedAt: T0 - 7_200_000,
  },
];

function runState(pending: boolean): RunState {
  const review: PendingReview = {
    runId: 'run-1',
    reviewId: 'review-1',
    episodeId: seeded.finishedId,
    step: 1,
    forecast: FORECAST,
    grounding: { point: { space: 'screenshot', ...OPEN_BUTTON }, confidence: 0.93, grounder: 'ocr', detail: 'Open', latencyMs: 14 },
    frameId: seeded.firstFrame,
    geometry: GEOMETRY,
    since: Date.now() - 42_000,
  };
  return {
    runId: 'run-1',
    episodeId: seeded.finishedId,
    task: TASKS.finished,
    mode: 'each',
    planner: 'openai:http://127.0.0.1:8000/v1#ui-tars-1.5-7b',
    grounder: 'ocr',
    status: pending ? 'waiting' : 'running',
    step: 1,
    frame: { step: 1, frameId: seeded.firstFrame, geometry: GEOMETRY, capturedAt: Date.now() - 45_000 },
    forecast: FORECAST,
    groundings: [
      { index: 0, grounding: { point: { space: 'screenshot', ...OPEN_BUTTON }, confidence: 0.93, grounder: 'ocr', detail: 'Open', latencyMs: 14 } },
      { index: 1, grounding: { point: { space: 'screenshot', x: 345, y: 185 }, confidence: 0.71, grounder: 'ocr', latencyMs: 12 } },
      { index: 2, grounding: { point: { space: 'screenshot', x: 452, y: 283 }, confidence: 0.64, grounder: 'ocr', latencyMs: 10 } },
    ],
    ...(pending ? { pending: review } : {}),
    approvingRest: false,
    startedAt: Date.now() - 50_000,
    log: [],
  };
}

/** The real handlers (store, settings); the run and the benchmark listing scripted. */
function handlers(configured: Handlers, fresh: Handlers): Handlers {
  const settingsOf = () => (scripted.firstStart ? fresh : configured);
  return {
    ...configured,
    'settings.get': (r) => settingsOf()['settings.get'](r),
    'settings.update': (r) => settingsOf()['settings.update'](r),
    'runs.current': () => ({ run: scripted.run }),
    'gate.decide': (r: CallRequest<'gate.decide'>) => {
      decisions.push(r.decision);
      scripted.run = runState(false);
      return scripted.run;
    },
    'benchmarks.list': (r: CallRequest<'benchmarks.list'>) => ({ folder: r.folder, runs: BENCH_RUNS }),
  };
}

before(async () => {
  ensureRendererBuild();
  dir = mkdtempSync(join(tmpdir(), 'foresight-screens-'));
  const db = join(dir, 'data', 'episodes.db');
  mkdirSync(join(dir, 'data'));
  seeded = await seedEpisodes(db);
  store = SqliteEpisodeStore.open(db);
  // Real settings in the data folder, with two endpoints and a stored key; and a fresh data
  // folder for the first start (no endpoint, no episode).
  const settings = Settings.open(join(dir, 'data'), db, 'file', () => true);
  settings.update({
    endpoints: [
      { id: 'uitars', label: 'UI-TARS-1.5 (local vLLM)', baseUrl: 'http://127.0.0.1:8000/v1', model: 'ui-tars-1.5-7b', format: 'uitars-1.5' },
      { id: 'qwen', label: 'Qwen2.5-VL (hosted)', baseUrl: 'https://api.example.com/v1', model: 'qwen2.5-vl-72b-instruct', format: 'tracer1', convention: 'qwen25vl' },
    ],
  });
  settings.setKey('qwen', 'sk-not-a-real-key');
  mkdirSync(join(dir, 'fresh'));
  const fresh = Settings.open(join(dir, 'fresh'), join(dir, 'fresh', 'episodes.db'), 'file', () => false);
  const info = { version: '0.1.0', dbPath: db };
  const thumbnails = new Thumbnails((sha) => store.readScreenshot(sha));
  server = await startServer({
    handlers: handlers(createHandlers({ store, info, settings }), createHandlers({ store, info, settings: fresh })),
    readScreenshot: (sha) => store.readScreenshot(sha),
    thumbnail: (sha, width) => thumbnails.get(sha, width),
    exportEpisode: (id) => exportEpisode(store, id),
    assets: loadRendererAssets(),
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--font-render-hinting=none'] });
  mkdirSync(OUT, { recursive: true });
  process.stdout.write(`# app screenshots: ${OUT}\n`);
});

after(async () => {
  await browser?.close();
  await server?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(scheme: (typeof SCHEMES)[number], hash: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: scheme, deviceScaleFactor: 1, extraHTTPHeaders: { authorization: `Bearer ${server.token}` } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${server.origin}/${hash}`);
  return page;
}

async function shoot(page: Page, name: string, scheme: string): Promise<void> {
  // Every image that is on screen has loaded (a broken one shows as missing).
  await page.waitForFunction(() => Array.from(document.images).filter((i) => i.getBoundingClientRect().top < innerHeight && i.loading !== 'lazy').every((i) => i.complete));
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(OUT, `${name}-${scheme}.png`) });
}

void describe('app screens', () => {
  for (const scheme of SCHEMES) {
    void it(`run view with the forecast over the screen (${scheme})`, async () => {
      scripted.run = runState(false);
      const page = await open(scheme, '#/run');
      await page.locator('.shot-frame.live .target.first').waitFor();
      assert.equal(await page.locator('.shot-frame.live .target').count(), 3, 'one mark per grounded forecast step');
      assert.match((await page.locator('.target.first .confidence').textContent()) ?? '', /^93%$/);
      assert.deepEqual(await page.locator('.forecast-card .forecast-step .action-type').allTextContents(), ['click', 'type', 'key']);
      await shoot(page, 'run-forecast', scheme);
      await page.context().close();
    });

    void it(`approval with an edit: the point dragged, the instruction changed (${scheme})`, async () => {
      scripted.run = runState(true);
      decisions.length = 0;
      const page = await open(scheme, '#/run');
      await page.locator('.waiting-banner').waitFor();
      await page.getByRole('button', { name: 'Edit' }).click();
      await page.getByLabel('Instruction').fill("click on 'Save' in the toolbar");
      // Drag step 1's point from the Open button to the Save button.
      const img = await page.locator('.shot-frame.live img').boundingBox();
      const handle = page.locator('.target.draggable');
      const from = await handle.boundingBox();
      assert.ok(img && from);
      await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
      await page.mouse.down();
      const to = { x: img.x + (SAVE_BUTTON.x / GEOMETRY.imageWidth) * img.width, y: img.y + (SAVE_BUTTON.y / GEOMETRY.imageHeight) * img.height };
      await page.mouse.move(to.x - 20, to.y + 10, { steps: 4 });
      await page.mouse.move(to.x, to.y, { steps: 4 });
      await page.mouse.up();
      const x = Number(await handle.getAttribute('data-x'));
      const y = Number(await handle.getAttribute('data-y'));
      assert.ok(Math.abs(x - SAVE_BUTTON.x) <= 1 && Math.abs(y - SAVE_BUTTON.y) <= 1, `dragged to (${x}, ${y})`);
      await page.locator('.edited-preview').waitFor();
      await shoot(page, 'run-approval-edit', scheme);

      await page.getByRole('button', { name: 'Run the edited step' }).click();
      await page.locator('.waiting-banner').waitFor({ state: 'detached' });
      assert.equal(decisions.length, 1);
      const d = decisions[0];
      assert.ok(d?.kind === 'edit');
      const first = d.forecast.steps[0]?.action;
      assert.ok(first?.action_type === 'click');
      assert.equal(first.step_instruction, "click on 'Save' in the toolbar");
      assert.ok(first.point && Math.abs(first.point.x - SAVE_BUTTON.x) <= 1 && Math.abs(first.point.y - SAVE_BUTTON.y) <= 1 && first.point.space === 'screenshot');
      assert.deepEqual(d.forecast.steps.slice(1), FORECAST.steps.slice(1), 'the other steps are as forecast');
      await page.context().close();
    });

    void it(`episode timeline (${scheme})`, async () => {
      const page = await open(scheme, `#/episodes/${seeded.finishedId}`);
      await page.locator('section.step').waitFor();
      assert.equal(await page.locator('.rail-item').count(), 3);
      await shoot(page, 'episode-timeline', scheme);
      await page.locator('.rail-item[data-step="2"]').click();
      await page.locator('section.step[data-step="2"]').waitFor();
      await shoot(page, 'episode-step-2', scheme);
      await page.context().close();
    });

    void it(`episode list (${scheme})`, async () => {
      const page = await open(scheme, '#/episodes');
      await page.locator('tr.episode-row').first().waitFor();
      await shoot(page, 'episodes', scheme);
      await page.context().close();
    });

    void it(`benchmarks (${scheme})`, async () => {
      const page = await open(scheme, '#/benchmarks?folder=%2Fhome%2Fana%2Fbench');
      await page.locator('.bench-run').first().waitFor();
      assert.equal(await page.locator('.bench-run').count(), 3);
      assert.match((await page.locator('.bench-run[data-run="r2"] .command code').textContent()) ?? '', /--out \/home\/ana\/bench\/guiodyssey-test/);
      await shoot(page, 'benchmarks', scheme);
      await page.context().close();
    });

    void it(`settings (${scheme})`, async () => {
      scripted.firstStart = false;
      const page = await open(scheme, '#/settings');
      await page.locator('.endpoint').first().waitFor();
      assert.equal(await page.locator('.endpoint').count(), 2);
      await shoot(page, 'settings', scheme);
      await page.context().close();
    });

    void it(`first start (${scheme})`, async () => {
      scripted.firstStart = true;
      scripted.run = null;
      const page = await open(scheme, '');
      await page.waitForURL(/#\/welcome$/);
      await page.locator('.preset').first().waitFor();
      await shoot(page, 'first-start', scheme);
      await page.context().close();
      scripted.firstStart = false;
    });
  }

  void it('no page threw', () => {
    assert.deepEqual(pageErrors, []);
  });
});
