/**
 * `foresight run --gate app`: the human gate, pause and the no-click zones served by the app
 * server that started this run (main/shell/runs.ts) instead of a terminal. The protocol is
 * common/run-protocol.ts: requests and events go out as JSON lines on stdout (with `--json`),
 * the app's answers come in as JSON lines on stdin. Stop is not here: the app sends SIGINT to
 * the supervisor, as Ctrl+C does, so the kill switch is the very same path.
 *
 * The gate waits as long as the person needs (there is no timeout: a person may take minutes);
 * a page reload does not matter, the pending request is the app server's state.
 */
import { createInterface, type Interface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import type { Forecast } from '../../common/actions.ts';
import type { Rect } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import type { GateDecision, GateRequest, HumanGate, Observer } from '../../common/ports.ts';
import { serverLineSchema, type AgentLine, type AppGateDecision, type ServerLine } from '../../common/run-protocol.ts';
import { isContinuation, type ApprovedPlan } from '../agent/review.ts';

type Waiter = { reviewId: string; resolve: (d: AppGateDecision) => void };

export class AppChannel {
  private readonly rl: Interface;
  private waiter: Waiter | undefined;
  private paused = false;
  private pauseWaiters: (() => void)[] = [];
  private closed = false;
  private closeWaiters: (() => void)[] = [];
  /** Replaced in place by `no_click_zones` lines: the loop reads it at every step. */
  readonly noClickZones: Rect[] = [];

  constructor(
    input: NodeJS.ReadableStream,
    private readonly write: (line: AgentLine) => void,
  ) {
    this.rl = createInterface({ input, terminal: false });
    this.rl.on('line', (line) => this.onLine(line));
    this.rl.on('close', () => {
      this.closed = true;
      for (const w of this.closeWaiters.splice(0)) w();
    });
  }

  private onLine(text: string): void {
    if (text.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.write({ type: 'protocol_error', message: `not JSON: ${text.slice(0, 200)}` });
      return;
    }
    const parsed = serverLineSchema.safeParse(raw);
    if (!parsed.success) {
      this.write({ type: 'protocol_error', message: `not a line of the app protocol: ${parsed.error.issues.map((i) => i.message).join('; ')}` });
      return;
    }
    this.handle(parsed.data);
  }

  private handle(m: ServerLine): void {
    switch (m.type) {
      case 'decision': {
        const w = this.waiter;
        if (!w || w.reviewId !== m.reviewId) {
          this.write({ type: 'protocol_error', message: `no review ${m.reviewId} is waiting` });
          return;
        }
        this.waiter = undefined;
        w.resolve(m.decision);
        return;
      }
      case 'pause':
        if (!this.paused) {
          this.paused = true;
          this.write({ type: 'paused', paused: true });
        }
        return;
      case 'resume':
        if (this.paused) {
          this.paused = false;
          for (const w of this.pauseWaiters.splice(0)) w();
          this.write({ type: 'paused', paused: false });
        }
        return;
      case 'no_click_zones':
        this.noClickZones.splice(0, this.noClickZones.length, ...m.rects);
        return;
    }
  }

  /** Waits for the decision on `reviewId`; STOPPED when the run is stopped or the app goes away. */
  decision(reviewId: string, signal: AbortSignal): Promise<AppGateDecision> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new ForesightError('STOPPED', 'Stopped while waiting for approval'));
      if (this.closed) return reject(new ForesightError('STOPPED', 'The app went away while a review was waiting'));
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        this.closeWaiters = this.closeWaiters.filter((w) => w !== onClose);
      };
      const onAbort = () => {
        done();
        this.waiter = undefined;
        reject(new ForesightError('STOPPED', 'Stopped while waiting for approval'));
      };
      const onClose = () => {
        done();
        reject(new ForesightError('STOPPED', 'The app went away while a review was waiting'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.closeWaiters.push(onClose);
      this.waiter = {
        reviewId,
        resolve: (d) => {
          done();
          resolve(d);
        },
      };
    });
  }

  /** Resolves at once unless paused; then when resumed (or stopped: the caller checks its signal). */
  untilResumed(signal: AbortSignal): Promise<void> {
    if (!this.paused || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener('abort', onAbort, { once: true });
      this.pauseWaiters.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  close(): void {
    this.rl.close();
  }
}

/** The gate: asks the app, and approves on its own the continuations of a plan approved with approve_rest. */
export class AppGate implements HumanGate {
  /** The plan a person approved with approve_rest, and the step it was approved at. */
  private rest: { plan: Forecast; step: number } | undefined;

  constructor(
    private readonly channel: AppChannel,
    private readonly write: (line: AgentLine) => void,
    private readonly newId: () => string = randomUUID,
  ) {}

  async review(req: GateRequest, signal: AbortSignal): Promise<GateDecision> {
    const reviewId = this.newId();
    if (this.rest) {
      const plan: ApprovedPlan = { forecast: this.rest.plan, executedSince: req.stepNumber - this.rest.step };
      if (req.stepNumber > this.rest.step && isContinuation(plan, req.forecast)) {
        this.write({ type: 'gate_auto', reviewId, step: req.stepNumber });
        return { kind: 'approve' };
      }
      this.rest = undefined; // the forecast stopped following the approved plan: ask again
    }
    const g = req.grounding;
    this.write({
      type: 'gate_request',
      reviewId,
      episodeId: req.episodeId,
      step: req.stepNumber,
      forecast: req.forecast,
      ...(g
        ? {
            grounding: {
              point: g.point,
              ...(g.endPoint ? { endPoint: g.endPoint } : {}),
              confidence: g.confidence,
              grounder: g.grounder,
              ...(g.detail !== undefined ? { detail: g.detail } : {}),
              latencyMs: g.latencyMs,
            },
          }
        : {}),
      frameId: req.observation.frameId,
      geometry: req.observation.geometry,
    });
    const d = await this.channel.decision(reviewId, signal);
    switch (d.kind) {
      case 'approve':
        return { kind: 'approve' };
      case 'approve_rest':
        this.rest = { plan: req.forecast, step: req.stepNumber };
        return { kind: 'approve' };
      case 'edit':
        return { kind: 'edit', forecast: d.forecast };
      case 'reject':
        return { kind: 'reject', reason: d.reason };
    }
  }
}

/**
 * The observer as the app run sees it: waits while the run is paused (before the next
 * observation, so nothing new is planned or done), and announces every frame with its geometry,
 * which the app needs to draw it (the loop's own `observation` event carries only its id).
 */
export function appObserver(inner: Observer, channel: AppChannel, write: (line: AgentLine) => void): Observer {
  let step = 0;
  return {
    displays: () => inner.displays(),
    settle: (signal) => inner.settle(signal),
    changesSince: (observation, signal) => inner.changesSince(observation, signal),
    async observe(afterAction, signal, opts) {
      await channel.untilResumed(signal);
      if (signal.aborted) throw new ForesightError('STOPPED', 'Stopped while paused');
      const r = await inner.observe(afterAction, signal, opts);
      step++;
      const o = r.observation;
      write({ type: 'frame', step, frameId: o.frameId, geometry: o.geometry, capturedAt: o.capturedAt, emittedAt: Date.now() });
      return r;
    },
  };
}

/** `x,y,width,height` in global logical pixels (the `--keep-out` option). */
export function parseZone(text: string): Rect {
  const parts = text.split(',').map((p) => Number(p.trim()));
  const [x, y, width, height] = parts;
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n)) || width! <= 0 || height! <= 0) {
    throw new ForesightError('BAD_INPUT', `--keep-out takes x,y,width,height in screen pixels (width and height above 0), not "${text}"`);
  }
  return { x: x!, y: y!, width: width!, height: height! };
}
