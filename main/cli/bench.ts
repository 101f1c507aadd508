/**
 * `foresight bench run` and `foresight bench compare`: the command-line face of main/replay.
 * Progress goes to stderr (a redrawn line on a terminal, a line every few seconds otherwise) so
 * stdout carries only the result (the summary JSON with --json).
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ForesightError, toErrorInfo } from '../../common/errors.ts';
import { renderComparison, sessionsNote } from '../replay/report.ts';
import { runSummarySchema, type RunSummary } from '../replay/run-summary.ts';
import { runBench, type BenchProgress } from '../replay/runner.ts';
import type { SuiteId } from '../replay/suite.ts';

export interface BenchRunCliOptions {
  suite: SuiteId;
  data: string;
  planner: string;
  grounder: string;
  split?: string;
  mode?: string;
  limit?: number;
  concurrency: number;
  horizon: number;
  retries: number;
  out: string;
  fresh?: boolean;
  apiKey?: string;
  timeout: number;
  json?: boolean;
}

export const BENCH_EXIT = { ok: 0, failed: 1, stopped: 130 } as const;

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

/** One progress line: a bar when the total is known, the rate and the ETA. */
export function formatProgress(p: BenchProgress, width = 28): string {
  const rate = p.rate >= 100 ? p.rate.toFixed(0) : p.rate.toFixed(2);
  const resumed = p.resumed > 0 ? `, ${p.resumed} from before` : '';
  if (p.total === undefined || p.total === 0) return `${p.done} steps  ${rate} steps/s${resumed}`;
  const frac = Math.min(1, p.done / p.total);
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const eta = p.etaMs !== undefined ? `  ETA ${formatDuration(p.etaMs)}` : '';
  return `[${bar}] ${p.done}/${p.total} ${(frac * 100).toFixed(1)}%  ${rate} steps/s${eta}${resumed}`;
}

function progressPrinter(): { onProgress: (p: BenchProgress) => void; end: () => void } {
  const err = process.stderr;
  let last = 0;
  let pending: BenchProgress | undefined;
  let printed: BenchProgress | undefined;
  const tty = err.isTTY === true;
  return {
    onProgress(p) {
      pending = p;
      const t = performance.now();
      if (tty) {
        if (t - last < 100 && p.done !== p.total) return;
        last = t;
        err.write(`\r${formatProgress(p)}\x1b[K`);
      } else if (t - last >= 5000 || last === 0) {
        last = t;
        printed = p;
        err.write(formatProgress(p) + '\n');
      }
    },
    end() {
      if (tty && pending) err.write(`\r${formatProgress(pending)}\x1b[K\n`);
      else if (pending && pending !== printed) err.write(formatProgress(pending) + '\n');
    },
  };
}

function pct(v: number | undefined | null): string {
  return v === undefined || v === null || Number.isNaN(v) ? '—' : `${(v * 100).toFixed(1)}%`;
}

export function formatSummary(s: RunSummary, outDir: string): string {
  const lines: string[] = [];
  lines.push(`${s.run.title}${s.run.split ? ` (${s.run.split})` : ''}${s.run.mode ? ` [${s.run.mode}]` : ''}: ${s.steps.scored} steps`);
  lines.push(`planner ${s.run.planner}, grounder ${s.run.grounder}, horizon ${s.run.horizon}`);
  for (const [name, v] of Object.entries(s.suite.metrics)) lines.push(`  ${name.padEnd(24)} ${pct(v)}`);
  const h = s.forecast.horizon.map((x) => `k=${x.k} ${pct(x.accuracy)}`).join('  ');
  lines.push(`  forecast accuracy by horizon: ${h}`);
  lines.push(`  stage-1 reward (mean) ${s.forecast.reward.mean.toFixed(3)}, accuracy ${s.forecast.reward.accuracy.toFixed(3)}`);
  if (s.steps.unparsed > 0) lines.push(`  ${s.steps.unparsed} answer${s.steps.unparsed === 1 ? '' : 's'} could not be parsed (scored as wrong)`);
  if (s.steps.failed > 0) lines.push(`  ${s.steps.failed} step${s.steps.failed === 1 ? '' : 's'} could not be grounded (scored as misses)`);
  lines.push(`  ${s.timing.stepsPerSecond.toFixed(2)} steps/s over ${(s.timing.wallMs / 1000).toFixed(1)} s${sessionsNote(s.timing.sessions)}${s.timing.plannerLatencyMs ? `, planner p50 ${Math.round(s.timing.plannerLatencyMs.p50)} ms` : ''}`);
  lines.push(`report: ${join(outDir, 'report.html')}`);
  return lines.join('\n');
}

export async function benchRunCommand(o: BenchRunCliOptions): Promise<number> {
  const apiKey = o.apiKey ?? process.env.FORESIGHT_API_KEY;
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    // The first Ctrl+C finishes the steps in flight and keeps them; a second one quits at once.
    if (++interrupts > 1) process.exit(BENCH_EXIT.stopped);
    process.stderr.write('\nStopping after the steps in flight (Ctrl+C again to quit at once)…\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const progress = progressPrinter();
  try {
    const result = await runBench({
      suite: o.suite,
      data: o.data,
      planner: o.planner,
      grounder: o.grounder,
      ...(o.split !== undefined ? { split: o.split } : {}),
      ...(o.mode !== undefined ? { mode: o.mode } : {}),
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      concurrency: o.concurrency,
      horizon: o.horizon,
      retries: o.retries,
      out: o.out,
      ...(o.fresh ? { fresh: true } : {}),
      ...(apiKey ? { apiKey } : {}),
      timeoutMs: o.timeout,
      signal: controller.signal,
      onProgress: progress.onProgress,
    });
    progress.end();
    process.stdout.write((o.json ? JSON.stringify(result.summary) : formatSummary(result.summary, result.outDir)) + '\n');
    return BENCH_EXIT.ok;
  } catch (e) {
    progress.end();
    const info = toErrorInfo(e);
    if (info.code === 'STOPPED') {
      process.stderr.write(`foresight: ${info.message}\n`);
      return BENCH_EXIT.stopped;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/** Reads a run's summary.json, given the run's folder or the file itself. */
export async function readRunSummary(pathOrDir: string): Promise<RunSummary> {
  let path = resolve(pathOrDir);
  try {
    if ((await stat(path)).isDirectory()) path = join(path, 'summary.json');
  } catch {
    throw new ForesightError('NOT_FOUND', `No run at ${path}; give the --out folder of a finished \`foresight bench run\``);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ForesightError('NOT_FOUND', `${path} does not exist; is the run finished? Run the same \`bench run\` command again to finish it`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ForesightError('BAD_INPUT', `${path} is not JSON`);
  }
  const parsed = runSummarySchema.safeParse(json);
  if (!parsed.success) {
    throw new ForesightError('BAD_INPUT', `${path} is not a Foresight run summary: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data as RunSummary;
}

export function formatComparison(runs: readonly RunSummary[]): string {
  const names = runs.map((r, i) => `#${i + 1}`);
  const lines: string[] = [];
  runs.forEach((r, i) => lines.push(`${names[i]}: ${r.run.title}${r.run.split ? ` (${r.run.split})` : ''}, planner ${r.run.planner}, grounder ${r.run.grounder}, ${r.steps.scored} steps`));
  const metricNames = [...new Set(runs.flatMap((r) => Object.keys(r.suite.metrics)))];
  const K = Math.max(...runs.map((r) => r.forecast.horizon.length));
  const rows: [string, (number | null | undefined)[]][] = [
    ...metricNames.map((m): [string, (number | undefined)[]] => [m, runs.map((r) => r.suite.metrics[m])]),
    ...Array.from({ length: K }, (_, k): [string, (number | null | undefined)[]] => [`horizon k=${k + 1}`, runs.map((r) => r.forecast.horizon[k]?.accuracy)]),
    ['stage-1 reward', runs.map((r) => r.forecast.reward.mean)],
  ];
  const w = Math.max(16, ...rows.map(([n]) => n.length));
  lines.push('');
  lines.push(`${'metric'.padEnd(w)}  ${names.map((n) => n.padStart(8)).join('  ')}${runs.length === 2 ? '         Δ' : ''}`);
  for (const [name, vals] of rows) {
    const isReward = name === 'stage-1 reward';
    const cell = (v: number | null | undefined) => (isReward ? (v === undefined || v === null ? '—' : v.toFixed(3)) : pct(v));
    let delta = '';
    if (runs.length === 2) {
      const [a, b] = vals;
      delta =
        typeof a === 'number' && typeof b === 'number'
          ? (isReward ? (b - a >= 0 ? '+' : '') + (b - a).toFixed(3) : `${b - a >= 0 ? '+' : ''}${((b - a) * 100).toFixed(1)} pt`).padStart(10)
          : '—'.padStart(10);
    }
    lines.push(`${name.padEnd(w)}  ${vals.map((v) => cell(v).padStart(8)).join('  ')}${delta}`);
  }
  return lines.join('\n');
}

export async function benchCompareCommand(dirs: readonly string[], o: { json?: boolean; out?: string }): Promise<number> {
  if (dirs.length < 2) throw new ForesightError('BAD_INPUT', 'bench compare needs at least two runs (their --out folders)');
  const runs = await Promise.all(dirs.map((d) => readRunSummary(d)));
  const suites = new Set(runs.map((r) => r.run.suite));
  if (o.out) await writeFile(resolve(o.out), renderComparison(runs));
  if (o.json) {
    process.stdout.write(JSON.stringify({ runs: runs.map((r) => ({ run: r.run, metrics: r.suite.metrics, horizon: r.forecast.horizon, reward: r.forecast.reward })) }) + '\n');
  } else {
    if (suites.size > 1) process.stdout.write(`Note: these runs are of different suites (${[...suites].join(', ')}); only metrics with the same name are lined up.\n`);
    process.stdout.write(formatComparison(runs) + '\n');
    if (o.out) process.stdout.write(`comparison: ${resolve(o.out)}\n`);
  }
  return BENCH_EXIT.ok;
}

// The command that continues a run: in common/ so that the app's benchmark view shows the same one.
export { resumeCommand } from '../../common/bench-resume.ts';
import { resumeCommand } from '../../common/bench-resume.ts';

/** `foresight bench status <out>`: where a run stands, and how to go on. */
export async function benchStatusCommand(dir: string, o: { json?: boolean }): Promise<number> {
  const outDir = resolve(dir);
  const file = join(outDir, 'run.sqlite');
  try {
    await stat(file);
  } catch {
    throw new ForesightError('NOT_FOUND', `No run in ${outDir} (no run.sqlite); give the --out folder of a \`foresight bench run\``);
  }
  const { BenchRunStore, isWriterAlive } = await import('../../store/index.ts');
  const store = BenchRunStore.open(file);
  try {
    const run = store.run();
    if (!run) throw new ForesightError('NOT_FOUND', `${file} holds no run yet`);
    const scored = store.countSteps();
    const interrupted = run.status === 'running' && !isWriterAlive(run.pid, run.pidStart);
    const status = interrupted ? 'interrupted' : run.status;
    const error = run.error as { code?: string; message?: string } | null;
    const resume = status === 'finished' ? undefined : resumeCommand(run.config, outDir);
    if (o.json) {
      process.stdout.write(
        JSON.stringify({ id: run.id, suite: run.suite, status, scored, total: run.totalSteps, config: run.config, activeMs: run.activeMs, sessions: run.sessions, error, resume: resume ?? null }) + '\n',
      );
      return 0;
    }
    const lines = [
      `${run.suite} run ${run.id}: ${status}${run.status === 'running' && !interrupted ? ` (process ${run.pid} is writing it)` : ''}`,
      `  steps scored ${scored}${run.totalSteps !== null ? ` of ${run.totalSteps}` : ''}, active ${(run.activeMs / 1000).toFixed(1)} s${
        run.sessions > 1 ? ` over ${run.sessions} sessions` : ''
      }`,
      `  planner ${String(run.config.planner)}, grounder ${String(run.config.grounder)}, data ${String(run.config.data)}`,
    ];
    if (error?.message) lines.push(`  stopped by: ${error.code ?? ''} ${error.message}`.trimEnd());
    if (status === 'finished') lines.push(`  summary: ${join(outDir, 'summary.json')}, report: ${join(outDir, 'report.html')}`);
    else if (resume) lines.push(`  to go on: ${resume}`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    store.close();
  }
}
