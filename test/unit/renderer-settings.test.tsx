/**
 * Settings as a person uses them, over the app's real settings (a data folder of its own) and
 * handlers: an endpoint added from a preset, an API key saved and never shown again, the
 * colour scheme switched.
 */
import '../harness/happy-dom.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { CALLS, type Caller, type CallName } from '../../common/contract.ts';
import { toErrorInfo } from '../../common/errors.ts';
import { createHandlers } from '../../main/shell/api.ts';
import { Settings } from '../../main/shell/settings.ts';
import { SettingsView } from '../../renderer/views/SettingsView.tsx';
import { SqliteEpisodeStore } from '../../store/index.ts';

const KEY = 'sk-test-7f3a9c0d1e2b';
let dir: string;
let store: SqliteEpisodeStore;
let call: Caller;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'foresight-settings-ui-'));
  const db = join(dir, 'episodes.db');
  store = SqliteEpisodeStore.open(db);
  const settings = Settings.open(dir, db, 'file', () => false);
  const handlers = createHandlers({ store, info: { version: 'test', dbPath: db }, settings });
  call = (async (name: CallName, request: unknown) => {
    try {
      const handler = handlers[name] as (r: unknown) => unknown;
      return { ok: true, value: CALLS[name].response.parse(await handler(CALLS[name].request.parse(request))) };
    } catch (e) {
      return { ok: false, error: toErrorInfo(e) };
    }
  }) as Caller;
});

after(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => cleanup());

const button = (text: string | RegExp) => screen.getByText(text).closest('button') as HTMLButtonElement;

void describe('settings', () => {
  void it('adds an endpoint from a preset, stores its key and never shows the key again', async () => {
    render(<SettingsView call={call} />);
    const preset = await waitFor(() => {
      const el = document.querySelector<HTMLButtonElement>('.preset[data-preset="qwen2.5-vl"]');
      assert.ok(el, 'the presets are listed');
      return el;
    });
    fireEvent.click(preset);
    // The form is prefilled from the preset.
    assert.equal((screen.getByLabelText('Model') as HTMLInputElement).value, 'qwen2.5-vl-7b-instruct');
    fireEvent.change(screen.getByLabelText('Base URL'), { target: { value: 'http://127.0.0.1:9/v1' } });
    fireEvent.submit(button('Save endpoint').closest('form') as HTMLFormElement);
    await waitFor(() => assert.equal(document.querySelectorAll('.endpoint').length, 1, document.querySelector('.error-box')?.textContent ?? 'no error shown'));
    assert.match(document.querySelector('.endpoint')?.textContent ?? '', /http:\/\/127\.0\.0\.1:9\/v1 · qwen2\.5-vl-7b-instruct/);

    fireEvent.change(screen.getByLabelText('API key for Qwen2.5-VL'), { target: { value: KEY } });
    fireEvent.click(button('Save key'));
    await screen.findByText('API key stored');
    assert.equal(document.body.innerHTML.includes(KEY), false, 'the key is nowhere in the page');

    // Read again from the settings, as after a reload.
    cleanup();
    render(<SettingsView call={call} />);
    await screen.findByText('API key stored');
    assert.equal(document.body.innerHTML.includes(KEY), false);
  });

  void it('switches the colour scheme and keeps the choice', async () => {
    render(<SettingsView call={call} />);
    const dark = await screen.findByLabelText(/Dark/);
    fireEvent.click(dark);
    assert.equal(document.documentElement.getAttribute('data-theme'), 'dark');
    assert.equal(localStorage.getItem('foresight.theme'), 'dark');
    fireEvent.click(screen.getByLabelText(/System/));
    assert.equal(document.documentElement.hasAttribute('data-theme'), false, 'the system scheme again');
  });
});
