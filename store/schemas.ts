/**
 * zod schemas for the JSON the store keeps in TEXT columns. Values are checked when written
 * (so nothing is stored that cannot be read back) and when read (so a damaged row is
 * reported as STORE_CORRUPT, naming it, instead of surfacing as a wrong value later).
 */
import { z } from 'zod';
import { actionSchema, forecastSchema } from '../common/actions.ts';
import { ERROR_CODES } from '../common/errors.ts';

export { actionSchema, forecastSchema };

export const jsonObjectSchema = z.record(z.string(), z.unknown());

export const errorInfoSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: jsonObjectSchema.optional(),
});

export const settleInfoSchema = z.object({
  settled: z.boolean(),
  waitedMs: z.number().finite().nonnegative(),
  frames: z.number().int().nonnegative(),
});

const rectSchema = z.object({
  x: z.number().finite(),
  y: z.number().finite(),
  width: z.number().finite(),
  height: z.number().finite(),
});

export const displaySchema = z.object({
  id: z.string(),
  bounds: rectSchema,
  scaleFactor: z.number().finite().positive(),
  primary: z.boolean(),
});

export const frameGeometrySchema = z.object({
  display: displaySchema,
  imageWidth: z.number().int().positive(),
  imageHeight: z.number().int().positive(),
});

export const historyEntrySchema = z.object({
  step: z.number().int(),
  action: z.string(),
  outcome: z.string(),
});

export const historySchema = z.array(historyEntrySchema);
