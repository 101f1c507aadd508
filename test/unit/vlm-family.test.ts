/**
 * Local VLM directories (`onnx:<model-dir>`): which family a directory is, the refusals a user
 * sees (an unsupported model_type, a missing file, graphs whose inputs do not fit the family),
 * and the real path in process — the library's processor and sessions over a generated tiny
 * Qwen2-VL-family model — as a planner (answers parsed by parseForecast), as a grounder (its point
 * in screenshot pixels) and stopped by the AbortSignal.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionSchema } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';
import { parseForecast, serializeTraceR1 } from '../../common/formats/index.ts';
import { smartResize } from '../../common/image-resize.ts';
import type { Observation, PlanRequest } from '../../common/ports.ts';
import { createGrounderBackend, createPlannerBackend } from '../../native-models/backends.ts';
import { detectFamily, SUPPORTED_MODEL_TYPES } from '../../native-models/vlm/family.ts';
import { OnnxGrounder } from '../../native-models/vlm/grounder.ts';
import { readVlmDirectory } from '../../native-models/vlm/model-dir.ts';
import { verifyVlmDirectory } from '../../native-models/vlm/index.ts';
import { OnnxPlanner } from '../../native-models/vlm/planner.ts';
import { buildTinyVlm } from '../harness/tiny-vlm.ts';

const W = 320;
const H = 200;

/** A 320x200 BGRA frame: grey with a white square, as nut.js would capture it. */
function observation(): Observation {
  const data = new Uint8Array(W * H * 4).fill(90);
  for (let y = 40; y < 80; y++) for (let x = 40; x < 80; x++) data.fill(255, (y * W + x) * 4, (y * W + x) * 4 + 3);
  return {
    frameId: 'frame',
    png: new Uint8Array(),
    raw: { width: W, height: H, channels: 4, order: 'bgra', data },
    capturedAt: 0,
    geometry: { display: { id: 'p', bounds: { x: 0, y: 0, width: W, height: H }, scaleFactor: 1, primary: true }, imageWidth: W, imageHeight: H },
  };
}

const first = serializeTraceR1(
  parseForecast(
    '<think>t</think><answer>\nStep 1: "screenshot_abstraction": "an editor", "action": {"action_type": "click", "step_instruction": "click on \'File\'"}, "status": "not done"\nStep 2: "screenshot_abstraction": "a menu", "action": {"action_type": "hotkey", "keys": ["ctrl", "s"], "step_instruction": "save"}, "status": "done"\n</answer>',
    'tracer1',
  ).steps,
  'I open the File menu, then save.',
);
const second = '<think>saved</think><answer>\nStep 1: "screenshot_abstraction": "saved", "action": {"action_type": "finished", "step_instruction": "done"}, "status": "done"\n</answer>';

let planDir: string;
let root: string;

before(() => {
  planDir = buildTinyVlm({ answers: [first, second] });
  root = mkdtempSync(join(tmpdir(), 'foresight-vlm-unit-'));
});

/** A copy of the tiny model with one file changed or removed. */
function variant(name: string, change: (dir: string) => void): string {
  const dir = join(root, name);
  cpSync(planDir, dir, { recursive: true });
  change(dir);
  return dir;
}

const request = (history: PlanRequest['history']): PlanRequest => ({
  instruction: 'Save the document',
  observation: observation(),
  history,
  horizon: 4,
  stepNumber: history.length + 1,
});

test('a Qwen2-VL directory is detected from config.json; the supported families are the Qwen-VL ones', () => {
  const d = readVlmDirectory(planDir);
  assert.equal(d.config.model_type, 'qwen2_vl');
  assert.deepEqual(d.graphs.map((g) => g.name), ['vision_encoder', 'embed_tokens', 'decoder_model_merged']);
  assert.ok(d.graphs[0]!.required.includes('grid_thw'), 'Qwen2-VL feeds its vision encoder grid_thw');
  assert.deepEqual(d.execution, { device: 'cpu', dtype: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' } });
  assert.deepEqual([...SUPPORTED_MODEL_TYPES], ['qwen2_vl', 'qwen2_5_vl', 'qwen3_vl']);
  const q25 = detectFamily({ model_type: 'qwen2_5_vl' }, 'x');
  assert.equal(q25.groundingConvention('qwen2_5_vl'), 'qwen25vl');
  assert.equal(q25.graphs({ model_type: 'qwen2_5_vl', text_config: { num_hidden_layers: 2 } })[0]!.required[1], 'image_grid_thw');
  assert.equal(q25.graphs({ model_type: 'qwen2_5_vl', text_config: { num_hidden_layers: 2 } })[2]!.required.at(-1), 'past_key_values.1.value');
});

test('an unsupported family is refused with MODEL_INVALID naming the families that are supported', () => {
  const dir = variant('florence', (d) => {
    const config = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...config, model_type: 'florence2' }));
  });
  assert.throws(
    () => createPlannerBackend(`onnx:${dir}`),
    (e) =>
      isForesightError(e, 'MODEL_INVALID') &&
      e.message.includes('model_type "florence2"') &&
      e.message.includes('Qwen2-VL / Qwen2.5-VL / Qwen3-VL (model_type qwen2_vl, qwen2_5_vl, qwen3_vl)'),
  );
});

test('a missing file is refused before anything loads, naming the file', () => {
  const noTokenizer = variant('no-tokenizer', (d) => rmSync(join(d, 'tokenizer.json')));
  assert.throws(() => createPlannerBackend(`onnx:${noTokenizer}`), (e) => isForesightError(e, 'MODEL_INVALID') && /tokenizer\.json is missing/.test(e.message));
  const noDecoder = variant('no-decoder', (d) => rmSync(join(d, 'onnx', 'decoder_model_merged.onnx')));
  assert.throws(
    () => createGrounderBackend(`onnx:${noDecoder}`),
    (e) => isForesightError(e, 'MODEL_INVALID') && /decoder_model_merged graph is missing/.test(e.message) && e.message.includes('onnx/decoder_model_merged_q4.onnx'),
  );
  assert.throws(
    () => createPlannerBackend(`onnx:${planDir}?dtype=q4f16`),
    (e) => isForesightError(e, 'MODEL_INVALID') && e.message.includes('onnx/vision_encoder_q4f16.onnx') && /leave \?dtype= out/.test(e.message),
  );
  const badJson = variant('bad-json', (d) => writeFileSync(join(d, 'config.json'), '{"model_type": '));
  assert.throws(() => createPlannerBackend(`onnx:${badJson}`), (e) => isForesightError(e, 'MODEL_INVALID') && /config\.json is not readable JSON/.test(e.message));
  assert.throws(() => createPlannerBackend(`onnx:${join(root, 'nowhere')}`), (e) => isForesightError(e, 'MODEL_INVALID') && /is not a directory/.test(e.message));
  assert.throws(() => createPlannerBackend(`onnx:${planDir}?devise=cuda`), (e) => isForesightError(e, 'BAD_INPUT') && /Unknown option "devise"/.test(e.message));
});

test('graphs whose inputs do not fit the family are refused, naming the graph and the input', async () => {
  // Qwen2.5-VL's grid input name in a Qwen2-VL directory: the library would feed grid_thw.
  const renamed = buildTinyVlm({ answers: ['x'], rename: ['vision_encoder:grid_thw:image_grid_thw'] });
  await assert.rejects(
    new OnnxPlanner(`onnx:${renamed}`).ready(),
    (e) => isForesightError(e, 'MODEL_INVALID') && e.message.includes('onnx/vision_encoder.onnx has no input "grid_thw"'),
  );
  const extra = buildTinyVlm({ answers: ['x'], extraInput: ['decoder_model_merged:token_type_ids'] });
  await assert.rejects(
    new OnnxPlanner(`onnx:${extra}`).ready(),
    (e) => isForesightError(e, 'MODEL_INVALID') && e.message.includes('onnx/decoder_model_merged.onnx declares input "token_type_ids"'),
  );
});

test('as a planner the model answers the TraceR1 prompt through the real sessions; the answer parses', async () => {
  const planner = createPlannerBackend(`onnx:${planDir}`);
  assert.ok(planner instanceof OnnxPlanner);
  assert.equal(planner.format, 'tracer1');
  const reply = await planner.plan(request([]), new AbortController().signal);
  assert.equal(reply.raw, first);
  assert.equal(reply.prompt.template, 'tracer1-desktop');
  assert.match(reply.prompt.system, /forecast the next 4 steps/);
  assert.deepEqual(parseForecast(reply.raw, reply.format).steps.map((s) => s.action.action_type), ['click', 'hotkey']);
  // One line of history (one "→"): the model reads it and answers its second forecast.
  const later = await planner.plan(request([{ step: 1, action: "click — click on 'File'", outcome: 'ok' }]), new AbortController().signal);
  assert.equal(later.raw, second);
});

test('an aborted signal stops generation with STOPPED', async () => {
  const planner = createPlannerBackend(`onnx:${planDir}`) as OnnxPlanner;
  await planner.ready();
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(planner.plan(request([]), ac.signal), (e) => isForesightError(e, 'STOPPED'));
  // Aborted while generating: a signal that turns aborted at its fourth reading. Generation
  // reads it once before starting and then once per token, so it stops after a few of the
  // answer's hundreds of tokens.
  let readings = 0;
  const soon = { get aborted() { return ++readings > 3; } } as unknown as AbortSignal;
  await assert.rejects(planner.plan(request([]), soon), (e) => isForesightError(e, 'STOPPED'));
  assert.ok(readings < 10, `generation stopped soon after the abort (${readings} readings of the signal; the answer has ${first.length} tokens)`);
});

test('as a grounder (Qwen2.5-VL: pixels of the resized image) its point lands in screenshot pixels', async () => {
  const pre = { minPixels: 28 * 28 * 4, maxPixels: 28 * 28 * 16 };
  const resized = smartResize(W, H, 28, pre.minPixels, pre.maxPixels);
  // The model points at the white square's centre (60, 60), written as Qwen2.5-VL would.
  const px = Math.round((60 * resized.width) / W);
  const py = Math.round((60 * resized.height) / H);
  const dir = buildTinyVlm({ family: 'qwen2_5_vl', answers: [`{"point_2d": [${px}, ${py}]}`], ...pre });
  const grounder = createGrounderBackend(`onnx:${dir}`);
  assert.ok(grounder instanceof OnnxGrounder);
  assert.equal(grounder.convention, 'qwen25vl');
  const g = await grounder.ground(
    { action: actionSchema.parse({ action_type: 'click', step_instruction: 'click the white square' }), observation: observation() },
    new AbortController().signal,
  );
  assert.equal(g.point.space, 'screenshot');
  assert.ok(Math.abs(g.point.x - 60) <= W / resized.width && Math.abs(g.point.y - 60) <= H / resized.height, `(${g.point.x}, ${g.point.y}) is near (60, 60)`);
  assert.equal(g.detail, `{"point_2d": [${px}, ${py}]}`);
  await assert.rejects(
    grounder.ground({ action: actionSchema.parse({ action_type: 'type', text: 'x', step_instruction: 'type' }), observation: observation() }, new AbortController().signal),
    (e) => isForesightError(e, 'BAD_INPUT'),
  );
});

test('the format follows the folder name as for endpoints, but a Qwen2-VL "UI-TARS" folder (UI-TARS 1.0) is not planned with as UI-TARS-1.5', () => {
  const uitars10 = variant('UI-TARS-2B-SFT', () => undefined);
  assert.throws(() => createPlannerBackend(`onnx:${uitars10}`), (e) => isForesightError(e, 'BAD_INPUT') && /UI-TARS 1\.0/.test(e.message) && /--grounder onnx:<dir>/.test(e.message));
  assert.equal(createPlannerBackend(`onnx:${uitars10}?format=tracer1`).format, 'tracer1');
  const uitars15 = buildTinyVlm({ family: 'qwen2_5_vl', answers: ['x'], dir: join(root, 'UI-TARS-1.5-7B') });
  assert.equal(createPlannerBackend(`onnx:${uitars15}`).format, 'uitars-1.5');
  // As the grounder, UI-TARS 1.0 (Qwen2-VL) answers on the 0..1000 grid.
  assert.equal((createGrounderBackend(`onnx:${uitars10}`) as OnnxGrounder).convention, 'uitars');
});

test('verifyVlmDirectory loads a directory as a run would and says which family and provider', async () => {
  const v = await verifyVlmDirectory(planDir);
  assert.deepEqual([v.modelType, v.family, v.execution.device], ['qwen2_vl', 'Qwen2-VL / Qwen2.5-VL / Qwen3-VL', 'cpu']);
  const renamed = buildTinyVlm({ answers: ['x'], rename: ['embed_tokens:input_ids:ids'] });
  await assert.rejects(verifyVlmDirectory(renamed), (e) => isForesightError(e, 'MODEL_INVALID') && e.message.includes('onnx/embed_tokens.onnx has no input "input_ids"'));
});

test('a GPU provider this machine lacks is PROVIDER_UNAVAILABLE with the reason and what to install', async () => {
  try {
    const v = await verifyVlmDirectory(planDir, { device: 'cuda' });
    assert.equal(v.execution.device, 'cuda'); // a machine with CUDA: the model runs there
  } catch (e) {
    assert.ok(isForesightError(e, 'PROVIDER_UNAVAILABLE'), String(e));
    assert.match(e.message, /the cuda execution provider cannot run here/);
    assert.match(e.message, /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
    assert.equal(typeof e.details?.reason, 'string');
  }
});

test("an export whose preprocessor_config.json names no processor_class still gets its family's processor", async () => {
  const dir = variant('no-processor-class', (d) => {
    const path = join(d, 'preprocessor_config.json');
    const { processor_class: _dropped, ...rest } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    writeFileSync(path, JSON.stringify(rest));
  });
  const reply = await createPlannerBackend(`onnx:${dir}`).plan(request([]), new AbortController().signal);
  assert.equal(reply.raw, first);
});

test('as a grounder, a Qwen2-VL model (UI-TARS 1.0) answers on the 0..1000 grid', async () => {
  // (187.5, 300) of 1000 is (60, 60) of the 320x200 frame: the white square's centre.
  const dir = buildTinyVlm({ answers: ["Action: click(start_box='(187.5,300)')"] });
  const grounder = createGrounderBackend(`onnx:${dir}`) as OnnxGrounder;
  assert.equal(grounder.convention, 'uitars');
  const g = await grounder.ground(
    { action: actionSchema.parse({ action_type: 'click', step_instruction: 'click the white square' }), observation: observation() },
    new AbortController().signal,
  );
  assert.deepEqual([g.point.x, g.point.y], [60, 60]);
});
