/**
 * Acceptance 2 of the app, against the real server (browser mode) over real HTTP:
 * - every call, and the live channel, refuse a request without the token, with a foreign Origin
 *   and with a foreign Host (DNS rebinding);
 * - a malformed message gets a typed error (BAD_INPUT naming what is wrong) and changes nothing
 *   (settings file, run state, key store);
 * - an API key, once set, never comes back: not in any call's answer, not in the page or its
 *   scripts, not on the live channel, not in the settings file, not in a run's state (its spec);
 *   the key file and the settings file are readable by the user alone.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CALL_NAMES, EVENTS_PATH } from '../../common/contract.ts';
import { launchApp, type RunningApp } from '../../main/shell/start.ts';

const KEY = 'sk-test-4f1c9a7e-never-shown-to-the-page';

let dir: string;
let app: RunningApp;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foresight-app-security-'));
  // No DISPLAY for runs: a run started here fails at once, which is all these tests need of it.
  const runEnv = { ...process.env };
  delete runEnv.DISPLAY;
  delete runEnv.WAYLAND_DISPLAY;
  app = await launchApp({ db: join(dir, 'data', 'episodes.db'), runEnv, log: () => undefined });
});

after(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A raw request, so Host and Origin can be anything. `timeoutMs`: read that long, then close (the live channel never ends). */
function raw(opts: { method?: string; path: string; headers?: Record<string, string>; body?: string; timeoutMs?: number; until?: RegExp }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: app.port, method: opts.method ?? 'GET', path: opts.path, headers: { host: `127.0.0.1:${app.port}`, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (opts.until?.test(Buffer.concat(chunks).toString('utf8'))) {
          done();
          req.destroy();
        }
      });
      res.on('end', done);
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          req.destroy();
        }, opts.timeoutMs);
      }
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const auth = () => ({ authorization: `Bearer ${app.token}`, 'content-type': 'application/json' });

function call(name: string, body: unknown, headers: Record<string, string> = auth()): Promise<Answer> {
  return raw({ method: 'POST', path: `/api/${name}`, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

function json(a: Answer): { ok: boolean; value?: unknown; error?: { code: string; message: string } } {
  return JSON.parse(a.body) as { ok: boolean; value?: unknown; error?: { code: string; message: string } };
}

void describe('who may ask', () => {
  it('refuses every call without the token, with a wrong one, or with another app\'s cookie', async () => {
    for (const name of CALL_NAMES) {
      const variants: Record<string, string>[] = [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', authorization: 'Bearer wrong' }, { 'content-type': 'application/json', cookie: `foresight_token_1=${app.token}` }];
      for (const headers of variants) {
        const r = await call(name, {}, headers);
        assert.equal(r.status, 401, `${name} with ${JSON.stringify(Object.keys(headers))}`);
        assert.equal(json(r).error?.code, 'BAD_INPUT');
      }
    }
  });

  it('refuses the live channel without the token, from a foreign Origin, under a foreign Host', async () => {
    const none = await raw({ path: EVENTS_PATH });
    assert.equal(none.status, 401);
    assert.doesNotMatch(String(none.headers['content-type']), /event-stream/);
    const foreignOrigin = await raw({ path: EVENTS_PATH, headers: { authorization: `Bearer ${app.token}`, origin: 'https://evil.example' } });
    assert.equal(foreignOrigin.status, 403);
    const nullOrigin = await raw({ path: EVENTS_PATH, headers: { authorization: `Bearer ${app.token}`, origin: 'null' } });
    assert.equal(nullOrigin.status, 403, 'only the sign-in form may come from a file:// page');
    for (const host of ['evil.example', `evil.example:${app.port}`, `127.0.0.1:${app.port + 1}`]) {
      const r = await raw({ path: EVENTS_PATH, headers: { host, authorization: `Bearer ${app.token}` } });
      assert.equal(r.status, 403, `host ${host}`);
    }
    // With all three right, it is a live stream.
    const ok = await raw({ path: EVENTS_PATH, headers: { authorization: `Bearer ${app.token}`, origin: app.origin }, timeoutMs: 300 });
    assert.equal(ok.status, 200);
    assert.match(String(ok.headers['content-type']), /^text\/event-stream/);
  });

  it('refuses calls from a foreign Origin and under a foreign Host, even with the token', async () => {
    for (const name of ['settings.get', 'runs.start', 'gate.decide', 'settings.setApiKey'] as const) {
      assert.equal((await call(name, {}, { ...auth(), origin: 'https://evil.example' })).status, 403, `${name} origin`);
      assert.equal((await call(name, {}, { ...auth(), host: 'evil.example' })).status, 403, `${name} host`);
    }
    for (const path of ['/thumbs/320/' + '0'.repeat(64) + '.jpg', '/exports/x.zip', '/bench-reports/00000000-0000-0000-0000-000000000000/report.html']) {
      assert.equal((await raw({ path })).status, 401, path);
      assert.equal((await raw({ path, headers: { authorization: `Bearer ${app.token}`, origin: 'https://evil.example' } })).status, 403, path);
    }
  });
});

void describe('malformed messages', () => {
  it('get a typed BAD_INPUT naming the problem, and change nothing', async () => {
    const settingsFile = join(dir, 'data', 'settings.json');
    const before = json(await call('settings.update', { endpoints: [{ id: 'local', label: 'Local', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' }] }));
    assert.ok(before.ok);
    const settingsText = readFileSync(settingsFile, 'utf8');

    const cases: [string, unknown, RegExp][] = [
      ['settings.update', { killKey: '' }, /killKey/],
      ['settings.update', { endpoints: [{ id: 'x', label: 'x', baseUrl: 'not a url', model: 'm' }] }, /baseUrl/],
      ['settings.update', { endpoints: [], apiKey: 'sneaky' }, /apiKey/],
      ['settings.setApiKey', { endpointId: 'local', key: '' }, /key/],
      ['runs.start', { task: 'x', mode: 'sometimes', planner: { kind: 'spec', spec: 'script:/x' }, grounder: { kind: 'builtin', id: 'none' } }, /mode/],
      ['runs.start', { task: '   ', mode: 'each', planner: { kind: 'spec', spec: 'script:/x' }, grounder: { kind: 'builtin', id: 'none' } }, /task/],
      ['gate.decide', { runId: 'r', reviewId: 'v', decision: { kind: 'reject', reason: '' } }, /reason/],
      ['gate.decide', { runId: 'r', reviewId: 'v', decision: { kind: 'edit', forecast: { format: 'tracer1', steps: [] } } }, /steps/],
      ['gate.decide', { runId: 'r', reviewId: 'v', decision: { kind: 'maybe' } }, /kind/],
      ['episodes.list', { limit: -1 }, /limit/],
    ];
    for (const [name, body, problem] of cases) {
      const r = await call(name, body);
      assert.equal(r.status, 400, `${name} ${JSON.stringify(body)}`);
      const e = json(r).error;
      assert.equal(e?.code, 'BAD_INPUT');
      assert.match(e?.message ?? '', problem, `${name}: ${e?.message}`);
    }
    const notJson = await call('settings.update', '{"killKey": ');
    assert.equal(notJson.status, 400);
    assert.equal(json(notJson).error?.code, 'BAD_INPUT');

    assert.equal(readFileSync(settingsFile, 'utf8'), settingsText, 'the settings file is unchanged');
    assert.equal(existsSync(join(dir, 'data', 'keys.json')), false, 'no key was stored');
    assert.deepEqual(json(await call('runs.current', {})).value, { run: null }, 'no run was started');
    // A decision for a run that does not exist is NOT_FOUND, typed too.
    const stale = json(await call('gate.decide', { runId: 'r', reviewId: 'v', decision: { kind: 'approve' } }));
    assert.equal(stale.error?.code, 'NOT_FOUND');
  });
});

void describe('API keys', () => {
  it('are stored write-only: hasKey comes back, the key never does — not in answers, pages, events or the settings file', async () => {
    await call('settings.update', { endpoints: [{ id: 'local', label: 'Local', baseUrl: 'http://127.0.0.1:9/v1', model: 'qwen2.5-vl-7b' }] });
    // Listen to the live channel while everything happens.
    const live = raw({ path: EVENTS_PATH, headers: { authorization: `Bearer ${app.token}` }, timeoutMs: 30_000, until: /event: run\.ended/ });

    const set = json(await call('settings.setApiKey', { endpointId: 'local', key: KEY }));
    assert.deepEqual(set.value, { endpointId: 'local', hasKey: true });
    const view = json(await call('settings.get', {}));
    const endpoint = (view.value as { endpoints: { id: string; hasKey: boolean }[]; keyStorage: string }).endpoints[0];
    assert.equal(endpoint?.hasKey, true);
    assert.equal((view.value as { keyStorage: string }).keyStorage, 'file');

    // A run that uses the endpoint: the key goes to the agent's environment, not its argv or the run's state.
    const started = json(
      await call('runs.start', { task: 'Look', mode: 'each', planner: { kind: 'endpoint', endpointId: 'local' }, grounder: { kind: 'builtin', id: 'none' } }),
    );
    assert.ok(started.ok, JSON.stringify(started.error));
    const runId = (started.value as { runId: string }).runId;
    // Wait for it to end (no display: it fails at once).
    let state: { status: string; log: string[] } | undefined;
    for (let i = 0; i < 200; i++) {
      state = (json(await call('runs.current', {})).value as { run: { status: string; log: string[] } }).run;
      if (state.status === 'ended') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(state?.status, 'ended');

    const answers: string[] = [];
    for (const name of CALL_NAMES) answers.push((await call(name, name === 'benchmarks.list' ? { folder: dir } : name.startsWith('runs.') && name !== 'runs.current' && name !== 'runs.start' ? { runId } : {})).body);
    // The page and every script and stylesheet it loads.
    const page = (await raw({ path: '/', headers: { authorization: `Bearer ${app.token}` } })).body;
    answers.push(page);
    const assets = [...page.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('.js')), `the page loads its script: ${assets.join(', ')}`);
    for (const path of assets) answers.push((await raw({ path, headers: { authorization: `Bearer ${app.token}` } })).body);
    answers.push((await live).body);
    for (const text of answers) assert.equal(text.includes(KEY), false, `the key leaked in: ${text.slice(0, 200)}`);
    assert.match((await live).body, /event: run\.started/, 'the live channel was listened to');

    const settingsFile = join(dir, 'data', 'settings.json');
    const keysFile = join(dir, 'data', 'keys.json');
    assert.equal(readFileSync(settingsFile, 'utf8').includes(KEY), false, 'the settings file holds no key');
    assert.equal(statSync(keysFile).mode & 0o777, 0o600, 'the key file is readable by the user alone');
    assert.equal(statSync(settingsFile).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(keysFile, 'utf8')).local, KEY, 'the key is kept for the next start');

    // Cleared: hasKey false, and gone from the file.
    assert.deepEqual(json(await call('settings.clearApiKey', { endpointId: 'local' })).value, { endpointId: 'local', hasKey: false });
    assert.equal(readFileSync(keysFile, 'utf8').includes(KEY), false);
  });
});
