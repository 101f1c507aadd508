/**
 * zod schemas of the records every process shares (errors, displays, settle info, history),
 * used by the store to check its JSON columns and by the contract to check what crosses to
 * the renderer. One definition, so the two cannot drift apart.
 */
import { z } from 'zod';
import { ERROR_CODES } from './errors.ts';

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
  method: z.enum(['damage', 'pixels']).optional(),
});

export const rectSchema = z.object({
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
