/**
 * One closed set of error codes for every process and transport. A code says what went
 * wrong in a way the renderer and the CLI can act on; the message says it in words.
 */
export const ERROR_CODES = [
  'BAD_INPUT', // a value given by the user or a caller is out of range or malformed
  'PARSE_ERROR', // model output did not follow the expected format
  'ENDPOINT_UNREACHABLE', // the app's own server did not answer (the renderer's transport)
  // A model endpoint failed: refused, timed out (headers or body), an error status, or a body that
  // is no chat completion (not JSON, truncated, no choices, null content); details.fault says which.
  'ENDPOINT_ERROR',
  'GROUNDING_FAILED', // no point could be found for a step instruction
  'OUT_OF_SCREEN', // an action would land outside every display
  'DISPLAY_UNAVAILABLE', // no display to capture or act on
  'TOOL_MISSING', // a system program the adapter needs is not installed
  'STOPPED', // the kill switch or SIGINT stopped the episode
  'STEP_BUDGET', // the episode used all its steps
  'LOOP_DETECTED', // the agent keeps repeating the same action
  'REJECTED', // a person rejected the forecast
  'TASK_FAILED', // the planner itself declared the task impossible (action fail)
  'STORE_CORRUPT', // the database or a blob could not be read
  'STORE_MIGRATION', // the database was written by an unknown version
  'NOT_FOUND', // an episode, file or record does not exist
  'TIMEOUT', // an operation took longer than allowed
  'WORKER_CRASHED', // the model worker process died or stopped answering; in-flight requests fail with it
  'MODEL_INVALID', // a model directory is refused: manifest, a missing or corrupt file, graph inputs that do not match
  'PROVIDER_UNAVAILABLE', // an onnxruntime execution provider (CUDA, TensorRT, …) cannot run here; details.reason says why
  'SCREEN_UNSTABLE', // the screen never held still long enough to act on a forecast made for it
  'INTERNAL', // a bug: please report it
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** Extra structured facts (the raw model output, the offending point, …). Must be JSON. */
  details?: Record<string, unknown>;
}

export class ForesightError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ForesightError';
    this.code = code;
    this.details = details;
  }

  toInfo(): ErrorInfo {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isForesightError(e: unknown, code?: ErrorCode): e is ForesightError {
  return e instanceof ForesightError && (code === undefined || e.code === code);
}

/** Turns anything thrown into an ErrorInfo, so nothing crosses a boundary untyped. */
export function toErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof ForesightError) return e.toInfo();
  if (e instanceof Error) return { code: 'INTERNAL', message: e.message };
  return { code: 'INTERNAL', message: String(e) };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: ErrorInfo): Result<T> => ({ ok: false, error });
