// What the Electron window may do, as plain functions of strings: electron-main.cjs asks these
// at each of Electron's checkpoints, and Node tests them (test/unit/electron-policy.test.ts)
// where Electron itself cannot start. No Electron import here.
'use strict';

const { isAbsolute } = require('node:path');
const { pathToFileURL } = require('node:url');

/**
 * Hosts whose https pages a link in the app may open in the user's browser (a link's own host or
 * a subdomain of it). Everything else is dropped: a page that went wrong, or content from an
 * episode, must not make the shell open arbitrary URLs. Add a host here when the renderer links
 * to it.
 */
const EXTERNAL_HOSTS = Object.freeze(['github.com', 'arxiv.org']);

function parse(raw) {
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/**
 * The app server's origin (`http://127.0.0.1:<port>`) from FORESIGHT_ORIGIN, or undefined when
 * it is anything else: the window shows our loopback server and nothing else.
 */
function appOrigin(raw) {
  const url = parse(raw);
  if (!url || url.protocol !== 'http:' || url.port === '' || url.username !== '' || url.password !== '') return undefined;
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') return undefined;
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return undefined;
  return url.origin;
}

/** The sign-in page's file URL from FORESIGHT_SIGN_IN (an absolute path to an .html file), or undefined. */
function signInUrl(rawPath) {
  if (typeof rawPath !== 'string' || !isAbsolute(rawPath) || !rawPath.endsWith('.html')) return undefined;
  return pathToFileURL(rawPath).href;
}

/**
 * Whether the window may navigate, or be redirected, to `target`: only within the app's origin
 * (the sign-in form posts there, and the app redirects within it). The sign-in page itself is
 * loaded by the main process, which asks no one.
 */
function mayNavigate(target, origin) {
  const url = parse(target);
  return url !== undefined && url.protocol === 'http:' && url.origin === origin;
}

/**
 * The URL to hand to the user's browser for a link the page tried to open, or undefined to drop
 * it: https only, no user name or password in it, a host of EXTERNAL_HOSTS (or a subdomain).
 */
function externalLink(target) {
  const url = parse(target);
  if (!url || url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '') return undefined;
  const host = url.hostname.toLowerCase();
  return EXTERNAL_HOSTS.some((h) => host === h || host.endsWith(`.${h}`)) ? url.href : undefined;
}

/**
 * Whether a page may use a permission (camera, microphone, notifications, clipboard, geolocation,
 * …) or be asked for one: never. The episode viewer needs none, and a page that asks is not ours.
 */
function allowPermission(/* permission, requestingOrigin */) {
  return false;
}

/**
 * Whether a page may use a permission. Notifications from the app's own origin only: the gate
 * raises one when it starts waiting for a person who may have looked away. Nothing else (camera,
 * microphone, clipboard, geolocation, …) for anyone.
 */
function allowPermissionFrom(permission, requestingUrl, origin) {
  if (permission !== 'notifications') return false;
  const url = parse(requestingUrl);
  return url !== undefined && url.origin === origin;
}

// ---------------------------------------------------------------- the contract over IPC

/**
 * Every call of common/contract.ts, in its order. The sandboxed preload cannot load our files, so
 * preload.cjs holds the same list; test/unit/electron-shell.test.ts checks that both equal CALL_NAMES.
 */
const CALL_NAMES = Object.freeze([
  'app.info',
  'episodes.list',
  'episodes.get',
  'episodes.export',
  'episodes.delete',
  'runs.start',
  'runs.current',
  'runs.pause',
  'runs.resume',
  'runs.stop',
  'runs.noClickZones',
  'gate.decide',
  'benchmarks.list',
  'settings.get',
  'settings.update',
  'settings.setApiKey',
  'settings.clearApiKey',
  'settings.testConnection',
]);

/** The preload's function name of a call: 'episodes.list' → 'episodesList'. */
function callFunctionName(name) {
  return name.replace(/\.([a-z])/g, (_m, c) => c.toUpperCase());
}

/** A request body may be at most this large (the server's own cap is 64 KiB). */
const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * Checks a call that came over IPC before main forwards it to the app server (which checks the
 * request against the contract's zod schema where it arrives): a frame of the app's origin only
 * (an iframe, a report, a page that navigated away gets nothing), a known call name, a plain JSON
 * object within the size cap. Returns undefined when it may go, else the error to answer with.
 */
function checkIpcCall(senderUrl, origin, name, request) {
  const sender = parse(senderUrl);
  if (!sender || sender.origin !== origin) return { code: 'BAD_INPUT', message: 'Calls are taken only from the Foresight window itself' };
  if (typeof name !== 'string' || !CALL_NAMES.includes(name)) return { code: 'NOT_FOUND', message: `There is no call "${String(name)}"` };
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return { code: 'BAD_INPUT', message: `Call ${name} with an object` };
  let text;
  try {
    text = JSON.stringify(request);
  } catch {
    return { code: 'BAD_INPUT', message: `The request to ${name} is not JSON` };
  }
  if (Buffer.byteLength(text) > MAX_REQUEST_BYTES) return { code: 'BAD_INPUT', message: `The request to ${name} is larger than ${MAX_REQUEST_BYTES} bytes` };
  return undefined;
}

/** The token in the sign-in page start.ts wrote (a file only this user can read), or undefined. */
function tokenFromSignInPage(html) {
  const m = /<input type="hidden" name="token" value="([A-Za-z0-9_-]{16,200})">/.exec(String(html));
  return m ? m[1] : undefined;
}

// ---------------------------------------------------------------- keeping out of the agent's way

/** Size of the panel the window shrinks to while a run acts (policy 'panel'). */
const PANEL = Object.freeze({ width: 360, height: 220, margin: 16 });

/**
 * Where the window goes while a run acts, and the rectangles the agent must never click into.
 * The agent observes the primary display. 'panel': a small always-on-top panel in the bottom-right
 * corner of the display the window is on (the agent may not click there); 'other_display': the
 * window moves, whole, to a display other than the primary (no zone needed; when there is no
 * other display it falls back to the panel); 'stay': it stays, and its whole rectangle is the zone.
 * Rectangles are global logical pixels, Electron's and the agent's (nut.js) unit alike.
 */
function windowPlanForRun(policy, windowBounds, displays) {
  const primary = displays.find((d) => d.primary) || displays[0];
  if (policy === 'other_display') {
    const other = displays.find((d) => d !== primary);
    if (other) {
      const w = Math.min(windowBounds.width, other.workArea.width);
      const h = Math.min(windowBounds.height, other.workArea.height);
      return { bounds: { x: other.workArea.x, y: other.workArea.y, width: w, height: h }, alwaysOnTop: false, noClickZones: [] };
    }
  }
  if (policy === 'stay') return { bounds: { ...windowBounds }, alwaysOnTop: false, noClickZones: [{ ...windowBounds }] };
  const centre = { x: windowBounds.x + windowBounds.width / 2, y: windowBounds.y + windowBounds.height / 2 };
  const home =
    displays.find((d) => centre.x >= d.bounds.x && centre.x < d.bounds.x + d.bounds.width && centre.y >= d.bounds.y && centre.y < d.bounds.y + d.bounds.height) || primary;
  const area = home.workArea;
  const bounds = {
    x: area.x + area.width - PANEL.width - PANEL.margin,
    y: area.y + area.height - PANEL.height - PANEL.margin,
    width: PANEL.width,
    height: PANEL.height,
  };
  return { bounds, alwaysOnTop: true, noClickZones: [{ ...bounds }] };
}

/** 'ctrl+alt+k' (the kill-key setting, as `foresight run --kill-key` takes it) as an Electron accelerator, or undefined. */
function toAccelerator(combo) {
  const names = { ctrl: 'Control', control: 'Control', alt: 'Alt', option: 'Alt', shift: 'Shift', meta: 'Super', super: 'Super', win: 'Super', cmd: 'Command', command: 'Command' };
  const parts = String(combo).toLowerCase().split('+').map((p) => p.trim()).filter(Boolean);
  if (parts.length < 2) return undefined; // a bare key as a global shortcut would eat that key everywhere
  const key = parts.pop();
  const mods = parts.map((p) => names[p]);
  if (mods.some((m) => m === undefined) || new Set(mods).size !== mods.length) return undefined;
  let k;
  if (/^[a-z0-9]$/.test(key)) k = key.toUpperCase();
  else if (/^f([1-9]|1[0-9]|2[0-4])$/.test(key)) k = key.toUpperCase();
  else k = { escape: 'Escape', esc: 'Escape', space: 'Space', pause: 'Pause', delete: 'Delete', backspace: 'Backspace', enter: 'Enter' }[key];
  return k === undefined ? undefined : [...mods, k].join('+');
}

/**
 * What to tell a macOS user about the permissions the agent needs, from Electron's answers
 * (systemPreferences.getMediaAccessStatus('screen'), isTrustedAccessibilityClient(false)).
 * Each entry: what is missing, why, and the System Settings pane that grants it.
 */
function permissionGuidance(platform, screenStatus, accessibilityTrusted) {
  if (platform !== 'darwin') return [];
  const out = [];
  if (screenStatus !== 'granted') {
    out.push({
      permission: 'screen',
      message: 'Foresight needs Screen Recording to see the screen it acts on. Open System Settings → Privacy & Security → Screen Recording, turn Foresight on, then quit and reopen Foresight.',
      settingsUrl: 'x-apple.systempreferences:com.apple.preference.security?Privacy_ScreenCapture',
    });
  }
  if (!accessibilityTrusted) {
    out.push({
      permission: 'accessibility',
      message: 'Foresight needs Accessibility to move the mouse and type. Open System Settings → Privacy & Security → Accessibility and turn Foresight on.',
      settingsUrl: 'x-apple.systempreferences:com.apple.preference.security?Privacy_Accessibility',
    });
  }
  return out;
}

/** Reads the encrypted key file main keeps ({ endpointId: base64 of safeStorage's ciphertext }); {} when absent or damaged. */
function parseKeyFile(text) {
  try {
    const v = JSON.parse(String(text));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const out = {};
    for (const [k, c] of Object.entries(v)) if (typeof c === 'string' && /^[A-Za-z0-9+/=]+$/.test(c)) out[k] = c;
    return out;
  } catch {
    return {};
  }
}

exports.EXTERNAL_HOSTS = EXTERNAL_HOSTS;
exports.CALL_NAMES = CALL_NAMES;
exports.PANEL = PANEL;
exports.callFunctionName = callFunctionName;
exports.checkIpcCall = checkIpcCall;
exports.tokenFromSignInPage = tokenFromSignInPage;
exports.windowPlanForRun = windowPlanForRun;
exports.toAccelerator = toAccelerator;
exports.permissionGuidance = permissionGuidance;
exports.parseKeyFile = parseKeyFile;
exports.allowPermissionFrom = allowPermissionFrom;
exports.appOrigin = appOrigin;
exports.signInUrl = signInUrl;
exports.mayNavigate = mayNavigate;
exports.externalLink = externalLink;
exports.allowPermission = allowPermission;
