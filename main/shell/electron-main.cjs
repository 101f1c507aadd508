// The Electron main process, kept thin on purpose: it only puts a window around the page that
// the Node side (main/shell/start.ts) already serves on 127.0.0.1. Store, agent and models stay
// in Node, so everything works the same without Electron (browser mode). Every decision (which
// origin, which navigation, which external link, which permission) is a function of
// electron-policy.cjs, tested in Node; this file only wires them to Electron's checkpoints.
//
// Started by start.ts as `electron main/shell/electron-main.cjs` with, in the environment,
// FORESIGHT_ORIGIN (http://127.0.0.1:<port>) and FORESIGHT_SIGN_IN (the path of the sign-in
// page, a file only this user can read, that gives the window the token). No token in argv.
'use strict';

const { app, BrowserWindow, session, shell } = require('electron');
const path = require('node:path');
const policy = require('./electron-policy.cjs');

const origin = policy.appOrigin(process.env.FORESIGHT_ORIGIN);
const signIn = policy.signInUrl(process.env.FORESIGHT_SIGN_IN);
if (!origin || !signIn) {
  process.stderr.write('foresight: electron-main needs FORESIGHT_ORIGIN=http://127.0.0.1:<port> and FORESIGHT_SIGN_IN=<the sign-in page>\n');
  process.exit(2);
}

if (!app.requestSingleInstanceLock({ origin })) app.quit();

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

app.whenReady().then(() => {
  // The page needs no camera, microphone, notifications, clipboard, …: asked or checked, no.
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) => callback(policy.allowPermission(permission, details && details.requestingUrl)));
  session.defaultSession.setPermissionCheckHandler((_wc, permission, requestingOrigin) => policy.allowPermission(permission, requestingOrigin));
  session.defaultSession.setDevicePermissionHandler(() => false);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => app.quit());
