/**
 * The app as a person meets it: a real episode database, the real server (browser mode), the
 * renderer's production build (React + Vite, made by ensureRendererBuild when stale), in
 * Debian's Chromium driven by Playwright. Plus what a page on
 * another site, or another program on this machine, gets when it asks without the token, and
 * where the token is not: on any process's command line, in a URL, in what is printed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { signInHtml } from '../../main/shell/sign-in.ts';
import { launchApp, type RunningApp } from '../../main/shell/start.ts';
import { openBrowser } from '../../main/shell/window.ts';
import { FORESIGHT_BIN } from '../harness/cli.ts';
import { startXDesktop } from '../harness/xdesktop.ts';
import { ensureRendererBuild } from './renderer-build.ts';
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
  ensureRendererBuild();
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

/** A fresh browser profile that opened the printed link (the sign-in page), then the episode list. */
async function signedInPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(app.signInUrl);
  await page.waitForURL(`${app.origin}/`);
  await page.locator('[data-view="episodes"]').click();
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
    assert.equal(page.url().includes(app.token), false, 'the token is in no URL');
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
    assert.equal(new URL(page.url()).hash, '#/episodes?status=failed');
    // The filter is in the URL: a reload shows the same list.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('tr.episode-row').length === 1);

    await page.selectOption('#status-filter', 'running');
    await page.locator('.empty').waitFor();
    assert.match((await page.locator('.empty').textContent()) ?? '', /No running episodes/);
    await page.close();
  });

  void it('shows an episode: a timeline of screenshots, the executed point, the edited forecast', async () => {
    const page = await signedInPage();
    await page.locator(`tr[data-id="${seeded.finishedId}"]`).click();
    await page.locator('section.step').first().waitFor();
    // The timeline: one entry per step, each a thumbnail with its action drawn on it.
    assert.equal(await page.locator('.rail-item').count(), 3);
    assert.equal(await page.locator('.rail-item[data-step="1"] .mark-executed').count(), 1);
    const thumb = page.locator('.rail-item[data-step="2"] img');
    await page.waitForFunction((el) => el !== null && (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await thumb.elementHandle());
    assert.match((await thumb.getAttribute('src')) ?? '', /^\/thumbs\/320\//, 'the timeline loads thumbnails');
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

    // Step 2 was approved as it was; its forecast is compared with what step 1's (edited) one expected.
    await page.locator('.rail-item[data-step="2"]').click();
    assert.match((await page.locator('section.step[data-step="2"] article.approval header').textContent()) ?? '', /Approved by a person/);
    assert.match(new URL(page.url()).hash, /\?step=2$/, 'the selected step is in the URL');
    await page.locator('.rail-item[data-step="1"]').click();

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
    const box = page.locator('#app .error-box').first();
    await box.waitFor();
    assert.match((await box.textContent()) ?? '', /Open the link printed by npm start/);
    assert.equal(await box.locator('code').textContent(), 'npm start');
    // A sign-in page with a wrong token sets no cookie, and the token in a URL is not accepted.
    const wrong = join(dir, 'wrong-sign-in.html');
    writeFileSync(wrong, signInHtml(app.origin, 'not-the-token'));
    await page.goto(pathToFileURL(wrong).href);
    await page.waitForURL(`${app.origin}/`);
    await page.locator('#app .error-box').first().waitFor();
    await page.goto(`${app.origin}/?token=${app.token}`);
    await page.locator('#app .error-box').first().waitFor();
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
    // Every POST declares JSON, an empty one too.
    assert.equal((await post('/api/app.info', '', { authorization: `Bearer ${app.token}` })).status, 415);
    assert.equal((await post('/api/app.info', '', { authorization: `Bearer ${app.token}`, 'content-type': 'application/x-www-form-urlencoded' })).status, 415);
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
    const r = await fetch(`${second.origin}/api/app.info`, { method: 'POST', headers: { authorization: `Bearer ${second.token}`, 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    assert.ok(existsSync(second.signInFile));
    await Promise.all([second.close(), second.close()]);
    assert.equal(existsSync(dirname(second.signInFile)), false, 'the sign-in page is gone with the app');
    await assert.rejects(fetch(`${second.origin}/api/app.info`, { method: 'POST' }));
    assert.deepEqual(serverLog, [], 'nothing unexpected was logged');
    assert.deepEqual(pageErrors, [], 'no page threw');
  });
});

void describe('signing in', () => {
  void it('writes the sign-in page to a file only the user can read; its link holds no token', () => {
    assert.match(app.signInUrl, /^file:\/\/\/.+\/open\.html$/);
    assert.equal(app.signInUrl.includes(app.token), false);
    assert.equal(statSync(app.signInFile).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(app.signInFile)).mode & 0o777, 0o700);
    assert.ok(readFileSync(app.signInFile, 'utf8').includes(app.token), 'the page carries the token itself');
  });

  void it('trades the token for the cookie only through a form POST to /login', async () => {
    const login = (body: string, headers: Record<string, string> = {}, method = 'POST') =>
      rawRequest({ method, path: '/login', headers: { host: `127.0.0.1:${app.port}`, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    // The sign-in page is a local file: its form says `Origin: null`.
    const ok = await login(`token=${encodeURIComponent(app.token)}`, { origin: 'null' });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.location, '/');
    assert.deepEqual(ok.headers['set-cookie'], [`foresight_token_${app.port}=${app.token}; Path=/; HttpOnly; SameSite=Strict`]);

    const wrong = await login('token=not-the-token', { origin: 'null' });
    assert.equal(wrong.status, 303);
    assert.equal(wrong.headers['set-cookie'], undefined);
    assert.equal((await login(`token=${app.token}`, { origin: 'http://evil.example' })).status, 403);
    assert.equal((await login(`token=${app.token}`, { 'content-type': 'application/json' })).status, 415);
    assert.equal((await rawRequest({ method: 'POST', path: '/login', headers: { host: `127.0.0.1:${app.port}` } })).status, 415, 'an empty POST declares its type too');
    assert.equal((await login(`token=${app.token}&pad=${'x'.repeat(2048)}`)).status, 413);
    assert.equal((await rawRequest({ path: '/login', headers: { host: `127.0.0.1:${app.port}` } })).status, 405);
    // The token in a URL is no longer a way in.
    const query = await rawRequest({ path: `/?token=${app.token}`, headers: { host: `127.0.0.1:${app.port}` } });
    assert.equal(query.headers['set-cookie'], undefined);
    // `Origin: null` is accepted on /login only.
    const api = await rawRequest({ method: 'POST', path: '/api/app.info', headers: { host: `127.0.0.1:${app.port}`, origin: 'null', ...bearer() }, body: '{}' });
    assert.equal(api.status, 403);
  });
});

/** Bytes a process has read through read(2) and friends, sockets included (/proc/<pid>/io). */
function bytesRead(pid: number): number {
  const m = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  assert.ok(m?.[1]);
  return Number(m[1]);
}

/**
 * Sends a chunked body of `total` bytes as fast as the server takes it, until the server
 * answers (or closes). The status, and how much this side handed to its socket.
 */
function chunkedUpload(port: number, path: string, headers: Record<string, string>, total: number, method = 'POST'): Promise<{ status: number; clientWrote: number }> {
  return new Promise((resolve) => {
    let status = 0;
    let wrote = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      resolve({ status, clientWrote: wrote });
    };
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, 'transfer-encoding': 'chunked', ...headers } }, (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      // Answered: stop sending, as a client that reads answers would.
      res.on('end', () => {
        req.destroy();
        finish();
      });
    });
    req.on('error', finish);
    req.on('close', finish);
    const chunk = Buffer.alloc(64 * 1024, 0x7b);
    const pump = () => {
      while (wrote < total && !req.destroyed) {
        wrote += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

void describe('foresight app (the command) and request bodies', () => {
  let child: ReturnType<typeof spawn> | undefined;
  let childOut = '';
  let childPort = 0;
  let childToken = '';
  let runtimeDir: string;

  before(async () => {
    runtimeDir = mkdtempSync(join(tmpdir(), 'foresight-runtime-'));
    child = spawn(process.execPath, [FORESIGHT_BIN, 'app', '--db', join(dir, 'cmd.db'), '--no-open'], {
      env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (b: Buffer) => (childOut += b.toString('utf8')));
    child.stderr?.on('data', (b: Buffer) => (childOut += b.toString('utf8')));
    const t0 = Date.now();
    while (!/Press Ctrl\+C/.test(childOut)) {
      if (Date.now() - t0 > 60_000 || child.exitCode !== null) throw new Error(`foresight app did not start:\n${childOut}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    childPort = Number(/running at http:\/\/127\.0\.0\.1:(\d+)\//.exec(childOut)?.[1]);
    const link = /^\s+(file:\/\/\S+)$/m.exec(childOut)?.[1];
    assert.ok(link, childOut);
    const page = readFileSync(new URL(link), 'utf8');
    childToken = /name="token" value="([^"]+)"/.exec(page)?.[1] ?? '';
    assert.ok(childToken.length >= 32);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(runtimeDir, { recursive: true, force: true });
  });

  void it('prints a link that opens the app and holds no token', () => {
    assert.match(childOut, /Open it with this link/);
    assert.match(childOut, new RegExp(`file://${runtimeDir}/foresight-app-[^/]+/open\\.html`));
    assert.equal(childOut.includes(childToken), false);
  });

  const MB = 1024 * 1024;
  void it('refuses a 50 MB chunked body without the token before 1 MB of it is read', async () => {
    assert.ok(child?.pid);
    const before = bytesRead(child.pid);
    const r = await chunkedUpload(childPort, '/api/episodes.list', { 'content-type': 'application/json' }, 50 * MB);
    const read = bytesRead(child.pid) - before;
    assert.equal(r.status, 401);
    assert.ok(read < MB, `the server read ${read} bytes (the client handed ${r.clientWrote} to its socket)`);
  });

  void it('caps an authenticated body: 413 before 1 MB is read', async () => {
    assert.ok(child?.pid);
    const before = bytesRead(child.pid);
    const r = await chunkedUpload(childPort, '/api/episodes.list', { 'content-type': 'application/json', authorization: `Bearer ${childToken}` }, 50 * MB);
    const read = bytesRead(child.pid) - before;
    assert.equal(r.status, 413);
    assert.ok(read < MB, `the server read ${read} bytes`);
  });

  void it('does not read a body sent with a page request or a wrong content type', async () => {
    assert.ok(child?.pid);
    for (const [method, path, headers] of [
      ['GET', '/', {}],
      ['POST', '/api/episodes.list', { authorization: `Bearer ${childToken}`, 'content-type': 'text/plain' }],
      ['POST', '/login', { 'content-type': 'application/x-www-form-urlencoded' }],
    ] as const) {
      const before = bytesRead(child.pid);
      const r = await chunkedUpload(childPort, path, headers, 50 * MB, method);
      const read = bytesRead(child.pid) - before;
      assert.ok(r.status === 200 || r.status === 413 || r.status === 415, `${method} ${path}: ${r.status}`);
      assert.ok(read < MB, `${method} ${path}: the server read ${read} bytes`);
    }
  });

  void it('still answers on a fresh connection afterwards', async () => {
    const r = await fetch(`http://127.0.0.1:${childPort}/api/app.info`, { method: 'POST', headers: { authorization: `Bearer ${childToken}`, 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
  });
});

/** The command lines of every process on this machine that holds `secret`. */
function commandLinesHolding(secret: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline.includes(secret)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ')}`);
  }
  return found;
}

void describe('the browser the app opens', () => {
  void it('signs in from the sign-in page, and no process has the token on its command line', async (t) => {
    const desktop = await startXDesktop({ windowManager: false });
    const profile = mkdtempSync(join(tmpdir(), 'foresight-chromium-'));
    let pid: number | undefined;
    try {
      // What `foresight app` runs (Chromium in app mode on the sign-in page), plus a profile
      // of its own and a DevTools port for this test to look at the window.
      const opened = openBrowser(app.signInUrl, {
        env: desktop.env,
        chromiumArgs: [`--user-data-dir=${profile}`, '--remote-debugging-port=0', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      assert.equal(opened.kind, 'browser');
      if (opened.kind !== 'browser') return;
      pid = opened.pid;
      assert.ok(pid);
      assert.ok(opened.args.some((a) => a.includes(app.signInFile)), 'Chromium was started on the sign-in page');

      const portFile = join(profile, 'DevToolsActivePort');
      const t0 = Date.now();
      while (!existsSync(portFile) || readFileSync(portFile, 'utf8').trim() === '') {
        if (Date.now() - t0 > 60_000) throw new Error('Chromium did not open its DevTools port');
        await new Promise((r) => setTimeout(r, 100));
      }
      const devtoolsPort = readFileSync(portFile, 'utf8').split('\n')[0];
      const cdp = await chromium.connectOverCDP(`http://127.0.0.1:${devtoolsPort}`);
      t.after(() => cdp.close());
      // The app window: signed in, on the app's origin, listing the episodes.
      let page: Page | undefined;
      while (!page) {
        page = cdp.contexts().flatMap((c) => c.pages()).find((p) => p.url().startsWith(app.origin));
        if (Date.now() - t0 > 60_000) throw new Error('the app window did not reach the app');
        if (!page) await new Promise((r) => setTimeout(r, 100));
      }
      await page.locator('[data-view="episodes"]').click();
      await page.locator('tr.episode-row').first().waitFor();
      assert.equal(await page.locator('tr.episode-row').count(), 2);
      assert.equal(page.url().includes(app.token), false);

      const chromiumProcesses = readdirSync('/proc').filter((d) => /^\d+$/.test(d) && (() => {
        try {
          return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(profile);
        } catch {
          return false;
        }
      })());
      assert.ok(chromiumProcesses.length >= 2, `the scan sees the launched Chromium's processes (${chromiumProcesses.length})`);
      assert.deepEqual(commandLinesHolding(app.token), [], 'no command line holds the token');
    } finally {
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await desktop.stop();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
