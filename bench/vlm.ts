/**
 * `npm run bench:vlm` — what a local VLM planner (`onnx:<model-dir>`) costs outside the model's
 * own arithmetic: loading the directory (processor, tokenizer, three onnxruntime sessions) and one
 * plan — TraceR1 prompt, screenshot preprocessing (resize, patches), prefill, greedy decoding
 * with the key/value cache, decoding to text — with the generated tiny Qwen2-VL-family model of
 * the tests, whose graphs cost almost nothing. A real model adds its own arithmetic on top (README,
 * "Local vision-language models").
 *
 * Usage: npm run bench:vlm [-- --plans 10 --width 1280 --height 800 --max-pixels 1003520]
 */
import { parseArgs } from 'node:util';
import { parseForecast } from '../common/formats/index.ts';
import type { Observation } from '../common/ports.ts';
import { TRACER1_TEMPLATE } from '../main/planners/prompts.ts';
import { OnnxPlanner } from '../native-models/vlm/planner.ts';
import { buildTinyVlm } from '../test/harness/tiny-vlm.ts';
import { saveAsPlan } from '../test/fixtures/plans.ts';

const { values } = parseArgs({
  options: {
    plans: { type: 'string', default: '10' },
    width: { type: 'string', default: '1280' },
    height: { type: 'string', default: '800' },
    // The image processor's pixel budget: the tests' 12544 (16 image tokens), or Qwen2-VL's
    // real default (12845056: a 1280x800 screenshot becomes 1036 image tokens).
    'max-pixels': { type: 'string', default: String(28 * 28 * 16) },
  },
});
const plans = Number(values.plans);
const width = Number(values.width);
const height = Number(values.height);

const answer = saveAsPlan('/tmp/bench.txt');
const dir = buildTinyVlm({ answers: [answer], maxPixels: Number(values['max-pixels']) });

const data = new Uint8Array(width * height * 4);
for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
const observation: Observation = {
  frameId: 'bench',
  png: new Uint8Array(),
  raw: { width, height, channels: 4, order: 'bgra', data },
  capturedAt: 0,
  geometry: { display: { id: 'p', bounds: { x: 0, y: 0, width, height }, scaleFactor: 1, primary: true }, imageWidth: width, imageHeight: height },
};

const t0 = performance.now();
const planner = new OnnxPlanner(`onnx:${dir}`);
const vlm = await planner.ready();
const loadWall = performance.now() - t0;

const request = { instruction: 'Type the line and save it', observation, history: [], horizon: 6, stepNumber: 1 };
const signal = new AbortController().signal;
const times: number[] = [];
for (let i = 0; i < plans; i++) {
  const t = performance.now();
  const reply = await planner.plan(request, signal);
  times.push(performance.now() - t);
  if (reply.raw !== answer) throw new Error(`unexpected answer: ${reply.raw.slice(0, 200)}`);
  parseForecast(reply.raw, reply.format);
}
// The same request once more, straight through the model, for its token counts.
const input = { instruction: request.instruction, history: request.history, horizon: request.horizon };
const messages = planner.directory.family.messages({ system: TRACER1_TEMPLATE.system(input), text: TRACER1_TEMPLATE.user(input), imageFirst: false });
const g = await vlm.generate(messages, observation, 4096, signal);
times.sort((a, b) => a - b);
const med = times[Math.floor(times.length / 2)]!;
const f = (ms: number) => `${ms.toFixed(0)} ms`;
console.log(`local VLM (tiny Qwen2-VL-family model, ${width}x${height} screenshot, max_pixels ${values['max-pixels']}, CPU)`);
console.log(`load (import of the library + processor + 3 sessions): ${f(loadWall)} wall; sessions and processor alone: ${f(vlm.loadMs)}`);
console.log(`one plan (${answer.length} characters, ${g.newTokens} new tokens): median ${f(med)}, min ${f(times[0]!)}, max ${f(times.at(-1)!)} over ${plans}`);
console.log(`prompt: ${g.promptTokens} tokens (byte-level tokenizer: about 4x a real Qwen tokenizer's count for the text, plus the image's tokens)`);
console.log(`of one plan: preprocessing (chat template, tokenizer, image resize and patches) ${f(g.preprocessMs)}; generation ${f(g.generateMs)}, ${(g.generateMs / g.newTokens).toFixed(2)} ms per generated token (the library's loop and onnxruntime's calls: the tiny graphs compute almost nothing)`);
await vlm.dispose();
