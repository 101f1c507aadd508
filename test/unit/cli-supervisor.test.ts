/**
 * `foresight run` under its supervisor (main/cli/supervisor.mjs), without a desktop: the exit
 * codes and output are the agent's own, whatever ends it, and nothing is left running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../harness/cli.ts';
import { busyPlanner } from '../../main/cli/test-hooks.ts';
import type { Planner } from '../../common/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'foresight-supervisor-'));
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const e = { ...process.env };
  delete e.DISPLAY;
  delete e.FORESIGHT_SUPERVISOR_PID;
  return { ...e, ...extra };
};

test('run --help prints the help of run and exits 0', async () => {
  const res = await runCli(['run', '--help'], env());
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /--kill-key <combo>/);
  assert.equal(res.stderr, '');
});

test('bad usage of run exits 2 with the reason', async () => {
  const res = await runCli(['run', 'x', '--planner', 'nonsense:1', '--db', join(dir, 'a.db')], env());
  assert.equal(res.code, 2);
  assert.match(res.stderr, /BAD_INPUT: Unknown planner/);
});

test('without a display, run fails with DISPLAY_UNAVAILABLE (exit 1) and leaves nothing open', async () => {
  const plan = join(dir, 'plan.txt');
  writeFileSync(plan, '<answer>\nStep 1: "screenshot_abstraction": "", "action": {"action_type": "wait", "duration_ms": 10, "step_instruction": "wait"}, "status": "done"\n</answer>');
  // runCli fails a command that leaves handles open (the IPC channel would be one).
  const res = await runCli(['run', 'x', '--planner', `script:${plan}`, '--grounder', 'none', '--db', join(dir, 'b.db')], env());
  assert.equal(res.code, 1);
  assert.match(res.stderr, /DISPLAY_UNAVAILABLE/);
});

test('an agent whose supervisor is gone before it starts exits at once', async () => {
  // FORESIGHT_SUPERVISOR_PID names a process that is not this agent's parent: an orphan.
  const res = await runCli(['run', 'x', '--planner', 'script:/nonexistent'], env({ FORESIGHT_SUPERVISOR_PID: '1' }));
  assert.equal(res.code, 130);
  assert.equal(res.stdout, '');
});

test('the busy-planner test hook is off unless asked for, and then blocks for the time asked', async () => {
  const planner: Planner = {
    id: 'p',
    format: 'tracer1',
    plan: () => Promise.resolve({ raw: 'x', format: 'tracer1', model: 'm', prompt: { template: 't', version: '1', system: '', user: '' }, latencyMs: 0 }),
  };
  assert.equal(busyPlanner(planner, {}), planner);
  const busy = busyPlanner(planner, { FORESIGHT_TEST_BUSY_PLAN_MS: '50' });
  const t0 = performance.now();
  const reply = await busy.plan({} as Parameters<Planner['plan']>[0], new AbortController().signal);
  assert.equal(reply.raw, 'x');
  assert.ok(performance.now() - t0 >= 50);
});
