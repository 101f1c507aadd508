/**
 * The renderer's build (Vite + React). `npm run build:renderer` writes the production build to
 * renderer/dist/, which main/shell/assets.ts serves; `npm run dev:renderer` serves the sources
 * with hot reload (its calls go to a running `npm start`, see the proxy below).
 *
 * At the repository root rather than in renderer/: this file runs in Node (it imports vite and
 * node:path), and renderer/ may hold browser code only (eslint.config.js's layering rule).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const renderer = fileURLToPath(new URL('./renderer/', import.meta.url));
/** The app's server during `npm run dev:renderer` (`npm start -- --port 7777`). */
const devTarget = process.env.FORESIGHT_DEV_SERVER ?? 'http://127.0.0.1:7777';

export default defineConfig({
  root: renderer,
  base: '/',
  plugins: [react()],
  // The server's CSP allows scripts and styles from 'self' only: no inline script, no eval, so
  // nothing below may inline code into index.html.
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: ['chrome120', 'firefox121', 'safari17'],
    sourcemap: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    // Everything but the page goes to the app server. It refuses a foreign Origin (and Host), so
    // the proxy presents the server's own; the sign-in cookie (set for 127.0.0.1) goes along.
    proxy: Object.fromEntries(
      ['/api', '/events', '/blobs', '/thumbs', '/exports', '/bench-reports', '/login'].map((path) => [path, { target: devTarget, changeOrigin: true, headers: { origin: devTarget } }]),
    ),
  },
});
