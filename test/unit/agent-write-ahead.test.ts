/**
 * Write-ahead execution records through the real loop and a real SQLite file: when an input
 * adapter is called, the intent of that action is already committed (another connection reads
 * it as "started, outcome unknown"), and it is completed after. The model, the screen and the
 * input are fakes that record what they were asked; the store is real.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Input, Observer, Planner, PlanReply, PlanRequest } from '../../common/ports.ts';
import { DEFAULT_AGENT_CONFIG, runEpisode } from '../../main/agent/loop.ts';
import { PlannerPointGrounder } from '../../main/grounders/none.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { GEOMETRY, observation } from './fixtures/store-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'foresight-write-ahead-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const answer = (action: Record<string, unknown>, status: 'done' | 'not done') =>
  `<answer>\nStep 1: "screenshot_abstraction": "a dialog", "action": ${JSON.stringify(action)}, "status": "${status}"\n</answer>`;

test('the intent of each action is committed before its input is sent, and completed after', async () => {
  const dbPath = join(dir, 'episodes.db');
  const store = SqliteEpisodeStore.open(dbPath);
  const reader = SqliteEpisodeStore.open(dbPath);
  let episodeId = '';
  const seenAtInput: string[] = [];
  // What another process reading the database sees at the moment input is sent.
  const look = (what: string) => {
    const steps = reader.getEpisode(episodeId).steps;
    const last = steps.at(-1);
    seenAtInput.push(`${what}: step ${last?.stepNumber} ${last?.executionState} [${last?.executions.map((x) => `${x.action.action_type} ${x.result}`).join(', ')}]`);
    return Promise.resolve();
  };
  const input: Input = {
    move: () => look('move'),
    click: () => look('click'),
    longPress: () => look('longPress'),
    drag: () => look('drag'),
    scroll: () => look('scroll'),
    type: (text) => look(`type ${text}`),
    hotkey: (keys) => look(`keys ${keys.join('+')}`),
    releaseAll: () => Promise.resolve(),
  };
  let seed = 0;
  const observer: Observer = {
    displays: () => Promise.resolve([GEOMETRY.display]),
    observe: () => Promise.resolve({ observation: observation(++seed, Date.now()) }),
    settle: () => Promise.resolve({ settled: true, waitedMs: 0, frames: 0 }),
    changesSince: () => Promise.resolve({ changed: false, method: 'damage' }),
  };
  const planner: Planner = {
    id: 'fake',
    format: 'tracer1',
    plan: (req: PlanRequest): Promise<PlanReply> =>
      Promise.resolve({
        raw:
          req.stepNumber === 1
            ? answer({ action_type: 'click', step_instruction: 'click OK', point: { space: 'screenshot', x: 32, y: 20 } }, 'not done')
            : answer({ action_type: 'type', step_instruction: 'type hi', text: 'hi' }, 'done'),
        format: 'tracer1',
        model: 'fake',
        prompt: { template: 't', version: '1', system: 's', user: 'u' },
        latencyMs: 1,
      }),
  };
  const outcome = await runEpisode(
    { ...DEFAULT_AGENT_CONFIG, task: 'click OK, then type hi', typingDebounceMs: 0 },
    {
      observer,
      input,
      planner,
      grounder: new PlannerPointGrounder(),
      store,
      gate: { review: () => Promise.reject(new Error('no review with approval "never"')) },
      onEvent: (e) => {
        if (e.type === 'episode_start') episodeId = e.episodeId;
      },
    },
    new AbortController().signal,
  );
  assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
  assert.ok(seenAtInput.length >= 2, seenAtInput.join('\n'));
  for (const line of seenAtInput) assert.match(line, /: step \d unknown \[(click|type) unknown\]$/, 'started, not yet completed');
  const episode = reader.getEpisode(episodeId);
  assert.deepEqual(
    episode.steps.map((s) => [s.executionState, s.executions.map((x) => x.result)]),
    [
      ['done', ['ok']],
      ['done', ['ok']],
    ],
  );
  for (const x of episode.steps.flatMap((s) => s.executions)) assert.ok(x.completedAt !== undefined && x.completedAt >= x.createdAt);
  reader.close();
  store.close();
});
