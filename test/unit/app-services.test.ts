/**
 * What the app server does besides runs, through its real HTTP calls: episode search, export as a
 * zip that unzip reads (episode.json + the screenshots, no local paths), delete (with the
 * screenshots no other episode uses), thumbnails no wider than asked; settings that turn an
 * endpoint into the run's spec, and "test connection" against a real HTTP endpoint — a live one,
 * one that refuses the key, one that is not there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { launchApp, type RunningApp } from '../../main/shell/start.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { TASKS, seedEpisodes, type Seeded } from '../e2e/seed.ts';

let dir: string;
let app: RunningApp;
let seeded: Seeded;
let endpoint: Server;
let endpointUrl: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foresight-app-services-'));
  const db = join(dir, 'data', 'episodes.db');
  seeded = await seedEpisodes(db);
  app = await launchApp({ db, log: () => undefined });
  // A model endpoint that lists its models to the right key.
  endpoint = createServer((req, res) => {
    if (req.url !== '/v1/models') return void res.writeHead(404).end();
    if (req.headers.authorization !== 'Bearer right-key') return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad key"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ id: 'qwen2.5-vl-7b' }, { id: 'ui-tars-1.5-7b' }] }));
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/v1`;
});

after(async () => {
  await app?.close();
  await new Promise((r) => endpoint?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function call<T = unknown>(name: string, body: unknown): Promise<{ ok: boolean; value: T; error?: { code: string; message: string } }> {
  const r = await fetch(`${app.origin}/api/${name}`, { method: 'POST', headers: { authorization: `Bearer ${app.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await r.json()) as { ok: boolean; value: T; error?: { code: string; message: string } };
}
const get = (path: string) => fetch(`${app.origin}${path}`, { headers: { authorization: `Bearer ${app.token}` } });

void describe('episodes', () => {
  it('are found by words of the task, model, approval mode and date', async () => {
    const ids = async (q: unknown) => (await call<{ id: string }[]>('episodes.list', q)).value.map((e) => e.id);
    assert.deepEqual(await ids({ text: 'CALCULATOR' }), [seeded.failedId]);
    assert.deepEqual(await ids({ model: 'qwen2.5' }), [seeded.failedId]);
    assert.deepEqual(await ids({ approval: 'each' }), [seeded.finishedId]);
    assert.deepEqual(await ids({ text: 'report', status: 'failed' }), []);
    const all = (await call<{ id: string; startedAt: number; approval?: string }[]>('episodes.list', {})).value;
    const finished = all.find((e) => e.id === seeded.finishedId)!;
    assert.equal(finished.approval, 'each');
    assert.deepEqual(await ids({ from: finished.startedAt }), [seeded.finishedId]);
    assert.deepEqual(await ids({ to: finished.startedAt }), [seeded.failedId]);
  });

  it('export as a zip that unzip reads: episode.json and every screenshot, no path of this machine', async () => {
    const info = await call<{ downloadPath: string; fileName: string }>('episodes.export', { id: seeded.finishedId.slice(0, 8) });
    assert.ok(info.ok);
    const res = await get(info.value.downloadPath);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="foresight-episode-[0-9a-f-]{8}\.zip"/);
    const zipFile = join(dir, 'export.zip');
    writeFileSync(zipFile, Buffer.from(await res.arrayBuffer()));
    const out = join(dir, 'unzipped');
    execFileSync('unzip', ['-q', zipFile, '-d', out]);
    const episode = JSON.parse(readFileSync(join(out, 'episode.json'), 'utf8')) as { task: string; steps: { frameSha256: string }[] };
    assert.equal(episode.task, TASKS.finished);
    assert.equal(episode.steps.length, 3);
    for (const s of episode.steps) {
      const png = readFileSync(join(out, 'frames', `${s.frameSha256}.png`));
      assert.equal((await sharp(png).metadata()).format, 'png');
    }
    assert.equal(readFileSync(join(out, 'episode.json'), 'utf8').includes(dir), false, 'no local path in the export');
  });

  it('thumbnails are JPEGs no wider than asked (and never wider than the screenshot)', async () => {
    const small = await get(`/thumbs/160/${seeded.firstFrame}.jpg`);
    assert.equal(small.headers.get('content-type'), 'image/jpeg');
    const meta = await sharp(Buffer.from(await small.arrayBuffer())).metadata();
    assert.equal(meta.width, 160);
    const big = await sharp(Buffer.from(await (await get(`/thumbs/1280/${seeded.firstFrame}.jpg`)).arrayBuffer())).metadata();
    assert.equal(big.width, 640, 'the 640-pixel screenshot is not enlarged');
    assert.equal((await get(`/thumbs/333/${seeded.firstFrame}.jpg`)).status, 400);
  });

  it('delete removes the episode and the screenshots no other episode uses', async () => {
    const store = SqliteEpisodeStore.open(app.dbPath);
    const frames = store.getEpisode(seeded.failedId).steps.map((s) => store.screenshotPath(s.frameSha256));
    store.close();
    assert.ok(frames.every((f) => existsSync(f)));
    const r = await call('episodes.delete', { id: seeded.failedId });
    assert.deepEqual(r.value, { deleted: seeded.failedId });
    assert.equal((await call('episodes.get', { id: seeded.failedId })).error?.code, 'NOT_FOUND');
    const check = SqliteEpisodeStore.open(app.dbPath);
    const stillUsed = new Set(check.getEpisode(seeded.finishedId).steps.map((s) => check.screenshotPath(s.frameSha256)));
    check.close();
    for (const f of frames) assert.equal(existsSync(f), stillUsed.has(f), f);
    assert.equal((await call('episodes.delete', { id: seeded.failedId })).error?.code, 'NOT_FOUND');
  });
});

void describe('settings', () => {
  it('"test connection" reaches a live endpoint with its stored key, and says what is wrong otherwise', async () => {
    await call('settings.update', { endpoints: [{ id: 'qwen', label: 'Qwen', baseUrl: endpointUrl, model: 'qwen2.5-vl-7b', format: 'tracer1' }] });
    const noKey = await call<{ ok: boolean; error?: { code: string; message: string } }>('settings.testConnection', { endpointId: 'qwen' });
    assert.equal(noKey.value.ok, false);
    assert.match(noKey.value.error?.message ?? '', /401.*API key/);
    await call('settings.setApiKey', { endpointId: 'qwen', key: 'right-key' });
    const live = await call<{ ok: boolean; models?: string[] }>('settings.testConnection', { endpointId: 'qwen' });
    assert.deepEqual([live.value.ok, live.value.models], [true, ['qwen2.5-vl-7b', 'ui-tars-1.5-7b']]);
    const gone = await call<{ ok: boolean; error?: { code: string; message: string } }>('settings.testConnection', { baseUrl: 'http://127.0.0.1:9/v1' });
    assert.equal(gone.value.ok, false);
    assert.equal(gone.value.error?.code, 'ENDPOINT_ERROR');
    assert.match(gone.value.error?.message ?? '', /could not be reached/);
  });

  it('first start until an endpoint is saved or a run started; an endpoint removed takes its key along', async () => {
    const view = await call<{ firstStart: boolean; endpoints: { id: string; hasKey: boolean }[] }>('settings.get', {});
    assert.equal(view.value.firstStart, false, 'an endpoint is saved');
    await call('settings.update', { endpoints: [] });
    await call('settings.update', { endpoints: [{ id: 'qwen', label: 'Qwen', baseUrl: endpointUrl, model: 'qwen2.5-vl-7b' }] });
    const again = await call<{ endpoints: { id: string; hasKey: boolean }[] }>('settings.get', {});
    assert.equal(again.value.endpoints[0]?.hasKey, false, 'the key went with the removed endpoint');
  });
});
