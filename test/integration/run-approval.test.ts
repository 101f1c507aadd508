/**
 * The human gate on the terminal: `--approve each` asks before every action and stores each
 * decision, the edited forecast beside the original; `--approve forecast` asks once per plan.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startXDesktop, type XDesktop } from '../harness/xdesktop.ts';
import { runCli } from '../harness/cli.ts';
import { serializeTraceR1 } from '../../common/formats/index.ts';
import type { ForecastStep } from '../../common/actions.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';

let desk: XDesktop;
let dir: string;

before(async () => {
  desk = await startXDesktop();
  dir = mkdtempSync(join(tmpdir(), 'foresight-approve-'));
});
after(async () => {
  await desk.stop();
});

const wait = (ms: number, why: string, status: ForecastStep['status'] = 'not done'): ForecastStep => ({
  screenshot_abstraction: '',
  action: { action_type: 'wait', duration_ms: ms, step_instruction: why },
  status,
});
const finished: ForecastStep = { screenshot_abstraction: '', action: { action_type: 'finished', step_instruction: 'all done', answer: 'ok' }, status: 'done' };

function writePlan(name: string): string {
  const file = join(dir, name);
  writeFileSync(file, serializeTraceR1([wait(20, 'wait for the window'), wait(500, 'wait long for the dialog'), wait(20, 'wait once more'), finished]));
  return file;
}

test('--approve each: approve, edit, reject with a reason, approve; all decisions are stored', async () => {
  const db = join(dir, 'each.db');
  const answers = ['a', 'e', '{"action_type": "wait", "duration_ms": 10, "step_instruction": "a shorter wait"}', 'r', 'not now', 'a', 'a'].join('\n') + '\n';
  const res = await runCli(['run', 'Wait politely', '--planner', `script:${writePlan('each.txt')}`, '--grounder', 'none', '--approve', 'each', '--db', db], desk.env, answers);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /Approve\? \[a\]pprove, \[e\]dit step 1, \[r\]eject, \[s\]top/);
  const store = SqliteEpisodeStore.open(db);
  try {
    const ep = store.getEpisode(store.listEpisodes({ limit: 1 })[0]!.id);
    assert.equal(ep.status, 'finished');
    assert.deepEqual(
      ep.steps.map((s) => s.approvals.map((a) => a.decision)),
      [['approve'], ['edit'], ['reject', 'approve'], ['approve']],
    );
    const edit = ep.steps[1]!.approvals[0]!;
    assert.equal(edit.original.steps[0]!.action.step_instruction, 'wait long for the dialog');
    assert.equal(edit.edited?.steps[0]!.action.step_instruction, 'a shorter wait');
    const edited = edit.edited?.steps[0]!.action;
    assert.equal(edited?.action_type === 'wait' ? edited.duration_ms : undefined, 10);
    assert.equal(ep.steps[1]!.executions[0]!.action.step_instruction, 'a shorter wait', 'the edited step is what ran');
    assert.equal(ep.steps[2]!.approvals[0]!.reason, 'not now');
    assert.match(ep.steps[2]!.forecasts[1]!.prompt?.user ?? '', /step 3/, 'the planner was asked again after the rejection');
  } finally {
    store.close();
  }
});

test('--approve forecast: one approval covers the plan while the forecasts follow it', async () => {
  const db = join(dir, 'forecast.db');
  const res = await runCli(['run', 'Wait politely', '--planner', `script:${writePlan('fc.txt')}`, '--grounder', 'none', '--approve', 'forecast', '--db', db], desk.env, 'a\n');
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  const store = SqliteEpisodeStore.open(db);
  try {
    const ep = store.getEpisode(store.listEpisodes({ limit: 1 })[0]!.id);
    assert.equal(ep.status, 'finished');
    assert.deepEqual(ep.steps.map((s) => s.approvals.length), [1, 0, 0, 0]);
  } finally {
    store.close();
  }
});

test('--approve each with standard input closed stops the episode instead of acting', async () => {
  const db = join(dir, 'closed.db');
  const res = await runCli(['run', 'Wait politely', '--planner', `script:${writePlan('closed.txt')}`, '--grounder', 'none', '--approve', 'each', '--db', db], desk.env, '');
  assert.equal(res.code, 130);
  const store = SqliteEpisodeStore.open(db);
  try {
    const ep = store.getEpisode(store.listEpisodes({ limit: 1 })[0]!.id);
    assert.equal(ep.status, 'stopped');
    assert.equal(ep.steps[0]!.executions.length, 0, 'nothing ran without approval');
  } finally {
    store.close();
  }
});
