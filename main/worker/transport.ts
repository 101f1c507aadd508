/**
 * The one small adapter that hides how the model worker process is started: Node's
 * `child_process.fork` (through tsx, as bin/foresight.mjs loads TypeScript) or Electron's
 * `utilityProcess`. The client (client.ts) sees only `WorkerProcess`.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { WorkerRequest } from '../../common/worker-protocol.ts';

export type WorkerHost = 'child_process' | 'utility_process';

/** A started worker process, whatever started it. */
export interface WorkerProcess {
  readonly host: WorkerHost;
  readonly pid: number | undefined;
  /** False when the channel is closed (the process is gone or going). */
  send(message: WorkerRequest): boolean;
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Once, when the process has exited (and been reaped). */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** The channel failed (a message that could not be sent, a broken pipe). */
  onError(listener: (error: Error) => void): void;
}

export interface StartOptions {
  /** Absolute path of native-models/worker.ts. */
  entry: string;
  env: Record<string, string>;
}

export type StartWorker = (opts: StartOptions) => WorkerProcess;

/** util-linux's setpriv, which gives the worker a parent-death signal (Linux only). */
export function findSetpriv(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  return ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
}

/** tsx's loader as an absolute URL, so the worker loads TypeScript whatever the current directory. */
function tsxLoader(): string {
  return import.meta.resolve('tsx');
}

/**
 * Node: `child_process.fork` with structured-clone serialization (frames that do not go through
 * /dev/shm travel in the message as bytes, not as JSON arrays). On Linux the worker runs under
 * `setpriv --pdeathsig SIGKILL`, as the agent does under its supervisor: killed with the agent,
 * even by SIGKILL. fork() spawns `execPath …execArgv entry`, and setpriv execs node in place, so
 * the pid and the IPC channel are the worker's own. Its stdout goes to our stderr: the agent's
 * stdout carries `--json` lines.
 */
export const forkWorker: StartWorker = ({ entry, env }) => {
  const setpriv = findSetpriv();
  const nodeArgs = ['--import', tsxLoader()];
  const child = fork(entry, [], {
    env,
    serialization: 'advanced',
    stdio: ['ignore', 2, 2, 'ipc'],
    ...(setpriv ? { execPath: setpriv, execArgv: ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...nodeArgs] } : { execArgv: nodeArgs }),
  });
  return {
    host: 'child_process',
    get pid() {
      return child.pid;
    },
    send(message) {
      if (!child.connected) return false;
      try {
        // send() also returns false when a backlog waits (a large frame in the message): that
        // is back-pressure, not a closed channel; a failed write comes to the callback.
        child.send(message, (e) => {
          if (e) child.emit('error', e);
        });
        return true;
      } catch {
        return false;
      }
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    onMessage: (l) => void child.on('message', l),
    onExit: (l) => void child.once('exit', l),
    onError: (l) => void child.on('error', l),
  };
};

// ---------------------------------------------------------------- Electron

/** The part of Electron's `utilityProcess` module used here (main/shell passes it in; only it loads electron). */
export interface UtilityProcessModule {
  fork(modulePath: string, args?: string[], options?: { env?: Record<string, string>; execArgv?: string[]; serviceName?: string; stdio?: 'ignore' | 'inherit' | 'pipe' }): UtilityProcessChild;
}

export interface UtilityProcessChild {
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
  on(event: 'error', listener: (type: string, location: string, report: string) => void): this;
}

/**
 * Electron: a `utilityProcess` (a Node child of the app's main process, killed with it). Its
 * `kill()` is SIGTERM; SIGKILL goes to the pid. Electron reports an exit code only, so a killed
 * worker shows as code 1 or by the signal we sent.
 */
export function utilityProcessWorker(utilityProcess: UtilityProcessModule): StartWorker {
  return ({ entry, env }) => {
    const child = utilityProcess.fork(entry, [], { env, execArgv: ['--import', tsxLoader()], serviceName: 'Foresight model worker', stdio: 'inherit' });
    let alive = true;
    let sentSignal: NodeJS.Signals | null = null;
    child.on('exit', () => (alive = false));
    return {
      host: 'utility_process',
      get pid() {
        return child.pid;
      },
      send(message) {
        if (!alive) return false;
        child.postMessage(message);
        return true;
      },
      kill(signal) {
        if (!alive) return;
        sentSignal = signal;
        if (signal === 'SIGTERM' || child.pid === undefined) child.kill();
        else process.kill(child.pid, signal);
      },
      onMessage: (l) => void child.on('message', l),
      onExit: (l) => void child.on('exit', (code) => l(sentSignal ? null : code, sentSignal)),
      onError: (l) => void child.on('error', (type, location) => l(new Error(`utility process error ${type} at ${location}`))),
    };
  };
}
