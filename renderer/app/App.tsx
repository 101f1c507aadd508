/** The app's frame: the sidebar with the views, the view of the current URL, and the footer. */
import { useEffect } from 'react';
import type { Caller } from '../../common/contract.ts';
import { Icon, type IconName } from '../components/icons.tsx';
import { EpisodesView } from '../views/EpisodesView.tsx';
import { EpisodeView } from '../views/EpisodeView.tsx';
import { href, parseRoute, useHash, type ViewName } from './router.ts';
import { applyTheme } from './theme.ts';
import { useCall } from './use-call.ts';

const NAV: { view: Exclude<ViewName, 'episode' | 'welcome'>; label: string; icon: IconName }[] = [
  { view: 'run', label: 'Run', icon: 'run' },
  { view: 'episodes', label: 'Episodes', icon: 'episodes' },
  { view: 'benchmarks', label: 'Benchmarks', icon: 'benchmarks' },
  { view: 'settings', label: 'Settings', icon: 'settings' },
];

function Footer({ call }: { call: Caller }) {
  const info = useCall(call, 'app.info', {}, 'info');
  if (info.state !== 'ok') return null;
  const shell = window.foresightShell ? ` · Electron ${window.foresightShell.electron}` : '';
  return (
    <footer className="sidebar-foot">
      <div>
        Foresight {info.value.version}
        {shell}
      </div>
      <div className="mono clip-path" id="db-path" title={info.value.dbPath}>
        {info.value.dbPath}
      </div>
    </footer>
  );
}

export function App({ call }: { call: Caller }) {
  const hash = useHash();
  const route = parseRoute(hash);
  useEffect(() => applyTheme(), []);
  const active = route.view === 'episode' ? 'episodes' : route.view;

  let view;
  switch (route.view) {
    case 'episodes':
      view = <EpisodesView call={call} query={route.query} />;
      break;
    case 'episode':
      view = <EpisodeView call={call} id={route.id ?? ''} query={route.query} />;
      break;
    default:
      view = <EpisodesView call={call} query={route.query} />;
  }

  return (
    <div className="app">
      <aside className="sidebar">
        <a className="brand" href={href('run')}>
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span>Foresight</span>
        </a>
        <nav className="nav" aria-label="Views">
          {NAV.map((n) => (
            <a key={n.view} href={href(n.view)} className={`nav-item${active === n.view ? ' active' : ''}`} aria-current={active === n.view ? 'page' : undefined} data-view={n.view}>
              <Icon name={n.icon} />
              <span>{n.label}</span>
            </a>
          ))}
        </nav>
        <div className="spacer" />
        <Footer call={call} />
      </aside>
      <main className="content" id="app" aria-live="polite">
        {view}
      </main>
    </div>
  );
}
