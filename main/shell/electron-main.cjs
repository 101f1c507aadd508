// The Electron main process, kept thin on purpose: it only puts a window around the page that
// the Node side (main/shell/start.ts) already serves on 127.0.0.1. Store, agent and models stay
// in Node, so everything works the same without Electron (browser mode).
//
// Started by start.ts as `electron main/shell/electron-main.cjs` with FORESIGHT_URL in the
// environment (preferred: argv is visible to other users) or `--foresight-url=<url>` in argv.
'use strict';

const { app, BrowserWindow, session, shell } = require('electron');
const path = require('node:path');

function targetUrl() {
  const fromArgv = process.argv.find((a) => a.startsWith('--foresight-url='));
  const raw = process.env.FORESIGHT_URL || (fromArgv ? fromArgv.slice('--foresight-url='.length) : '');
  let url;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  // Only our own loopback server: this window never loads anything else.
  return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost') ? url : undefined;
}

const url = targetUrl();
if (!url) {
  process.stderr.write('foresight: electron-main needs FORESIGHT_URL=http://127.0.0.1:<port>/?token=…\n');
  process.exit(2);
}

if (!app.requestSingleInstanceLock({ origin: url.origin })) app.quit();

function createWindow() {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'Foresight',
    backgroundColor: '#f6f7f9',
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: path.join(__dirname, 'preload.cjs'),
    },
  });
  // Links to other sites open in the user's browser, never inside the app window.
  win.webContents.setWindowOpenHandler(({ url: target }) => {
    if (/^https?:/.test(target)) void shell.openExternal(target);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, target) => {
    if (new URL(target).origin !== url.origin) event.preventDefault();
  });
  void win.loadURL(url.href);
  return win;
}

app.on('second-instance', () => {
  const [win] = BrowserWindow.getAllWindows();
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

app.whenReady().then(() => {
  // The page needs no camera, microphone, notifications, …
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => app.quit());
