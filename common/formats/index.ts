/**
 * The registry of model formats, and `parseForecast`, the one entry point the rest of the code
 * calls to read a planner's answer. A new format is one file in this folder exporting a
 * `ModelFormat`, one line in `FORMATS` below, and its id in `FORECAST_FORMATS` (common/actions.ts).
 *
 * `parseForecast` holds the guarantees every format shares: an answer longer than
 * MAX_ANSWER_CHARS is refused before any reading, a limit hit deep in a reader ends the parse
 * with its own message, and whatever else a format throws that is not a ForesightError (a bug)
 * still comes out as a PARSE_ERROR that keeps the raw answer, so the loop stores it and re-asks
 * instead of ending the episode as INTERNAL.
 */
import type { Forecast, ForecastFormat } from '../actions.ts';
import { ForesightError } from '../errors.ts';
import { MAX_ANSWER_CHARS, count, parseError, type ModelFormat, type ParseContext } from './format.ts';
import { LimitExceeded } from './lexer.ts';
import { tracer1 } from './tracer1.ts';
import { uitars10, uitars15 } from './uitars.ts';

export type { ImageSize, ModelFormat, ParseContext, PromptContract, SerializeOptions } from './format.ts';
export { MAX_ANSWER_CHARS, MAX_FORECAST_STEPS, MAX_NESTING_DEPTH, MAX_WAIT_MS } from './format.ts';
export { serializeTraceR1 } from './tracer1.ts';
export { serializeUiTars, type UiTarsVersion } from './uitars.ts';

/** Every format by its id: the compiler checks that each id of FORECAST_FORMATS has one, and only those. */
const FORMATS: Readonly<Record<ForecastFormat, ModelFormat>> = {
  tracer1,
  'uitars-1.0': uitars10,
  'uitars-1.5': uitars15,
};

export const MODEL_FORMATS: readonly ModelFormat[] = Object.values(FORMATS);

/** The format module for an id. BAD_INPUT for an id that is not one (ids from outside are checked by zod first). */
export function modelFormat(id: ForecastFormat): ModelFormat {
  if (!Object.hasOwn(FORMATS, id)) {
    throw new ForesightError('BAD_INPUT', `Unknown answer format ${JSON.stringify(id)}; use one of ${Object.keys(FORMATS).join(', ')}`);
  }
  return FORMATS[id];
}

/** Reads a planner's answer in the given format: a validated Forecast, or a PARSE_ERROR that says what is wrong. */
export function parseForecast(raw: string, format: ForecastFormat, ctx?: ParseContext): Forecast {
  return readAnswer(modelFormat(format), raw, ctx);
}

/**
 * `format.parse` with the guarantees every format shares (see the top of this file). Exported
 * for tests that check those guarantees with a format of their own.
 */
export function readAnswer(format: ModelFormat, raw: string, ctx?: ParseContext): Forecast {
  if (typeof raw !== 'string') {
    throw new ForesightError('PARSE_ERROR', `the answer is not text (got ${typeof raw})`, { raw: '', problems: ['the answer is not text'] });
  }
  if (raw.length > MAX_ANSWER_CHARS) {
    throw parseError(raw, [`the answer is ${count(raw.length)} characters long; at most ${count(MAX_ANSWER_CHARS)} are read`]);
  }
  try {
    return format.parse(raw, ctx);
  } catch (e) {
    if (e instanceof ForesightError) throw e;
    if (e instanceof LimitExceeded) throw parseError(raw, [e.message]);
    // A bug in a reader (or an engine limit such as a stack overflow): the answer is still only
    // an answer that could not be used, and the model may write a readable one next time.
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw parseError(raw, [`the answer could not be read (the ${format.id} reader failed: ${why})`], { internal: why });
  }
}
