/**
 * The VLM grounder against a real HTTP server on 127.0.0.1 speaking the OpenAI chat protocol
 * (test/harness/fake-openai.ts): what it sends, how it maps each coordinate convention back
 * to screenshot pixels, and which typed error each failure becomes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, PointedAction } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';
import type { Observation } from '../../common/ports.ts';
import { OpenAIGrounder, parseGroundingAnswer, smartResize } from '../../main/grounders/openai.ts';
import { closedPortURL, startFakeOpenAI, userParts, type FakeOpenAI, type Reply } from '../harness/fake-openai.ts';
import { renderScreen } from '../fixtures/grounders/screens.ts';

let server: FakeOpenAI;
let nextReply: Reply = '';
let observation: Observation;
const signal = new AbortController().signal;
const click = (step_instruction: string, action_type: PointedAction['action_type'] = 'click'): Action => ({ action_type, step_instruction });

before(async () => {
  server = await startFakeOpenAI(() => nextReply);
  observation = (await renderScreen([{ text: 'Save As…', box: { x: 600, y: 380, width: 100, height: 40 }, fill: '#ffffff' }])).observation;
});
after(async () => {
  await server.close();
});

async function groundWith(reply: Reply, spec: string, action = click("click on 'Save As…'")) {
  nextReply = reply;
  return new OpenAIGrounder(spec).ground({ action, observation }, signal);
}

test('smart_resize matches Qwen2.5-VL: multiples of 28, Python rounding, pixel budget', () => {
  assert.deepEqual(smartResize({ width: 1280, height: 800 }), { width: 1288, height: 812 });
  assert.deepEqual(smartResize({ width: 1920, height: 1080 }), { width: 1932, height: 1092 });
  // 742 / 28 = 26.5 rounds to the even 26, as Python's round() does
  assert.deepEqual(smartResize({ width: 1000, height: 742 }), { width: 1008, height: 728 });
  const budget = 1280 * 28 * 28;
  const big = smartResize({ width: 3840, height: 2160 }, { maxPixels: budget });
  assert.ok(big.width * big.height <= budget);
  assert.equal(big.width % 28, 0);
  assert.equal(big.height % 28, 0);
  assert.deepEqual(smartResize({ width: 20, height: 20 }), { width: 56, height: 56 });
});

test('answers: UI-TARS actions, boxes, tags, Qwen JSON, bare pairs; reasoning is skipped', () => {
  const p = (s: string) => parseGroundingAnswer(s)?.points;
  assert.deepEqual(p("click(start_box='(500,250)')"), [{ x: 500, y: 250 }]);
  assert.deepEqual(p("click(start_box='<|box_start|>(100,200)<|box_end|>')"), [{ x: 100, y: 200 }]);
  assert.deepEqual(p("click(start_box='(100,200,300,400)')"), [{ x: 200, y: 300 }]);
  assert.deepEqual(p("click(point='<point>12 34</point>')"), [{ x: 12, y: 34 }]);
  assert.deepEqual(p("Thought: the icon at (1, 2) is not it.\nAction: click(start_box='(7,8)')"), [{ x: 7, y: 8 }]);
  assert.deepEqual(p("drag(start_box='(1,2)', end_box='(3,4)')"), [
    { x: 1, y: 2 },
    { x: 3, y: 4 },
  ]);
  assert.deepEqual(p('```json\n[{"bbox_2d": [10, 20, 30, 40], "label": "Save As"}]\n```'), [{ x: 20, y: 30 }]);
  assert.deepEqual(p('{"point_2d": [644.5, 406]}'), [{ x: 644.5, y: 406 }]);
  assert.deepEqual(p('<tool_call>{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [5, 6]}}</tool_call>'), [{ x: 5, y: 6 }]);
  assert.deepEqual(p('<think>maybe (9, 9)</think>(640, 400)'), [{ x: 640, y: 400 }]);
  assert.equal(p('I cannot see a Save As item.'), undefined);
});

test('uitars: sends the screenshot and the instruction, maps 0..1000 to pixels', async () => {
  const spec = `openai:${server.baseURL}#ui-tars-7b`;
  const g = await groundWith("click(start_box='(500,500)')", spec);
  assert.equal(g.point.space, 'screenshot');
  assert.equal(g.point.x, 640);
  assert.equal(g.point.y, 400);
  assert.equal(g.grounder, spec);
  assert.match(g.detail ?? '', /start_box/);
  const req = server.requests.at(-1)!;
  assert.equal(req.model, 'ui-tars-7b');
  const { text, images } = userParts(req);
  assert.match(text, /click on 'Save As…'/);
  assert.equal(images.length, 1);
  assert.equal(images[0], `data:image/png;base64,${Buffer.from(observation.png).toString('base64')}`);
});

test('qwen25vl: pixels of the smart-resized image (1288x812) map back to the 1280x800 screenshot', async () => {
  const spec = `openai:${server.baseURL}#ui-tars-7b?convention=qwen25vl`;
  const g = await groundWith('{"point_2d": [644, 406]}', spec);
  assert.equal(g.point.x, 640);
  assert.equal(g.point.y, 400);
  const box = await groundWith('[{"bbox_2d": [600, 380, 688, 432], "label": "Save As"}]', spec);
  assert.equal(box.point.x, 640);
  assert.equal(box.point.y, 400);
  // guessed from the model name: UI-TARS-1.5 answers in resized pixels
  const guessed = await groundWith("click(start_box='(1288,812)')", `openai:${server.baseURL}#UI-TARS-1.5-7B`);
  assert.equal(guessed.point.x, 1279.5, 'the far edge is kept on the image');
  assert.equal(guessed.point.y, 799.5);
  assert.equal(new OpenAIGrounder(`openai:${server.baseURL}#qwen2.5-vl-7b`).convention, 'qwen25vl');
  assert.equal(new OpenAIGrounder(`openai:${server.baseURL}#ui-tars-7b`).convention, 'uitars');
});

test('drag: both ends from one answer', async () => {
  const g = await groundWith("drag(start_box='(100,100)', end_box='(900,500)')", `openai:${server.baseURL}#ui-tars-7b`, click("drag 'a' to 'b'", 'drag'));
  assert.deepEqual([g.point.x, g.point.y], [128, 80]);
  assert.deepEqual([g.endPoint?.x, g.endPoint?.y], [1152, 400]);
  assert.match(userParts(server.requests.at(-1)!).text, /end_box/);
});

test('errors: junk is PARSE_ERROR, out-of-range points hint at the convention, HTTP 500 is ENDPOINT_ERROR', async () => {
  const spec = `openai:${server.baseURL}#ui-tars-7b`;
  await assert.rejects(groundWith('I am not sure what you mean.', spec), (e) => {
    assert.ok(isForesightError(e, 'PARSE_ERROR'), String(e));
    assert.match(e.message, /without a point/);
    return true;
  });
  await assert.rejects(groundWith("click(start_box='(1200,700)')", spec), (e) => {
    assert.ok(isForesightError(e, 'PARSE_ERROR'), String(e));
    assert.match(e.message, /convention=qwen25vl/);
    return true;
  });
  await assert.rejects(groundWith({ status: 500, body: { error: { message: 'CUDA out of memory' } } }, spec), (e) => {
    assert.ok(isForesightError(e, 'ENDPOINT_ERROR'), String(e));
    assert.match(e.message, /500/);
    assert.match(e.message, /CUDA out of memory/);
    return true;
  });
  await assert.rejects(groundWith("click(start_box='(1,1)')", spec, { action_type: 'type', step_instruction: 'type hi', text: 'hi' }), (e) => isForesightError(e, 'BAD_INPUT'));
});

test('a dead endpoint is ENDPOINT_ERROR (refused) and names the URL', async () => {
  const url = await closedPortURL();
  await assert.rejects(new OpenAIGrounder(`openai:${url}#ui-tars-7b`, { timeoutMs: 5000 }).ground({ action: click("click 'x'"), observation }, signal), (e) => {
    assert.ok(isForesightError(e, 'ENDPOINT_ERROR'), String(e));
    assert.equal(e.details?.fault, 'refused');
    assert.match(e.message, new RegExp(url.replace(/[.]/g, '\\.')));
    assert.match(e.message, /server running/);
    return true;
  });
});

test('bad specs are BAD_INPUT', () => {
  assert.throws(() => new OpenAIGrounder(`openai:${server.baseURL}#m?convention=pixels`), (e) => isForesightError(e, 'BAD_INPUT') && /uitars or qwen25vl/.test(e.message));
  assert.throws(() => new OpenAIGrounder(`openai:${server.baseURL}#m?max_pixels=lots`), (e) => isForesightError(e, 'BAD_INPUT'));
  assert.throws(() => new OpenAIGrounder('openai:not a url#m'), (e) => isForesightError(e, 'BAD_INPUT'));
});
