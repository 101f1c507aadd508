/**
 * Issue 11: `foresight models add | list | verify | doctor` with the two kinds of local model
 * folder a user downloads — a vision-language model in the Hugging Face layout transformers.js
 * loads (config.json, preprocessor_config.json, tokenizer files, onnx/*.onnx; the tiny Qwen2-VL
 * of test/fixtures/vlm) and a Set-of-Marks element detector (model.onnx + foresight-model.json;
 * test/fixtures/som) — through the real CLI, and the registry's refusals: an unsupported family,
 * a graph whose input the family does not feed, a corrupt file, a file changed after adding.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isForesightError } from '../../common/errors.ts';
import { ManifestSchema } from '../../native-models/manifest.ts';
import { runDoctor } from '../../native-models/doctor.ts';
import { ModelRegistry } from '../../native-models/registry.ts';
import { readDetectorManifest } from '../../native-models/som/manifest.ts';
import { makeDetector, rowsFor } from '../fixtures/som/detector.ts';
import { runCli } from '../harness/cli.ts';
import { buildTinyVlm } from '../harness/tiny-vlm.ts';

let root: string;
let env: NodeJS.ProcessEnv;
let vlm: string;
let detector: string;

const SCREEN = { width: 640, height: 480 };
const detectorSpec = {
  size: 320,
  rows: rowsFor([{ x1: 100, y1: 100, x2: 200, y2: 140, scores: [0.9] }], SCREEN, 320),
  classes: ['icon'],
};

before(() => {
  root = mkdtempSync(join(tmpdir(), 'foresight-models-local-'));
  // FORESIGHT_DATA keeps the user's own registry out of it.
  env = { ...process.env, FORESIGHT_DATA: join(root, 'data') };
  vlm = buildTinyVlm({ answers: ['{"point_2d": [10, 20]}'], dir: join(root, 'tiny-qwen2-vl') });
  detector = makeDetector(join(root, 'icon-detect'), detectorSpec);
});
after(() => rmSync(root, { recursive: true, force: true }));

const registry = () => new ModelRegistry({ env });
const registered = (dir: string) => registry().list().some((m) => m.dir === dir);

void describe('local model folders in the registry', () => {
  void it('a VLM folder in the Hugging Face layout and an element detector, through the CLI: added, listed by kind, verified, and doctor says both run on CPU', async () => {
    const addVlm = await runCli(['models', 'add', vlm], env);
    assert.equal(addVlm.code, 0, addVlm.stderr);
    assert.match(addVlm.stdout, new RegExp(`^Added tiny-qwen2-vl from ${vlm} \\(vlm qwen2-vl \\(planner \\+ grounder\\), fp32 graphs\\)`));
    const addDetector = await runCli(['models', 'add', detector, '--name', 'icon-detect'], env);
    assert.equal(addDetector.code, 0, addDetector.stderr);
    assert.match(addDetector.stdout, new RegExp(`^Added icon-detect from ${detector} \\(element-detector yolo, 320×320 yolov8, 1 class\\)`));

    const list = await runCli(['models', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^tiny-qwen2-vl\\s+added\\s+vlm qwen2-vl \\(planner \\+ grounder\\), fp32 graphs, [\\d.]+ MB, ${vlm}$`, 'm'));
    assert.match(list.stdout, new RegExp(`^icon-detect\\s+added\\s+element-detector yolo, 320×320 yolov8, 1 class, [\\d.]+ MB, ${detector}$`, 'm'));

    const verify = await runCli(['models', 'verify'], env);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^tiny-qwen2-vl: ok \(.*loaded on cpu/m);
    assert.match(verify.stdout, /^icon-detect: ok \(.*the detector opened on cpu/m);

    const doctor = await runCli(['models', 'doctor'], env);
    assert.equal(doctor.code, 0, doctor.stderr);
    assert.match(doctor.stdout, /^\s+tiny-qwen2-vl\s+usable on CPU \(added, vlm qwen2-vl: planner \+ grounder\)$/m);
    assert.match(doctor.stdout, /^\s+icon-detect\s+usable on CPU \(added, element-detector yolo\)$/m);

    // What list --json and doctor --json print, in-process.
    const listed = registry().list().find((m) => m.name === 'tiny-qwen2-vl');
    assert.equal(listed?.kind, 'vlm');
    assert.equal(listed.manifest?.family, 'qwen2-vl');
    // The three graphs the library loads for the family, with the inputs it read from them.
    assert.deepEqual(Object.keys(listed.manifest?.graphs ?? {}).sort(), ['decoder_model_merged', 'embed_tokens', 'vision_encoder']);
    assert.deepEqual(listed.manifest?.graphs.embed_tokens?.inputs, ['input_ids']);
    assert.equal(listed.manifest?.graphs.decoder_model_merged?.file, 'onnx/decoder_model_merged.onnx');
    assert.ok(listed.manifest?.files.some((f) => f.path === 'tokenizer.json'));
    assert.equal(registry().list().find((m) => m.name === 'icon-detect')?.kind, 'element-detector');
    const report = await runDoctor(registry());
    const pick = (name: string) => report.models.find((m) => m.name === name);
    assert.deepEqual(['tiny-qwen2-vl', 'icon-detect'].map((n) => [pick(n)?.kind, pick(n)?.family, pick(n)?.usable, pick(n)?.runsOn]), [
      ['vlm', 'qwen2-vl', true, 'cpu'],
      ['element-detector', 'yolo', true, 'cpu'],
    ]);
  });

  void it('a Qwen2.5-VL folder is a VLM of the family qwen2.5-vl, its graph for the image grid named as that family feeds it', async () => {
    const dir = buildTinyVlm({ family: 'qwen2_5_vl', answers: ['x'], dir: join(root, 'Tiny-Qwen2.5-VL') });
    const added = await registry().add(dir);
    assert.deepEqual([added.name, added.kind, added.manifest?.family], ['tiny-qwen2.5-vl', 'vlm', 'qwen2.5-vl']);
    assert.deepEqual(added.manifest?.graphs.vision_encoder?.inputs.slice().sort(), ['image_grid_thw', 'pixel_values']);
  });

  void it('a VLM folder of an unsupported family is refused naming the family and the supported ones; nothing is recorded', async () => {
    const llava = join(root, 'llava');
    cpSync(vlm, llava, { recursive: true });
    const config = JSON.parse(readFileSync(join(llava, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(llava, 'config.json'), JSON.stringify({ ...config, model_type: 'llava' }));
    const r = await runCli(['models', 'add', llava], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MODEL_INVALID: .*config\.json says model_type "llava", a family Foresight does not run as a local VLM\. Supported: Qwen2-VL.*\(model_type qwen2_vl, qwen2_5_vl, qwen3_vl\)/);
    assert.ok(!registered(llava));
    // A folder that is neither kind says what each kind holds.
    const empty = mkdtempSync(join(root, 'empty-'));
    await assert.rejects(registry().add(empty), (e: unknown) => isForesightError(e, 'MODEL_INVALID') && /has neither a foresight-model\.json nor a config\.json: .*config\.json, preprocessor_config\.json, tokenizer files, onnx\/\*\.onnx/.test(e.message));
  });

  void it('a VLM folder with a graph whose input the family does not feed, or one it lacks, is refused naming the graph and the input', async () => {
    const renamed = buildTinyVlm({ answers: ['x'], rename: ['embed_tokens:input_ids:token_ids'], dir: join(root, 'renamed') });
    const r = await runCli(['models', 'add', renamed], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MODEL_INVALID: .*onnx\/embed_tokens\.onnx has no input "input_ids", which the qwen2_vl family feeds it \(it declares token_ids\)/);
    const extra = buildTinyVlm({ answers: ['x'], extraInput: ['vision_encoder:pixel_mask'], dir: join(root, 'extra') });
    await assert.rejects(registry().add(extra), (e: unknown) => isForesightError(e, 'MODEL_INVALID') && /onnx\/vision_encoder\.onnx declares input "pixel_mask", which the qwen2_vl family does not feed/.test(e.message));
    assert.ok(!registered(renamed) && !registered(extra));
  });

  void it('an element detector with a corrupt file is refused naming the file; a VLM file changed after adding fails verify', async () => {
    const corrupt = join(root, 'corrupt-detector');
    cpSync(detector, corrupt, { recursive: true });
    appendFileSync(join(corrupt, 'model.onnx'), 'x');
    const r = await runCli(['models', 'add', corrupt, '--name', 'corrupt-detector'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`MODEL_INVALID: Model corrupt-detector refused: ${join(corrupt, 'model.onnx')} is corrupt: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}`));
    assert.ok(!registered(corrupt));

    // A VLM whose tokenizer changed after it was added: its recorded size and sha256 no longer hold.
    const copy = join(root, 'vlm-copy');
    cpSync(vlm, copy, { recursive: true });
    await registry().add(copy, { name: 'vlm-copy' });
    appendFileSync(join(copy, 'tokenizer.json'), ' ');
    const [report] = await registry().verify('vlm-copy');
    assert.equal(report?.ok, false);
    assert.match(report.problems[0]?.message ?? '', new RegExp(`${join(copy, 'tokenizer.json')} is corrupt: \\d+ bytes, expected \\d+`));
  });

  void it('the registry spelling of an element-detector manifest describes the same detector as the first spelling', () => {
    const dir = makeDetector(join(root, 'canonical'), detectorSpec);
    const first = JSON.parse(readFileSync(join(dir, 'foresight-model.json'), 'utf8')) as { files: Array<{ path: string; sha256: string }> };
    const canonical = {
      schema: 1,
      name: 'canonical-detector',
      role: 'element-detector',
      format: 'onnx',
      family: 'yolo',
      files: [{ ...first.files[0], size: readFileSync(join(dir, 'model.onnx')).length }],
      graphs: { detector: { file: 'model.onnx', inputs: ['images'], outputs: ['output0'] } },
      input: { name: 'images', size: 320 },
      output: { name: 'output0', layout: 'yolov8' },
      classes: ['icon'],
      thresholds: { confidence: 0.3, iou: 0.5 },
      licence: 'Apache-2.0',
    };
    const before = readDetectorManifest(dir);
    writeFileSync(join(dir, 'foresight-model.json'), JSON.stringify(canonical));
    const after = readDetectorManifest(dir);
    assert.deepEqual({ ...after, name: undefined, thresholds: undefined, files: undefined }, { ...before, name: undefined, thresholds: undefined, files: undefined });
    assert.deepEqual(after.thresholds, { confidence: 0.3, iou: 0.5 });
    // An element detector must say its input and output; a manifest that leaves them out says so.
    const parsed = ManifestSchema.safeParse({ ...canonical, input: undefined, output: undefined });
    assert.ok(!parsed.success);
    assert.deepEqual(parsed.error.issues.map((i) => i.path.join('.')).sort(), ['input', 'output']);
    // …and its graph's entry names the same input as its detector fields.
    const mismatch = ManifestSchema.safeParse({ ...canonical, graphs: { detector: { file: 'model.onnx', inputs: ['pixel_values'], outputs: ['output0'] } } });
    assert.deepEqual(mismatch.error?.issues.map((i) => [i.path.join('.'), i.message]), [['graphs.detector.inputs', 'an element detector\'s graph takes only its image, input.name "images"']]);
  });
});
