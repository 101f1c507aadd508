/**
 * Endpoint faults over real HTTP on 127.0.0.1 (test/harness/fake-openai.ts): each one ends as
 * ENDPOINT_ERROR saying what the endpoint did, within the deadline times the attempts; the kill
 * switch still cancels at once, as STOPPED; a fault a retry cures costs one retry.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { isForesightError, type ForesightError } from '../../common/errors.ts';
import type { Observation } from '../../common/ports.ts';
import { ChatEndpoint, type EndpointFault } from '../../main/planners/chat-endpoint.ts';
import { OpenAIPlanner } from '../../main/planners/openai-planner.ts';
import { OpenAIGrounder } from '../../main/grounders/openai.ts';
import { renderScreen } from '../fixtures/grounders/screens.ts';
import { closedPortURL, startFakeOpenAI, type FakeOpenAI, type Reply } from '../harness/fake-openai.ts';

const TIMEOUT = 300;
const BACKOFF = 50;
/** Two attempts of TIMEOUT ms, one back-off, and room for a loaded machine. */
const BOUND = 2 * TIMEOUT + BACKOFF + 700;

let server: FakeOpenAI;
let replies: (index: number) => Reply = () => 'ok';
let observation: Observation;

before(async () => {
  server = await startFakeOpenAI((_req, i) => replies(i));
  observation = (await renderScreen([{ text: 'OK', box: { x: 100, y: 100, width: 80, height: 30 }, fill: '#ffffff' }])).observation;
});
after(async () => {
  await server.close();
});

const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const endpoint = (baseURL = server.baseURL, retries = 1) => new ChatEndpoint({ baseURL, timeoutMs: TIMEOUT, retries, backoffMs: () => BACKOFF });

/** Runs one call against `reply` and returns the error it ends with and how long that took. */
async function failWith(reply: Reply, baseURL?: string): Promise<{ e: ForesightError; ms: number; asked: number }> {
  replies = () => reply;
  const before = server.requests.length;
  const t0 = performance.now();
  try {
    await endpoint(baseURL).complete(body, new AbortController().signal);
  } catch (e) {
    const ms = performance.now() - t0;
    assert.ok(isForesightError(e), String(e));
    return { e, ms, asked: server.requests.length - before };
  }
  throw new Error('the call succeeded');
}

const cases: Array<{ name: string; reply: Reply; fault: EndpointFault; says: RegExp }> = [
  { name: 'headers, then a stall', reply: { fault: 'stall' }, fault: 'timeout', says: /sent its headers \(HTTP 200\) but not the whole body within 300 ms \(--timeout\): 0 bytes received/ },
  { name: 'a slow-drip body', reply: { fault: 'drip', bytesPerTick: 2, tickMs: 50 }, fault: 'timeout', says: /not the whole body within 300 ms \(--timeout\): \d+ bytes received, starting "\{\\"id/ },
  { name: 'truncated JSON', reply: { fault: 'truncated' }, fault: 'truncated_json', says: /JSON that ends too early, after \d+ bytes \(truncated body\)/ },
  { name: 'an HTML page with status 200', reply: { fault: 'html' }, fault: 'html', says: /HTTP 200 with an HTML page instead of JSON .*"<!DOCTYPE html> <html><head><title>Sign in/ },
  { name: 'empty choices', reply: { fault: 'empty_choices' }, fault: 'no_choices', says: /an empty "choices" array/ },
  { name: 'null content', reply: { fault: 'null_content' }, fault: 'empty_content', says: /null content in its first choice \(finish_reason: length — the model hit max_tokens/ },
  { name: 'status 500 with a JSON error', reply: { status: 500, body: { error: { message: 'CUDA out of memory' } } }, fault: 'status', says: /answered HTTP 500: CUDA out of memory/ },
  { name: 'status 503 with a JSON error', reply: { status: 503, body: { detail: 'model is loading' } }, fault: 'status', says: /answered HTTP 503: model is loading/ },
  { name: 'a reset mid-body', reply: { fault: 'reset' }, fault: 'reset', says: /closed the connection mid-body \(HTTP 200, after \d+ bytes\)/ },
];

for (const c of cases) {
  test(`${c.name} → ENDPOINT_ERROR (${c.fault}), retried once, within the bound`, async () => {
    const { e, ms, asked } = await failWith(c.reply);
    assert.equal(e.code, 'ENDPOINT_ERROR', e.message);
    assert.equal(e.details?.fault, c.fault, e.message);
    assert.match(e.message, c.says);
    assert.ok(e.message.includes(server.baseURL), e.message);
    assert.match(e.message, /\(2 attempts, each limited to 300 ms\)$/);
    assert.equal(asked, 2, 'one retry');
    assert.ok(ms < BOUND, `failed after ${Math.round(ms)} ms, bound ${BOUND} ms`);
  });
}

test('a refused connection → ENDPOINT_ERROR naming the URL', async () => {
  const url = await closedPortURL();
  const { e, ms } = await failWith('unused', url);
  assert.equal(e.code, 'ENDPOINT_ERROR');
  assert.equal(e.details?.fault, 'refused');
  assert.ok(e.message.startsWith(`Model endpoint at ${url} refused the connection: is the server running`), e.message);
  assert.ok(ms < BOUND);
});

test('a fault a retry cures costs one retry; the answer comes back', async () => {
  replies = (i) => (i % 2 === 0 ? { fault: 'stall' } : 'the answer');
  const before = server.requests.length;
  const a = await endpoint().complete(body, new AbortController().signal);
  assert.equal(a.content, 'the answer');
  assert.equal(a.attempts, 2);
  assert.equal(server.requests.length - before, 2);
});

test('a status a retry cannot cure (401) is not retried, and says what to check', async () => {
  const { e, asked } = await failWith({ status: 401, body: { error: { message: 'Incorrect API key provided' } } });
  assert.equal(e.details?.fault, 'status');
  assert.equal(asked, 1);
  assert.match(e.message, /HTTP 401 \(check --api-key or \$FORESIGHT_API_KEY\): Incorrect API key provided$/);
});

test('the kill switch cancels a stalled body at once, as STOPPED, and also a back-off', async () => {
  replies = () => ({ fault: 'stall' });
  const long = new ChatEndpoint({ baseURL: server.baseURL, timeoutMs: 60_000, retries: 3 });
  const kill = new AbortController();
  const t0 = performance.now();
  setTimeout(() => kill.abort(), 100);
  await assert.rejects(long.complete(body, kill.signal), (e) => isForesightError(e, 'STOPPED'));
  assert.ok(performance.now() - t0 < 400, 'stopped within 300 ms of the kill');

  replies = () => ({ status: 503, body: { error: { message: 'busy' } } });
  const backingOff = new ChatEndpoint({ baseURL: server.baseURL, timeoutMs: 60_000, retries: 3, backoffMs: () => 60_000 });
  const kill2 = new AbortController();
  const t1 = performance.now();
  setTimeout(() => kill2.abort(), 100);
  await assert.rejects(backingOff.complete(body, kill2.signal), (e) => isForesightError(e, 'STOPPED'));
  assert.ok(performance.now() - t1 < 400, 'the back-off ends with the kill');
});

test('an answer whose content is a list of text parts is read; a refusal is the answer', async () => {
  const parts = { choices: [{ message: { role: 'assistant', content: [{ type: 'text', text: 'Action: ' }, { type: 'text', text: 'finished()' }] } }] };
  replies = () => ({ status: 200, body: parts });
  assert.equal((await endpoint().complete(body, new AbortController().signal)).content, 'Action: finished()');
  const refusal = { choices: [{ message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' } }] };
  replies = () => ({ status: 200, body: refusal });
  assert.equal((await endpoint().complete(body, new AbortController().signal)).content, 'I cannot help with that.');
});

test('status 200 with an error object is ENDPOINT_ERROR with its message', async () => {
  const { e } = await failWith({ status: 200, body: { error: { message: 'upstream timed out' } } });
  assert.equal(e.details?.fault, 'error_body');
  assert.match(e.message, /answered HTTP 200 with an error: upstream timed out/);
});

test('the planner turns empty choices into ENDPOINT_ERROR, not an empty answer to re-ask', async () => {
  replies = () => ({ fault: 'empty_choices' });
  const planner = new OpenAIPlanner(`openai:${server.baseURL}#tracer1`, { timeoutMs: TIMEOUT, retries: 0 });
  await assert.rejects(
    planner.plan({ instruction: 'x', observation, history: [], horizon: 3, stepNumber: 1 }, new AbortController().signal),
    (e) => isForesightError(e, 'ENDPOINT_ERROR') && e.details?.fault === 'no_choices',
  );
});

test('the grounder: a stall and a body that is not JSON are ENDPOINT_ERROR within the bound', async () => {
  for (const [reply, fault] of [
    [{ fault: 'stall' }, 'timeout'],
    [{ fault: 'html' }, 'html'],
  ] as const) {
    replies = () => reply;
    const g = new OpenAIGrounder(`openai:${server.baseURL}#ui-tars-7b`, { timeoutMs: TIMEOUT, retries: 1, backoffMs: () => BACKOFF });
    const t0 = performance.now();
    await assert.rejects(
      g.ground({ action: { action_type: 'click', step_instruction: "click 'OK'" }, observation }, new AbortController().signal),
      (e) => isForesightError(e, 'ENDPOINT_ERROR') && e.details?.fault === fault,
    );
    assert.ok(performance.now() - t0 < BOUND);
  }
});

test('a run-long kill signal keeps no listener from finished requests', async () => {
  replies = () => 'ok';
  const kill = new AbortController();
  const e = endpoint();
  for (let i = 0; i < 50; i++) await e.complete(body, kill.signal);
  replies = () => ({ status: 500, body: { error: { message: 'x' } } });
  await assert.rejects(e.complete(body, kill.signal));
  assert.equal(getEventListeners(kill.signal, 'abort').length, 0);
});
