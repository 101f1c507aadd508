/**
 * The planner and grounder of `foresight run`, hosted by the model worker process
 * (main/worker/ starts native-models/worker.ts): the agent keeps only proxies of the ports, so a
 * model that hangs or crashes cannot take the agent down with it. What hosts them goes into the
 * episode's settings.
 */
import type { Grounder, Planner } from '../../common/ports.ts';
import type { BackendDescription, WorkerBackendOptions } from '../../common/worker-protocol.ts';
import { describeCrash, ModelWorker, WorkerGrounder, WorkerPlanner, type OnWorkerCrash, type WorkerEvent } from '../worker/index.ts';

/** The episode setting `models`: which process hosted the models, and what serves each. */
export interface ModelsSettings {
  host: 'worker';
  process: string;
  pid: number | undefined;
  frames: string;
  onWorkerCrash: OnWorkerCrash;
  planner: BackendDescription;
  grounder: BackendDescription;
}

export interface RunModels {
  planner: Planner;
  grounder: Grounder;
  settings: ModelsSettings;
  worker: ModelWorker;
  /** Closes the grounder and shuts the worker down (bounded; the process is reaped). */
  close(): Promise<void>;
}

/**
 * How long one request through the worker may take: every attempt the backend itself makes
 * (--timeout each, --retries resends 1, 2, 4… s apart), plus a minute for a first OCR request,
 * which starts Tesseract's workers.
 */
export function workerDeadlineMs(timeoutMs: number, retries: number): number {
  return timeoutMs * (retries + 1) + 1000 * (2 ** Math.min(retries, 10) - 1) + 60_000;
}

/** What the user sees of the worker's life: on stderr, so that --json's stdout stays JSON lines. */
function reportWorkerEvent(e: WorkerEvent, policy: OnWorkerCrash): void {
  const say = (s: string) => process.stderr.write(`foresight: ${s}\n`);
  if (e.type === 'crashed') {
    say(
      `the model worker (pid ${e.pid ?? '?'}) ${describeCrash(e.reason)}; ${e.failedRequests} request(s) lost` +
        (e.restartInMs !== undefined ? `; restarting it in ${e.restartInMs} ms${policy === 'retry' ? ' (lost requests are sent again, up to --retries times)' : ''}` : ''),
    );
  } else if (e.type === 'started' && e.restart > 0) {
    say(`the model worker is back (pid ${e.pid ?? '?'}, restart ${e.restart})`);
  } else if (e.type === 'gave_up') {
    say(`the model worker crashed ${e.crashes} times in a minute; it is not restarted again`);
  }
}

/** options: the planner's (and the grounder's, unless grounderOptions gives its own: another endpoint key). */
export async function startModels(o: { planner: string; grounder: string; options: WorkerBackendOptions; grounderOptions?: WorkerBackendOptions; onWorkerCrash: OnWorkerCrash }): Promise<RunModels> {
  const worker = await ModelWorker.start({ onEvent: (e) => reportWorkerEvent(e, o.onWorkerCrash) });
  try {
    const policy = { timeoutMs: workerDeadlineMs(o.options.timeoutMs ?? 120_000, o.options.retries ?? 0), onCrash: o.onWorkerCrash, retries: o.options.retries ?? 0 };
    const planner = await WorkerPlanner.create(worker, o.planner, o.options, policy);
    const grounder = await WorkerGrounder.create(worker, o.grounder, o.grounderOptions ?? o.options, policy);
    const [plannerDesc, grounderDesc] = await Promise.all([planner.describe(), grounder.describe()]);
    const settings: ModelsSettings = {
      host: 'worker',
      process: worker.host ?? 'child_process',
      pid: worker.pid,
      frames: worker.frameTransfer,
      onWorkerCrash: o.onWorkerCrash,
      planner: plannerDesc,
      grounder: grounderDesc,
    };
    let closed: Promise<void> | undefined;
    const close = () =>
      (closed ??= (async () => {
        await grounder.close().catch(() => {});
        await worker.close();
      })());
    return { planner, grounder, settings, worker, close };
  } catch (e) {
    await worker.close();
    throw e;
  }
}
