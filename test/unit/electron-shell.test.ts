/**
 * The Electron shell's decisions, in Node (Electron's binary cannot be downloaded here): the
 * preload exposes exactly one function per call of the contract and nothing else of IPC; main
 * takes calls only from the app's own frame, with a known name and a plain object; the window
 * keeps out of the agent's way while a run acts (and the rectangle the agent must avoid is where
 * the window is); the kill-key setting as a global shortcut; macOS permission guidance; the
 * token read from the sign-in page; notifications from the app's origin only.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { CALL_NAMES } from '../../common/contract.ts';
import {
  allowPermissionFrom,
  CALL_NAMES as POLICY_CALLS,
  callFunctionName,
  checkIpcCall,
  PANEL,
  parseKeyFile,
  permissionGuidance,
  toAccelerator,
  tokenFromSignInPage,
  windowPlanForRun,
} from '../../main/shell/electron-policy.cjs';
import { signInHtml } from '../../main/shell/sign-in.ts';

const ORIGIN = 'http://127.0.0.1:41234';

/** Runs preload.cjs as Electron would, with a recording contextBridge and ipcRenderer. */
function loadPreload() {
  const exposed: Record<string, unknown> = {};
  const invoked: unknown[][] = [];
  const fakeElectron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
    ipcRenderer: { invoke: (...args: unknown[]) => (invoked.push(args), Promise.resolve({ ok: true, value: null })), on: () => undefined },
  };
  const source = readFileSync(new URL('../../main/shell/preload.cjs', import.meta.url), 'utf8');
  runInNewContext(source, { require: (m: string) => (m === 'electron' ? fakeElectron : assert.fail(`the preload loads ${m}`)), process: { versions: { electron: '41.0.0' } } });
  return { exposed, invoked };
}

void describe('the preload', () => {
  it('exposes one function per contract call, each invoking that call, and no raw IPC', async () => {
    const { exposed, invoked } = loadPreload();
    assert.deepEqual(Object.keys(exposed).sort(), ['foresight', 'foresightShell']);
    const api = exposed.foresight as { calls: Record<string, (r?: unknown) => Promise<unknown>>; onEvent: unknown };
    assert.deepEqual(Object.keys(api).sort(), ['calls', 'electron', 'kind', 'onEvent']);
    assert.deepEqual(Object.keys(api.calls).sort(), CALL_NAMES.map(callFunctionName).sort());
    for (const name of CALL_NAMES) await api.calls[callFunctionName(name)]!({ probe: name });
    assert.deepEqual(invoked, CALL_NAMES.map((name) => ['foresight:call', name, { probe: name }]));
    assert.equal(callFunctionName('settings.setApiKey'), 'settingsSetApiKey');
  });

  it("main's list of calls is the contract's", () => {
    assert.deepEqual([...POLICY_CALLS], [...CALL_NAMES]);
  });
});

void describe('calls over IPC', () => {
  it('are taken only from the app origin, by a known name, with a plain object', () => {
    assert.equal(checkIpcCall(`${ORIGIN}/#/run`, ORIGIN, 'runs.current', {}), undefined);
    assert.equal(checkIpcCall('file:///tmp/open.html', ORIGIN, 'runs.current', {})?.code, 'BAD_INPUT');
    assert.equal(checkIpcCall('http://127.0.0.1:41235/', ORIGIN, 'runs.current', {})?.code, 'BAD_INPUT');
    assert.equal(checkIpcCall(undefined, ORIGIN, 'runs.current', {})?.code, 'BAD_INPUT');
    assert.equal(checkIpcCall(`${ORIGIN}/`, ORIGIN, 'shell.exec', {})?.code, 'NOT_FOUND');
    assert.equal(checkIpcCall(`${ORIGIN}/`, ORIGIN, 'toString', {})?.code, 'NOT_FOUND');
    assert.equal(checkIpcCall(`${ORIGIN}/`, ORIGIN, 'runs.current', [])?.code, 'BAD_INPUT');
    assert.equal(checkIpcCall(`${ORIGIN}/`, ORIGIN, 'runs.current', null)?.code, 'BAD_INPUT');
    assert.match(checkIpcCall(`${ORIGIN}/`, ORIGIN, 'runs.start', { task: 'x'.repeat(70_000) })?.message ?? '', /larger than/);
  });

  it('main reads the token from the sign-in page, nothing else', () => {
    assert.equal(tokenFromSignInPage(signInHtml(ORIGIN, 'abcDEF0123456789_-xyz')), 'abcDEF0123456789_-xyz');
    assert.equal(tokenFromSignInPage('<html></html>'), undefined);
  });

  it('keeps only well-formed entries of the encrypted key file', () => {
    assert.deepEqual(parseKeyFile('{"a": "QUJD", "b": 3, "c": "not base64!"}'), { a: 'QUJD' });
    assert.deepEqual(parseKeyFile('garbage'), {});
  });
});

void describe('keeping out of the agent\'s way', () => {
  const primary = { bounds: { x: 0, y: 0, width: 1920, height: 1080 }, workArea: { x: 0, y: 0, width: 1920, height: 1040 }, primary: true };
  const second = { bounds: { x: 1920, y: 0, width: 1280, height: 1024 }, workArea: { x: 1920, y: 0, width: 1280, height: 1024 } };
  const window = { x: 200, y: 100, width: 1280, height: 860 };

  it('panel: a small always-on-top panel in the corner, which is the rectangle the agent may not click', () => {
    const plan = windowPlanForRun('panel', window, [primary, second]);
    assert.deepEqual(plan.bounds, { x: 1920 - PANEL.width - PANEL.margin, y: 1040 - PANEL.height - PANEL.margin, width: PANEL.width, height: PANEL.height });
    assert.equal(plan.alwaysOnTop, true);
    assert.deepEqual(plan.noClickZones, [plan.bounds]);
  });

  it('other display: the whole window moves off the observed (primary) display; no zone is needed there', () => {
    const plan = windowPlanForRun('other_display', window, [primary, second]);
    assert.equal(plan.bounds.x, 1920);
    assert.ok(plan.bounds.width <= 1280 && plan.bounds.height <= 1024);
    assert.deepEqual(plan.noClickZones, []);
    // With one display there is nowhere to go: the panel instead.
    assert.equal(windowPlanForRun('other_display', window, [primary]).alwaysOnTop, true);
  });

  it('stay: the window stays and its whole rectangle is the zone', () => {
    assert.deepEqual(windowPlanForRun('stay', window, [primary]).noClickZones, [window]);
  });
});

void describe('kill switch, permissions, notifications', () => {
  it('turns the kill-key setting into a global-shortcut accelerator, refusing what would eat a plain key', () => {
    assert.equal(toAccelerator('ctrl+alt+k'), 'Control+Alt+K');
    assert.equal(toAccelerator('Ctrl + Shift + F12'), 'Control+Shift+F12');
    assert.equal(toAccelerator('cmd+alt+escape'), 'Command+Alt+Escape');
    for (const bad of ['k', 'ctrl+ctrl+k', 'hyper+k', 'ctrl+alt+é', '']) assert.equal(toAccelerator(bad), undefined, bad);
  });

  it('says on macOS which permission is missing and where to grant it; nothing elsewhere', () => {
    assert.deepEqual(permissionGuidance('linux', 'denied', false), []);
    assert.deepEqual(permissionGuidance('darwin', 'granted', true), []);
    const both = permissionGuidance('darwin', 'denied', false);
    assert.deepEqual(both.map((g) => g.permission), ['screen', 'accessibility']);
    assert.match(both[0]!.message, /Screen Recording/);
    assert.match(both[0]!.settingsUrl, /Privacy_ScreenCapture$/);
    assert.match(both[1]!.settingsUrl, /Privacy_Accessibility$/);
  });

  it('allows notifications to the app origin only, and no other permission to anyone', () => {
    assert.equal(allowPermissionFrom('notifications', `${ORIGIN}/#/run`, ORIGIN), true);
    assert.equal(allowPermissionFrom('notifications', 'https://evil.example/', ORIGIN), false);
    assert.equal(allowPermissionFrom('media', `${ORIGIN}/`, ORIGIN), false);
    assert.equal(allowPermissionFrom('clipboard-read', `${ORIGIN}/`, ORIGIN), false);
  });
});
