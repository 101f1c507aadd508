/**
 * The renderer's entry point: a hash router over two views (the episode list and one
 * episode). Browser code only; it reaches the rest of Foresight through common/contract.ts.
 *
 *   #/                     all episodes
 *   #/?status=failed       episodes with one status
 *   #/episodes/<id>        one episode
 */
import { EPISODE_STATUSES, type EpisodeStatus } from '../common/ports.ts';
import { h, replace } from './dom.ts';
import { renderEpisode } from './episode-detail.ts';
import { renderEpisodeList } from './episode-list.ts';
import { call } from './transport.ts';
import { errorBox } from './widgets.ts';

declare global {
  interface Window {
    /** Set by the Electron preload (main/shell/preload.cjs); absent in a browser. */
    foresightShell?: { kind: 'electron'; electron: string };
  }
}

type Route = { view: 'list'; status?: EpisodeStatus } | { view: 'episode'; id: string };

function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const episode = /^\/episodes\/([^/?]+)$/.exec(path);
  if (episode?.[1]) return { view: 'episode', id: decodeURIComponent(episode[1]) };
  const query = new URLSearchParams(path.split('?')[1] ?? '');
  const status = EPISODE_STATUSES.find((s) => s === query.get('status'));
  return status ? { view: 'list', status } : { view: 'list' };
}

let generation = 0;

async function render(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const mine = ++generation;
  const isCurrent = () => mine === generation;
  const route = parseRoute(location.hash);
  root.setAttribute('aria-busy', 'true');
  try {
    if (route.view === 'episode') {
      await renderEpisode(root, route.id, call, isCurrent);
    } else {
      document.title = 'Foresight';
      await renderEpisodeList(root, route.status, call, isCurrent);
    }
  } catch (e) {
    if (isCurrent()) replace(root, errorBox({ code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }));
  } finally {
    if (isCurrent()) root.removeAttribute('aria-busy');
  }
}

async function renderFooter(): Promise<void> {
  const footer = document.getElementById('footer');
  if (!footer) return;
  const info = await call('app.info', {});
  if (!info.ok) return; // the main view says what went wrong
  const shell = window.foresightShell ? ` · Electron ${window.foresightShell.electron}` : '';
  replace(footer, `Foresight ${info.value.version}${shell} · episodes from `, h('span', { class: 'mono', id: 'db-path' }, info.value.dbPath));
}

window.addEventListener('hashchange', () => void render());
document.getElementById('refresh')?.addEventListener('click', () => void render());
void render();
void renderFooter();
