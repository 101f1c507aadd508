// @ts-check
/**
 * The supervisor of `foresight run`: a small process that owns the kill switch, so that nothing
 * the agent does — a CPU-bound parse, a blocked event loop — can delay it.
 *
 * Node delivers signals and uiohook's key events only to the main thread's event loop, so while
 * the agent's loop is busy neither the hotkey nor Ctrl+C can run there. The supervisor starts
 * the agent as a child (with an IPC channel), keeps its own loop idle, and handles SIGINT,
 * SIGTERM and the global hotkey itself:
 *   1. it asks the agent to stop ({type:'stop'}); an agent whose loop is free aborts its run at
 *      once (typing, waits, model requests), answers {type:'stopping'}, records the episode as
 *      stopped and exits 130;
 *   2. without that answer within GRACE_MS the agent is busy: the supervisor kills it (SIGKILL;
 *      its input children go with it by their parent-death signal), lets go of every key and
 *      button XTEST holds, prints the end of the episode as the agent would have, records it
 *      as stopped, and exits 130. A second Ctrl+C skips the grace.
 * The agent dies with the supervisor: it is started through `setpriv --pdeathsig SIGKILL`
 * (util-linux) where that exists, and it also ends when the IPC channel closes. An input
 * watchdog (main/desktop/kill-guard.mjs) releases held keys if the supervisor itself is killed.
 *
 * Plain JavaScript, like bin/foresight.mjs: loading tsx costs ~200 ms, which only the agent pays.
 * The exit code and output are the agent's own; stdio is inherited, so the terminal, pipes and
 * `--json` lines are exactly what the agent writes.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import process from 'node:process';
import { setTimeout, clearTimeout } from 'node:timers';
import { connectReleaser, startHotkey, startWatchdog } from '../desktop/kill-guard.mjs';
import { findSetpriv, runToolAsChild } from '../desktop/tool-host.mjs';

/** How long an agent has to answer a stop before it counts as busy and is killed. */
export const GRACE_MS = 100;
/** How long an agent that answered may take to record the stop and exit. */
const WIND_DOWN_MS = 10_000;
const EXIT_STOPPED = 130;

/**
 * Runs `entry args…` as the supervised agent and exits with its exit code.
 * @param {string} entry  the script the agent runs (bin/foresight.mjs)
 * @param {string[]} args  the command line after the script
 * @returns {Promise<never>}
 */
export async function supervise(entry, args) {
  const setpriv = findSetpriv();
  const nodeArgs = [...process.execArgv, entry, ...args];
  const env = { ...process.env, FORESIGHT_SUPERVISOR_PID: String(process.pid) };
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...nodeArgs], { env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] })
    : spawn(process.execPath, nodeArgs, { env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });

  /** @type {{ episodeId?: string, db?: string, json: boolean, steps: number }} */
  const episode = { json: false, steps: 0 };
  /** @type {(() => void) | undefined} */
  let stopHook;
  /** @type {import('../desktop/kill-guard.mjs').Watchdog | undefined} */
  let watchdog;
  /** @type {Promise<import('../desktop/kill-guard.mjs').InputReleaser | undefined> | undefined} */
  let releaser;
  /** @type {string | undefined} */
  let stopReason;
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  let forced = false;
  let stopRequests = 0;
  /** @type {Set<import('node:child_process').ChildProcess>} */
  const tools = new Set();

  const getReleaser = () => {
    const display = process.env.DISPLAY;
    if (!display || process.platform === 'darwin' || process.platform === 'win32') return Promise.resolve(undefined);
    releaser ??= connectReleaser(display).catch(() => undefined);
    return releaser;
  };

  const releaseInput = async () => {
    const r = await getReleaser();
    if (!r) return;
    try {
      await r.releaseAll();
    } catch (e) {
      process.stderr.write(`foresight: warning: could not let go of held keys: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  };

  /**
   * Ends the input tools this process runs for the agent (xdotool, possibly mid-chunk), then
   * lets go of whatever they or the agent left pressed.
   */
  const stopInput = async () => {
    const ending = [...tools].map((t) => new Promise((r) => (t.exitCode !== null || t.signalCode !== null ? r(undefined) : (t.once('close', r), t.kill('SIGKILL')))));
    await Promise.all(ending);
    await releaseInput();
  };

  /** @param {string} reason */
  const force = (reason) => {
    if (forced) return;
    forced = true;
    stopReason ??= reason;
    clearTimeout(timer);
    child.kill('SIGKILL');
    void stopInput();
  };

  /** @param {string} reason */
  const requestStop = (reason) => {
    stopRequests++;
    if (stopRequests > 1 || !child.connected) return force(reason);
    stopReason = reason;
    // Typing stops now, whether or not the agent can hear the request.
    void stopInput();
    try {
      child.send({ type: 'stop', reason });
    } catch {
      return force(reason);
    }
    timer = setTimeout(() => force(reason), GRACE_MS);
  };

  /** @param {NodeJS.Signals} sig */
  const onSignal = (sig) => requestStop(sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  child.on('message', (/** @type {AgentMessage} */ m) => {
    switch (m?.type) {
      case 'arm': {
        let error;
        try {
          stopHook ??= startHotkey(m.hotkey, () => requestStop(`hotkey ${m.hotkey.text}`));
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        if (child.connected) child.send(error === undefined ? { type: 'armed' } : { type: 'armed', error });
        // The X connection that releases keys is opened only when needed (~0.1 s, well before
        // a held key starts to repeat at ~660 ms), so it costs the start of a run nothing.
        if (!error && process.env.DISPLAY && process.platform !== 'darwin' && process.platform !== 'win32') watchdog ??= startWatchdog(process.env);
        return;
      }
      case 'episode':
        episode.episodeId = m.episodeId;
        episode.db = m.db;
        episode.json = m.json;
        return;
      case 'steps':
        episode.steps = m.steps;
        return;
      case 'run-tool':
        void runToolAsChild(setpriv, m.tool, m.args, m.env, tools).then((r) => {
          if (child.connected) child.send({ type: 'tool-result', id: m.id, ...r });
        });
        return;
      case 'stopping':
        // The agent's loop is free and has aborted its run: let it record the stop itself.
        clearTimeout(timer);
        if (!forced) timer = setTimeout(() => force(stopReason ?? 'stop'), WIND_DOWN_MS);
        void stopInput();
        return;
    }
  });

  /** @type {{ code: number | null, signal: NodeJS.Signals | null }} */
  const ended = await new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (e) => {
      process.stderr.write(`foresight: INTERNAL: the agent could not be started: ${e.message}\n`);
      resolve({ code: 1, signal: null });
    });
  });
  clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  stopHook?.();
  if (forced) {
    await stopInput();
    await reportForcedStop(episode, stopReason ?? 'stop');
  } else if (ended.signal) {
    // The agent was killed from outside, perhaps in the middle of an action.
    await releaseInput();
  }
  watchdog?.dismiss();
  (await releaser)?.close();
  if (forced) process.exit(EXIT_STOPPED);
  if (ended.signal) {
    // End the way the agent ended, as `foresight run` did before it had a supervisor.
    process.kill(process.pid, ended.signal);
    process.exit(128 + (os.constants.signals[ended.signal] ?? 0));
  }
  process.exit(ended.code ?? 1);
}

/**
 * The agent was killed before it could say how the episode ended: say it for it, in the form it
 * uses (an episode_end and a summary line with --json), and record the episode as stopped.
 * @param {{ episodeId?: string, db?: string, json: boolean, steps: number }} episode
 * @param {string} reason
 */
async function reportForcedStop(episode, reason) {
  if (!episode.episodeId) return; // the agent had not begun an episode: nothing to report
  const error = { code: 'STOPPED', message: `Stopped by the kill switch (${reason}); the agent did not answer within ${GRACE_MS} ms and was ended` };
  const end = { episodeId: episode.episodeId, status: 'stopped', error, steps: episode.steps };
  if (episode.json) {
    process.stdout.write(JSON.stringify({ type: 'episode_end', ...end }) + '\n');
    process.stdout.write(JSON.stringify({ type: 'summary', ...end }) + '\n');
  } else {
    process.stdout.write(`\nEpisode ${end.episodeId} stopped after ${end.steps} steps\n  STOPPED: ${error.message}\n`);
  }
  if (!episode.db) return;
  try {
    const { markEpisodeStopped } = await import('../../store/mark-stopped.mjs');
    markEpisodeStopped(episode.db, episode.episodeId, error);
  } catch (e) {
    process.stderr.write(`foresight: warning: the episode could not be marked as stopped (it will show as interrupted): ${e instanceof Error ? e.message : String(e)}\n`);
  }
}
