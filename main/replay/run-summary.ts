/**
 * The summary of one `foresight bench run`: what `summary.json` holds, what `--json` prints,
 * what the report and `bench compare` read. Versioned so that older run folders keep opening.
 */
import { z } from 'zod';

const rate = z.number().min(0).max(1);

export const runSummarySchema = z.object({
  version: z.literal(1),
  run: z.object({
    id: z.string(),
    suite: z.string(),
    title: z.string(),
    data: z.string(),
    split: z.string().optional(),
    mode: z.string().optional(),
    planner: z.string(),
    grounder: z.string(),
    horizon: z.number().int().positive(),
    limit: z.number().int().positive().optional(),
    concurrency: z.number().int().positive(),
    startedAt: z.string(),
    finishedAt: z.string(),
  }),
  steps: z.object({
    /** Steps with a verdict. */
    total: z.number().int().min(0),
    scored: z.number().int().min(0),
    /** Answers that could not be parsed even after the re-asks; scored as wrong. */
    unparsed: z.number().int().min(0),
    /** Steps whose grounding failed; scored without a point. */
    failed: z.number().int().min(0),
  }),
  suite: z.object({
    count: z.number().int().min(0),
    metrics: z.record(z.string(), rate),
    breakdowns: z.array(
      z.object({
        name: z.string(),
        rows: z.array(z.object({ key: z.string(), count: z.number().int().min(0), metrics: z.record(z.string(), rate) })),
      }),
    ),
    /** What the reader of the figures must know, e.g. where the official script prints NaN. */
    notes: z.array(z.string()).optional(),
  }),
  forecast: z.object({
    /** Accuracy at horizon k = 1..K: of the steps whose true future reaches k steps, the share whose k-th forecast step matches. */
    horizon: z.array(z.object({ k: z.number().int().positive(), accuracy: rate.nullable(), count: z.number().int().min(0) })),
    /** The stage-1 trajectory reward of SPEC.md, averaged over steps, and its accuracy term alone. */
    reward: z.object({ mean: z.number(), accuracy: z.number(), count: z.number().int().min(0) }),
  }),
  timing: z.object({
    /** Time spent running, summed over every session of the run (a resumed run has several). */
    wallMs: z.number().min(0),
    /** How many sessions that was: the first run and each resume. Absent in summaries written before it was counted. */
    sessions: z.number().int().positive().optional(),
    stepsPerSecond: z.number().min(0),
    plannerLatencyMs: z.object({ p50: z.number(), p95: z.number() }).nullable(),
  }),
});

export type RunSummary = z.infer<typeof runSummarySchema>;
