/**
 * The episode list's filters: what the person typed and chose, kept in the URL's query (so a
 * reload or a shared link shows the same list), applied to the summaries the server sent.
 */
import type { EpisodeSummaryView } from '../../common/contract.ts';
import { APPROVAL_POLICIES, EPISODE_STATUSES, type ApprovalPolicy, type EpisodeStatus } from '../../common/ports.ts';

export interface EpisodeFilters {
  /** Words that must all appear in the task, the id, the answer or the error. */
  q: string;
  status?: EpisodeStatus;
  /** The run's mode: automatic, approve each step, approve when the forecast changes. */
  mode?: ApprovalPolicy;
  /** A planner or grounder name (exact, as listed). */
  model?: string;
  /** `YYYY-MM-DD`, local time, inclusive. */
  from?: string;
  to?: string;
}

export function filtersFromQuery(q: URLSearchParams): EpisodeFilters {
  const date = (v: string | null) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined);
  return {
    q: q.get('q') ?? '',
    status: EPISODE_STATUSES.find((s) => s === q.get('status')),
    mode: APPROVAL_POLICIES.find((m) => m === q.get('mode')),
    model: q.get('model') || undefined,
    from: date(q.get('from')),
    to: date(q.get('to')),
  };
}

export function filtersToQuery(f: EpisodeFilters): Record<string, string | undefined> {
  return { q: f.q.trim() || undefined, status: f.status, mode: f.mode, model: f.model, from: f.from, to: f.to };
}

const dayStart = (d: string) => new Date(`${d}T00:00:00`).getTime();

export function applyFilters(list: readonly EpisodeSummaryView[], f: EpisodeFilters): EpisodeSummaryView[] {
  const words = f.q.toLowerCase().split(/\s+/).filter(Boolean);
  const from = f.from ? dayStart(f.from) : -Infinity;
  const to = f.to ? dayStart(f.to) + 24 * 3600 * 1000 : Infinity;
  return list.filter((e) => {
    if (f.status && e.status !== f.status) return false;
    if (f.mode && e.approval !== f.mode) return false;
    if (f.model && e.planner !== f.model && e.grounder !== f.model) return false;
    if (e.startedAt < from || e.startedAt >= to) return false;
    if (words.length) {
      const hay = [e.task, e.id, e.answer ?? '', e.error?.message ?? '', e.error?.code ?? ''].join(' ').toLowerCase();
      if (!words.every((w) => hay.includes(w))) return false;
    }
    return true;
  });
}

/** The planners and grounders the list holds, for the model filter's choices. */
export function modelsOf(list: readonly EpisodeSummaryView[]): string[] {
  return [...new Set(list.flatMap((e) => [e.planner, e.grounder]))].sort();
}

export const anyFilter = (f: EpisodeFilters) => Boolean(f.q.trim() || f.status || f.mode || f.model || f.from || f.to);
