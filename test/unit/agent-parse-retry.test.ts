/**
 * A hostile answer costs one attempt, not the episode: the loop stores the raw answer with its
 * PARSE_ERROR, asks again with the error as feedback, and goes on with the next answer. Run
 * in-process over a real SQLite store, a planner that replays answers and an input that records.
 * (The 5,120 '[' answer used to overflow the stack and end the episode as INTERNAL, unstored.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Input, Observer, Planner, PlanReply, PlanRequest } from '../../common/ports.ts';
import { serializeTraceR1 } from '../../common/formats/index.ts';
import { DEFAULT_AGENT_CONFIG, runEpisode } from '../../main/agent/loop.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { ISSUE_15_INPUTS } from '../fixtures/hostile-answers.ts';
import { GEOMETRY, observation } from './fixtures/store-fixtures.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

class ReplayingPlanner implements Planner {
  readonly id = 'replay:hostile';
  readonly format = 'tracer1' as const;
  readonly requests: PlanRequest[] = [];
  constructor(private readonly answers: string[]) {}

  plan(req: PlanRequest): Promise<PlanReply> {
    this.requests.push(req);
    const raw = this.answers.shift() ?? assert.fail('the planner was asked more often than it has answers');
    return Promise.resolve({ raw, format: this.format, model: 'hostile', prompt: { template: 'test', version: '1', system: '', user: '' }, latencyMs: 1 });
  }
}

const observer: Observer = {
  displays: () => Promise.resolve([GEOMETRY.display]),
  observe: () => Promise.resolve({ observation: observation(1, Date.now()) }),
  settle: () => Promise.resolve({ settled: true, waitedMs: 0, frames: 1 }),
  changesSince: () => Promise.resolve({ changed: false, method: 'damage' }),
};

function recordingInput(calls: string[]): Input {
  const note = (name: string) => () => {
    calls.push(name);
    return Promise.resolve();
  };
  return { move: note('move'), click: note('click'), longPress: note('longPress'), drag: note('drag'), scroll: note('scroll'), type: note('type'), hotkey: note('hotkey'), releaseAll: note('releaseAll') };
}

test("hostile answers are stored with their PARSE_ERROR and re-asked; the model's next answer is used", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'foresight-parse-retry-'));
  dirs.push(dir);
  const store = SqliteEpisodeStore.open(join(dir, 'episodes.db'));
  const brackets = ISSUE_15_INPUTS.find((h) => h.name === "5,120 '['")!.raw;
  const spaces = ISSUE_15_INPUTS.find((h) => h.name === '4,096 spaces')!.raw;
  const hotkey = serializeTraceR1([
    { screenshot_abstraction: 'A document', action: { action_type: 'hotkey', keys: ['ctrl', 's'], step_instruction: 'save' }, status: 'not done' },
  ]);
  const done = serializeTraceR1([{ screenshot_abstraction: 'Saved', action: { action_type: 'finished', step_instruction: '', answer: 'saved' }, status: 'done' }]);
  const planner = new ReplayingPlanner([brackets, spaces, hotkey, done]);
  const calls: string[] = [];
  try {
    const outcome = await runEpisode(
      { ...DEFAULT_AGENT_CONFIG, task: 'Save the document', maxParseRetries: 2 },
      {
        observer,
        input: recordingInput(calls),
        planner,
        grounder: { id: 'none', perceive: () => undefined, ground: () => assert.fail('nothing to ground') },
        store,
        gate: { review: () => Promise.resolve({ kind: 'approve' }) },
      },
      new AbortController().signal,
    );
    assert.equal(outcome.status, 'finished', JSON.stringify(outcome.error));
    assert.equal(outcome.answer, 'saved');
    assert.deepEqual(calls, ['hotkey'], 'the hotkey of the third answer was pressed');

    const episode = store.getEpisode(outcome.episodeId);
    const first = episode.steps[0]!;
    assert.deepEqual(
      first.forecasts.map((f) => [f.attempt, f.error?.code ?? 'ok']),
      [
        [1, 'PARSE_ERROR'],
        [2, 'PARSE_ERROR'],
        [3, 'ok'],
      ],
    );
    assert.equal(first.forecasts[0]!.raw, brackets, 'the whole raw answer is stored');
    assert.equal(first.forecasts[1]!.raw, spaces);
    assert.match(first.forecasts[0]!.error!.message, /brackets nest more than 32 deep/);
    // the model is told what was wrong
    assert.match(planner.requests[1]!.feedback ?? '', /brackets nest more than 32 deep/);
    assert.match(planner.requests[2]!.feedback ?? '', /no "Step 1:" found/);
  } finally {
    store.close();
  }
});
