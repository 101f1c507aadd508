/**
 * zod schemas for the JSON the store keeps in TEXT columns. Values are checked when written
 * (so nothing is stored that cannot be read back) and when read (so a damaged row is
 * reported as STORE_CORRUPT, naming it, instead of surfacing as a wrong value later).
 */
import { z } from 'zod';
import { actionSchema, forecastSchema, wireActionSchema, wireForecastSchema } from '../common/actions.ts';
import {
  displaySchema,
  errorInfoSchema,
  frameGeometrySchema,
  historyEntrySchema,
  jsonObjectSchema,
  settleInfoSchema,
} from '../common/schemas.ts';

// Written through the union; read through its wire view, which also reads rows of older releases.
export { actionSchema, forecastSchema, wireActionSchema, wireForecastSchema };

export { displaySchema, errorInfoSchema, frameGeometrySchema, historyEntrySchema, jsonObjectSchema, settleInfoSchema };

export const historySchema = z.array(historyEntrySchema);
