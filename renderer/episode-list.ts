/** The list of episodes, newest first, with a status filter. */
import type { Caller, EpisodeSummaryView } from '../common/contract.ts';
import { EPISODE_STATUSES, type EpisodeStatus } from '../common/ports.ts';
import { h, replace } from './dom.ts';
import { dateTime, duration, shortId } from './format.ts';
import { errorBox, statusBadge } from './widgets.ts';

export const listHash = (status: EpisodeStatus | undefined) => (status ? `#/?status=${status}` : '#/');
export const episodeHash = (id: string) => `#/episodes/${encodeURIComponent(id)}`;

function filter(status: EpisodeStatus | undefined): HTMLElement {
  const select = h(
    'select',
    {
      id: 'status-filter',
      onchange: (e) => {
        const value = (e.target as HTMLSelectElement).value;
        location.hash = listHash(EPISODE_STATUSES.find((s) => s === value));
      },
    },
    h('option', { value: '' }, 'All'),
    EPISODE_STATUSES.map((s) => h('option', { value: s, selected: s === status }, s.replace('_', ' '))),
  );
  return h('label', { class: 'filter' }, 'Status ', select);
}

function row(e: EpisodeSummaryView): HTMLElement {
  const open = () => {
    location.hash = episodeHash(e.id);
  };
  const took = e.endedAt !== undefined ? duration(e.endedAt - e.startedAt) : e.status === 'running' ? 'running' : '';
  return h(
    'tr',
    { class: 'episode-row', 'data-id': e.id, 'data-status': e.status, onclick: open },
    h('td', null, statusBadge(e.status)),
    h(
      'td',
      { class: 'task' },
      h('a', { href: episodeHash(e.id), onclick: (ev) => ev.stopPropagation() }, e.task || '(no task)'),
      h('div', { class: 'muted small mono' }, shortId(e.id), e.mode !== 'agent' ? ` · ${e.mode}` : ''),
    ),
    h('td', { class: 'num' }, e.stepCount),
    h('td', { class: 'nowrap' }, dateTime(e.startedAt), took && h('div', { class: 'muted small' }, took)),
    h('td', { class: 'small' }, h('div', { class: 'mono clip', title: e.planner }, e.planner), h('div', { class: 'muted mono clip', title: e.grounder }, e.grounder)),
    h('td', null, e.error ? h('span', { class: 'error-code', title: e.error.message }, e.error.code) : e.answer !== undefined ? h('span', { class: 'muted clip', title: e.answer }, e.answer) : ''),
  );
}

function emptyState(status: EpisodeStatus | undefined): HTMLElement {
  if (status) {
    return h('div', { class: 'empty' }, h('p', null, `No ${status.replace('_', ' ')} episodes.`), h('a', { href: '#/' }, 'Show all episodes'));
  }
  return h(
    'div',
    { class: 'empty' },
    h('p', { class: 'empty-title' }, 'No episodes yet — run ', h('code', null, 'npx foresight run …')),
    h('p', { class: 'muted' }, 'Every step an agent takes is recorded here: its screenshot, the forecast, where it acted and what a person approved.'),
  );
}

export async function renderEpisodeList(root: HTMLElement, status: EpisodeStatus | undefined, call: Caller, isCurrent: () => boolean): Promise<void> {
  const result = await call('episodes.list', status ? { status } : {});
  if (!isCurrent()) return;
  const head = h('div', { class: 'page-head' }, h('h1', null, 'Episodes'), filter(status));
  if (!result.ok) {
    replace(root, head, errorBox(result.error));
    return;
  }
  const episodes = result.value;
  if (episodes.length === 0) {
    replace(root, head, emptyState(status));
    return;
  }
  replace(
    root,
    head,
    h('p', { class: 'muted small count' }, `${episodes.length} episode${episodes.length === 1 ? '' : 's'}`),
    h(
      'table',
      { class: 'episodes' },
      h(
        'thead',
        null,
        h('tr', null, ['Status', 'Task', 'Steps', 'Started', 'Planner · grounder', 'Error / answer'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      h('tbody', null, episodes.map(row)),
    ),
  );
}
