/**
 * The app as a person meets it: a real episode database, the real server (browser mode), the
 * real renderer bundle, in Debian's Chromium driven by Playwright. Plus what a page on
 * another site, or another program on this machine, gets when it asks without the token.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { launchApp, type RunningApp } from '../../main/shell/start.ts';
import { EDITED_INSTRUCTION, ORIGINAL_INSTRUCTION, SAVE_BUTTON, GEOMETRY, TASKS, seedEpisodes, type Seeded } from './seed.ts';

const CHROMIUM = process.env.FORESIGHT_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.FORESIGHT_E2E_SCREENSHOT ?? join(tmpdir(), 'foresight-episode-detail.png');

let dir: string;
let seeded: Seeded;
let app: RunningApp;
let browser: Browser;
const serverLog: string[] = [];
/** Uncaught errors of any page: there must be none. */
const pageErrors: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foresight-e2e-'));
  const db = join(dir, 'data', 'episodes.db');
  seeded = await seedEpisodes(db);
  app = await launchApp({ db, log: (line) => serverLog.push(line) });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh browser profile that opened the printed link. */
async function signedInPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(app.url);
  return page;
}

/** A raw HTTP request, so the Host header can be anything (fetch would not allow it). */
function rawRequest(opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: app.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const bearer = () => ({ authorization: `Bearer ${app.token}`, 'content-type': 'application/json' });

void describe('foresight app in Chromium', () => {
  void it('lists both episodes with their statuses, and filters by status', async () => {
    const page = await signedInPage();
    assert.equal(new URL(page.url()).search, '', 'the token left the address bar');
    const rows = page.locator('tr.episode-row');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 2);
    // Newest first.
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-status'), tr.querySelector('.task a')?.textContent])), [
      ['finished', TASKS.finished],
      ['failed', TASKS.failed],
    ]);
    const failedRow = page.locator(`tr[data-id="${seeded.failedId}"]`);
    assert.equal(await failedRow.locator('.status').textContent(), 'failed');
    assert.equal(await failedRow.locator('.error-code').textContent(), 'PARSE_ERROR');
    assert.equal((await page.locator(`tr[data-id="${seeded.finishedId}"] td.num`).textContent())?.trim(), '3');
    assert.match((await page.locator('#db-path').textContent()) ?? '', /episodes\.db$/);

    await page.selectOption('#status-filter', 'failed');
    await page.waitForFunction(() => document.querySelectorAll('tr.episode-row').length === 1);
    assert.equal(await page.locator('tr.episode-row').getAttribute('data-id'), seeded.failedId);
    assert.equal(new URL(page.url()).hash, '#/?status=failed');

    await page.selectOption('#status-filter', 'running');
    await page.locator('.empty').waitFor();
    assert.match((await page.locator('.empty').textContent()) ?? '', /No running episodes/);
    await page.close();
  });

  void it('shows an episode: screenshots, the executed point, the edited forecast', async () => {
    const page = await signedInPage();
    await page.locator(`tr[data-id="${seeded.finishedId}"]`).click();
    await page.locator('section.step').first().waitFor();
    assert.equal(await page.locator('section.step').count(), 3);
    assert.equal(await page.locator('h1').textContent(), TASKS.finished);
    assert.match((await page.locator('.answer').textContent()) ?? '', /Saved as report\.txt/);

    const step1 = page.locator('section.step[data-step="1"]');
    const img = step1.locator('img.shot-img');
    await img.scrollIntoViewIfNeeded();
    await page.waitForFunction((el) => el !== null && (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await img.elementHandle());
    assert.equal(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth), GEOMETRY.imageWidth);

    // The executed click (the grounded Save button) sits on its pixel of the displayed image.
    const mark = step1.locator('.mark-executed');
    assert.equal(await mark.count(), 1);
    const imgBox = await img.boundingBox();
    const markBox = await mark.boundingBox();
    assert.ok(imgBox && markBox);
    const expected = {
      x: imgBox.x + (SAVE_BUTTON.x / GEOMETRY.imageWidth) * imgBox.width,
      y: imgBox.y + (SAVE_BUTTON.y / GEOMETRY.imageHeight) * imgBox.height,
    };
    const centre = { x: markBox.x + markBox.width / 2, y: markBox.y + markBox.height / 2 };
    assert.ok(Math.abs(centre.x - expected.x) < 1.5 && Math.abs(centre.y - expected.y) < 1.5, `mark at ${JSON.stringify(centre)}, expected ${JSON.stringify(expected)}`);
    // Where the model wanted to click before the person's edit is drawn too, labelled step 1.
    assert.equal(await step1.locator('.mark-grounded').textContent(), '1');

    // The forecast, and the person's edit as original → edited.
    const forecastSteps = step1.locator('article.forecast .forecast-step');
    assert.equal(await forecastSteps.count(), 3);
    assert.deepEqual(await forecastSteps.locator('.action-type').allTextContents(), ['click', 'type', 'key']);
    assert.deepEqual(await forecastSteps.locator('.step-status').allTextContents(), ['not done', 'not done', 'done']);
    const approval = step1.locator('article.approval');
    assert.match((await approval.locator('header').textContent()) ?? '', /Edited by a person/);
    assert.equal(await approval.locator('.original .forecast-step .instruction').first().textContent(), ORIGINAL_INSTRUCTION);
    assert.equal(await approval.locator('.edited .forecast-step .instruction').first().textContent(), EDITED_INSTRUCTION);
    const execution = step1.locator('article.execution');
    assert.match((await execution.textContent()) ?? '', /✓ click — click on 'Save' in the toolbar/);
    assert.match((await execution.textContent()) ?? '', /at \(280, 104\) global/);

    // Step 2 was approved as it was.
    assert.match((await page.locator('section.step[data-step="2"] article.approval header').textContent()) ?? '', /Approved by a person/);

    await step1.scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  });

  void it('shows the failed episode with its parse errors', async () => {
    const page = await signedInPage();
    await page.locator(`tr[data-id="${seeded.failedId}"] .task a`).click();
    await page.locator('section.step').waitFor();
    assert.equal(await page.locator('.episode-head .error-box').getAttribute('data-code'), 'PARSE_ERROR');
    const failed = page.locator('article.forecast.failed');
    assert.equal(await failed.count(), 3);
    assert.match((await failed.first().textContent()) ?? '', /PARSE_ERROR.*No <answer> block/);
    await page.close();
  });

  void it('says what to do when the page is opened without the printed link', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.origin}/`);
    const box = page.locator('#app .error-box');
    await box.waitFor();
    assert.match((await box.textContent()) ?? '', /Open the link printed by npm start/);
    assert.equal(await box.locator('code').textContent(), 'npm start');
    // A wrong token sets no cookie.
    await page.goto(`${app.origin}/?token=not-the-token`);
    await page.locator('#app .error-box').waitFor();
    assert.deepEqual(await context.cookies(), []);
    await context.close();
  });

  void it('says so when an episode does not exist', async () => {
    const page = await signedInPage();
    await page.goto(`${app.origin}/#/episodes/no-such-episode`);
    await page.locator('#app .error-box[data-code="NOT_FOUND"]').waitFor();
    await page.close();
  });
});

void describe('foresight app over HTTP', () => {
  void it('refuses API and blob requests without the token (401)', async () => {
    const list = await rawRequest({ method: 'POST', path: '/api/episodes.list', headers: { host: `127.0.0.1:${app.port}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(list.status, 401);
    const body = JSON.parse(list.body) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(body.ok, false);
    assert.equal(body.error.code, 'BAD_INPUT');
    assert.match(body.error.message, /npm start/);

    const wrong = await rawRequest({ method: 'POST', path: '/api/episodes.list', headers: { host: `127.0.0.1:${app.port}`, authorization: 'Bearer nope' }, body: '{}' });
    assert.equal(wrong.status, 401);
    const blob = await rawRequest({ path: `/blobs/${seeded.firstFrame}.png`, headers: { host: `127.0.0.1:${app.port}` } });
    assert.equal(blob.status, 401);
    const withCookieOfAnotherApp = await rawRequest({ path: `/blobs/${seeded.firstFrame}.png`, headers: { host: `127.0.0.1:${app.port}`, cookie: `foresight_token_1=${app.token}` } });
    assert.equal(withCookieOfAnotherApp.status, 401);
  });

  void it('refuses a foreign Host header (DNS rebinding) and a foreign Origin', async () => {
    for (const host of ['evil.example', `evil.example:${app.port}`, `127.0.0.1:${app.port + 1}`, 'localhost']) {
      const r = await rawRequest({ method: 'POST', path: '/api/episodes.list', headers: { host, ...bearer() }, body: '{}' });
      assert.equal(r.status, 403, `host "${host}"`);
      assert.doesNotMatch(r.body, /Save the document/);
    }
    const page = await rawRequest({ path: '/', headers: { host: 'evil.example' } });
    assert.equal(page.status, 403);
    const origin = await rawRequest({ method: 'POST', path: '/api/episodes.list', headers: { host: `localhost:${app.port}`, origin: 'http://evil.example', ...bearer() }, body: '{}' });
    assert.equal(origin.status, 403);
    const ok = await rawRequest({ method: 'POST', path: '/api/episodes.list', headers: { host: `localhost:${app.port}`, origin: `http://localhost:${app.port}`, ...bearer() }, body: '{}' });
    assert.equal(ok.status, 200);
  });

  void it('checks request bodies against the contract', async () => {
    const post = (path: string, body: string, headers: Record<string, string> = bearer()) => rawRequest({ method: 'POST', path, headers: { host: `127.0.0.1:${app.port}`, ...headers }, body });
    const bad = await post('/api/episodes.list', JSON.stringify({ status: 'exploded' }));
    assert.equal(bad.status, 400);
    assert.match((JSON.parse(bad.body) as { error: { message: string } }).error.message, /^Bad request to episodes\.list: status: /);
    assert.equal((await post('/api/episodes.get', '{"id":')).status, 400);
    assert.equal((await post('/api/episodes.get', JSON.stringify({ id: 'x', more: 1 }))).status, 400);
    assert.equal((await post('/api/episodes.get', JSON.stringify({ id: 'x' }), { authorization: `Bearer ${app.token}`, 'content-type': 'text/plain' })).status, 415);
    assert.equal((await post('/api/episodes.drop', '{}')).status, 404);
    assert.equal((await post('/api/%E0%A4%A', '{}')).status, 404);
    assert.equal((await post('/api/episodes.get', JSON.stringify({ id: 'zzz' }))).status, 404);
    assert.equal((await post('/api/episodes.list', 'x'.repeat(70 * 1024))).status, 413);
    assert.equal((await rawRequest({ path: '/api/episodes.list', headers: { host: `127.0.0.1:${app.port}`, ...bearer() } })).status, 405);

    const get = await post('/api/episodes.get', JSON.stringify({ id: seeded.finishedId.slice(0, 8) }));
    assert.equal(get.status, 200);
    const answer = JSON.parse(get.body) as { ok: true; value: { id: string; steps: object[] } };
    assert.equal(answer.value.id, seeded.finishedId, 'a unique prefix names the episode');
    assert.equal(get.body.includes(dir), false, 'no file-system path leaves with an episode');
    const info = JSON.parse((await post('/api/app.info', '')).body) as { ok: true; value: { dbPath: string } };
    assert.equal(info.value.dbPath, app.dbPath, 'an empty body is an empty request');
  });

  void it('serves screenshots by sha256 only', async () => {
    const get = (path: string, headers: Record<string, string> = {}) => rawRequest({ path, headers: { host: `127.0.0.1:${app.port}`, authorization: `Bearer ${app.token}`, ...headers } });
    const png = await get(`/blobs/${seeded.firstFrame}.png`);
    assert.equal(png.status, 200);
    assert.equal(png.headers['content-type'], 'image/png');
    assert.equal((await get(`/blobs/${seeded.firstFrame}.png`, { 'if-none-match': `"${seeded.firstFrame}"` })).status, 304);
    assert.equal((await get(`/blobs/${'0'.repeat(64)}.png`)).status, 404);
    assert.equal((await get(`/blobs/${seeded.firstFrame.toUpperCase()}.png`)).status, 400);
    assert.equal((await get('/blobs/..%2f..%2fepisodes.db.png')).status, 400);
    assert.equal((await get('/blobs/../data/episodes.db')).status, 404, 'paths are normalised before routing');
  });

  void it('closes cleanly', async () => {
    const db = join(dir, 'second.db');
    const second = await launchApp({ db });
    const r = await fetch(`${second.origin}/api/app.info`, { method: 'POST', headers: { authorization: `Bearer ${second.token}` } });
    assert.equal(r.status, 200);
    await Promise.all([second.close(), second.close()]);
    await assert.rejects(fetch(`${second.origin}/api/app.info`, { method: 'POST' }));
    assert.deepEqual(serverLog, [], 'nothing unexpected was logged');
    assert.deepEqual(pageErrors, [], 'no page threw');
  });
});
