/**
 * The agent's side of the app gate (main/cli/app-gate.ts) over real streams: a review goes out
 * as a `gate_request` line and waits as long as it takes for the decision naming it; a line that
 * does not fit the protocol (or names another review) is answered with `protocol_error` and
 * decides nothing; `approve_rest` approves the following forecasts on its own while they
 * continue the approved one, and asks again as soon as one does not; pause holds the next
 * observation until resume; the kill switch ends a wait.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Forecast } from '../../common/actions.ts';
import type { GateRequest, Observer } from '../../common/ports.ts';
import type { AgentLine } from '../../common/run-protocol.ts';
import { AppChannel, AppGate, appObserver, parseZone } from '../../main/cli/app-gate.ts';

const click = (label: string) => ({ screenshot_abstraction: '', action: { action_type: 'click' as const, step_instruction: `click on '${label}'` }, status: 'not done' as const });
const forecast = (...labels: string[]): Forecast => ({ format: 'tracer1', steps: labels.map(click) });
const geometry = { display: { id: 'd', bounds: { x: 0, y: 0, width: 100, height: 50 }, scaleFactor: 1, primary: true }, imageWidth: 100, imageHeight: 50 };
const request = (step: number, f: Forecast): GateRequest => ({
  episodeId: 'e',
  stepNumber: step,
  forecast: f,
  observation: { frameId: 'a'.repeat(64), png: new Uint8Array(), geometry, raw: { width: 1, height: 1, channels: 4, order: 'rgba', data: new Uint8Array(4) }, capturedAt: 0 },
});

function wire() {
  const input = new PassThrough();
  const out: AgentLine[] = [];
  const waiters: (() => void)[] = [];
  const write = (l: AgentLine) => {
    out.push(l);
    for (const w of waiters.splice(0)) w();
  };
  const channel = new AppChannel(input, write);
  let n = 0;
  const gate = new AppGate(channel, write, () => `review-${++n}`);
  const send = (line: unknown) => input.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  const next = async (type: AgentLine['type']): Promise<AgentLine> => {
    for (;;) {
      const found = out.find((l) => l.type === type);
      if (found) {
        out.splice(out.indexOf(found), 1);
        return found;
      }
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { channel, gate, send, next, out };
}

test('a decision answers its own review only; malformed lines decide nothing', async () => {
  const w = wire();
  const signal = new AbortController().signal;
  const decided = w.gate.review(request(1, forecast('File')), signal);
  const req = await w.next('gate_request');
  assert.equal(req.type === 'gate_request' ? req.reviewId : '', 'review-1');
  w.send('{"type": "decision", ');
  assert.equal((await w.next('protocol_error')).type, 'protocol_error');
  w.send({ type: 'decision', reviewId: 'review-1', decision: { kind: 'reject', reason: '' } });
  assert.match(JSON.stringify(await w.next('protocol_error')), /reason/);
  w.send({ type: 'decision', reviewId: 'review-9', decision: { kind: 'approve' } });
  assert.match(JSON.stringify(await w.next('protocol_error')), /review-9/);
  w.send({ type: 'decision', reviewId: 'review-1', decision: { kind: 'reject', reason: 'the wrong menu' } });
  assert.deepEqual(await decided, { kind: 'reject', reason: 'the wrong menu' });
  w.channel.close();
});

test('approve_rest: continuations are approved without asking, a deviation is asked again', async () => {
  const w = wire();
  const signal = new AbortController().signal;
  const first = w.gate.review(request(1, forecast('File', 'Save As…', 'Name')), signal);
  await w.next('gate_request');
  w.send({ type: 'decision', reviewId: 'review-1', decision: { kind: 'approve_rest' } });
  assert.deepEqual(await first, { kind: 'approve' });
  // Step 2 forecasts what remains of the plan: approved on its own.
  assert.deepEqual(await w.gate.review(request(2, forecast('Save As…', 'Name')), signal), { kind: 'approve' });
  assert.equal((await w.next('gate_auto')).type, 'gate_auto');
  // Step 3 deviates: a person is asked again.
  const third = w.gate.review(request(3, forecast('Cancel')), signal);
  const asked = await w.next('gate_request');
  assert.equal(asked.type === 'gate_request' ? asked.step : 0, 3);
  w.send({ type: 'decision', reviewId: asked.type === 'gate_request' ? asked.reviewId : '', decision: { kind: 'approve' } });
  assert.deepEqual(await third, { kind: 'approve' });
  w.channel.close();
});

test('pause holds the next observation until resume; the kill switch ends a wait for a decision', async () => {
  const w = wire();
  let observed = 0;
  const inner: Observer = {
    displays: async () => [],
    settle: async () => ({ settled: true, waitedMs: 0, frames: 0 }),
    changesSince: async () => ({ changed: false, method: 'damage' }),
    observe: async () => {
      observed++;
      return { observation: request(1, forecast('x')).observation };
    },
  };
  const observer = appObserver(inner, w.channel, (l) => w.out.push(l));
  const stop = new AbortController();
  w.send({ type: 'pause' });
  await w.next('paused');
  const pending = observer.observe(true, stop.signal);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(observed, 0, 'nothing is observed (so nothing planned or done) while paused');
  w.send({ type: 'resume' });
  await pending;
  assert.equal(observed, 1);
  assert.ok(w.out.some((l) => l.type === 'frame' && l.geometry.imageWidth === 100), 'the frame went out with its geometry');

  const waiting = w.gate.review(request(2, forecast('File')), stop.signal);
  await w.next('gate_request');
  stop.abort();
  await assert.rejects(waiting, { code: 'STOPPED' });
  w.channel.close();
});

test('--keep-out takes x,y,width,height in screen pixels and refuses anything else with a clear message', () => {
  assert.deepEqual(parseZone('1000, 600,280,200'), { x: 1000, y: 600, width: 280, height: 200 });
  for (const bad of ['1,2,3', '1,2,0,4', 'a,b,c,d', '1,2,3,4,5', '']) assert.throws(() => parseZone(bad), { code: 'BAD_INPUT', message: /--keep-out takes x,y,width,height/ });
});
