/**
 * A VLM grounder behind any OpenAI-compatible chat endpoint (vLLM, SGLang, LM Studio, …):
 * the screenshot and the step instruction go in, a point comes out. Two coordinate
 * conventions, chosen with `?convention=` in the spec or guessed from the model name:
 *
 * - `uitars`: UI-TARS 1.0 / Qwen2-VL — `click(start_box='(x,y)')`, x and y in 0..1000 of the image.
 * - `qwen25vl`: Qwen2.5-VL and UI-TARS-1.5 — absolute pixels of the image as the model's
 *   processor resized it (smart_resize: both sides multiples of 28 within a pixel budget),
 *   often as JSON `{"point_2d": [x, y]}` or `[{"bbox_2d": [x1, y1, x2, y2]}]`.
 */
import { needsPoint, type Action } from '../../common/actions.ts';
import { convertPoint, type Point, type SpacePoint } from '../../common/coords.ts';
import { QWEN25VL_MAX_PIXELS, QWEN25VL_MIN_PIXELS, smartResize as smartResizeImage } from '../../common/image-resize.ts';
import { ForesightError } from '../../common/errors.ts';
import type { Grounder, GroundRequest, Grounding, Observation } from '../../common/ports.ts';
import { parseEndpointSpec } from '../planners/endpoint-spec.ts';
import { ChatEndpoint } from '../planners/chat-endpoint.ts';

export const GROUNDING_CONVENTIONS = ['uitars', 'qwen25vl'] as const;
export type GroundingConvention = (typeof GROUNDING_CONVENTIONS)[number];

export interface OpenAIGrounderOptions {
  apiKey?: string;
  /** The deadline of each request, headers and body (default 60 s). */
  timeoutMs?: number;
  /** Endpoint faults are retried this many times (default 0). */
  retries?: number;
  /** The wait before retry n; default 1 s, 2 s, 4 s, … (tests shorten it). */
  backoffMs?: (retry: number) => number;
  /** Overrides `?convention=` of the spec and the guess from the model name. */
  convention?: GroundingConvention;
  maxTokens?: number;
  /** The pixel budget of the model's image processor (qwen25vl); `?min_pixels=` / `?max_pixels=`. */
  minPixels?: number;
  maxPixels?: number;
}

// ---------------------------------------------------------------- smart_resize

export interface SmartResizeOptions {
  /** patch size × merge size: 28 for Qwen2-VL / Qwen2.5-VL. */
  factor?: number;
  minPixels?: number;
  maxPixels?: number;
}

/**
 * The size Qwen2-VL / Qwen2.5-VL processors resize an image to (qwen_vl_utils smart_resize):
 * both sides multiples of `factor`, the aspect ratio kept as well as possible, the area
 * within [minPixels, maxPixels].
 */
export function smartResize(size: { width: number; height: number }, opts: SmartResizeOptions = {}): { width: number; height: number } {
  return smartResizeImage(size.width, size.height, opts.factor ?? 28, opts.minPixels ?? QWEN25VL_MIN_PIXELS, opts.maxPixels ?? QWEN25VL_MAX_PIXELS);
}

// ---------------------------------------------------------------- parsing answers

export interface ParsedPoints {
  /** In the model's own space (0..1000 or resized pixels); two for a drag. */
  points: Point[];
  /** The piece of the answer they came from. */
  source: string;
}

const NUM = String.raw`-?\d+(?:\.\d+)?`;

function numbersIn(s: string): number[] {
  return [...s.matchAll(new RegExp(NUM, 'g'))].map((m) => Number(m[0]));
}

/** Two numbers are a point; four a box, whose centre is taken. */
function pointOf(nums: readonly number[]): Point | undefined {
  if (nums.length === 2) return { x: nums[0]!, y: nums[1]! };
  if (nums.length === 4) return { x: (nums[0]! + nums[2]!) / 2, y: (nums[1]! + nums[3]!) / 2 };
  return undefined;
}

function collect(text: string, re: RegExp, group: number): ParsedPoints | undefined {
  const points: Point[] = [];
  let source = '';
  for (const m of text.matchAll(re)) {
    const p = pointOf(numbersIn(m[group] ?? ''));
    if (p) {
      points.push(p);
      source = source ? `${source} … ${m[0]}` : m[0];
    }
  }
  return points.length ? { points, source } : undefined;
}

/**
 * Finds the point(s) in a grounding answer, most specific form first:
 * UI-TARS actions (`start_box='(x,y)'`, `end_box=`, `point='<point>x y</point>'`), JSON keys
 * (`point_2d`, `bbox_2d`, `coordinate`, `point`, `bbox`), `<point>`/`<|box_start|>` tags,
 * then the first bare `(x, y)` / `[x1, y1, x2, y2]`.
 */
export function parseGroundingAnswer(raw: string): ParsedPoints | undefined {
  // Reasoning may mention numbers; the answer comes after it.
  const text = raw.replace(/<think>[\s\S]*?<\/think>/g, ' ');
  const afterAction = /\bAction:\s*([\s\S]*)$/i.exec(text)?.[1] ?? text;
  return (
    collect(afterAction, /\b(?:start_box|end_box|start_point|end_point|point|box)\s*=\s*['"]([^'"]*)['"]/g, 1) ??
    collect(text, /"(?:point_2d|bbox_2d|coordinate|coordinates|point|bbox|click_point|position)"\s*:\s*\[([^\]]*)\]/g, 1) ??
    collect(text, /<(point|bbox)>([^<]*)<\/\1>/g, 2) ??
    collect(text, /<\|box_start\|>([^<]*)<\|box_end\|>/g, 1) ??
    collect(afterAction, new RegExp(String.raw`[(\[]\s*(${NUM}\s*,\s*${NUM}(?:\s*,\s*${NUM}\s*,\s*${NUM})?)\s*[)\]]`, 'g'), 1)
  );
}

// ---------------------------------------------------------------- the grounder

/**
 * The question a grounding model is asked for one step, in the convention it answers in. Shared by
 * every grounder that asks a VLM for a point (the endpoint one here, the local ones of native-models).
 */
export function groundingPrompt(convention: GroundingConvention, action: Action): string {
  const drag = action.action_type === 'drag';
  const task = action.step_instruction;
  if (convention === 'uitars') {
    return drag
      ? `Output only the start and end coordinates, as drag(start_box='(x1,y1)', end_box='(x2,y2)'). What should be dragged where for the following task: ${task}`
      : `Output only the coordinate of one point in your response. What element matches the following task: ${task}`;
  }
  return drag
    ? `Locate where this drag starts and ends: ${task}\nAnswer with JSON only: [{"point_2d": [x1, y1], "label": "start"}, {"point_2d": [x2, y2], "label": "end"}]`
    : `Locate the element to act on for this step: ${task}\nAnswer with JSON only: {"point_2d": [x, y]}`;
}

/**
 * A model's point — 0..1000 of the image (`uitars`), or pixels of the image as the model's
 * processor resized it (`qwen25vl`) — in screenshot pixels of the observation. A point outside the
 * convention's range (2 % slack) is a PARSE_ERROR that names the other convention.
 */
export function modelPointToScreenshot(
  p: Point,
  convention: GroundingConvention,
  observation: Observation,
  resize: SmartResizeOptions,
  raw: string,
): SpacePoint {
  const { imageWidth, imageHeight } = observation.geometry;
  const range =
    convention === 'uitars' ? { width: 1000, height: 1000 } : smartResize({ width: imageWidth, height: imageHeight }, resize);
  const slack = 0.02;
  if (p.x < -slack * range.width || p.y < -slack * range.height || p.x > (1 + slack) * range.width || p.y > (1 + slack) * range.height) {
    const other = convention === 'uitars' ? 'qwen25vl' : 'uitars';
    throw new ForesightError(
      'PARSE_ERROR',
      `The model's point (${p.x}, ${p.y}) lies outside its ${range.width}x${range.height} coordinate range ` +
        `(convention ${convention}); if the model uses the other convention, add ?convention=${other} to the grounder spec`,
      { raw: raw.slice(0, 2000), point: { x: p.x, y: p.y } },
    );
  }
  const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);
  const norm: SpacePoint = { space: 'norm1', x: clamp(p.x, range.width) / range.width, y: clamp(p.y, range.height) / range.height };
  const s = convertPoint(norm, 'screenshot', observation.geometry);
  // A point on the far edge (x = 1000) would be one pixel off the image.
  return { space: 'screenshot', x: Math.min(s.x, imageWidth - 0.5), y: Math.min(s.y, imageHeight - 0.5) };
}

/**
 * The point (and a drag's end) of a grounding model's answer, in screenshot pixels; PARSE_ERROR
 * when the answer holds none. A drag without a second point keeps the planner's own end point.
 */
export function answerPoints(
  raw: string,
  action: Action,
  observation: Observation,
  convention: GroundingConvention,
  resize: SmartResizeOptions,
): { point: SpacePoint; endPoint?: SpacePoint } {
  const parsed = parseGroundingAnswer(raw);
  if (!parsed) {
    throw new ForesightError('PARSE_ERROR', `The grounding model answered without a point: ${JSON.stringify(raw.slice(0, 300))}`, {
      raw: raw.slice(0, 2000),
    });
  }
  const [first, second] = parsed.points;
  const point = modelPointToScreenshot(first!, convention, observation, resize, raw);
  if (action.action_type !== 'drag') return { point };
  if (second) return { point, endPoint: modelPointToScreenshot(second, convention, observation, resize, raw) };
  if (action.end_point) return { point, endPoint: { ...convertPoint(action.end_point, 'screenshot', observation.geometry), space: 'screenshot' } };
  throw new ForesightError('PARSE_ERROR', `The grounding model gave no end point for the drag: ${JSON.stringify(raw.slice(0, 300))}`, { raw });
}

/**
 * A grounding model's answer as the Grounding of the port (answerPoints, above). A bare point
 * carries no calibrated belief: the confidence says "a model pointed here".
 */
export function groundingFromAnswer(
  raw: string,
  req: { action: Action; observation: Observation; convention: GroundingConvention; resize: SmartResizeOptions },
  grounder: string,
  startedAt: number,
): Grounding {
  const { point, endPoint } = answerPoints(raw, req.action, req.observation, req.convention, req.resize);
  return { point, ...(endPoint ? { endPoint } : {}), confidence: 0.8, grounder, detail: raw.trim().slice(0, 500), latencyMs: performance.now() - startedAt };
}

function guessConvention(model: string): GroundingConvention {
  // UI-TARS-1.5 is a Qwen2.5-VL fine-tune and answers in resized pixels; UI-TARS 1.0 in 0..1000.
  return /qwen2[._-]?5[._-]?vl|ui-?tars-?1[._-]?5/i.test(model) ? 'qwen25vl' : 'uitars';
}

function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ForesightError('BAD_INPUT', `${name}=${v} must be a positive integer`);
  return n;
}

export class OpenAIGrounder implements Grounder {
  readonly id: string;
  readonly speculative = false;
  readonly convention: GroundingConvention;
  private readonly endpoint: ChatEndpoint;
  private readonly model: string;
  private readonly resize: SmartResizeOptions;

  constructor(spec: string, private readonly opts: OpenAIGrounderOptions = {}) {
    const parsed = parseEndpointSpec(spec);
    this.id = spec;
    this.model = parsed.model;
    const fromSpec = parsed.options.convention;
    if (fromSpec !== undefined && !(GROUNDING_CONVENTIONS as readonly string[]).includes(fromSpec)) {
      throw new ForesightError('BAD_INPUT', `Unknown grounding convention "${fromSpec}"; use ${GROUNDING_CONVENTIONS.join(' or ')}`);
    }
    this.convention = opts.convention ?? (fromSpec as GroundingConvention | undefined) ?? guessConvention(parsed.model);
    const minPixels = opts.minPixels ?? positiveInt(parsed.options.min_pixels, 'min_pixels');
    const maxPixels = opts.maxPixels ?? positiveInt(parsed.options.max_pixels, 'max_pixels');
    this.resize = { ...(minPixels ? { minPixels } : {}), ...(maxPixels ? { maxPixels } : {}) };
    this.endpoint = new ChatEndpoint({
      baseURL: parsed.baseURL,
      timeoutMs: opts.timeoutMs ?? 60_000,
      ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}),
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
    });
  }

  perceive(_observation: Observation): void {
    // Nothing to prepare: each grounding is one model call.
  }

  prompt(action: Action): string {
    return groundingPrompt(this.convention, action);
  }

  async ground(req: GroundRequest, signal: AbortSignal): Promise<Grounding> {
    const { action, observation } = req;
    if (!needsPoint(action)) {
      throw new ForesightError('BAD_INPUT', `A ${action.action_type} action needs no point; grounders only ground pointed actions`);
    }
    const image = `data:image/png;base64,${Buffer.from(observation.png).toString('base64')}`;
    const t0 = performance.now();
    const answer = await this.endpoint.complete(
      {
        model: this.model,
        temperature: 0,
        max_tokens: this.opts.maxTokens ?? 256,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: image } },
              { type: 'text', text: this.prompt(action) },
            ],
          },
        ],
      },
      signal,
    );
    return groundingFromAnswer(answer.content, { action, observation, convention: this.convention, resize: this.resize }, this.id, t0);
  }
}
