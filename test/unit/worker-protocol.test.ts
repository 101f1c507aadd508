/**
 * The model worker's protocol (common/worker-protocol.ts) as each side reads what arrives: a
 * well-formed message passes unchanged (bytes stay bytes), a malformed one is a typed error
 * naming what is wrong, and an answer is checked against what the request asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES } from '../../common/errors.ts';
import { looseRequestId, parseResultValue, parseWorkerMessage, parseWorkerRequest, type WorkerRequest } from '../../common/worker-protocol.ts';

const geometry = { display: { id: ':0', bounds: { x: 0, y: 0, width: 4, height: 2 }, scaleFactor: 1, primary: true }, imageWidth: 4, imageHeight: 2 };
const raw = { width: 4, height: 2, channels: 4 as const, order: 'bgra' as const };
const inlineFrame = { kind: 'full' as const, frameId: 'abc', geometry, capturedAt: 1, raw, bytes: { via: 'inline' as const, png: new Uint8Array([137, 80]), raw: new Uint8Array(32) } };

test('well-formed requests pass unchanged; frame bytes stay the very Uint8Arrays sent', () => {
  const reqs: WorkerRequest[] = [
    { type: 'create', id: 1, backendId: 'b1', role: 'planner', spec: 'script:/tmp/plan.txt', options: { timeoutMs: 1000, retries: 2 } },
    { type: 'plan', id: 2, backendId: 'b1', request: { instruction: 'save', frame: inlineFrame, history: [{ step: 1, action: 'click', outcome: 'ok' }], horizon: 5, stepNumber: 2 } },
    { type: 'ground', id: 3, backendId: 'b2', request: { action: { action_type: 'click', step_instruction: "click on 'File'" }, frame: { kind: 'known', frameId: 'abc' } } },
    { type: 'perceive', backendId: 'b2', frame: { ...inlineFrame, bytes: { via: 'file', file: 'f12', pngBytes: 2, rawBytes: 32 } } },
    { type: 'describe', id: 4, backendId: 'b2' },
    { type: 'close', id: 5, backendId: 'b2' },
    { type: 'cancel', id: 2 },
    { type: 'ping', seq: 9 },
    { type: 'shutdown', id: 6 },
  ];
  for (const r of reqs) {
    const parsed = parseWorkerRequest(r);
    assert.ok(parsed.ok, `${r.type}: ${parsed.ok ? '' : parsed.error.message}`);
    assert.deepEqual(parsed.value, r);
  }
  const plan = parseWorkerRequest(reqs[1]);
  assert.ok(plan.ok && plan.value.type === 'plan' && plan.value.request.frame.kind === 'full' && plan.value.request.frame.bytes.via === 'inline');
  assert.equal(plan.value.request.frame.bytes.png, inlineFrame.bytes.png, 'the bytes are not copied or converted');
});

test('a malformed request is BAD_INPUT naming the field and the problem', () => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /invalid message: \(message\)/],
    ['plan', /invalid message/],
    [{ type: 'explode', id: 1 }, /type/],
    [{ type: 'plan', id: -1, backendId: 'b1', request: {} }, /id: /],
    [{ type: 'create', id: 1, backendId: 'b1', role: 'planner', spec: 'script:x', options: { apiKey: 'k', colour: 'red' } }, /options: .*colour/i],
    [{ type: 'create', id: 1, backendId: 'b1', role: 'critic', spec: 'x', options: {} }, /role/],
    [{ type: 'ground', id: 1, backendId: 'b1', request: { action: { action_type: 'teleport', step_instruction: '' }, frame: { kind: 'known', frameId: 'a' } } }, /request\.action/],
    // Pixels as a JSON array (what a JSON channel would make of them) are refused, not converted.
    [{ type: 'perceive', backendId: 'b1', frame: { ...inlineFrame, bytes: { via: 'inline', png: [1, 2], raw: new Uint8Array(32) } } }, /frame\.bytes\.png: expected bytes/],
    // A frame file is a name in the client's directory, never a path.
    [{ type: 'perceive', backendId: 'b1', frame: { ...inlineFrame, bytes: { via: 'file', file: '../../etc/passwd', pngBytes: 1, rawBytes: 1 } } }, /frame\.bytes\.file: a frame file is named f<number>/],
    [{ type: 'perceive', backendId: 'b1', frame: { ...inlineFrame, raw: { ...raw, channels: 2 } } }, /frame\.raw\.channels/],
  ];
  for (const [message, re] of cases) {
    const r = parseWorkerRequest(message);
    assert.equal(r.ok, false, JSON.stringify(message));
    if (r.ok) continue;
    assert.equal(r.error.code, 'BAD_INPUT');
    assert.match(r.error.message, /^The model worker received an invalid message: /);
    assert.match(r.error.message, re, JSON.stringify(message, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)));
  }
});

test('the id of a malformed request is still found, so its refusal can answer that request', () => {
  assert.equal(looseRequestId({ type: 'plan', id: 7, backendId: 3 }), 7);
  assert.equal(looseRequestId({ type: 'plan', id: '7' }), undefined);
  assert.equal(looseRequestId({ type: 'ping' }), undefined);
  assert.equal(looseRequestId(42), undefined);
});

test('messages from the worker: a malformed one is INTERNAL (the worker broke the protocol); errors keep their code', () => {
  const good = parseWorkerMessage({ type: 'result', id: 3, result: { ok: false, error: { code: 'ENDPOINT_ERROR', message: 'refused', details: { fault: 'refused' } } } });
  assert.ok(good.ok);
  assert.deepEqual(good.value, { type: 'result', id: 3, result: { ok: false, error: { code: 'ENDPOINT_ERROR', message: 'refused', details: { fault: 'refused' } } } });
  for (const m of [
    { type: 'ready', pid: 0, protocol: 1 },
    { type: 'result', id: 3 },
    { type: 'result', id: 3, result: { ok: false, error: { code: 'OOPS', message: 'x' } } },
    { type: 'result', id: 3, result: { ok: 'yes', value: 1 } },
    { type: 'hello' },
  ]) {
    const r = parseWorkerMessage(m);
    assert.equal(r.ok, false, JSON.stringify(m));
    if (!r.ok) {
      assert.equal(r.error.code, 'INTERNAL');
      assert.match(r.error.message, /^The model worker sent an invalid message: /);
      assert.ok((ERROR_CODES as readonly string[]).includes(r.error.code));
    }
  }
});

test('an answer is checked against what was asked: a grounding must have a point, a plan reply a prompt', () => {
  const grounding = { point: { space: 'screenshot', x: 10, y: 20 }, confidence: 0.9, grounder: 'ocr', latencyMs: 3 };
  assert.deepEqual(parseResultValue('ground', grounding), { ok: true, value: grounding });
  const noPoint = parseResultValue('ground', { confidence: 1, grounder: 'ocr', latencyMs: 1 });
  assert.ok(!noPoint.ok && noPoint.error.code === 'INTERNAL' && /ground request is invalid: point/.test(noPoint.error.message));
  const badSpace = parseResultValue('ground', { ...grounding, point: { space: 'inches', x: 1, y: 1 } });
  assert.ok(!badSpace.ok && /point\.space/.test(badSpace.error.message));
  const reply = parseResultValue('plan', { raw: 'x', format: 'tracer1', model: 'm', latencyMs: 1 });
  assert.ok(!reply.ok && /plan request is invalid: prompt/.test(reply.error.message));
  assert.deepEqual(parseResultValue('describe', { backend: 'ocr:paddle', provider: 'cpu' }), { ok: true, value: { backend: 'ocr:paddle', provider: 'cpu' } });
  assert.deepEqual(parseResultValue('createPlanner', { id: 'script:/p', format: 'tracer1' }), { ok: true, value: { id: 'script:/p', format: 'tracer1' } });
  assert.equal(parseResultValue('createGrounder', { id: 'ocr' }).ok, false);
});
