// @ts-check
/**
 * The input watchdog (started by kill-guard.mjs startWatchdog): when its standard input closes
 * without "exit" — the supervisor of `foresight run` died, even by SIGKILL, and took the agent
 * and its input children with it — it lets go of every key and button XTEST holds, so a key
 * pressed but never released does not repeat into the app. Connected before it is needed, it
 * acts within a few milliseconds of the death.
 */
import process from 'node:process';
import { connectReleaser } from './kill-guard.mjs';

const display = process.env.DISPLAY;
if (!display) process.exit(0);

const releaser = await connectReleaser(display).catch(() => undefined);
if (!releaser) process.exit(0);

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (/** @type {string} */ d) => (input += d));
process.stdin.on('error', () => undefined);
process.stdin.on('close', () => {
  if (input.includes('exit')) process.exit(0);
  releaser.releaseAll().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
