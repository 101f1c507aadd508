/**
 * The PP-OCR model folder on the real onnxruntime: a missing file, a file onnxruntime cannot
 * load and a dictionary that is not the recogniser's are refused with MODEL_INVALID naming the
 * file; a malformed spec is BAD_INPUT; the bundled models open and read a line drawn here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isForesightError } from '../../common/errors.ts';
import { createGrounderBackend } from '../../native-models/backends.ts';
import { createPaddleGrounder, PaddleOcrGrounder } from '../../native-models/ocr/grounder.ts';
import { PaddleOcr } from '../../native-models/ocr/pipeline.ts';
import { bundledPaddleModelDir, paddleModelFiles, PP_OCRV4_FILES } from '../../native-models/ocr/session.ts';
import { renderScreen } from '../fixtures/grounders/screens.ts';

const bundled = bundledPaddleModelDir();

/** A model folder: the bundled files linked in, except those replaced by `files`. */
function folder(files: Partial<Record<keyof typeof PP_OCRV4_FILES, string | null>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'foresight-ppocr-'));
  for (const [role, name] of Object.entries(PP_OCRV4_FILES) as Array<[keyof typeof PP_OCRV4_FILES, string]>) {
    const replaced = files[role];
    if (replaced === null) continue;
    if (replaced !== undefined) writeFileSync(join(dir, name), replaced);
    else symlinkSync(join(bundled, name), join(dir, name));
  }
  return dir;
}

test('a folder without the recogniser is refused, naming the file', () => {
  const dir = folder({ recognizer: null });
  assert.throws(
    () => paddleModelFiles(dir),
    (e: unknown) => isForesightError(e, 'MODEL_INVALID') && e.message.includes(join(dir, PP_OCRV4_FILES.recognizer)),
  );
});

test('a detector onnxruntime cannot load is refused, naming the file', async () => {
  const dir = folder({ detector: 'not an onnx model' });
  await assert.rejects(PaddleOcr.create({ modelDir: dir }), (e: unknown) => isForesightError(e, 'MODEL_INVALID') && e.message.includes(join(dir, PP_OCRV4_FILES.detector)));
});

test("a dictionary that is not the recogniser's is refused, saying how many classes each has", async () => {
  const dir = folder({ dictionary: 'a\nb\nc\n' });
  await assert.rejects(
    PaddleOcr.create({ modelDir: dir }),
    (e: unknown) => isForesightError(e, 'MODEL_INVALID') && e.message.includes(join(dir, PP_OCRV4_FILES.dictionary)) && /6625/.test(e.message),
  );
});

test('specs: ocr:paddle, ocr:paddle:<folder>; anything else is BAD_INPUT', async () => {
  assert.ok(createGrounderBackend('ocr:paddle') instanceof PaddleOcrGrounder);
  assert.ok(createPaddleGrounder(`ocr:paddle:${bundled}`) instanceof PaddleOcrGrounder);
  assert.throws(() => createPaddleGrounder('ocr:paddle:'), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
  assert.throws(() => createPaddleGrounder('ocr:paddlex'), (e: unknown) => isForesightError(e, 'BAD_INPUT'));
  // A folder that is not there fails when the grounder first reads, as GROUNDING would: typed.
  const g = createPaddleGrounder('ocr:paddle:/nonexistent/models');
  const screen = await renderScreen([{ text: 'Save', box: { x: 10, y: 10, width: 80, height: 30 } }], { width: 200, height: 60, background: '#f6f6f6' });
  await assert.rejects(
    g.ground({ action: { action_type: 'click', step_instruction: "click 'Save'" }, observation: screen.observation }, new AbortController().signal),
    (e: unknown) => isForesightError(e, 'MODEL_INVALID'),
  );
  await g.close();
});

test('the bundled models read a drawn line, and a copy of the folder works the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'foresight-ppocr-copy-'));
  for (const name of Object.values(PP_OCRV4_FILES)) copyFileSync(join(bundled, name), join(dir, name));
  const ocr = await PaddleOcr.create({ modelDir: dir });
  try {
    const screen = await renderScreen([{ text: 'Open Recent Files', box: { x: 20, y: 20, width: 300, height: 36 }, fontSize: 16 }], { width: 400, height: 80, background: '#f6f6f6' });
    const reading = await ocr.read(screen.observation.raw);
    assert.deepEqual(reading.lines.map((l) => l.text), ['Open Recent Files']);
    const [open, recent, files] = reading.lines[0]!.words;
    assert.ok(open && recent && files && open.bbox.x < recent.bbox.x && recent.bbox.x < files.bbox.x, 'word boxes left to right');
  } finally {
    await ocr.close();
  }
});
