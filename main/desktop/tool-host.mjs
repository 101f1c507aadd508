// @ts-check
/**
 * Runs X tools (xdotool, xmodmap, xrandr) as children of a small process.
 *
 * Why not from the agent: starting a child forks the process that starts it, and the agent is
 * large (~300 MB). The fork itself took ~16 ms of the agent's main thread per tool here, and
 * afterwards every page the agent writes is copy-on-write once more: the next capture's 4 MB
 * and the store's pages fault one by one (measured: reading a capture into a reused buffer took
 * 16 ms after a fork, 0.3 ms without). This process is small, and its forks cost it alone.
 *
 * Two users: the supervisor of `foresight run` (main/cli/supervisor.mjs) runs tools for its
 * agent with runToolAsChild; run as a script with an IPC channel (main/desktop/tool-host.ts
 * starts it for agents without a supervisor), this file serves the same messages:
 *   in:  { type: 'run-tool', id, tool, args, env }
 *   out: { type: 'tool-result', id, code?, stdout?, stderr?, error?: { code, message } }
 * It ends when its parent does (the IPC channel closes).
 *
 * Plain JavaScript: it starts without tsx, in ~40 ms.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';
import { setTimeout, clearTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

/** @returns {string | undefined} */
export function findSetpriv() {
  if (process.platform !== 'linux') return undefined;
  return ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
}

/** `sh -c` script: exit 125 unless the parent is $1 (the prctl came too late), else exec the rest. */
const ORPHAN_CHECK = '[ "$PPID" = "$1" ] || exit 125; shift; exec "$@"';

/**
 * Runs a tool as a child of this process, under the parent-death signal where setpriv exists:
 * when this process is killed, even by SIGKILL, the kernel kills the tool at once.
 * @param {string | undefined} setpriv
 * @param {string} tool
 * @param {string[]} args
 * @param {Record<string, string>} env
 * @param {Set<import('node:child_process').ChildProcess>} running
 * @returns {Promise<{ code?: number, stdout?: string, stderr?: string, error?: { code: string, message: string } }>}
 */
export function runToolAsChild(setpriv, tool, args, env, running) {
  return new Promise((resolve) => {
    const child = setpriv
      ? spawn(setpriv, ['--pdeathsig', 'SIGKILL', '--', '/bin/sh', '-c', ORPHAN_CHECK, 'sh', String(process.pid), tool, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (/** @type {string} */ d) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (/** @type {string} */ d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (/** @type {NodeJS.ErrnoException} */ e) => {
      clearTimeout(timer);
      running.delete(child);
      resolve(e.code === 'ENOENT' ? { error: { code: 'TOOL_MISSING', message: `${tool} is not installed` } } : { error: { code: 'INTERNAL', message: `${tool} failed: ${e.message}` } });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (setpriv && code === 127 && /not found|No such file/i.test(stderr)) return resolve({ error: { code: 'TOOL_MISSING', message: `${tool} is not installed` } });
      if (signal) return resolve({ error: { code: 'STOPPED', message: `${tool} was ended by ${signal}` } });
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Serves run-tool messages on this process's IPC channel until it closes. */
function serve() {
  const setpriv = findSetpriv();
  /** @type {Set<import('node:child_process').ChildProcess>} */
  const running = new Set();
  process.on('message', (/** @type {any} */ m) => {
    if (!m || m.type !== 'run-tool' || typeof m.id !== 'number' || typeof m.tool !== 'string' || !Array.isArray(m.args)) return;
    void runToolAsChild(setpriv, m.tool, m.args.map(String), m.env && typeof m.env === 'object' ? m.env : {}, running).then((r) => {
      if (process.connected) process.send?.({ type: 'tool-result', id: m.id, ...r });
    });
  });
  process.on('disconnect', () => {
    for (const c of running) c.kill('SIGKILL');
    process.exit(0);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.send) serve();
