// Preload of the Electron window (sandboxed, context-isolated): the contract of
// common/contract.ts as one function per call, and the live events — never ipcRenderer itself.
//
//   window.foresight.calls.episodesList({ status: 'failed' })  → Promise<Result<…>>
//   window.foresight.onEvent((name, data, seq) => …)            → a function that unsubscribes
//
// Each call goes to main ('foresight:call'), which checks the sender and the message and
// forwards it to the app server, where the request is checked against the contract's schema
// (the same path as browser mode's HTTP). A sandboxed preload cannot load our files, so the list
// of calls is written out here; test/unit/electron-shell.test.ts keeps it equal to CALL_NAMES.
'use strict';

const { contextBridge, ipcRenderer } = require('electron');

const CALL_NAMES = [
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
];

const calls = {};
for (const name of CALL_NAMES) {
  const fn = name.replace(/\.([a-z])/g, (_m, c) => c.toUpperCase());
  calls[fn] = (request) => ipcRenderer.invoke('foresight:call', name, request === undefined ? {} : request);
}

const listeners = new Set();
ipcRenderer.on('foresight:event', (_event, e) => {
  for (const l of listeners) {
    try {
      l(e.name, e.data, e.seq);
    } catch {
      // one view's failure is not another's
    }
  }
});

contextBridge.exposeInMainWorld(
  'foresight',
  Object.freeze({
    kind: 'electron',
    electron: process.versions.electron,
    calls: Object.freeze(calls),
    onEvent(listener) {
      if (typeof listener !== 'function') return () => undefined;
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  }),
);
// The name the viewer used before the contract had calls here.
contextBridge.exposeInMainWorld('foresightShell', Object.freeze({ kind: 'electron', electron: process.versions.electron }));
