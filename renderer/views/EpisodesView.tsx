/** The list of episodes, newest first, with search and filters kept in the URL. */
import type { Caller, EpisodeSummaryView } from '../../common/contract.ts';
import { APPROVAL_POLICIES, EPISODE_STATUSES } from '../../common/ports.ts';
import { episodeHref, href, navigate } from '../app/router.ts';
import { useCall } from '../app/use-call.ts';
import { Empty, ErrorBox, Loading, PageHead, StatusBadge } from '../components/common.tsx';
import { Icon } from '../components/icons.tsx';
import { dateTime, duration, shortId } from '../format.ts';
import { anyFilter, applyFilters, filtersFromQuery, filtersToQuery, modelsOf, type EpisodeFilters } from './episode-filters.ts';

/** The run modes as the run view names them. */
export const MODE_TEXT = { never: 'Automatic', each: 'Approve each step', forecast: 'When the forecast changes' } as const;

function Row({ e }: { e: EpisodeSummaryView }) {
  const took = e.endedAt !== undefined ? duration(e.endedAt - e.startedAt) : e.status === 'running' ? 'running' : '';
  return (
    <tr className="episode-row" data-id={e.id} data-status={e.status} onClick={() => navigate(episodeHref(e.id))}>
      <td>
        <StatusBadge status={e.status} />
      </td>
      <td className="task">
        <a href={episodeHref(e.id)} onClick={(ev) => ev.stopPropagation()}>
          {e.task || '(no task)'}
        </a>
        <div className="muted small mono">
          {shortId(e.id)}
          {e.mode !== 'agent' ? ` · ${e.mode}` : ''}
          {e.approval ? ` · ${MODE_TEXT[e.approval].toLowerCase()}` : ''}
        </div>
      </td>
      <td className="num">{e.stepCount}</td>
      <td className="nowrap">
        {dateTime(e.startedAt)}
        {took ? <div className="muted small">{took}</div> : null}
      </td>
      <td className="small models">
        <div className="mono clip" title={e.planner}>
          {e.planner}
        </div>
        <div className="muted mono clip" title={e.grounder}>
          {e.grounder}
        </div>
      </td>
      <td className="episode-outcome">
        {e.error ? (
          <span className="error-code" title={e.error.message}>
            {e.error.code}
          </span>
        ) : e.answer !== undefined ? (
          <span className="muted clip" title={e.answer}>
            {e.answer}
          </span>
        ) : null}
      </td>
    </tr>
  );
}

export function FilterBar({ filters, models, onChange }: { filters: EpisodeFilters; models: string[]; onChange: (f: EpisodeFilters) => void }) {
  return (
    <div className="filter-bar" role="search">
      <label className="search-box">
        <Icon name="search" size={16} />
        <input type="search" id="episode-search" placeholder="Search tasks, answers, errors" aria-label="Search episodes" value={filters.q} onChange={(e) => onChange({ ...filters, q: e.target.value })} />
      </label>
      <label className="filter">
        <span>Status</span>
        <select id="status-filter" value={filters.status ?? ''} onChange={(e) => onChange({ ...filters, status: EPISODE_STATUSES.find((s) => s === e.target.value) })}>
          <option value="">All</option>
          {EPISODE_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace('_', ' ')}
            </option>
          ))}
        </select>
      </label>
      <label className="filter">
        <span>Mode</span>
        <select id="mode-filter" value={filters.mode ?? ''} onChange={(e) => onChange({ ...filters, mode: APPROVAL_POLICIES.find((m) => m === e.target.value) })}>
          <option value="">All</option>
          {APPROVAL_POLICIES.map((m) => (
            <option key={m} value={m}>
              {MODE_TEXT[m]}
            </option>
          ))}
        </select>
      </label>
      <label className="filter">
        <span>Model</span>
        <select id="model-filter" value={filters.model ?? ''} onChange={(e) => onChange({ ...filters, model: e.target.value || undefined })}>
          <option value="">All</option>
          {models.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </label>
      <label className="filter">
        <span>From</span>
        <input type="date" id="from-filter" value={filters.from ?? ''} onChange={(e) => onChange({ ...filters, from: e.target.value || undefined })} />
      </label>
      <label className="filter">
        <span>To</span>
        <input type="date" id="to-filter" value={filters.to ?? ''} onChange={(e) => onChange({ ...filters, to: e.target.value || undefined })} />
      </label>
    </div>
  );
}

export function EpisodesView({ call, query }: { call: Caller; query: URLSearchParams }) {
  const filters = filtersFromQuery(query);
  const list = useCall(call, 'episodes.list', {}, 'all');
  const all = list.state === 'ok' ? list.value : [];
  const shown = applyFilters(all, filters);
  const setFilters = (f: EpisodeFilters) => navigate(href('episodes', filtersToQuery(f)), { replace: true });

  return (
    <div className="view episodes-view">
      <PageHead title="Episodes" subtitle="Every run is recorded: its screenshots, the forecasts, where it acted and what a person decided.">
        <button type="button" className="ghost" onClick={list.reload} title="Read the episodes again">
          <Icon name="refresh" size={16} /> Refresh
        </button>
      </PageHead>
      <FilterBar filters={filters} models={modelsOf(all)} onChange={setFilters} />
      {list.state === 'loading' ? <Loading what="episodes" /> : null}
      {list.state === 'error' ? <ErrorBox error={list.error} /> : null}
      {list.state === 'ok' && all.length === 0 ? (
        <Empty title="No episodes yet" icon={<Icon name="episodes" size={28} />}>
          <p className="muted">Start a task in the run view; every step it takes will be recorded here.</p>
          <a className="button primary" href={href('run')}>
            Start a run
          </a>
        </Empty>
      ) : null}
      {list.state === 'ok' && all.length > 0 && shown.length === 0 ? (
        <Empty title={filters.status && !anyFilter({ ...filters, status: undefined }) ? `No ${filters.status.replace('_', ' ')} episodes.` : 'No episode matches these filters.'}>
          <a href={href('episodes')}>Show all episodes</a>
        </Empty>
      ) : null}
      {shown.length > 0 ? (
        <>
          <p className="muted small count">
            {shown.length === all.length ? `${all.length} episode${all.length === 1 ? '' : 's'}` : `${shown.length} of ${all.length} episodes`}
          </p>
          <div className="table-card">
            <table className="episodes">
              <thead>
                <tr>
                  {['Status', 'Task', 'Steps', 'Started', 'Planner · grounder', 'Error / answer'].map((t) => (
                    <th key={t} scope="col">
                      {t}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.map((e) => (
                  <Row key={e.id} e={e} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </div>
  );
}
