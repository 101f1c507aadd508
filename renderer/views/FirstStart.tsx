/**
 * First start: from nothing to a first run. What Foresight does, a planner endpoint from a
 * preset (tested), the kill switch, then the run view.
 */
import { useEffect, useState } from 'react';
import type { Caller, SettingsView } from '../../common/contract.ts';
import { href, navigate } from '../app/router.ts';
import { useCall } from '../app/use-call.ts';
import { ErrorBox, Loading } from '../components/common.tsx';
import { Icon } from '../components/icons.tsx';
import { EndpointsEditor } from './SettingsView.tsx';

export function FirstStart({ call }: { call: Caller }) {
  const loaded = useCall(call, 'settings.get', {}, 'settings');
  const [settings, setSettings] = useState<SettingsView>();
  const first = loaded.state === 'ok' ? loaded.value : undefined;
  useEffect(() => {
    if (first) setSettings(first);
  }, [first]);
  const hasEndpoint = (settings?.endpoints.length ?? 0) > 0;
  return (
    <div className="view welcome-view">
      <section className="hero">
        <div className="hero-mark">
          <img src="/favicon.svg" alt="" width={44} height={44} />
        </div>
        <h1>Welcome to Foresight</h1>
        <p className="hero-text">
          An agent that uses your computer the way you would — and shows you what it plans to do <em>before</em> it does it. Every step is a forecast you can approve, edit or reject.
        </p>
      </section>
      <ol className="setup-steps">
        <li className={`setup-step${hasEndpoint ? ' done' : ' current'}`}>
          <div className="setup-num">{hasEndpoint ? <Icon name="check" size={16} /> : 1}</div>
          <div className="setup-body">
            <h2>Connect a model</h2>
            <p className="muted">
              Foresight talks to a vision-language model over an OpenAI-compatible endpoint — one you run (vLLM, SGLang, Ollama, LM Studio) or a hosted one. Pick the family you have; you can test the connection before a run.
            </p>
            {loaded.state === 'loading' ? <Loading what="presets" /> : null}
            {loaded.state === 'error' ? <ErrorBox error={loaded.error} /> : null}
            {settings ? <EndpointsEditor call={call} settings={settings} onChange={setSettings} /> : null}
          </div>
        </li>
        <li className="setup-step">
          <div className="setup-num">2</div>
          <div className="setup-body">
            <h2>Know your kill switch</h2>
            <p className="muted">
              While the agent acts, it moves the real mouse and types on the real keyboard. Press <kbd>{settings?.killKey ?? 'the kill-switch key'}</kbd> at any moment to stop it at once; you can change the key in Settings.
            </p>
          </div>
        </li>
        <li className="setup-step">
          <div className="setup-num">3</div>
          <div className="setup-body">
            <h2>Run your first task</h2>
            <p className="muted">Start with “approve each step”: you will see each forecast on the screen and decide before anything happens.</p>
            <div className="page-actions">
              <button type="button" className="primary large" onClick={() => navigate(href('run'))}>
                <Icon name="run" size={16} /> Go to the run view
              </button>
              <a href={href('episodes')}>or look at recorded episodes</a>
            </div>
          </div>
        </li>
      </ol>
    </div>
  );
}
