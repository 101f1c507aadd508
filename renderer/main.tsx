/**
 * The renderer's entry point. Browser code only: it reaches the rest of Foresight through
 * common/contract.ts (transport.ts), never through Node.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { pageTransport } from './transport.ts';
import './style.css';

declare global {
  interface Window {
    /** Set by the Electron preload (main/shell/preload.cjs); absent in a browser. */
    foresightShell?: { kind: 'electron'; electron: string };
  }
}

const root = document.getElementById('root');
if (root) {
  const { call, live } = pageTransport();
  createRoot(root).render(
    <StrictMode>
      <App call={call} live={live} />
    </StrictMode>,
  );
}
