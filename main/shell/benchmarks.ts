/**
 * The benchmark view's data: the `foresight bench run --out` folders under a folder the user
 * picked — each one's status, headline figures and the command that resumes it. A run's report
 * is served by an opaque id this listing hands out (`/bench-reports/<id>/report.html`), so the page
 * never names a path the server would read.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { resumeCommand } from '../../common/bench-resume.ts';
import type { BenchRunView } from '../../common/contract.ts';
import { ForesightError, toErrorInfo } from '../../common/errors.ts';
import { errorInfoSchema } from '../../common/schemas.ts';
import { BenchRunStore, isWriterAlive } from '../../store/index.ts';

const summaryFigures = z.object({
  suite: z.object({ metrics: z.record(z.string(), z.number().nullable()) }).optional(),
  forecast: z.object({ reward: z.object({ mean: z.number() }).optional() }).optional(),
});

/** At most this many reports are remembered (each listing replaces what an earlier one handed out for the same folder). */
const MAX_REPORTS = 1000;

export class BenchmarkFolders {
  /** id → run folder, for the reports this server may serve. */
  private readonly reports = new Map<string, string>();

  list(folder: string): { folder: string; runs: BenchRunView[] } {
    const root = resolve(folder);
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      throw new ForesightError('NOT_FOUND', `${root} is not a folder; pick the --out folder of a benchmark run, or the folder that holds several`, { folder: root });
    }
    const dirs = existsSync(join(root, 'run.sqlite'))
      ? [root]
      : readdirSync(root, { withFileTypes: true })
          .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'run.sqlite')))
          .map((d) => join(root, d.name))
          .sort();
    return { folder: root, runs: dirs.map((d) => this.view(d)) };
  }

  private view(dir: string): BenchRunView {
    const id = randomUUID();
    const updatedAt = statSync(join(dir, 'run.sqlite')).mtimeMs;
    let store: BenchRunStore | undefined;
    try {
      store = BenchRunStore.open(join(dir, 'run.sqlite'));
      const run = store.run();
      if (!run) return { id, dir, name: basename(dir), suite: '?', status: 'empty', scoredSteps: 0, figures: {}, updatedAt };
      const status = run.status === 'running' && !isWriterAlive(run.pid, run.pidStart) ? 'interrupted' : run.status;
      const figures: Record<string, number> = {};
      const summaryFile = join(dir, 'summary.json');
      if (existsSync(summaryFile)) {
        const s = summaryFigures.safeParse(JSON.parse(readFileSync(summaryFile, 'utf8')));
        if (s.success) {
          for (const [k, v] of Object.entries(s.data.suite?.metrics ?? {})) if (v !== null) figures[k] = v;
          if (s.data.forecast?.reward) figures.reward = s.data.forecast.reward.mean;
        }
      }
      const hasReport = existsSync(join(dir, 'report.html'));
      if (hasReport) this.remember(id, dir);
      const error = errorInfoSchema.safeParse(run.error);
      return {
        id,
        dir,
        name: basename(dir),
        suite: run.suite,
        status,
        scoredSteps: store.countSteps(),
        ...(run.totalSteps !== null ? { totalSteps: run.totalSteps } : {}),
        figures,
        ...(hasReport ? { reportPath: `/bench-reports/${id}/report.html` } : {}),
        ...(status !== 'finished' ? { resumeCommand: resumeCommand(run.config, dir) } : {}),
        ...(error.success ? { error: error.data } : {}),
        updatedAt: Math.max(updatedAt, run.updatedAt),
      };
    } catch (e) {
      return { id, dir, name: basename(dir), suite: '?', status: 'unreadable', scoredSteps: 0, figures: {}, error: toErrorInfo(e), updatedAt };
    } finally {
      store?.close();
    }
  }

  private remember(id: string, dir: string): void {
    for (const [k, v] of this.reports) if (v === dir) this.reports.delete(k);
    this.reports.set(id, dir);
    if (this.reports.size > MAX_REPORTS) this.reports.delete(this.reports.keys().next().value!);
  }

  /** The report.html of a listed run, or NOT_FOUND. */
  report(id: string): Buffer {
    const dir = this.reports.get(id);
    if (!dir) throw new ForesightError('NOT_FOUND', 'No such report: list the benchmark folder again');
    return readFileSync(join(dir, 'report.html'));
  }
}
