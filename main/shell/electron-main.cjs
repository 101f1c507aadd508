// The Electron main process, kept thin on purpose: it only puts a window around the page that
// the Node side (main/shell/start.ts) already serves on 127.0.0.1. Store, agent and models stay
// in Node, so everything works the same without Electron (browser mode). Every decision (which
// origin, which navigation, which external link, which permission) is a function of
// electron-policy.cjs, tested in Node; this file only wires them to Electron's checkpoints.
//
// Two ways in:
//  - `npm start` (start.ts) starts `electron main/shell/electron-main.cjs` with, in the environment,
//    FORESIGHT_ORIGIN (http://127.0.0.1:<port>) and FORESIGHT_SIGN_IN (the path of the sign-in
//    page, a file only this user can read, that gives the window the token). No token in argv.
//  - a packaged app (electron-builder.yml) starts with neither: main then starts the app server
//    itself, `foresight app --no-open --shell electron` under Electron's own Node
//    (ELECTRON_RUN_AS_NODE), reads the origin and the sign-in page's path from what it prints,
//    and stops it on quit.
'use strict';

const { app, BrowserWindow, Menu, Notification, Tray, dialog, globalShortcut, ipcMain, nativeImage, safeStorage, screen, session, shell, systemPreferences } = require('electron');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { setTimeout } = require('node:timers');
const policy = require('./electron-policy.cjs');

const { spawn } = require('node:child_process');
const readline = require('node:readline');
const { fileURLToPath } = require('node:url');

/** @type {string | undefined} */
let origin;
/** @type {string | undefined} */
let signIn;
/** @type {string | undefined} */
let token;
/** The app server this process started (packaged app), stopped on quit. */
let serverChild;

if (!app.requestSingleInstanceLock()) app.quit();

/** The app server of a packaged app: started here, its origin and sign-in page read from its output. */
function startServerChild() {
  return new Promise((resolve, reject) => {
    const entry = path.join(app.getAppPath(), 'bin', 'foresight.mjs');
    serverChild = spawn(process.execPath, [entry, 'app', '--no-open', '--shell', 'electron'], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let found = {};
    readline.createInterface({ input: serverChild.stdout }).on('line', (line) => {
      const o = /^Foresight is running at (http:\/\/127\.0\.0\.1:\d+)\/$/.exec(line);
      const f = /^\s+(file:\/\/\S+\.html)$/.exec(line);
      if (o) found = { ...found, origin: o[1] };
      if (f) found = { ...found, file: fileURLToPath(f[1]) };
      if (found.origin && found.file) resolve(found);
    });
    serverChild.once('exit', (code) => reject(new Error(`the app server exited (${code}) before it was ready`)));
  });
}

/** Where the app server is, and the token (from the sign-in page, a file only this user can read). */
async function connect() {
  let originRaw = process.env.FORESIGHT_ORIGIN;
  let signInFile = process.env.FORESIGHT_SIGN_IN;
  if (!originRaw || !signInFile) ({ origin: originRaw, file: signInFile } = await startServerChild());
  origin = policy.appOrigin(originRaw);
  signIn = policy.signInUrl(signInFile);
  if (!origin || !signIn) throw new Error('FORESIGHT_ORIGIN must be http://127.0.0.1:<port> and FORESIGHT_SIGN_IN the sign-in page');
  // Main calls the app server with it on the window's behalf; it is never put on a command line.
  token = policy.tokenFromSignInPage(fs.readFileSync(signInFile, 'utf8'));
}
/** @type {BrowserWindow | undefined} */
let win;
/** The window's place before a run moved it (restored when the run ends). */
let boundsBeforeRun;
let currentRunId;
let tray;

// ---------------------------------------------------------------- the app server, from main

/** One contract call to the app server (which checks the request against the contract where it arrives). */
function callServer(name, request) {
  return new Promise((resolve) => {
    const body = JSON.stringify(request);
    const req = http.request(
      `${origin}/api/${name}`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            resolve({ ok: false, error: { code: 'INTERNAL', message: `The app answered ${name} with HTTP ${res.statusCode} and no JSON` } });
          }
        });
      },
    );
    req.on('error', () => resolve({ ok: false, error: { code: 'ENDPOINT_UNREACHABLE', message: 'The Foresight app server does not answer; restart Foresight' } }));
    req.end(body);
  });
}

// ---------------------------------------------------------------- API keys with safeStorage

// Keys are encrypted with the OS keychain's key (safeStorage) in a 0600 file of main's own; the
// app server holds them only in memory (start.ts gives it a MemoryKeyStore in Electron).
const keyFile = () => path.join(app.getPath('userData'), 'keys.enc.json');

function readKeys() {
  try {
    return policy.parseKeyFile(fs.readFileSync(keyFile(), 'utf8'));
  } catch {
    return {};
  }
}

function writeKeys(keys) {
  fs.mkdirSync(path.dirname(keyFile()), { recursive: true, mode: 0o700 });
  const tmp = `${keyFile()}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(keys), { mode: 0o600 });
  fs.renameSync(tmp, keyFile());
}

async function setKey(endpointId, key) {
  if (!safeStorage.isEncryptionAvailable()) {
    return { ok: false, error: { code: 'BAD_INPUT', message: 'This system offers no keychain to keep the key encrypted (on Linux: a secret service such as GNOME Keyring or KWallet); start Foresight with `npx foresight app` to keep keys in a file only you can read' } };
  }
  const answer = await callServer('settings.setApiKey', { endpointId, key });
  if (answer.ok) writeKeys({ ...readKeys(), [endpointId]: safeStorage.encryptString(key).toString('base64') });
  return answer;
}

async function clearKey(endpointId) {
  const keys = readKeys();
  delete keys[endpointId];
  writeKeys(keys);
  return callServer('settings.clearApiKey', { endpointId });
}

/** At start: every stored key, decrypted, to the server's memory. */
async function pushKeys() {
  if (!safeStorage.isEncryptionAvailable()) return;
  for (const [endpointId, cipher] of Object.entries(readKeys())) {
    try {
      await callServer('settings.setApiKey', { endpointId, key: safeStorage.decryptString(Buffer.from(cipher, 'base64')) });
    } catch {
      // A key encrypted under another keychain: the user sets it again in Settings.
    }
  }
}

// ---------------------------------------------------------------- runs: out of the agent's way

async function startRun(request) {
  const settings = await callServer('settings.get', {});
  const windowPolicy = settings.ok ? settings.value.windowPolicy : 'panel';
  let zones = [];
  if (win) {
    const plan = policy.windowPlanForRun(windowPolicy, win.getBounds(), screen.getAllDisplays().map((d) => ({ ...d, primary: d.id === screen.getPrimaryDisplay().id })));
    boundsBeforeRun = win.getBounds();
    win.setBounds(plan.bounds);
    win.setAlwaysOnTop(plan.alwaysOnTop, 'floating');
    zones = plan.noClickZones;
  }
  // Main knows the window; whatever the page sent as zones is replaced.
  const answer = await callServer('runs.start', { ...request, noClickZones: zones });
  if (answer.ok) currentRunId = answer.value.runId;
  else restoreWindow();
  return answer;
}

function restoreWindow() {
  if (!win || !boundsBeforeRun) return;
  win.setAlwaysOnTop(false);
  win.setBounds(boundsBeforeRun);
  boundsBeforeRun = undefined;
}

async function stopRun() {
  const current = await callServer('runs.current', {});
  const run = current.ok ? current.value.run : null;
  if (run && run.status !== 'ended') await callServer('runs.stop', { runId: run.runId });
}

ipcMain.handle('foresight:call', async (event, name, request) => {
  const refused = policy.checkIpcCall(event.senderFrame && event.senderFrame.url, origin, name, request);
  if (refused) return { ok: false, error: refused };
  if (name === 'runs.start') return startRun(request);
  if (name === 'settings.setApiKey') return setKey(request.endpointId, request.key);
  if (name === 'settings.clearApiKey') return clearKey(request.endpointId);
  return callServer(name, request);
});

// ---------------------------------------------------------------- the live channel, to the window

function followEvents(lastId) {
  const req = http.get(`${origin}/events`, { headers: { authorization: `Bearer ${token}`, ...(lastId ? { 'last-event-id': String(lastId) } : {}) } }, (res) => {
    let buffer = '';
    let last = lastId;
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (k) => (block.split('\n').find((l) => l.startsWith(`${k}: `)) || '').slice(k.length + 2);
        const name = field('event');
        if (!name) continue;
        last = Number(field('id')) || last;
        let data;
        try {
          data = JSON.parse(field('data'));
        } catch {
          continue;
        }
        onEvent(name, data);
        if (win && !win.isDestroyed()) win.webContents.send('foresight:event', { name, data, seq: last });
      }
    });
    res.on('end', () => setTimeout(() => followEvents(last), 1000));
  });
  req.on('error', () => setTimeout(() => followEvents(lastId), 1000));
}

function onEvent(name, data) {
  if (name === 'run.started') currentRunId = data.runId;
  if (name === 'gate.waiting') {
    // The person may have looked away: say so on the desktop, and draw the eye to the panel.
    if (Notification.isSupported()) new Notification({ title: 'Foresight is waiting for you', body: `Step ${data.step}: approve, edit or reject the forecast.` }).show();
    if (win) win.flashFrame(true);
  }
  if (name === 'gate.decided' && win) win.flashFrame(false);
  if (name === 'run.ended' && data.runId === currentRunId) restoreWindow();
  updateTray();
}

// ---------------------------------------------------------------- tray, kill switch, permissions

function updateTray() {
  if (!tray) return;
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Show Foresight', click: () => win && (win.show(), win.focus()) },
      { label: 'Stop the run', click: () => void stopRun() },
      { type: 'separator' },
      { label: 'Quit Foresight', click: () => app.quit() },
    ]),
  );
}

async function armKillSwitch() {
  const settings = await callServer('settings.get', {});
  const accelerator = policy.toAccelerator(settings.ok ? settings.value.killKey : 'ctrl+alt+k');
  // The agent's supervisor watches the same key on its own (uiohook); this one also works when
  // the supervisor's hook cannot be installed, and stops through the app server.
  if (accelerator && !globalShortcut.register(accelerator, () => void stopRun())) {
    process.stderr.write(`foresight: the kill-switch shortcut ${accelerator} is taken by another program; the tray's "Stop the run" still works\n`);
  }
}

async function checkMacPermissions() {
  const missing = policy.permissionGuidance(
    process.platform,
    process.platform === 'darwin' ? systemPreferences.getMediaAccessStatus('screen') : 'granted',
    process.platform === 'darwin' ? systemPreferences.isTrustedAccessibilityClient(false) : true,
  );
  for (const m of missing) {
    const { response } = await dialog.showMessageBox({ type: 'warning', message: m.message, buttons: ['Open System Settings', 'Later'], defaultId: 0 });
    if (response === 0) await shell.openExternal(m.settingsUrl);
  }
}

/** A link the page tried to open: the user's browser for allowed hosts, else nothing. */
function openExternally(target) {
  const link = policy.externalLink(target);
  if (link) void shell.openExternal(link);
}

// Every web contents, the window's and any other that might appear: no new windows (links go to
// the user's browser through the allow-list), no navigation or redirect off the app's origin,
// no <webview>.
app.on('web-contents-created', (_event, contents) => {
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
  const guard = (event, url) => {
    const target = typeof event.url === 'string' ? event.url : url;
    if (!policy.mayNavigate(target, origin)) event.preventDefault();
  };
  contents.on('will-navigate', guard);
  contents.on('will-frame-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

function createWindow() {
  win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'Foresight',
    backgroundColor: '#f6f7f9',
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      preload: path.join(__dirname, 'preload.cjs'),
    },
  });
  // The sign-in page posts the token to the app, which answers with the app itself.
  void win.loadURL(signIn);
  return win;
}

app.on('second-instance', () => {
  const [win] = BrowserWindow.getAllWindows();
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

app.whenReady().then(async () => {
  try {
    await connect();
  } catch (e) {
    dialog.showErrorBox('Foresight could not start', String(e && e.message ? e.message : e));
    app.exit(2);
    return;
  }
  // The page needs no camera, microphone, clipboard, …: asked or checked, no. Notifications from the app's origin only.
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) => callback(policy.allowPermissionFrom(permission, details && details.requestingUrl, origin)));
  session.defaultSession.setPermissionCheckHandler((_wc, permission, requestingOrigin) => policy.allowPermissionFrom(permission, requestingOrigin, origin));
  session.defaultSession.setDevicePermissionHandler(() => false);
  // The server sends a strict CSP with every page; an answer of the app's origin that came without
  // one (a bug) gets the strictest, so nothing it holds can run.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    const headers = details.responseHeaders || {};
    const hasCsp = Object.keys(headers).some((k) => k.toLowerCase() === 'content-security-policy');
    if (!hasCsp && details.url.startsWith(`${origin}/`)) headers['Content-Security-Policy'] = ["default-src 'none'"];
    callback({ responseHeaders: headers });
  });
  void pushKeys();
  void armKillSwitch();
  void checkMacPermissions();
  followEvents(undefined);
  tray = new Tray(nativeImage.createFromPath(path.join(__dirname, '..', '..', 'build', 'tray.png')));
  tray.setToolTip('Foresight');
  updateTray();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('will-quit', () => {
  globalShortcut.unregisterAll();
  if (serverChild && serverChild.exitCode === null) serverChild.kill('SIGTERM');
});
app.on('window-all-closed', () => app.quit());
