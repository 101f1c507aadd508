/**
 * The app's frame: the sidebar with the views (and the run's state, so a waiting gate is seen
 * from any view), the view of the current URL, and a banner when a forecast waits for you.
 */
import { useEffect } from 'react';
import type { Caller } from '../../common/contract.ts';
import { Icon, type IconName } from '../components/icons.tsx';
import type { LiveChannel } from '../transport.ts';
import { BenchmarksView } from '../views/BenchmarksView.tsx';
import { EpisodesView } from '../views/EpisodesView.tsx';
import { EpisodeView } from '../views/EpisodeView.tsx';
import { FirstStart } from '../views/FirstStart.tsx';
import { RunView } from '../views/RunView.tsx';
import { SettingsView } from '../views/SettingsView.tsx';
import { href, navigate, parseRoute, useHash, type ViewName } from './router.ts';
import { applyTheme } from './theme.ts';
import { useCall } from './use-call.ts';
import { useRun, type RunHandle } from './use-run.ts';

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
        <bdi>{info.value.dbPath}</bdi>
      </div>
    </footer>
  );
}

function RunBadge({ handle }: { handle: RunHandle }) {
  const run = handle.run;
  if (!run || run.status === 'ended') return null;
  if (run.pending) return <span className="nav-badge">waiting</span>;
  return <span className="nav-badge running">{run.status === 'paused' ? 'paused' : 'live'}</span>;
}

export function App({ call, live }: { call: Caller; live: LiveChannel }) {
  const hash = useHash();
  const route = parseRoute(hash);
  const handle = useRun(call, live);
  const settings = useCall(call, 'settings.get', {}, 'first-start');
  useEffect(() => applyTheme(), []);
  // A new user lands on the first-start screen instead of an empty run view.
  const firstStart = settings.state === 'ok' && settings.value.firstStart;
  useEffect(() => {
    if (firstStart && (location.hash === '' || location.hash === '#/' || location.hash === '#')) navigate(href('welcome'), { replace: true });
  }, [firstStart]);
  const active = route.view === 'episode' ? 'episodes' : route.view;
  const pending = handle.run?.pending;

  let view;
  switch (route.view) {
    case 'run':
      view = <RunView call={call} handle={handle} />;
      break;
    case 'welcome':
      view = <FirstStart call={call} />;
      break;
    case 'episodes':
      view = <EpisodesView call={call} query={route.query} />;
      break;
    case 'episode':
      view = <EpisodeView key={route.id} call={call} id={route.id ?? ''} query={route.query} />;
      break;
    case 'benchmarks':
      view = <BenchmarksView call={call} query={route.query} />;
      break;
    case 'settings':
      view = <SettingsView call={call} />;
      break;
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
              {n.view === 'run' ? <RunBadge handle={handle} /> : null}
            </a>
          ))}
        </nav>
        <div className="spacer" />
        {firstStart && route.view !== 'welcome' ? (
          <a className="nav-item welcome-link" href={href('welcome')}>
            <Icon name="welcome" />
            <span>Getting started</span>
          </a>
        ) : null}
        <Footer call={call} />
      </aside>
      <main className="content" id="app" aria-live="polite">
        {pending && route.view !== 'run' ? (
          <a className="global-waiting" href={href('run')} role="status">
            <Icon name="bell" size={16} /> A forecast is waiting for you (step {pending.step}) — review it
          </a>
        ) : null}
        {view}
      </main>
    </div>
  );
}
