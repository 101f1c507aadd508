import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { z } from 'zod';
import {
  CALL_NAMES,
  CALLS,
  episodeSummarySchema,
  episodeViewSchema,
  isCallName,
  resultSchema,
  type CallResponseInput,
} from '../../common/contract.ts';
import { SqliteEpisodeStore, type EpisodeSummary, type StoredEpisode } from '../../store/index.ts';
import { seedEpisodes, type Seeded } from '../e2e/seed.ts';

// Compile-time: what the store reads back is what the contract's answers accept. If store/types.ts
// and the view schemas drift apart, this file stops type-checking.
const _storeFitsList: (e: EpisodeSummary[]) => CallResponseInput<'episodes.list'> = (e) => e;
const _storeFitsGet: (e: StoredEpisode) => CallResponseInput<'episodes.get'> = (e) => e;
void _storeFitsList;
void _storeFitsGet;

let dir: string;
let seeded: Seeded;
let episode: StoredEpisode;
let list: EpisodeSummary[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foresight-contract-'));
  seeded = await seedEpisodes(join(dir, 'episodes.db'));
  const store = SqliteEpisodeStore.open(join(dir, 'episodes.db'));
  try {
    episode = store.getEpisode(seeded.finishedId);
    list = store.listEpisodes();
  } finally {
    store.close();
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

const clone = <T>(v: T): T => structuredClone(v);

void describe('common/contract view schemas', () => {
  void it('accept what the store reads back, and keep every field but file paths', () => {
    const summaries = CALLS['episodes.list'].response.parse(list);
    assert.deepEqual(summaries, list);

    const view = episodeViewSchema.parse(episode);
    const step = view.steps[0];
    assert.ok(step);
    assert.equal('screenshotPath' in step, false, 'file paths stay on the server');
    const withoutPaths = { ...episode, steps: episode.steps.map(({ screenshotPath: _path, ...s }) => s) };
    assert.deepEqual(view, withoutPaths);

    // The parts the renderer draws survived: a grounding with its point, the edit pair, the execution's point.
    const grounding = step.groundings.find((g) => !('error' in g));
    assert.ok(grounding && !('error' in grounding));
    assert.equal(grounding.point.space, 'screenshot');
    const approval = step.approvals[0];
    assert.equal(approval?.decision, 'edit');
    assert.ok(approval.edited);
    assert.ok(step.executions[0]?.globalPoint);
  });

  void it('accept the failed episode with its parse errors', () => {
    const store = SqliteEpisodeStore.open(join(dir, 'episodes.db'));
    try {
      const failed = episodeViewSchema.parse(store.getEpisode(seeded.failedId));
      assert.equal(failed.error?.code, 'PARSE_ERROR');
      assert.deepEqual(
        failed.steps[0]?.forecasts.map((f) => [f.attempt, f.error?.code, f.forecast]),
        [
          [1, 'PARSE_ERROR', undefined],
          [2, 'PARSE_ERROR', undefined],
          [3, 'PARSE_ERROR', undefined],
        ],
      );
    } finally {
      store.close();
    }
  });

  void it('reject malformed episodes, naming the field', () => {
    const cases: [string, (e: z.input<typeof episodeViewSchema>) => void, string][] = [
      ['unknown status', (e) => Object.assign(e, { status: 'exploded' }), 'status'],
      ['unknown error code', (e) => Object.assign(e, { error: { code: 'OOPS', message: 'x' } }), 'error.code'],
      ['negative step count', (e) => Object.assign(e, { stepCount: -1 }), 'stepCount'],
      ['a sha that is not hex', (e) => Object.assign(e.steps[0]!, { frameSha256: '../../etc/passwd' }), 'steps.0.frameSha256'],
      ['a grounding with neither point nor error', (e) => Object.assign(e.steps[0]!.groundings, [{ forecastStepIndex: 0, createdAt: 1 }]), 'steps.0.groundings.0'],
      ['a point in an unknown space', (e) => Object.assign(e.steps[0]!.groundings[1]!, { point: { space: 'mm', x: 1, y: 2 } }), 'steps.0.groundings.1'],
      ['an empty forecast', (e) => Object.assign(e.steps[0]!.forecasts[0]!, { forecast: { format: 'tracer1', steps: [] } }), 'steps.0.forecasts.0.forecast.steps'],
      ['an unknown action', (e) => Object.assign(e.steps[0]!.executions[0]!.action, { action_type: 'teleport' }), 'steps.0.executions.0.action.action_type'],
      ['an unknown decision', (e) => Object.assign(e.steps[0]!.approvals[0]!, { decision: 'maybe' }), 'steps.0.approvals.0.decision'],
      ['a missing geometry', (e) => Object.assign(e.steps[0]!, { geometry: undefined }), 'steps.0.geometry'],
      ['an infinite point', (e) => Object.assign(e.steps[0]!.executions[0]!, { globalPoint: { x: Infinity, y: 0 } }), 'steps.0.executions.0.globalPoint.x'],
    ];
    for (const [what, damage, path] of cases) {
      const bad = clone(episode) as z.input<typeof episodeViewSchema>;
      damage(bad);
      const r = episodeViewSchema.safeParse(bad);
      assert.equal(r.success, false, `${what} was accepted`);
      const paths = r.error?.issues.map((i) => i.path.join('.')) ?? [];
      assert.ok(
        paths.some((p) => p.startsWith(path)),
        `${what}: expected an issue at ${path}, got ${paths.join(', ')}`,
      );
    }
    assert.equal(episodeSummarySchema.safeParse({ ...list[0], id: '' }).success, false);
    assert.equal(episodeSummarySchema.safeParse({ ...list[0], startedAt: 'yesterday' }).success, false);
  });
});

void describe('common/contract calls', () => {
  void it('check requests strictly', () => {
    const get = CALLS['episodes.get'].request;
    assert.ok(get.safeParse({ id: '0c6b' }).success);
    assert.equal(get.safeParse({}).success, false);
    assert.equal(get.safeParse({ id: '' }).success, false);
    assert.equal(get.safeParse({ id: 'x', extra: 1 }).success, false, 'unknown fields are refused');
    assert.equal(get.safeParse({ id: 7 }).success, false);

    const listReq = CALLS['episodes.list'].request;
    assert.ok(listReq.safeParse({}).success);
    assert.ok(listReq.safeParse({ status: 'failed', limit: 20 }).success);
    assert.equal(listReq.safeParse({ status: 'exploded' }).success, false);
    assert.equal(listReq.safeParse({ limit: 0 }).success, false);
    assert.equal(listReq.safeParse({ limit: 1.5 }).success, false);

    assert.ok(CALLS['app.info'].request.safeParse({}).success);
    assert.equal(CALLS['app.info'].request.safeParse({ verbose: true }).success, false);
    assert.equal(CALLS['app.info'].request.safeParse(null).success, false);
  });

  void it('answer as Result<T> with a code from common/errors.ts', () => {
    const answer = resultSchema(CALLS['app.info'].response);
    assert.ok(answer.safeParse({ ok: true, value: { version: '0.1.0', dbPath: '/tmp/x.db' } }).success);
    assert.ok(answer.safeParse({ ok: false, error: { code: 'NOT_FOUND', message: 'No episode x' } }).success);
    assert.ok(answer.safeParse({ ok: false, error: { code: 'BAD_INPUT', message: 'no token', details: { reason: 'token' } } }).success);
    assert.equal(answer.safeParse({ ok: true }).success, false, 'ok without a value');
    assert.equal(answer.safeParse({ ok: true, value: { version: 1 } }).success, false, 'a value of the wrong shape');
    assert.equal(answer.safeParse({ ok: false, error: { code: 'TEAPOT', message: 'x' } }).success, false, 'a code outside the union');
    assert.equal(answer.safeParse({ ok: false, error: 'boom' }).success, false, 'an error without a code');
    assert.equal(answer.safeParse({ value: {} }).success, false);
  });

  void it('name every call, and nothing else', () => {
    assert.deepEqual([...CALL_NAMES].sort(), [
      'app.info',
      'benchmarks.list',
      'episodes.delete',
      'episodes.export',
      'episodes.get',
      'episodes.list',
      'gate.decide',
      'runs.current',
      'runs.noClickZones',
      'runs.pause',
      'runs.resume',
      'runs.start',
      'runs.stop',
      'settings.clearApiKey',
      'settings.get',
      'settings.setApiKey',
      'settings.testConnection',
      'settings.update',
    ]);
    assert.ok(isCallName('episodes.get'));
    assert.equal(isCallName('toString'), false, 'inherited properties are not calls');
    assert.equal(isCallName('__proto__'), false);
  });
});
