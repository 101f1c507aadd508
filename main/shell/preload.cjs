// Preload of the Electron window (sandboxed, context-isolated). It exposes no calls yet: the
// contract of common/contract.ts is served over HTTP on 127.0.0.1 in both modes for now. When
// an IPC transport comes, it exposes one function per call of that contract here — never
// ipcRenderer itself.
'use strict';

const { contextBridge } = require('electron');

contextBridge.exposeInMainWorld('foresightShell', Object.freeze({ kind: 'electron', electron: process.versions.electron }));
