/**
 * zod schemas for the JSON the store keeps in TEXT columns. Values are checked when written
 * (so nothing is stored that cannot be read back) and when read (so a damaged row is
 * reported as STORE_CORRUPT, naming it, instead of surfacing as a wrong value later).
 */
import { z } from 'zod';
import { actionSchema, forecastSchema } from '../common/actions.ts';
import {
  displaySchema,
  errorInfoSchema,
  frameGeometrySchema,
  historyEntrySchema,
  jsonObjectSchema,
  settleInfoSchema,
} from '../common/schemas.ts';

export { actionSchema, forecastSchema };

export { displaySchema, errorInfoSchema, frameGeometrySchema, historyEntrySchema, jsonObjectSchema, settleInfoSchema };

export const historySchema = z.array(historyEntrySchema);
