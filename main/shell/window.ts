/**
 * Where the page is shown: an Electron window when Electron's binary is installed, otherwise
 * the system's browser (Debian's Chromium in app mode, else xdg-open / open / start).
 * Nothing here is required for the app to work: the printed link is always enough.
 *
 * Every window starts on the sign-in page (sign-in.ts), a file only the user can read: the
 * command lines started here hold its path, never the token (other users read argv).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ELECTRON_MAIN = fileURLToPath(new URL('./electron-main.cjs', import.meta.url));

/** What `npm start` says, in one line, where Electron's binary is not installed. */
export const ELECTRON_MISSING = "Electron's binary is not installed here (the electron package could not download it)";

/**
 * The Electron executable, when installed. In plain Node, `require('electron')` is the path of
 * the binary, and it throws when the binary was never downloaded.
 */
export function findElectron(): string | undefined {
  try {
    const path: unknown = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export type OpenedWindow =
  | { kind: 'electron'; child: ChildProcess }
  | { kind: 'browser'; command: string; args: string[]; pid: number | undefined }
  | { kind: 'none'; reason: string };

/** What a window opens: the app's origin and its sign-in page. */
export interface AppTarget {
  /** `http://127.0.0.1:<port>`: the only origin the Electron window may show. */
  origin: string;
  signInFile: string;
  /** `file:///…/open.html` */
  signInUrl: string;
}

/** Starts Electron on the sign-in page; the window is the app, so the caller watches the child. */
export function openElectron(electron: string, target: AppTarget): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, FORESIGHT_ORIGIN: target.origin, FORESIGHT_SIGN_IN: target.signInFile };
  delete env.ELECTRON_RUN_AS_NODE;
  return spawn(electron, [ELECTRON_MAIN], { stdio: 'inherit', env });
}

export interface BrowserOptions {
  /** Extra arguments for Chromium (tests: a profile of their own, remote debugging). */
  chromiumArgs?: string[];
  /** The browser's environment (default: ours). */
  env?: NodeJS.ProcessEnv;
}

/** Best effort: a browser window on the URL (the sign-in page), detached from us. Never throws. */
export function openBrowser(url: string, opts: BrowserOptions = {}): OpenedWindow {
  let command: string;
  let args: string[];
  if (process.platform === 'darwin') {
    command = 'open';
    args = [url];
  } else if (process.platform === 'win32') {
    command = 'cmd.exe';
    args = ['/c', 'start', '""', url];
  } else {
    const chromium = ['chromium', 'chromium-browser', 'google-chrome'].map(onPath).find((p) => p !== undefined);
    const xdgOpen = onPath('xdg-open');
    if (chromium) {
      command = chromium;
      args = [`--app=${url}`, '--new-window', ...(opts.chromiumArgs ?? [])];
    } else if (xdgOpen) {
      command = xdgOpen;
      args = [url];
    } else {
      return { kind: 'none', reason: 'no browser found (chromium, xdg-open)' };
    }
  }
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore', env: opts.env ?? process.env });
    child.on('error', () => {
      // Not there after all: the printed link still works.
    });
    child.unref();
    return { kind: 'browser', command, args, pid: child.pid };
  } catch (e) {
    return { kind: 'none', reason: e instanceof Error ? e.message : String(e) };
  }
}

/** Electron when installed, else a browser; nothing without a display. */
export function openWindow(target: AppTarget): OpenedWindow {
  if (!hasDisplay()) return { kind: 'none', reason: 'no display (DISPLAY / WAYLAND_DISPLAY unset)' };
  const electron = findElectron();
  if (electron) return { kind: 'electron', child: openElectron(electron, target) };
  return openBrowser(target.signInUrl);
}
