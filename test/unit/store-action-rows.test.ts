/**
 * Rows of the store's action columns as the release before the action union wrote them (one
 * object with every field optional) read back as union members; a row that is no action is
 * STORE_CORRUPT naming it. The old shapes are written with SQL, as that release left them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isForesightError } from '../../common/errors.ts';
import { SqliteEpisodeStore, openDatabase } from '../../store/index.ts';
import { action, forecast, observation } from './fixtures/store-fixtures.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'foresight-action-rows-'));
  dirs.push(dir);
  return join(dir, 'episodes.db');
}

/** An episode with one step: a forecast, an edit and an execution, whose JSON the test then replaces. */
function episodeWithOneStep(dbPath: string): { store: SqliteEpisodeStore; episode: string; step: string } {
  const store = SqliteEpisodeStore.open(dbPath);
  const episode = store.createEpisode({ task: 't', mode: 'agent', planner: 'p', grounder: 'g', settings: {} });
  const step = store.beginStep(episode, 1, observation(1, 1));
  const f = forecast(action('wait', 'wait'));
  store.recordForecast(step, { attempt: 0, raw: 'x', forecast: f, latencyMs: 1, model: 'm', history: [] });
  store.recordApproval(step, { policy: 'each', decision: 'edit', original: f, edited: f, waitedMs: 1 });
  store.recordExecution(step, { action: action('wait', 'wait'), result: 'ok', durationMs: 1 });
  return { store, episode, step };
}

const forecastJson = (...actions: unknown[]) =>
  JSON.stringify({ format: 'tracer1', steps: actions.map((a) => ({ screenshot_abstraction: '', action: a, status: 'not done' })) });

describe('action_json and forecast rows of the previous release', () => {
  it('read as union members: old spellings moved, fields of other types dropped', () => {
    const dbPath = tempDb();
    const { store, episode } = episodeWithOneStep(dbPath);
    const raw = openDatabase(dbPath);
    // The old parser kept a finished step's answer written as "text" there (the loop read answer ?? text).
    raw.db.prepare('UPDATE executions SET action_json = ?').run(JSON.stringify({ action_type: 'finished', step_instruction: 'done', text: '42 files' }));
    // Any field on any type: a click with the text a model wrote next to it, a select whose option is "text".
    raw.db
      .prepare('UPDATE forecasts SET parsed_json = ?')
      .run(
        forecastJson(
          { action_type: 'click', step_instruction: "click on 'OK'", text: 'OK', keys: ['enter'], point: { space: 'norm1000', x: 5, y: 6 } },
          { action_type: 'select', step_instruction: 'the size', text: 'Large' },
          { action_type: 'scroll', step_instruction: 'the list', direction: 'down', amount: 2, app: 'Files' },
        ),
      );
    raw.db
      .prepare('UPDATE approvals SET original_json = ?, edited_json = ?')
      .run(
        forecastJson({ action_type: 'type', step_instruction: '', text: 'hi', duration_ms: 5 }),
        forecastJson({ action_type: 'key', step_instruction: 'submit', keys: ['enter'], point: { space: 'screenshot', x: 1, y: 2 } }),
      );
    raw.db.close();

    const s = store.getEpisode(episode).steps[0]!;
    assert.deepEqual(s.executions[0]!.action, { action_type: 'finished', step_instruction: 'done', answer: '42 files' });
    assert.deepEqual(
      s.forecasts[0]!.forecast!.steps.map((x) => x.action),
      [
        { action_type: 'click', step_instruction: "click on 'OK'", point: { space: 'norm1000', x: 5, y: 6 } },
        { action_type: 'select', step_instruction: 'the size', value: 'Large' },
        { action_type: 'scroll', step_instruction: 'the list', direction: 'down', amount: 2 },
      ],
    );
    assert.deepEqual(s.approvals[0]!.original.steps[0]!.action, { action_type: 'type', step_instruction: '', text: 'hi' });
    assert.deepEqual(s.approvals[0]!.edited!.steps[0]!.action, {
      action_type: 'key',
      step_instruction: 'submit',
      keys: ['enter'],
      point: { space: 'screenshot', x: 1, y: 2 },
    });
    store.close();
  });

  it('a row that is no member (a type without the field it cannot do without) is STORE_CORRUPT naming the row', () => {
    const dbPath = tempDb();
    const { store, episode, step } = episodeWithOneStep(dbPath);
    const raw = openDatabase(dbPath);
    // The old schema allowed it, though no writer of that release produced one: every action
    // came through the parser, which already required a type step's text.
    raw.db.prepare('UPDATE executions SET action_json = ?').run(JSON.stringify({ action_type: 'type', step_instruction: 'x' }));
    raw.db.close();
    assert.throws(
      () => store.getEpisode(episode),
      (e) => isForesightError(e, 'STORE_CORRUPT') && e.message.includes('executions.action_json') && e.message.includes(step) && e.message.includes('text'),
    );
    store.close();
  });
});
