/** Abort plumbing every long run relies on: a scoped signal lets go of the run's signal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { MAX_TIMER_MS, abortableSleep, withScopedSignal } from '../../common/sleep.ts';

test('withScopedSignal: a thousand requests leave no listener on the run signal', async () => {
  const run = new AbortController();
  const leaky = (s: AbortSignal) => {
    // What the OpenAI SDK does with the signal it is given: listen, never stop listening.
    s.addEventListener('abort', () => undefined);
    return Promise.resolve(1);
  };
  for (let i = 0; i < 1000; i++) await withScopedSignal(run.signal, leaky);
  assert.equal(getEventListeners(run.signal, 'abort').length, 0);
});

test('withScopedSignal: aborting the run aborts the request in flight, with the same reason', async () => {
  const run = new AbortController();
  const seen = withScopedSignal(run.signal, (s) => new Promise<unknown>((resolve) => s.addEventListener('abort', () => resolve(s.reason))));
  run.abort('stop');
  assert.equal(await seen, 'stop');
  const already = await withScopedSignal(run.signal, (s) => Promise.resolve(s.aborted));
  assert.equal(already, true, 'an aborted run gives an aborted scope');
});

test('abortableSleep stops early with the given error and leaves no listener', async () => {
  const run = new AbortController();
  await abortableSleep(1, run.signal, () => new Error('x'));
  assert.equal(getEventListeners(run.signal, 'abort').length, 0);
  const p = abortableSleep(10_000, run.signal, () => new Error('stopped'));
  run.abort();
  await assert.rejects(p, /stopped/);
});

test('abortableSleep waits the whole time of a delay longer than one timer can hold (2^31-1 ms)', async (t) => {
  // A real 3e9 ms would take 35 days: a fake clock stands in, and setTimeout's own 32-bit limit
  // is what the sleep must work around, so the mock refuses what the real timer would cut short.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const delays: number[] = [];
  const real = globalThis.setTimeout;
  t.mock.method(globalThis, 'setTimeout', (fn: () => void, ms: number) => {
    assert.ok(ms <= MAX_TIMER_MS, `a timer of ${ms} ms would fire at once`);
    delays.push(ms);
    return real(fn, ms);
  });
  let done = false;
  const sleeping = abortableSleep(3e9, undefined, () => new Error('stopped')).then(() => (done = true));
  t.mock.timers.tick(MAX_TIMER_MS);
  await Promise.resolve();
  assert.equal(done, false, 'still asleep after one timer-sized piece');
  t.mock.timers.tick(3e9 - MAX_TIMER_MS);
  await sleeping;
  assert.equal(done, true);
  assert.deepEqual(delays, [MAX_TIMER_MS, 3e9 - MAX_TIMER_MS]);
});

test('abortableSleep: a wait of 3e9 ms does not end early (it ended after 1.7 ms), yet stops at once when stopped', async () => {
  for (const ms of [3e9, Infinity]) {
    const run = new AbortController();
    let ended = false;
    const p = abortableSleep(ms, run.signal, () => new Error('stopped')).finally(() => (ended = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(ended, false, `${ms} ms still asleep after 50 ms`);
    run.abort();
    await assert.rejects(p, /stopped/);
    assert.equal(getEventListeners(run.signal, 'abort').length, 0);
  }
});

test('abortableSleep: a delay that is not a positive number ends at once', async () => {
  await abortableSleep(Number.NaN, undefined, () => new Error('x'));
  await abortableSleep(-5, undefined, () => new Error('x'));
});
