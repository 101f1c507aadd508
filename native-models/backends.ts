/**
 * Makes planners and grounders from their specs, for the process that hosts them (the model
 * worker; until it exists, the CLI process). Specs of local models — onnxruntime sessions, which
 * only native-models/ may load — are dispatched here; every other spec goes to the factories of
 * main/planners and main/grounders (endpoint clients, the script planner, Tesseract OCR).
 *
 * Each local backend is one entry of the tables below: its spec prefix, the form shown in the
 * CLI's help and errors, and its constructor.
 */
import type { Grounder, Planner } from '../common/ports.ts';
import { createGrounder, GROUNDER_FORMS, type GrounderOptions } from '../main/grounders/index.ts';
import { createPlanner, type PlannerOptions } from '../main/planners/index.ts';
import { createPaddleGrounder, PADDLE_GROUNDER_ID } from './ocr/grounder.ts';

export type BackendOptions = PlannerOptions & GrounderOptions;

interface LocalBackend<T> {
  /** The spec is this string, or starts with it followed by ':'. */
  prefix: string;
  form: string;
  make(spec: string, opts: BackendOptions): T;
}

const LOCAL_PLANNERS: LocalBackend<Planner>[] = [
  // onnx:<model-dir> — a local VLM (issue 11)
];

const LOCAL_GROUNDERS: LocalBackend<Grounder>[] = [
  {
    prefix: PADDLE_GROUNDER_ID,
    form: 'ocr:paddle[:<model-dir>] (PP-OCRv4 on onnxruntime, offline, Chinese and English: finds the text quoted in the step instruction)',
    make: (spec) => createPaddleGrounder(spec),
  },

  // onnx:<model-dir> — a local VLM asked for a point (issue 11)

  // som:<detector-dir> — Set-of-Marks (issue 11)
];

const matches = (spec: string, prefix: string) => spec === prefix || spec.startsWith(`${prefix}:`);

export function createPlannerBackend(spec: string, opts: BackendOptions = {}): Planner {
  const s = spec.trim();
  const local = LOCAL_PLANNERS.find((b) => matches(s, b.prefix));
  return local ? local.make(s, opts) : createPlanner(s, opts);
}

export function createGrounderBackend(spec: string, opts: BackendOptions = {}): Grounder {
  const s = spec.trim();
  const local = LOCAL_GROUNDERS.find((b) => matches(s, b.prefix));
  return local ? local.make(s, opts) : createGrounder(s, opts);
}

/** Every grounder form, for help texts and the error of an unknown spec. */
export const ALL_GROUNDER_FORMS: readonly string[] = [...GROUNDER_FORMS, ...LOCAL_GROUNDERS.map((b) => b.form)];
export const LOCAL_PLANNER_FORMS: readonly string[] = LOCAL_PLANNERS.map((b) => b.form);
