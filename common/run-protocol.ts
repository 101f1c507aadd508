/**
 * The wire between the app server (main/shell) and an agent run it started (`foresight run
 * --json --gate app`, main/cli/app-gate.ts). The app server starts the same supervisor + agent the
 * CLI uses, so the kill switch and the input safety are the same; only the gate talks to the app
 * instead of the terminal:
 *
 *   agent → server: stdout, one JSON object per line: the agent's events (`--json`), the
 *                   observation with its geometry, and `gate_request` when a person must decide;
 *   server → agent: stdin, one JSON object per line: a decision for a request, pause, resume,
 *                   the rectangles the agent must never click into;
 *   stop:           SIGINT to the supervisor, exactly what Ctrl+C does.
 *
 * Both ends check every line with these schemas; a line that does not fit is reported, never
 * acted on. Platform-free: zod and common/ only.
 */
import { z } from 'zod';
import { actionSchema, forecastSchema, spacePointSchema } from './actions.ts';
import { EPISODE_STATUSES, EXECUTION_RESULTS } from './ports.ts';
import { errorInfoSchema, frameGeometrySchema, rectSchema, settleInfoSchema } from './schemas.ts';

const timestamp = z.number().finite();
const durationMs = z.number().finite().nonnegative();
const step = z.number().int().positive();
const frameId = z.string().regex(/^[0-9a-f]{64}$/);

/** A grounder's point for a forecast step (Grounding of common/ports.ts). */
export const groundingInfoSchema = z.object({
  point: spacePointSchema,
  endPoint: spacePointSchema.optional(),
  confidence: z.number().finite(),
  grounder: z.string(),
  detail: z.string().optional(),
  latencyMs: durationMs,
});
export type GroundingInfo = z.infer<typeof groundingInfoSchema>;

const globalPoint = z.object({ x: z.number().finite(), y: z.number().finite() });

/** What a person decides about a forecast. `approve_rest`: this one, and the following ones while they continue it. */
export const gateDecisionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('approve') }),
  z.strictObject({ kind: z.literal('approve_rest') }),
  z.strictObject({ kind: z.literal('edit'), forecast: forecastSchema }),
  z.strictObject({ kind: z.literal('reject'), reason: z.string().trim().min(1, 'say why: the reason goes back to the planner').max(2000) }),
]);
export type AppGateDecision = z.infer<typeof gateDecisionSchema>;
export const GATE_DECISION_KINDS = ['approve', 'approve_rest', 'edit', 'reject'] as const satisfies readonly AppGateDecision['kind'][];

// ---------------------------------------------------------------- agent → server (stdout lines)

export const agentLineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('episode_start'), episodeId: z.string().min(1), task: z.string() }),
  z.object({ type: z.literal('observation'), step, frameId, settle: settleInfoSchema.optional() }),
  /** Written by the app gate's observer wrapper right after a frame is captured: what the renderer needs to draw it. */
  z.object({ type: z.literal('frame'), step, frameId, geometry: frameGeometrySchema, capturedAt: timestamp, emittedAt: timestamp }),
  z.object({ type: z.literal('forecast'), step, attempt: z.number().int().positive(), forecast: forecastSchema, latencyMs: durationMs }),
  z.object({ type: z.literal('parse_error'), step, attempt: z.number().int().positive(), error: errorInfoSchema }),
  z.object({
    type: z.literal('grounding'),
    step,
    index: z.number().int().nonnegative(),
    grounding: groundingInfoSchema.optional(),
    error: errorInfoSchema.optional(),
  }),
  z.object({ type: z.literal('review'), step, decision: z.enum(['approve', 'edit', 'reject']), reason: z.string().optional() }),
  z.object({
    type: z.literal('action'),
    step,
    description: z.string(),
    target: z.object({ globalPoint: globalPoint.optional(), globalEndPoint: globalPoint.optional() }),
    result: z.enum(EXECUTION_RESULTS),
    error: errorInfoSchema.optional(),
    durationMs,
  }),
  z.object({
    type: z.literal('episode_end'),
    episodeId: z.string(),
    status: z.enum(EPISODE_STATUSES),
    error: errorInfoSchema.optional(),
    answer: z.string().optional(),
    steps: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('summary'),
    episodeId: z.string(),
    status: z.enum(EPISODE_STATUSES),
    error: errorInfoSchema.optional(),
    answer: z.string().optional(),
    steps: z.number().int().nonnegative(),
  }),
  /** The gate waits for a person: answer with a `decision` line naming `reviewId`. */
  z.object({
    type: z.literal('gate_request'),
    reviewId: z.string().min(1).max(100),
    episodeId: z.string(),
    step,
    forecast: forecastSchema,
    grounding: groundingInfoSchema.optional(),
    frameId,
    geometry: frameGeometrySchema,
  }),
  /** The gate approved on its own: the forecast continues one a person approved with `approve_rest`. */
  z.object({ type: z.literal('gate_auto'), reviewId: z.string(), step }),
  /** Pause took effect (the agent waits before its next observation) or ended. */
  z.object({ type: z.literal('paused'), paused: z.boolean() }),
  /** A line from the server the agent did not accept, and why (nothing was changed). */
  z.object({ type: z.literal('protocol_error'), message: z.string() }),
]);
export type AgentLine = z.infer<typeof agentLineSchema>;

// ---------------------------------------------------------------- server → agent (stdin lines)

export const serverLineSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('decision'), reviewId: z.string().min(1).max(100), decision: gateDecisionSchema }),
  z.strictObject({ type: z.literal('pause') }),
  z.strictObject({ type: z.literal('resume') }),
  /** Global logical pixels the agent must never act in (the app's own window); replaces the previous list. */
  z.strictObject({ type: z.literal('no_click_zones'), rects: z.array(rectSchema).max(16) }),
]);
export type ServerLine = z.infer<typeof serverLineSchema>;

/** An action a person edited is still an action: the edit form's fields, checked by the union. */
export { actionSchema };
