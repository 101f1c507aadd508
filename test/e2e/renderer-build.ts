/**
 * The e2e tests serve the renderer's production build (main/shell/assets.ts): make it when it
 * is missing or older than its sources, exactly as build/install.sh does (a no-op when fresh).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../build/build-renderer.mjs', import.meta.url));

export function ensureRendererBuild(): void {
  execFileSync(process.execPath, [SCRIPT], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
}
