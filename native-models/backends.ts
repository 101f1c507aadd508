/**
 * Makes planners and grounders from their specs, for the process that hosts them (the model
 * worker, native-models/worker.ts; benchmarks make them in process to compare). Specs of local models — onnxruntime sessions, which
 * only native-models/ may load — are dispatched here; every other spec goes to the factories of
 * main/planners and main/grounders (endpoint clients, the script planner, Tesseract OCR).
 *
 * Each local backend is one entry of the tables below: its spec prefix, the form shown in the
 * CLI's help and errors, and its constructor.
 */
import { ForesightError, isForesightError } from '../common/errors.ts';
import type { Grounder, Planner } from '../common/ports.ts';
import { createGrounder, GROUNDER_FORMS, type GrounderOptions } from '../main/grounders/index.ts';
import { createPlanner, type PlannerOptions } from '../main/planners/index.ts';
import { OnnxGrounder } from './vlm/grounder.ts';
import { OnnxPlanner } from './vlm/planner.ts';
import { createSomGrounder } from './som/grounder.ts';
import { createPaddleGrounder, PADDLE_GROUNDER_ID } from './ocr/grounder.ts';

export type BackendOptions = PlannerOptions & GrounderOptions;

interface LocalBackend<T> {
  /** The spec is this string, or starts with it followed by ':'. */
  prefix: string;
  form: string;
  make(spec: string, opts: BackendOptions): T;
}

const LOCAL_PLANNERS: LocalBackend<Planner>[] = [
  {
    prefix: 'onnx',
    form: 'onnx:<model-dir>[?device=cpu|cuda&dtype=…&format=tracer1|uitars-1.5] (a local VLM: Qwen2-VL, Qwen2.5-VL, Qwen3-VL)',
    make: (spec, opts) => new OnnxPlanner(spec, opts.format !== undefined ? { format: opts.format } : {}),
  },
];

const LOCAL_GROUNDERS: LocalBackend<Grounder>[] = [
  {
    prefix: PADDLE_GROUNDER_ID,
    form: 'ocr:paddle[:<model-dir>] (PP-OCRv4 on onnxruntime, offline, Chinese and English: finds the text quoted in the step instruction)',
    make: (spec) => createPaddleGrounder(spec),
  },

  {
    prefix: 'onnx',
    form: 'onnx:<model-dir>[?device=cpu|cuda&dtype=…&convention=uitars|qwen25vl] (a local VLM asked for a point)',
    make: (spec) => new OnnxGrounder(spec),
  },

  {
    prefix: 'som',
    form: 'som:<detector-dir>[?ocr=off] (Set-of-Marks: a YOLO element detector plus OCR number the elements; the planner names "mark 12")',
    make: (spec) => createSomGrounder(spec),
  },
];

const matches = (spec: string, prefix: string) => spec === prefix || spec.startsWith(`${prefix}:`);

export function createPlannerBackend(spec: string, opts: BackendOptions = {}): Planner {
  const s = spec.trim();
  const local = LOCAL_PLANNERS.find((b) => matches(s, b.prefix));
  if (local) return local.make(s, opts);
  try {
    return createPlanner(s, opts);
  } catch (e) {
    // main/planners knows only its own forms: name the local ones too.
    if (isForesightError(e, 'BAD_INPUT') && e.message.startsWith('Unknown planner')) {
      throw new ForesightError('BAD_INPUT', `${e.message.replace(/\.$/, '')}, or ${LOCAL_PLANNERS.map((b) => b.form).join('; ')}.`);
    }
    throw e;
  }
}

export function createGrounderBackend(spec: string, opts: BackendOptions = {}): Grounder {
  const s = spec.trim();
  const local = LOCAL_GROUNDERS.find((b) => matches(s, b.prefix));
  if (local) return local.make(s, opts);
  try {
    return createGrounder(s, opts);
  } catch (e) {
    if (isForesightError(e, 'BAD_INPUT') && e.message.startsWith('Unknown grounder')) {
      throw new ForesightError('BAD_INPUT', `Unknown grounder "${spec}". Use one of: ${ALL_GROUNDER_FORMS.join('; ')}.`);
    }
    throw e;
  }
}

/** Every grounder form, for help texts and the error of an unknown spec. */
export const ALL_GROUNDER_FORMS: readonly string[] = [...GROUNDER_FORMS, ...LOCAL_GROUNDERS.map((b) => b.form)];
export const LOCAL_PLANNER_FORMS: readonly string[] = LOCAL_PLANNERS.map((b) => b.form);
