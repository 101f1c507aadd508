// @ts-check
/**
 * The desktop side of the kill switch's supervisor (main/cli/supervisor.mjs): the global hotkey,
 * letting go of every key and button the agent may hold, and a watchdog that does that even
 * when the supervisor itself is killed with SIGKILL.
 *
 * Plain JavaScript on purpose: the supervisor must not load tsx (~200 ms of start-up, and a
 * loader thread), so everything it runs is here, typed with JSDoc. The agent's own kill switch
 * (kill-switch.ts) computes the hotkey and hands it over as a HotkeySpec.
 *
 * Why release through XTEST by keycode rather than `xdotool keyup <names>`: a key the agent's
 * typer pressed but never released (it was killed between the press and the release) is any
 * keycode, often a spare one bound for a single character; an X server repeats a held key
 * after ~660 ms, so the letter would keep arriving. QueryKeymap says which keys are down, and a
 * release sent through XTEST only affects keys that XTEST pressed (the server ignores the
 * release of a key its device does not hold), so the user's own held keys are left alone.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { setTimeout, clearTimeout } from 'node:timers';

const require = createRequire(import.meta.url);

/**
 * @typedef {object} HotkeySpec
 * @property {string} key  the main key, as a name in uiohook-napi's UiohookKey table ("K", "F12")
 * @property {boolean} ctrl
 * @property {boolean} alt
 * @property {boolean} shift
 * @property {boolean} meta
 * @property {string} text  how it is shown ("ctrl+alt+k")
 */

/** @type {any} */
let hookModule;
let hookRunning = false;

/**
 * Starts uiohook's global hook and calls onHotkey whenever the combination is pressed. Loads
 * uiohook only now: on X11 its library opens a connection when loaded (the caller has checked
 * that the display answers). Returns a function that removes the hook.
 * @param {HotkeySpec} spec
 * @param {() => void} onHotkey
 * @returns {() => void}
 */
export function startHotkey(spec, onHotkey) {
  hookModule ??= require('uiohook-napi');
  const { uIOhook, UiohookKey } = hookModule;
  /** @type {number | undefined} */
  const code = UiohookKey[spec.key];
  if (code === undefined) throw new Error(`uiohook has no key named ${spec.key}`);
  /** @param {{ keycode: number, ctrlKey: boolean, altKey: boolean, shiftKey: boolean, metaKey: boolean }} e */
  const onKeydown = (e) => {
    if (e.keycode !== code) return;
    if ((spec.ctrl && !e.ctrlKey) || (spec.alt && !e.altKey) || (spec.shift && !e.shiftKey) || (spec.meta && !e.metaKey)) return;
    onHotkey();
  };
  uIOhook.on('keydown', onKeydown);
  try {
    uIOhook.start();
  } catch (e) {
    uIOhook.off('keydown', onKeydown);
    throw e;
  }
  hookRunning = true;
  return () => {
    uIOhook.off('keydown', onKeydown);
    if (hookRunning) uIOhook.stop();
    hookRunning = false;
  };
}

/**
 * @typedef {object} InputReleaser
 * @property {() => Promise<{ keys: number[], buttons: number[] }>} releaseAll  releases what is down; says which keycodes and buttons were
 * @property {() => void} close
 */

/**
 * Connects to the X display (pure JavaScript: nothing native, so a dead server only ends the
 * socket) and readies XTEST.
 * @param {string} display
 * @param {number} [timeoutMs]
 * @returns {Promise<InputReleaser>}
 */
export function connectReleaser(display, timeoutMs = 3000) {
  const x11 = require('x11');
  return new Promise((resolve, reject) => {
    /** @type {any} */
    let client;
    let settled = false;
    /** @param {unknown} e */
    const fail = (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        client?.terminate();
      } catch {
        // already gone
      }
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    const timer = setTimeout(() => fail(new Error(`no answer from X display ${display} within ${timeoutMs} ms`)), timeoutMs);
    try {
      client = x11.createClient({ display }, (/** @type {Error|null} */ err, /** @type {any} */ d) => {
        if (err) return fail(err);
        const c = d.client;
        const root = d.screen[0].root;
        c.require('xtest', (/** @type {Error|null} */ err2, /** @type {any} */ xtest) => {
          if (err2 || !xtest) return fail(err2 ?? new Error('the X server has no XTEST extension'));
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(makeReleaser(c, xtest, root));
        });
      });
    } catch (e) {
      fail(e);
      return;
    }
    client.on('error', (/** @type {unknown} */ e) => fail(e));
  });
}

/**
 * @param {any} c the x11 client
 * @param {any} xtest its XTEST extension
 * @param {number} root
 * @returns {InputReleaser}
 */
function makeReleaser(c, xtest, root) {
  let closed = false;
  // After setup, a protocol error or a dropped connection must not reach the process as an
  // unhandled 'error': the release just fails.
  c.on('error', () => undefined);
  /** @template T @param {(cb: (err: Error | null, v: T) => void) => void} call @returns {Promise<T>} */
  const ask = (call) => new Promise((resolve, reject) => call((err, v) => (err ? reject(err) : resolve(v))));
  return {
    async releaseAll() {
      if (closed) throw new Error('the X connection is closed');
      /** @type {Buffer} */
      const bits = await ask((cb) => c.QueryKeymap(cb));
      /** @type {{ keyMask: number }} */
      const pointer = await ask((cb) => c.QueryPointer(root, cb));
      const keys = [];
      for (let k = 8; k < 256; k++) if ((bits[k >> 3] ?? 0) & (1 << (k & 7))) keys.push(k);
      const buttons = [];
      // Button1Mask is 1 << 8 … Button5Mask is 1 << 12.
      for (let b = 1; b <= 5; b++) if (pointer.keyMask & (1 << (7 + b))) buttons.push(b);
      for (const k of keys) xtest.FakeInput(xtest.KeyRelease, k, 0, root, 0, 0);
      for (const b of buttons) xtest.FakeInput(xtest.ButtonRelease, b, 0, root, 0, 0);
      // A round trip: the server has acted on the releases when this returns.
      await ask((cb) => c.sync(cb));
      return { keys, buttons };
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        c.terminate();
      } catch {
        // already gone
      }
    },
  };
}

const WATCHDOG = fileURLToPath(new URL('./input-watchdog.mjs', import.meta.url));

/**
 * @typedef {object} Watchdog
 * @property {() => void} dismiss  the supervisor ends normally: the watchdog exits without acting
 */

/**
 * Starts the input watchdog: a process of its own session (a signal to the supervisor's process
 * group does not reach it) that holds an X connection and waits on a pipe from this process.
 * When the pipe closes without a goodbye — this process died, even by SIGKILL — it releases
 * every key and button XTEST holds, then exits. It does not keep this process alive.
 * @param {NodeJS.ProcessEnv} env
 * @returns {Watchdog}
 */
export function startWatchdog(env) {
  const child = spawn(process.execPath, [WATCHDOG], { env, detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  child.unref();
  /** @type {any} */ (child.stdin)?.unref?.();
  return {
    dismiss() {
      child.stdin?.end('exit\n');
    },
  };
}
