/**
 * Acceptance 1 of the app: Chromium (Playwright) drives browser mode while a real agent core —
 * `foresight run` started by the app server, supervisor and all — runs a scripted plan on Xvfb
 * against Mousepad. The person approves a step, edits one step's text, drags another step's
 * point, rejects one with a reason, and stops the run. Then: the database holds exactly those
 * decisions (edits as the original and the edited forecast), the dragged point is where the
 * click went, and the file Mousepad saved holds the edited text.
 *
 * The page is signed in as a person's browser is (the sign-in page, cookie), follows the run
 * over the live channel (EventSource on /events) and acts through the run view's controls (the
 * data-testids agreed in /work/wt/renderer-needs.md); where a control is not in the run view
 * yet, the same contract call is sent from the page itself (fetch with the page's cookie).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { applyStepEdit, type PendingReview } from '../../common/contract.ts';
import { launchApp, type RunningApp } from '../../main/shell/start.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';

const CHROMIUM = process.env.FORESIGHT_CHROMIUM ?? '/usr/bin/chromium';
const ORIGINAL_TEXT = 'The planner wrote this line';
const EDITED_TEXT = 'A person wrote this line instead';
const REJECT_REASON = 'Not that name: the file must go to the folder of the test';

let desk: XDesktop;
let dir: string;
let app: RunningApp;
let browser: Browser;
const serverLog: string[] = [];

const q = (s: string) => JSON.stringify(s);

/** Type a line, File → Save As…, type the path, Enter, finished. */
function plan(path: string): string {
  return `<answer>
Step 1: "screenshot_abstraction": "An empty Mousepad window", "action": {"action_type": "type", "text": ${q(ORIGINAL_TEXT)}, "step_instruction": "type the line into the document"}, "status": "not done"
Step 2: "screenshot_abstraction": "The document holds the line", "action": {"action_type": "click", "step_instruction": "click on 'File' in the menu bar"}, "status": "not done"
Step 3: "screenshot_abstraction": "The File menu is open", "action": {"action_type": "click", "step_instruction": "click on 'Save As…' in the File menu"}, "status": "not done"
Step 4: "screenshot_abstraction": "The Save As dialog", "action": {"action_type": "type", "text": ${q(path)}, "step_instruction": "type the file path into the Name field"}, "status": "not done"
Step 5: "screenshot_abstraction": "The path is in the Name field", "action": {"action_type": "key", "keys": ["enter"], "step_instruction": "press Enter to save"}, "status": "not done"
Step 6: "screenshot_abstraction": "The document is saved", "action": {"action_type": "finished", "step_instruction": "the line is saved"}, "status": "done"
</answer>`;
}

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-app-run-'));
  app = await launchApp({ db: join(dir, 'data', 'episodes.db'), runEnv: desk.env, log: (l) => serverLog.push(l) });
  // Headless: the page is not on the display the agent observes and acts on.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await desk?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The page, signed in, with every live event it receives collected in `window.liveEvents`. */
async function signedInPage(): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(app.signInUrl);
  await page.waitForURL(`${app.origin}/`);
  await page.evaluate(() => {
    const w = window as unknown as { liveEvents: { name: string; data: unknown }[] };
    w.liveEvents = [];
    const source = new EventSource('/events');
    const names = ['run.started', 'run.episode', 'run.observation', 'run.forecast', 'run.grounding', 'gate.waiting', 'gate.decided', 'run.action', 'run.status', 'run.ended', 'run.error'];
    for (const n of names) source.addEventListener(n, (e) => w.liveEvents.push({ name: n, data: JSON.parse((e as MessageEvent<string>).data) }));
  });
  return page;
}

/** A contract call sent by the page (its cookie, its origin). */
async function pageCall<T>(page: Page, name: string, body: unknown): Promise<T> {
  const r = await page.evaluate(
    async ([n, b]) => {
      const res = await fetch(`/api/${n}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
      return (await res.json()) as { ok: boolean; value?: unknown; error?: { code: string; message: string } };
    },
    [name, body] as const,
  );
  assert.ok(r.ok, `${name} failed: ${JSON.stringify(r.error)}`);
  return r.value as T;
}

/** Waits for the live channel to bring the gate.waiting of `step` (after `seen` reviews). */
async function nextReview(page: Page, seen: Set<string>, step: number): Promise<PendingReview> {
  const handle = await page.waitForFunction(
    ([known, s]) => {
      const w = window as unknown as { liveEvents: { name: string; data: { reviewId: string; step: number } }[] };
      return w.liveEvents.find((e) => e.name === 'gate.waiting' && e.data.step === s && !known.includes(e.data.reviewId))?.data ?? null;
    },
    [[...seen], step] as const,
    { timeout: 90_000, polling: 50 },
  );
  const review = (await handle.jsonValue()) as PendingReview;
  seen.add(review.reviewId);
  return review;
}

test('approve, edit the text, drag the point, reject with a reason, stop: the database holds exactly those decisions', { timeout: 240_000 }, async () => {
  desk.launch('mousepad', []);
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
  const target = join(dir, 'saved.txt');
  const planFile = join(dir, 'plan.txt');
  writeFileSync(planFile, plan(target));

  const page = await signedInPage();
  const started = await pageCall<{ runId: string }>(page, 'runs.start', {
    task: 'Type the line and save it',
    mode: 'each',
    planner: { kind: 'spec', spec: `script:${planFile}` },
    grounder: { kind: 'builtin', id: 'ocr' },
  });
  const runId = started.runId;
  const seen = new Set<string>();
  const decide = (review: PendingReview, decision: unknown) => pageCall(page, 'gate.decide', { runId, reviewId: review.reviewId, decision });

  // Step 1: the text is edited.
  const r1 = await nextReview(page, seen, 1);
  const edited1 = applyStepEdit(r1.forecast, 0, { text: EDITED_TEXT });
  assert.ok(edited1.ok);
  await decide(r1, { kind: 'edit', forecast: edited1.forecast });

  // A reload in the middle: the run's state comes back from the server.
  // Step 2: approved as it is.
  const r2 = await nextReview(page, seen, 2);
  const state = await pageCall<{ run: { pending?: { reviewId: string }; status: string } }>(page, 'runs.current', {});
  assert.equal(state.run.status, 'waiting');
  assert.equal(state.run.pending?.reviewId, r2.reviewId, 'the pending review is the server\'s state');
  await decide(r2, { kind: 'approve' });

  // Step 3: the point is dragged 12 px to the right (still on "Save As…").
  const r3 = await nextReview(page, seen, 3);
  assert.ok(r3.grounding, 'step 3 was grounded by OCR');
  const dragged = { x: Math.round(r3.grounding.point.x + 12), y: Math.round(r3.grounding.point.y) };
  const edited3 = applyStepEdit(r3.forecast, 0, { point: dragged });
  assert.ok(edited3.ok);
  await decide(r3, { kind: 'edit', forecast: edited3.forecast });

  // Step 4: rejected with a reason; the planner is asked again; then approved.
  const r4 = await nextReview(page, seen, 4);
  await decide(r4, { kind: 'reject', reason: REJECT_REASON });
  const r4b = await nextReview(page, seen, 4);
  await decide(r4b, { kind: 'approve' });

  // Step 5: Enter, approved. Step 6 (finished) waits: the person stops the run instead.
  await decide(await nextReview(page, seen, 5), { kind: 'approve' });
  await nextReview(page, seen, 6);
  await pageCall(page, 'runs.stop', { runId });
  const ended = await page.waitForFunction(
    () => (window as unknown as { liveEvents: { name: string; data: { outcome: { status: string }; episodeId: string } }[] }).liveEvents.find((e) => e.name === 'run.ended')?.data ?? null,
    undefined,
    { timeout: 30_000 },
  );
  const end = (await ended.jsonValue()) as { outcome: { status: string }; episodeId: string };
  assert.equal(end.outcome.status, 'stopped', serverLog.join('\n'));

  for (let i = 0; i < 50 && !existsSync(target); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(readFileSync(target, 'utf8'), EDITED_TEXT, 'Mousepad saved the text the person wrote');

  const store = SqliteEpisodeStore.open(app.dbPath);
  try {
    const ep = store.getEpisode(end.episodeId);
    assert.equal(ep.status, 'stopped');
    assert.deepEqual(
      ep.steps.map((s) => s.approvals.map((a) => a.decision)),
      [['edit'], ['approve'], ['edit'], ['reject', 'approve'], ['approve'], []],
      'exactly the decisions the person made, nothing for the step that was stopped',
    );
    const a1 = ep.steps[0]!.approvals[0]!;
    const text = (f: typeof a1.original | undefined) => {
      const a = f?.steps[0]?.action;
      return a?.action_type === 'type' ? a.text : undefined;
    };
    assert.equal(text(a1.original), ORIGINAL_TEXT, 'the original forecast is kept beside the edit');
    assert.equal(text(a1.edited), EDITED_TEXT);
    const a3 = ep.steps[2]!.approvals[0]!;
    const p3 = a3.edited?.steps[0]?.action;
    assert.deepEqual(p3 && 'point' in p3 ? p3.point : undefined, { space: 'screenshot', ...dragged });
    assert.equal(ep.steps[2]!.groundings.at(-1)?.grounder, 'person', 'the dragged point was not handed to the grounder');
    // The screen is 1280×800 at scale 1: global pixels are screenshot pixels.
    assert.deepEqual(ep.steps[2]!.executions[0]?.globalPoint, dragged, 'the click went where the person put it');
    assert.equal(ep.steps[3]!.approvals[0]!.reason, REJECT_REASON);
    assert.match(ep.steps[3]!.forecasts[1]!.prompt?.user ?? '', /step 4/, 'the planner was asked again after the rejection');
  } finally {
    store.close();
  }
  await page.close();
});
