/**
 * The views by URL hash, so a reload (or a link) lands where the person was:
 *
 *   #/run                    the run view (the default once set up)
 *   #/welcome                first start
 *   #/episodes?status=…      the episode list with its filters in the query
 *   #/episodes/<id>?step=N   one episode, step N selected
 *   #/benchmarks             benchmark runs
 *   #/settings               settings
 */
import { useSyncExternalStore } from 'react';

export type ViewName = 'run' | 'welcome' | 'episodes' | 'episode' | 'benchmarks' | 'settings';

export interface Route {
  view: ViewName;
  /** The episode id of the 'episode' view. */
  id?: string;
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = raw.split('?', 2);
  const query = new URLSearchParams(search);
  const episode = /^\/episodes\/([^/]+)$/.exec(path);
  if (episode?.[1]) return { view: 'episode', id: decodeURIComponent(episode[1]), query };
  const name = path.replace(/^\//, '').replace(/\/$/, '');
  const known: ViewName[] = ['run', 'welcome', 'episodes', 'benchmarks', 'settings'];
  const view = known.find((v) => v === name);
  return { view: view ?? 'run', query };
}

export function href(view: Exclude<ViewName, 'episode'>, query?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return `#/${view}${s ? `?${s}` : ''}`;
}

export const episodeHref = (id: string, step?: number) => `#/episodes/${encodeURIComponent(id)}${step !== undefined ? `?step=${step}` : ''}`;

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  // pushState fires no hashchange; tell the subscribers ourselves.
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The current hash; re-renders when it changes. */
export function useHash(): string {
  return useSyncExternalStore(subscribe, () => location.hash);
}
