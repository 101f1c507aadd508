/**
 * `foresight` — the command line. This is a process entry point: it wires the adapters
 * (desktop, planner, grounder, store, gate) into the agent loop by plain constructor calls.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { ForesightError, isForesightError, toErrorInfo } from '../../common/errors.ts';
import { MAX_FORECAST_STEPS } from '../../common/formats/index.ts';
import { APPROVAL_POLICIES, type ApprovalPolicy, type HumanGate } from '../../common/ports.ts';
import { DEFAULT_AGENT_CONFIG, runEpisode, type AgentEvent } from '../agent/loop.ts';
import { registerModelsCommand } from '../../native-models/models-command.ts';
import { createDesktop } from '../desktop/index.ts';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { formatEvent } from './format.ts';
import { TerminalGate } from './terminal-gate.ts';
import { AppChannel, AppGate, appObserver, parseZone } from './app-gate.ts';
import type { Rect } from '../../common/coords.ts';
import { printEpisode, printEpisodeList } from './episodes.ts';
import { isSupervised, SupervisorLink } from './supervised.ts';
import { busyPlanner } from './test-hooks.ts';
import { startModels } from './models.ts';
import { ON_WORKER_CRASH, type OnWorkerCrash } from '../worker/index.ts';
import type { BenchRunCliOptions } from './bench.ts';
import { SUITE_IDS } from '../replay/suite.ts';
import { REPLAY_PLANNER_FORMS } from '../replay/planners.ts';

export function defaultDbPath(): string {
  return join(envPaths('foresight', { suffix: '' }).data, 'foresight.db');
}

function openStore(db: string | undefined, pid?: number): SqliteEpisodeStore {
  const path = resolve(db ?? defaultDbPath());
  mkdirSync(dirname(path), { recursive: true });
  return SqliteEpisodeStore.open(path, pid !== undefined ? { pid } : {});
}

const int = (name: string, min: number, max = Infinity) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(max === Infinity ? `${name} must be a whole number ≥ ${min}` : `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
};

const EXIT = { finished: 0, failed: 1, usage: 2, needs_user: 3, stopped: 130 } as const;

interface RunOptions {
  planner: string;
  grounder: string;
  approve: ApprovalPolicy;
  db?: string;
  maxSteps: number;
  horizon: number;
  retries: number;
  json?: boolean;
  apiKey?: string;
  grounderApiKey?: string;
  timeout: number;
  killKey: string;
  display?: string;
  settleMinMs?: number;
  settleQuietMs?: number;
  settleMethod: 'auto' | 'pixels';
  /** Who approves: a person on this terminal, or the app that started the run (JSON lines on stdin/stdout). */
  gate: 'terminal' | 'app';
  keepOut: Rect[];
  onWorkerCrash: OnWorkerCrash;
  speculate: 'on' | 'off';
}

/**
 * The planner's and the grounder's endpoint keys: --api-key or $FORESIGHT_API_KEY for both, unless
 * the grounder has its own (--grounder-api-key or $FORESIGHT_GROUNDER_API_KEY; empty: none).
 */
export function endpointKeys(o: Pick<RunOptions, 'apiKey' | 'grounderApiKey'>, env: NodeJS.ProcessEnv): { planner?: string; grounder?: string } {
  const planner = o.apiKey ?? env.FORESIGHT_API_KEY;
  const grounder = o.grounderApiKey ?? env.FORESIGHT_GROUNDER_API_KEY ?? planner;
  return { ...(planner ? { planner } : {}), ...(grounder ? { grounder } : {}) };
}

async function runCommand(task: string, opts: RunOptions): Promise<number> {
  // The app reads every event as a JSON line.
  const o: RunOptions = opts.gate === 'app' ? { ...opts, json: true } : opts;
  const out = (s: string) => process.stdout.write(s + '\n');
  const appChannel = o.gate === 'app' ? new AppChannel(process.stdin, (line) => out(JSON.stringify(line))) : undefined;
  const noClickZones: Rect[] = appChannel ? appChannel.noClickZones : [];
  noClickZones.push(...o.keepOut);
  const keys = endpointKeys(o, process.env);
  // Under the supervisor (bin/foresight.mjs) the hotkey and the signals are watched there,
  // where no busy event loop of this process can delay them, and xdotool is its child.
  const supervisor = isSupervised() ? new SupervisorLink() : undefined;
  // The planner and grounder run in the model worker process, started while the desktop adapters
  // are made (its start-up takes seconds). Endpoint faults are retried as often as malformed
  // answers are re-asked (--retries), and so is a request lost in a crash.
  const [madeModels, madeDesktop] = await Promise.allSettled([
    startModels({
      planner: o.planner,
      grounder: o.grounder,
      options: { ...(keys.planner ? { apiKey: keys.planner } : {}), timeoutMs: o.timeout, retries: o.retries },
      grounderOptions: { ...(keys.grounder ? { apiKey: keys.grounder } : {}), timeoutMs: o.timeout, retries: o.retries },
      onWorkerCrash: o.onWorkerCrash,
    }),
    createDesktop({
      killHotkey: o.killKey,
      tools: supervisor ? supervisor.runTool : 'host',
      ...(o.display ? { displayId: o.display } : {}),
      settle: {
        ...(o.settleMinMs !== undefined ? { minWaitMs: o.settleMinMs } : {}),
        ...(o.settleQuietMs !== undefined ? { quietMs: o.settleQuietMs } : {}),
      },
      settleMethod: o.settleMethod,
    }),
  ]);
  if (madeModels.status === 'rejected' || madeDesktop.status === 'rejected') {
    // The IPC channels (supervisor, worker, app) would keep this process alive.
    supervisor?.close();
    appChannel?.close();
    if (madeModels.status === 'fulfilled') await madeModels.value.close();
    if (madeDesktop.status === 'fulfilled') await madeDesktop.value.close({ keepXConnection: true });
    // A planner or grounder that cannot be made is the user's to fix first (a usage error).
    throw madeModels.status === 'rejected' ? madeModels.reason : (madeDesktop as PromiseRejectedResult).reason;
  }
  const models = madeModels.value;
  const desktop = madeDesktop.value;
  const planner = busyPlanner(models.planner);
  const grounder = models.grounder;
  // The episode's process is the `foresight run` a user sees (and kills): the supervisor. The
  // agent dies with it; once killed, the agent may linger as a zombie until it is reaped.
  let store: SqliteEpisodeStore;
  try {
    store = openStore(o.db, supervisor ? process.ppid : undefined);
  } catch (e) {
    supervisor?.close();
    appChannel?.close();
    await models.close();
    await desktop.close({ keepXConnection: true });
    throw e;
  }
  const kill = desktop.killSwitch;
  supervisor?.attach(kill);
  let interrupts = 0;
  const onSigint = () => {
    // The first Ctrl+C stops the episode cleanly (it is recorded as stopped); a second one quits at once.
    if (++interrupts > 1) process.exit(EXIT.stopped);
    kill.trigger('SIGINT');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let gate: HumanGate;
  let terminalGate: TerminalGate | undefined;
  if (o.approve === 'never') {
    gate = { review: async () => ({ kind: 'approve' }) };
  } else if (appChannel) {
    gate = new AppGate(appChannel, (line) => out(JSON.stringify(line)));
  } else {
    terminalGate = new TerminalGate(process.stdin, o.json ? process.stderr : process.stdout, () => kill.trigger('approval'));
    gate = terminalGate;
  }
  const db = resolve(o.db ?? defaultDbPath());
  const onEvent = (e: AgentEvent) => {
    supervisor?.report(e, db, o.json === true);
    out(o.json ? JSON.stringify(e) : formatEvent(e));
  };
  try {
    if (supervisor) await supervisor.arm();
    else kill.start();
    if (!o.json) {
      out(`Kill switch: ${o.killKey} (or Ctrl+C) stops the agent at once.`);
      out(`Settle: ${desktop.settleDetector.describe()}.`);
    }
    const outcome = await runEpisode(
      {
        ...DEFAULT_AGENT_CONFIG,
        task,
        horizon: o.horizon,
        maxSteps: o.maxSteps,
        approval: o.approve,
        maxParseRetries: o.retries,
        noClickZones,
        settings: { models: models.settings },
        speculate: o.speculate === 'on',
      },
      {
        observer: appChannel ? appObserver(desktop.observer, appChannel, (line) => out(JSON.stringify(line))) : desktop.observer,
        input: desktop.input, planner, grounder, store, gate, onEvent },
      kill.signal,
    );
    if (o.json) out(JSON.stringify({ type: 'summary', ...outcome }));
    return EXIT[outcome.status];
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    terminalGate?.close();
    appChannel?.close();
    supervisor?.close();
    // The X server outlives this command: libnut's connection may close at exit.
    await desktop.close({ keepXConnection: true });
    await models.close();
    store.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('foresight')
    .description('A desktop agent that plans ahead: it forecasts the next steps, executes the first, looks again, forecasts anew.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('Run one task on this desktop')
    .argument('<task>', 'what to do, in words')
    .requiredOption('--planner <spec>', 'openai:<baseURL>#<model> or script:<file>')
    .option('--grounder <spec>', 'ocr:paddle (PP-OCRv4, the default), ocr (Tesseract), none, or openai:<baseURL>#<model>', 'ocr:paddle')
    .addOption(new Option('--approve <policy>', 'ask a person: never, before each step, or when the forecast changes').choices([...APPROVAL_POLICIES]).default('never'))
    .option('--db <file>', `episode database (default ${defaultDbPath()})`)
    .option('--max-steps <n>', 'step budget', int('--max-steps', 1), DEFAULT_AGENT_CONFIG.maxSteps)
    .option('--horizon <k>', 'steps to forecast each time', int('--horizon', 1, MAX_FORECAST_STEPS), DEFAULT_AGENT_CONFIG.horizon)
    .option('--retries <n>', 're-ask a malformed answer, and resend a failed model request, this many times', int('--retries', 0), DEFAULT_AGENT_CONFIG.maxParseRetries)
    .option('--api-key <key>', 'API key of the model endpoint (default: $FORESIGHT_API_KEY)')
    .option('--grounder-api-key <key>', "API key of the grounder's endpoint, when it is not the planner's (default: $FORESIGHT_GROUNDER_API_KEY, else --api-key)")
    .option('--timeout <ms>', 'deadline of each model request, response headers and body', int('--timeout', 1), 120_000)
    .option('--kill-key <combo>', 'global hotkey that stops the agent', 'ctrl+alt+k')
    .option('--display <id>', 'display to observe (default: the primary one)')
    .option('--settle-min-ms <ms>', 'wait at least this long after an action before the screen may count as settled (default 100; lower is faster, but slow widgets may not be ready)', int('--settle-min-ms', 0))
    .option('--settle-quiet-ms <ms>', 'with X damage events: the screen counts as settled once nothing has drawn for this long (default 120)', int('--settle-quiet-ms', 1))
    .addOption(new Option('--settle-method <how>', 'how to tell that the screen is still: X damage events where the X server has them (auto), or comparing captures (pixels)').choices(['auto', 'pixels']).default('auto'))
    .addOption(
      new Option('--on-worker-crash <policy>', 'when the model worker process crashes mid-request: send the request again to the restarted worker (retry, at most --retries times) or end the episode with WORKER_CRASHED (fail)')
        .choices([...ON_WORKER_CRASH])
        .default('retry'),
    )
    .addOption(
      new Option('--speculate <on|off>', 'ask the model about the screen before it has settled, cancelling the request when it changes (off: one request per step, for endpoints that charge per request)')
        .choices(['on', 'off'])
        .default('on'),
    )
    .option('--json', 'print events as JSON lines')
    .addOption(new Option('--gate <who>', 'who approves: a person on this terminal, or the app that started the run (JSON lines on stdin and stdout; implies --json)').choices(['terminal', 'app']).default('terminal'))
    .option('--keep-out <x,y,w,h>', 'a screen rectangle (global pixels) the agent must never click into, e.g. the app window; repeatable', (v: string, prev: Rect[]) => [...prev, parseZone(v)], [] as Rect[])
    .action(async (task: string, opts: RunOptions) => {
      program.setOptionValue('exitCode', await runCommand(task, opts));
    });

  const episodes = program.command('episodes').description('Look at recorded episodes');
  episodes
    .command('list')
    .option('--db <file>', 'episode database')
    .option('--limit <n>', 'how many', int('--limit', 1), 50)
    .option('--json', 'print JSON')
    .action((opts: { db?: string; limit: number; json?: boolean }) => {
      const store = openStore(opts.db);
      try {
        printEpisodeList(store.listEpisodes({ limit: opts.limit }), opts.json === true);
      } finally {
        store.close();
      }
    });
  episodes
    .command('show')
    .argument('<id>', 'episode id (a unique prefix is enough)')
    .option('--db <file>', 'episode database')
    .option('--json', 'print JSON')
    .action((id: string, opts: { db?: string; json?: boolean }) => {
      const store = openStore(opts.db);
      try {
        printEpisode(store, id, opts.json === true);
      } finally {
        store.close();
      }
    });

  const bench = program.command('bench').description('Replay public GUI-agent benchmarks offline and score them with their official metrics');
  bench
    .command('run')
    .description('Replay a benchmark step by step through a planner and a grounder (resumable: run the same command again)')
    .addOption(new Option('--suite <suite>', 'benchmark').choices([...SUITE_IDS]).makeOptionMandatory())
    .requiredOption('--data <path>', "the benchmark's data as released (a folder or file; for episodes: an episode database)")
    .requiredOption('--planner <spec>', REPLAY_PLANNER_FORMS.join('; '))
    .option('--grounder <spec>', "none (the planner's own point), ocr, or openai:<baseURL>#<model>", 'none')
    .option('--split <name>', "the suite's split (default: its test split)")
    .option('--mode <mode>', 'androidcontrol, gui-odyssey: high (the goal only, default) or low (goal and step instruction)')
    .option('--limit <n>', 'replay only the first n steps', int('--limit', 1))
    .option('--concurrency <n>', 'steps planned at once', int('--concurrency', 1), 1)
    .option('--horizon <k>', 'steps to forecast, scored against the true future', int('--horizon', 1, MAX_FORECAST_STEPS), DEFAULT_AGENT_CONFIG.horizon)
    .option('--retries <n>', 're-ask a malformed answer this many times', int('--retries', 0), DEFAULT_AGENT_CONFIG.maxParseRetries)
    .requiredOption('--out <dir>', 'folder of the run: run.sqlite, summary.json, report.html, predictions/')
    .option('--fresh', 'discard what --out holds and start over')
    .option('--api-key <key>', 'API key of the model endpoint (default: $FORESIGHT_API_KEY)')
    .option('--timeout <ms>', 'deadline of each model request, response headers and body', int('--timeout', 1), 120_000)
    .option('--json', 'print the summary as JSON')
    .action(async (opts: BenchRunCliOptions) => {
      const { benchRunCommand } = await import('./bench.ts');
      program.setOptionValue('exitCode', await benchRunCommand(opts));
    });
  bench
    .command('status')
    .description('Where a run stands (scored steps, status, why it stopped) and the command that continues it')
    .argument('<out>', 'the --out folder of a run')
    .option('--json', 'print JSON')
    .action(async (out: string, opts: { json?: boolean }) => {
      const { benchStatusCommand } = await import('./bench.ts');
      program.setOptionValue('exitCode', await benchStatusCommand(out, opts));
    });
  bench
    .command('compare')
    .description('Compare finished runs side by side')
    .argument('<runs...>', 'the --out folders of two or more runs')
    .option('--out <file>', 'also write an HTML comparison')
    .option('--json', 'print JSON')
    .action(async (runs: string[], opts: { out?: string; json?: boolean }) => {
      const { benchCompareCommand } = await import('./bench.ts');
      program.setOptionValue('exitCode', await benchCompareCommand(runs, opts));
    });

  registerModelsCommand(program, (code) => program.setOptionValue('exitCode', code));

  program
    .command('app')
    .description('Start the app: the episode viewer on 127.0.0.1 (in Electron when its binary is installed, else in your browser)')
    .option('--db <file>', `episode database (default ${defaultDbPath()})`)
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', int('--port', 1))
    .option('--no-open', 'do not open a window; just print the link')
    // A packaged app's Electron main starts the server so: API keys then come from main (safeStorage).
    .addOption(new Option('--shell <shell>', 'which shell shows the app').choices(['browser', 'electron']).hideHelp())
    .action(async (opts: { db?: string; port?: number; open: boolean; shell?: 'browser' | 'electron' }) => {
      const { startApp } = await import('../shell/start.ts');
      program.setOptionValue(
        'exitCode',
        await startApp({
          db: resolve(opts.db ?? defaultDbPath()),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          open: opts.open,
          ...(opts.shell ? { shell: opts.shell } : {}),
        }),
      );
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return (program.getOptionValue('exitCode') as number | undefined) ?? 0;
  } catch (e) {
    if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' && e.code.startsWith('commander.')) {
      // Help and --version end with exit code 0; every other commander error is bad usage (its own code is 1).
      const ce = e as { exitCode?: number; code: string };
      return ce.exitCode === 0 ? 0 : EXIT.usage;
    }
    const info = toErrorInfo(e);
    process.stderr.write(`foresight: ${info.code}: ${info.message}\n`);
    return isForesightError(e) && (e.code === 'BAD_INPUT' || e.code === 'NOT_FOUND') ? EXIT.usage : EXIT.failed;
  }
}

export { ForesightError };
