/**
 * Acceptance 1 of the app: Chromium (Playwright) drives browser mode while a real agent core —
 * `foresight run` started by the app server, supervisor and all — runs a scripted plan on Xvfb
 * against Mousepad. The person approves a step, edits one step's text, drags another step's
 * point, rejects one with a reason, and stops the run. Then: the database holds exactly those
 * decisions (edits as the original and the edited forecast), the dragged point is where the
 * click went, and the file Mousepad saved holds the edited text.
 *
 * The person uses the run view (React, renderer/views/RunView.tsx) as anyone would: the run form,
 * the review's buttons, the edit form, the point dragged with the mouse on the live screen, the
 * reason box, Stop — found by their accessible names. A reload while the gate waits brings the
 * review back (the server holds it). The test listens to the live channel itself (EventSource on
 * /events) only to know when the gate waits.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PendingReview } from '../../common/contract.ts';
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
/** Uncaught errors of the page: there must be none. */
const pageErrors: string[] = [];

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

/** Every live event the page receives, collected in `window.liveEvents` (the test's own listener, to know when to act). */
async function collectEvents(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { liveEvents: { name: string; data: unknown }[] };
    w.liveEvents = [];
    const source = new EventSource('/events');
    const names = ['run.started', 'run.episode', 'run.observation', 'run.forecast', 'run.grounding', 'gate.waiting', 'gate.decided', 'run.action', 'run.status', 'run.ended', 'run.error'];
    for (const n of names) source.addEventListener(n, (e) => w.liveEvents.push({ name: n, data: JSON.parse((e as MessageEvent<string>).data) }));
  });
}

/** The page, signed in as a person's browser is (the sign-in page, then the cookie), on the run view. */
async function signedInPage(): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(app.signInUrl);
  await page.waitForURL(`${app.origin}/**`);
  await page.goto(`${app.origin}/#/run`);
  await collectEvents(page);
  return page;
}

/**
 * Waits until the gate waits at `step` with a review not seen yet (the live channel says so), and
 * the run view shows it: the banner names the step and the review's buttons can be pressed.
 */
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
  await showsReview(page, step);
  return review;
}

async function showsReview(page: Page, step: number): Promise<void> {
  await page.locator('.waiting-banner', { hasText: `step ${step},` }).waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => {
    const b = Array.from(document.querySelectorAll<HTMLButtonElement>('section.review button')).find((x) => x.textContent?.trim() === 'Approve');
    return b !== undefined && !b.disabled;
  });
}

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

test('approve, edit the text, drag the point, reject with a reason, stop: the database holds exactly those decisions', { timeout: 240_000 }, async () => {
  desk.launch('mousepad', []);
  await desk.waitForWindow('Untitled 1 - Mousepad');
  await new Promise((r) => setTimeout(r, 500));
  const target = join(dir, 'saved.txt');
  const planFile = join(dir, 'plan.txt');
  writeFileSync(planFile, plan(target));

  const page = await signedInPage();
  // The run form: task, approval mode, a command-line spec as planner, OCR as grounder.
  await page.getByLabel('Task').fill('Type the line and save it');
  await page.locator('input[name="mode"][value="each"]').check();
  await page.getByLabel('Planner', { exact: true }).selectOption('spec');
  await page.getByLabel('Planner spec').fill(`script:${planFile}`);
  await page.getByLabel('Grounder', { exact: true }).selectOption('builtin:ocr');
  await button(page, 'Start').click();
  const seen = new Set<string>();

  // Step 1: the person edits the text to type.
  await nextReview(page, seen, 1);
  await button(page, 'Edit').click();
  await page.getByLabel('Text to type').fill(EDITED_TEXT);
  await button(page, 'Run the edited step').click();

  // Step 2: a reload while the gate waits: the review comes back from the server; approved.
  await nextReview(page, seen, 2);
  await page.reload();
  await showsReview(page, 2);
  await collectEvents(page);
  await button(page, 'Approve').click();

  // Step 3: the person drags step 1's point 12 screenshot pixels to the right (still on "Save As…").
  const r3 = await nextReview(page, seen, 3);
  assert.ok(r3.grounding, 'step 3 was grounded by OCR');
  await button(page, 'Edit').click();
  const marker = page.locator('button.target.first.draggable');
  const img = page.locator('.shot-frame.live img.shot-img');
  const box = (await marker.boundingBox())!;
  const shot = (await img.boundingBox())!;
  const cssPerPixel = shot.width / r3.geometry.imageWidth;
  const from = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let i = 1; i <= 6; i++) await page.mouse.move(from.x + (12 * cssPerPixel * i) / 6, from.y);
  await page.mouse.up();
  const dragged = { x: Number(await marker.getAttribute('data-x')), y: Number(await marker.getAttribute('data-y')) };
  assert.ok(Math.abs(dragged.x - (r3.grounding.point.x + 12)) <= 2 && Math.abs(dragged.y - r3.grounding.point.y) <= 2, `dragged to ${JSON.stringify(dragged)} from ${JSON.stringify(r3.grounding.point)}`);
  await button(page, 'Run the edited step').click();

  // Step 4: rejected with a reason; the planner is asked again; then approved.
  await nextReview(page, seen, 4);
  await button(page, 'Reject').click();
  await page.getByLabel('Reason').fill(REJECT_REASON);
  await button(page, 'Reject and re-plan').click();
  await nextReview(page, seen, 4);
  await button(page, 'Approve').click();

  // Step 5: Enter, approved. Step 6 (finished) waits: the person stops the run instead.
  await nextReview(page, seen, 5);
  await button(page, 'Approve').click();
  await nextReview(page, seen, 6);
  await button(page, 'Stop').click();
  const ended = await page.waitForFunction(
    () => (window as unknown as { liveEvents: { name: string; data: { outcome: { status: string }; episodeId: string } }[] }).liveEvents.find((e) => e.name === 'run.ended')?.data ?? null,
    undefined,
    { timeout: 30_000 },
  );
  const end = (await ended.jsonValue()) as { outcome: { status: string }; episodeId: string };
  assert.equal(end.outcome.status, 'stopped', serverLog.join('\n'));
  await page.locator('.outcome-stopped').waitFor();

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
  assert.deepEqual(pageErrors, []);
  await page.close();
});
