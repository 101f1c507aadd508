/**
 * The Planner and Grounder ports, served by the model worker. The loop cannot tell them from
 * in-process ones, except that a crash of the worker shows as WORKER_CRASHED: with the `retry`
 * policy the request is sent again to the restarted worker (up to `retries` times, the user's
 * --retries), with `fail` it ends the episode.
 */
import type { ForecastFormat } from '../../common/actions.ts';
import { isForesightError } from '../../common/errors.ts';
import type { Grounder, GroundRequest, Grounding, MarkedScreenshot, Observation, Planner, PlanReply, PlanRequest } from '../../common/ports.ts';
import type { BackendDescription, WorkerBackendOptions } from '../../common/worker-protocol.ts';
import type { ModelWorker } from './client.ts';

export const ON_WORKER_CRASH = ['retry', 'fail'] as const;
export type OnWorkerCrash = (typeof ON_WORKER_CRASH)[number];

export interface ProxyPolicy {
  /** Deadline of one request through the worker (it must cover the backend's own timeouts and retries). */
  timeoutMs: number;
  onCrash: OnWorkerCrash;
  /** How many times a request lost in a crash is sent again (retry policy). */
  retries: number;
}

/** Sends `attempt` again after a crash while the policy allows it. */
async function withCrashPolicy<T>(policy: ProxyPolicy, signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isForesightError(e, 'WORKER_CRASHED') || policy.onCrash === 'fail' || i >= policy.retries || signal.aborted) throw e;
      // The retry waits for the restarted worker within its own deadline.
    }
  }
}

export class WorkerPlanner implements Planner {
  private constructor(
    private readonly worker: ModelWorker,
    private readonly backendId: string,
    readonly id: string,
    readonly format: ForecastFormat,
    private readonly policy: ProxyPolicy,
  ) {}

  static async create(worker: ModelWorker, spec: string, options: WorkerBackendOptions, policy: ProxyPolicy): Promise<WorkerPlanner> {
    const { backendId, value } = await worker.createBackend('planner', spec, options);
    return new WorkerPlanner(worker, backendId, value.id, value.format, policy);
  }

  plan(req: PlanRequest, signal: AbortSignal): Promise<PlanReply> {
    const { observation, marks, ...rest } = req;
    const marked = marks ? { marks: { frameId: marks.frameId, png: marks.png, marks: [...marks.marks] } } : {};
    return withCrashPolicy(this.policy, signal, () =>
      this.worker.requestWithFrame('plan', observation, (id, frame) => ({ type: 'plan', id, backendId: this.backendId, request: { ...rest, ...marked, history: [...rest.history], frame } }), {
        timeoutMs: this.policy.timeoutMs,
        signal,
      }),
    );
  }

  describe(): Promise<BackendDescription> {
    return this.worker.describe(this.backendId);
  }
}

export class WorkerGrounder implements Grounder {
  /** Present only when the grounder in the worker draws marks (the loop calls it before planning). */
  readonly annotate?: (observation: Observation, signal: AbortSignal) => Promise<MarkedScreenshot>;

  private constructor(
    private readonly worker: ModelWorker,
    private readonly backendId: string,
    readonly id: string,
    readonly speculative: boolean,
    annotates: boolean,
    private readonly policy: ProxyPolicy,
  ) {
    if (annotates) {
      this.annotate = (observation, signal) =>
        withCrashPolicy(this.policy, signal, () =>
          this.worker.requestWithFrame('annotate', observation, (id, frame) => ({ type: 'annotate', id, backendId: this.backendId, frame }), {
            timeoutMs: this.policy.timeoutMs,
            signal,
          }),
        );
    }
  }

  static async create(worker: ModelWorker, spec: string, options: WorkerBackendOptions, policy: ProxyPolicy): Promise<WorkerGrounder> {
    const { backendId, value } = await worker.createBackend('grounder', spec, options);
    return new WorkerGrounder(worker, backendId, value.id, value.speculative, value.annotates, policy);
  }

  perceive(observation: Observation): void {
    this.worker.perceive(this.backendId, observation);
  }

  ground(req: GroundRequest, signal: AbortSignal): Promise<Grounding> {
    return withCrashPolicy(this.policy, signal, () =>
      this.worker.requestWithFrame('ground', req.observation, (id, frame) => ({ type: 'ground', id, backendId: this.backendId, request: { action: req.action, frame } }), {
        timeoutMs: this.policy.timeoutMs,
        signal,
      }),
    );
  }

  describe(): Promise<BackendDescription> {
    return this.worker.describe(this.backendId);
  }

  close(): Promise<void> {
    return this.worker.closeBackend(this.backendId);
  }
}
