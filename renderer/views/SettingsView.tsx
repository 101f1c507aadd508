/**
 * Settings: the model endpoints (from a preset or by hand, with a test of the connection and a
 * write-only API key), the kill-switch key, where the app's window goes during a run, where the
 * data lives, and the colour scheme.
 */
import { useEffect, useState } from 'react';
import type { Caller, EndpointView, Preset, SettingsView as Settings, WindowPolicy } from '../../common/contract.ts';
import { WINDOW_POLICIES } from '../../common/contract.ts';
import type { ErrorInfo } from '../../common/errors.ts';
import { THEMES, setTheme, useTheme, type Theme } from '../app/theme.ts';
import { useCall } from '../app/use-call.ts';
import { Card, ErrorBox, Loading, PageHead } from '../components/common.tsx';
import { Icon } from '../components/icons.tsx';
import { duration } from '../format.ts';

type EndpointInput = Omit<EndpointView, 'hasKey'>;

const WINDOW_TEXT: Record<WindowPolicy, string> = {
  panel: 'Shrink to a small always-on-top panel',
  other_display: 'Move to another display',
  stay: 'Stay where it is (the agent never clicks into it)',
};

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'endpoint'
  );
}

/** A new endpoint prefilled from a preset. */
export function endpointFromPreset(p: Preset, taken: readonly string[]): EndpointInput {
  let id = slug(p.id);
  for (let n = 2; taken.includes(id); n++) id = `${slug(p.id)}-${n}`;
  return {
    id,
    label: p.label,
    baseUrl: 'http://127.0.0.1:8000/v1',
    model: p.modelHint ?? '',
    ...(p.format ? { format: p.format } : {}),
    ...(p.convention ? { convention: p.convention } : {}),
  };
}

type TestState = { state: 'idle' } | { state: 'testing' } | { state: 'done'; ok: boolean; text: string };

function TestResult({ t }: { t: TestState }) {
  if (t.state === 'idle') return null;
  if (t.state === 'testing') return <span className="muted small">Testing…</span>;
  return <span className={`test-result ${t.ok ? 'ok' : 'bad'}`}>{t.text}</span>;
}

function EndpointCard({ call, endpoint, onSaved, onRemove }: { call: Caller; endpoint: EndpointView; onSaved: (s: Settings) => void; onRemove: () => void }) {
  const [test, setTest] = useState<TestState>({ state: 'idle' });
  const [key, setKey] = useState('');
  const [error, setError] = useState<ErrorInfo>();
  const runTest = async () => {
    setTest({ state: 'testing' });
    const r = await call('settings.testConnection', { endpointId: endpoint.id });
    if (!r.ok) setTest({ state: 'done', ok: false, text: r.error.message });
    else if (r.value.ok) setTest({ state: 'done', ok: true, text: `Connected in ${duration(r.value.latencyMs)}${r.value.models?.length ? ` · ${r.value.models.length} model${r.value.models.length === 1 ? '' : 's'}: ${r.value.models.slice(0, 3).join(', ')}` : ''}` });
    else setTest({ state: 'done', ok: false, text: r.value.error?.message ?? 'The endpoint did not answer as expected.' });
  };
  const saveKey = async () => {
    const r = await call('settings.setApiKey', { endpointId: endpoint.id, key });
    if (!r.ok) return setError(r.error);
    setKey('');
    const s = await call('settings.get', {});
    if (s.ok) onSaved(s.value);
  };
  const clearKey = async () => {
    const r = await call('settings.clearApiKey', { endpointId: endpoint.id });
    if (!r.ok) return setError(r.error);
    const s = await call('settings.get', {});
    if (s.ok) onSaved(s.value);
  };
  return (
    <li className="endpoint" data-endpoint={endpoint.id}>
      <div className="endpoint-head">
        <div>
          <strong>{endpoint.label}</strong>
          <div className="muted small mono">
            {endpoint.baseUrl} · {endpoint.model}
            {endpoint.format ? ` · ${endpoint.format}` : ''}
          </div>
        </div>
        <div className="endpoint-actions">
          <TestResult t={test} />
          <button type="button" className="small" onClick={() => void runTest()} disabled={test.state === 'testing'}>
            Test connection
          </button>
          <button type="button" className="ghost small danger" onClick={onRemove} aria-label={`Remove ${endpoint.label}`}>
            <Icon name="trash" size={14} />
          </button>
        </div>
      </div>
      <div className="key-row">
        {endpoint.hasKey ? (
          <>
            <span className="pill decision-approve">API key stored</span>
            <button type="button" className="ghost small" onClick={() => void clearKey()}>
              Forget the key
            </button>
          </>
        ) : (
          <>
            <input type="password" aria-label={`API key for ${endpoint.label}`} placeholder="API key (optional; kept on this machine, never shown again)" value={key} autoComplete="off" onChange={(e) => setKey(e.target.value)} />
            <button type="button" className="small" disabled={!key} onClick={() => void saveKey()}>
              Save key
            </button>
          </>
        )}
      </div>
      {error ? <ErrorBox error={error} /> : null}
    </li>
  );
}

function EndpointForm({ initial, onCancel, onSave }: { initial: EndpointInput; onCancel: () => void; onSave: (e: EndpointInput) => void }) {
  const [e, setE] = useState(initial);
  let urlOk = true;
  try {
    new URL(e.baseUrl);
  } catch {
    urlOk = false;
  }
  const ok = e.label.trim() !== '' && e.model.trim() !== '' && urlOk;
  return (
    <form
      className="endpoint-form stack"
      onSubmit={(ev) => {
        ev.preventDefault();
        if (ok) onSave({ ...e, label: e.label.trim(), model: e.model.trim() });
      }}
    >
      <div className="field-row">
        <label className="field">
          <span>Name</span>
          <input type="text" aria-label="Endpoint name" value={e.label} onChange={(ev) => setE({ ...e, label: ev.target.value })} />
        </label>
        <label className="field">
          <span>Model</span>
          <input type="text" aria-label="Model" className="mono" value={e.model} onChange={(ev) => setE({ ...e, model: ev.target.value })} />
        </label>
      </div>
      <label className="field">
        <span>
          Base URL <span className="hint">an OpenAI-compatible endpoint (vLLM, SGLang, Ollama, LM Studio, a hosted API)</span>
        </span>
        <input type="url" aria-label="Base URL" className={`mono${urlOk ? '' : ' invalid'}`} value={e.baseUrl} onChange={(ev) => setE({ ...e, baseUrl: ev.target.value })} />
      </label>
      <div className="form-foot">
        <span />
        <div className="page-actions">
          <button type="button" className="ghost" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!ok}>
            Save endpoint
          </button>
        </div>
      </div>
    </form>
  );
}

export function PresetPicker({ presets, onPick }: { presets: Preset[]; onPick: (p: Preset) => void }) {
  return (
    <ul className="presets">
      {presets.map((p) => (
        <li key={p.id}>
          <button type="button" className="preset" onClick={() => onPick(p)} data-preset={p.id}>
            <span className="preset-title">
              {p.label} <span className="pill">{p.role}</span>
            </span>
            <span className="muted small">{p.description}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

export function EndpointsEditor({ call, settings, onChange }: { call: Caller; settings: Settings; onChange: (s: Settings) => void }) {
  const [draft, setDraft] = useState<EndpointInput | null>(null);
  const [error, setError] = useState<ErrorInfo>();
  const save = async (endpoints: EndpointInput[]) => {
    setError(undefined);
    const r = await call('settings.update', { endpoints });
    if (r.ok) {
      onChange(r.value);
      setDraft(null);
    } else setError(r.error);
  };
  const inputs = settings.endpoints.map(({ hasKey: _k, ...rest }) => rest);
  const taken = settings.endpoints.map((e) => e.id);
  return (
    <>
      {settings.endpoints.length ? (
        <ul className="endpoints">
          {settings.endpoints.map((e) => (
            <EndpointCard key={e.id} call={call} endpoint={e} onSaved={onChange} onRemove={() => void save(inputs.filter((x) => x.id !== e.id))} />
          ))}
        </ul>
      ) : (
        <p className="muted">No endpoint yet. Start from a preset:</p>
      )}
      {draft ? (
        <EndpointForm initial={draft} onCancel={() => setDraft(null)} onSave={(e) => void save([...inputs, e])} />
      ) : (
        <>
          {settings.endpoints.length ? <h3 className="presets-head">Add an endpoint from a preset</h3> : null}
          <PresetPicker presets={settings.presets} onPick={(p) => setDraft(endpointFromPreset(p, taken))} />
          <button type="button" className="ghost small" onClick={() => setDraft({ id: `endpoint-${taken.length + 1}`, label: 'My endpoint', baseUrl: 'http://127.0.0.1:8000/v1', model: '' })}>
            Add an endpoint by hand
          </button>
        </>
      )}
      {error ? <ErrorBox error={error} /> : null}
    </>
  );
}

function ThemeChoice() {
  const theme = useTheme();
  const labels: Record<Theme, string> = { system: 'System', light: 'Light', dark: 'Dark' };
  return (
    <div className="segmented" role="radiogroup" aria-label="Theme">
      {THEMES.map((t) => (
        <label key={t}>
          <input type="radio" name="theme" value={t} checked={theme === t} onChange={() => setTheme(t)} />
          <Icon name={t === 'dark' ? 'moon' : t === 'light' ? 'sun' : 'settings'} size={14} />
          {labels[t]}
        </label>
      ))}
    </div>
  );
}

function DataDirForm({ current, onSave }: { current: string; onSave: (dir: string) => void }) {
  const [dir, setDir] = useState(current);
  return (
    <form
      className="inline data-dir"
      onSubmit={(e) => {
        e.preventDefault();
        if (dir.trim()) onSave(dir.trim());
      }}
    >
      <input type="text" aria-label="Data folder" className="mono" value={dir} onChange={(e) => setDir(e.target.value)} />
      <button type="submit" className="small" disabled={dir.trim() === '' || dir.trim() === current}>
        Move
      </button>
    </form>
  );
}

export function SettingsView({ call }: { call: Caller }) {
  const loaded = useCall(call, 'settings.get', {}, 'settings');
  const [settings, setSettings] = useState<Settings>();
  const [killKey, setKillKey] = useState('');
  const [saved, setSaved] = useState('');
  const [error, setError] = useState<ErrorInfo>();
  // Once per answer (the value keeps its identity across renders; `loaded` does not): later
  // changes come from the calls' own answers.
  const first = loaded.state === 'ok' ? loaded.value : undefined;
  useEffect(() => {
    if (first) {
      setSettings(first);
      setKillKey(first.killKey);
    }
  }, [first]);
  const update = async (patch: { killKey?: string; windowPolicy?: WindowPolicy; dataDir?: string }, what: string) => {
    setError(undefined);
    const r = await call('settings.update', patch);
    if (r.ok) {
      setSettings(r.value);
      setSaved(what);
    } else setError(r.error);
  };
  return (
    <div className="view settings-view">
      <PageHead title="Settings" subtitle="Models, safety and where your data lives." />
      {loaded.state === 'loading' ? <Loading what="settings" /> : null}
      {loaded.state === 'error' ? <ErrorBox error={loaded.error} /> : null}
      {error ? <ErrorBox error={error} /> : null}
      {settings ? (
        <div className="settings-grid">
          <Card title="Model endpoints" className="endpoints-card">
            <p className="muted small card-intro">
              The planner forecasts the next steps; the grounder finds where the first one acts. API keys are stored {settings.keyStorage === 'safeStorage' ? 'in the system keychain' : settings.keyStorage === 'file' ? 'in a file only you can read' : 'in memory until the app stops'} and never shown again.
            </p>
            <EndpointsEditor call={call} settings={settings} onChange={setSettings} />
          </Card>
          <div className="settings-side">
            <Card title="Safety">
              <form
                className="stack"
                onSubmit={(e) => {
                  e.preventDefault();
                  void update({ killKey: killKey.trim() }, 'Kill-switch key saved.');
                }}
              >
                <label className="field">
                  <span>
                    Kill-switch key <span className="hint">stops a run at once, from anywhere</span>
                  </span>
                  <div className="inline">
                    <input type="text" aria-label="Kill-switch key" className="mono" value={killKey} onChange={(e) => setKillKey(e.target.value)} />
                    <button type="submit" className="small" disabled={killKey.trim() === '' || killKey.trim() === settings.killKey}>
                      Save
                    </button>
                  </div>
                </label>
                <label className="field">
                  <span>While a run acts, the app's window…</span>
                  <select aria-label="Window during a run" value={settings.windowPolicy} onChange={(e) => void update({ windowPolicy: WINDOW_POLICIES.find((w) => w === e.target.value) ?? 'panel' }, 'Window behaviour saved.')}>
                    {WINDOW_POLICIES.map((w) => (
                      <option key={w} value={w}>
                        {WINDOW_TEXT[w]}
                      </option>
                    ))}
                  </select>
                </label>
                {saved ? <p className="notice ok small">{saved}</p> : null}
              </form>
            </Card>
            <Card title="Data">
              <dl className="meta single">
                <div>
                  <dt>Data folder</dt>
                  <dd className="mono">{settings.dataDir}</dd>
                </div>
                <div>
                  <dt>Episode database</dt>
                  <dd className="mono">{settings.dbPath}</dd>
                </div>
              </dl>
              <DataDirForm current={settings.dataDir} onSave={(dataDir) => void update({ dataDir }, 'The new data folder is used from the next start of the app.')} />
            </Card>
            <Card title="Appearance">
              <ThemeChoice />
            </Card>
          </div>
        </div>
      ) : loaded.state === 'error' ? (
        <Card title="Appearance">
          <ThemeChoice />
        </Card>
      ) : null}
    </div>
  );
}
