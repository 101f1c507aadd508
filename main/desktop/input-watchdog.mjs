// @ts-check
/**
 * The input watchdog (started by kill-guard.mjs startWatchdog): when its standard input closes
 * without "exit" — the supervisor of `foresight run` died, even by SIGKILL, and took the agent
 * and its input children with it — it lets go of every key and button XTEST holds, so a key
 * pressed but never released does not repeat into the app. It connects to the X server only
 * then, which keeps it small and idle until needed.
 */
import process from 'node:process';
import { connectReleaser } from './kill-guard.mjs';

const display = process.env.DISPLAY;
if (!display) process.exit(0);

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (/** @type {string} */ d) => (input += d));
process.stdin.on('error', () => undefined);
let acted = false;
const onEnd = () => {
  if (acted) return;
  acted = true;
  if (input.includes('exit')) process.exit(0);
  // Connected only now: a held key repeats after ~660 ms, loading and connecting takes ~0.1 s.
  connectReleaser(display)
    .then((releaser) => releaser.releaseAll())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
};
process.stdin.on('end', onEnd);
process.stdin.on('close', onEnd);
