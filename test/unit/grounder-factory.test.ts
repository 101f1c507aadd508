import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionSchema, type Action, type ActionFields } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';
import type { Observation } from '../../common/ports.ts';
import { createGrounder, OcrGrounder, OpenAIGrounder, PlannerPointGrounder } from '../../main/grounders/index.ts';

/** A 1280x800 frame of a display that sits at (-1280, 0) in the virtual desktop, scale 2. */
const observation: Observation = {
  frameId: 'f',
  png: new Uint8Array(),
  raw: { width: 1280, height: 800, channels: 4, order: 'bgra', data: new Uint8Array() },
  capturedAt: 0,
  geometry: {
    display: { id: 'left', bounds: { x: -1280, y: 0, width: 640, height: 400 }, scaleFactor: 2, primary: false },
    imageWidth: 1280,
    imageHeight: 800,
  },
};
const signal = new AbortController().signal;
const act = (a: Partial<ActionFields>): Action => actionSchema.parse({ action_type: 'click', step_instruction: 'click it', ...a });

test('createGrounder: ocr, none, openai:…; anything else is BAD_INPUT listing the forms', async () => {
  const ocr = createGrounder('ocr', {});
  assert.ok(ocr instanceof OcrGrounder);
  assert.equal(ocr.id, 'ocr');
  assert.equal(ocr.speculative, true);
  await ocr.close?.(); // no worker was started: nothing to wait for
  assert.ok(createGrounder('none', {}) instanceof PlannerPointGrounder);
  const vlm = createGrounder('openai:http://127.0.0.1:8000/v1#ui-tars-7b?convention=qwen25vl', { apiKey: 'k', timeoutMs: 1000 });
  assert.ok(vlm instanceof OpenAIGrounder);
  assert.equal(vlm.convention, 'qwen25vl');
  assert.equal(vlm.speculative, false);
  assert.equal(vlm.id, 'openai:http://127.0.0.1:8000/v1#ui-tars-7b?convention=qwen25vl');
  assert.throws(
    () => createGrounder('tesseract', {}),
    (e) => isForesightError(e, 'BAD_INPUT') && /ocr/.test(e.message) && /none/.test(e.message) && /openai:<baseURL>#<model>/.test(e.message),
  );
  assert.throws(() => createGrounder('openai:http://127.0.0.1:8000/v1', {}), (e) => isForesightError(e, 'BAD_INPUT'));
});

test("none: the planner's point in any space becomes screenshot pixels", async () => {
  const g = createGrounder('none', {});
  const norm = await g.ground({ action: act({ point: { space: 'norm1000', x: 500, y: 250 } }), observation }, signal);
  assert.deepEqual(norm.point, { space: 'screenshot', x: 640, y: 200 });
  assert.equal(norm.grounder, 'none');
  const global = await g.ground({ action: act({ point: { space: 'global', x: -960, y: 100 } }), observation }, signal);
  assert.deepEqual(global.point, { space: 'screenshot', x: 640, y: 200 });
  const drag = await g.ground(
    {
      action: act({ action_type: 'drag', point: { space: 'screenshot', x: 1, y: 2 }, end_point: { space: 'norm1', x: 0.5, y: 0.5 } }),
      observation,
    },
    signal,
  );
  assert.deepEqual(drag.endPoint, { space: 'screenshot', x: 640, y: 400 });
});

test('none: no point is GROUNDING_FAILED; an action without a target is BAD_INPUT', async () => {
  const g = createGrounder('none', {});
  await assert.rejects(g.ground({ action: act({}), observation }, signal), (e) => isForesightError(e, 'GROUNDING_FAILED') && /click it/.test(e.message));
  await assert.rejects(
    g.ground({ action: act({ action_type: 'drag', point: { space: 'screenshot', x: 1, y: 2 } }), observation }, signal),
    (e) => isForesightError(e, 'GROUNDING_FAILED') && /end point/.test(e.message),
  );
  await assert.rejects(g.ground({ action: act({ action_type: 'hotkey', keys: ['ctrl', 's'] }), observation }, signal), (e) => isForesightError(e, 'BAD_INPUT'));
});
