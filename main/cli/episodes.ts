import { describeAction } from '../../common/actions.ts';
import type { EpisodeSummary, SqliteEpisodeStore, StoredEpisode, StoredExecution, StoredStep } from '../../store/index.ts';
import { formatForecast } from './format.ts';

/** How far a step got with acting, from its write-ahead execution records. */
const STEP_STATE: Record<StoredStep['executionState'], string> = {
  not_started: 'no action started',
  done: 'acted',
  unknown: 'an action was started, outcome unknown',
};

function executionLine(x: StoredExecution, episodeRunning: boolean): string {
  if (x.result === 'unknown') {
    // The intent was committed before acting and nothing after: the process died in the action.
    return `    ${episodeRunning ? 'in progress' : 'started, outcome unknown'}: ${describeAction(x.action)}`;
  }
  // Nothing was sent: the forecast's frame was no longer what the screen showed.
  if (x.result === 'stale') return `    stale, not executed: ${describeAction(x.action)}${x.error ? ` — ${x.error.message}` : ''}`;
  return `    ${x.result}: ${describeAction(x.action)}${x.error ? ` — ${x.error.message}` : ''}`;
}

const time = (ms: number | undefined) => (ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

export function printEpisodeList(list: EpisodeSummary[], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    return;
  }
  if (list.length === 0) {
    process.stdout.write('No episodes yet. Start one with: foresight run "<task>" --planner <spec>\n');
    return;
  }
  for (const e of list) {
    process.stdout.write(
      `${e.id}  ${e.status.padEnd(11)} ${String(e.stepCount).padStart(3)} steps  ${time(e.startedAt)}  ${e.task}${e.error ? `  (${e.error.code})` : ''}\n`,
    );
  }
}

/** Finds an episode by id or by a unique id prefix. */
export function resolveEpisode(store: SqliteEpisodeStore, idOrPrefix: string): StoredEpisode {
  return store.getEpisode(store.resolveEpisodeId(idOrPrefix));
}

export function printEpisode(store: SqliteEpisodeStore, id: string, json: boolean): void {
  const e = resolveEpisode(store, id);
  if (json) {
    process.stdout.write(JSON.stringify(e, null, 2) + '\n');
    return;
  }
  const w = (s: string) => process.stdout.write(s + '\n');
  w(`Episode ${e.id}: ${e.task}`);
  w(`  status ${e.status}${e.error ? ` — ${e.error.code}: ${e.error.message}` : ''}${e.answer !== undefined ? `; answer: ${e.answer}` : ''}`);
  w(`  planner ${e.planner}, grounder ${e.grounder}; started ${time(e.startedAt)}, ended ${time(e.endedAt)}`);
  const speculate = e.settings.speculate === false ? 'off' : e.settings.speculate === true ? 'on' : 'not recorded';
  w(`  speculation ${speculate}: ${e.cancelledRequests} request${e.cancelledRequests === 1 ? '' : 's'} cancelled, ${e.staleForecasts} stale forecast${e.staleForecasts === 1 ? '' : 's'}`);
  for (const s of e.steps) {
    const cancelled = s.cancelledRequests > 0 ? `  ${s.cancelledRequests} request${s.cancelledRequests === 1 ? '' : 's'} on earlier frames cancelled` : '';
    w(`\n  Step ${s.stepNumber} (${STEP_STATE[s.executionState]})  screenshot ${s.screenshotPath}${s.settle ? `  settled=${s.settle.settled} in ${Math.round(s.settle.waitedMs)} ms` : ''}${cancelled}`);
    for (const f of s.forecasts) {
      if (f.forecast) w(`    forecast #${f.attempt} (${Math.round(f.latencyMs)} ms):\n${formatForecast(f.forecast, '      ')}`);
      else w(`    forecast #${f.attempt} failed: ${f.error?.code}: ${f.error?.message}`);
    }
    for (const g of s.groundings) {
      w(
        g.error
          ? `    grounding of step ${g.forecastStepIndex + 1} failed: ${g.error.message}`
          : `    grounded step ${g.forecastStepIndex + 1} at (${Math.round(g.point.x)}, ${Math.round(g.point.y)}) by ${g.grounder}`,
      );
    }
    for (const a of s.approvals) w(`    ${a.decision} (${a.policy})${a.reason ? `: ${a.reason}` : ''}${a.edited ? `; edited to: ${describeAction(a.edited.steps[0]!.action)}` : ''}`);
    for (const x of s.executions) w(executionLine(x, e.status === 'running'));
  }
}
