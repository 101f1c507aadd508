/**
 * The agent's side of the model worker (native-models/worker.ts, started by path): the
 * supervised process, its transport, and the Planner/Grounder proxies the loop uses.
 */
export { describeCrash, ModelWorker, WORKER_ENTRY, type CrashReason, type ModelWorkerOptions, type WorkerEvent } from './client.ts';
export { ON_WORKER_CRASH, WorkerGrounder, WorkerPlanner, type OnWorkerCrash, type ProxyPolicy } from './proxies.ts';
export { forkWorker, utilityProcessWorker, type StartWorker, type UtilityProcessModule, type WorkerHost, type WorkerProcess } from './transport.ts';
export type { FrameTransfer } from './frames.ts';
