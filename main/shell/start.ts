/**
 * `foresight app`: the episode viewer. A process entry point: opens the store, serves the
 * renderer and the contract on 127.0.0.1 (browser mode), and shows it in an Electron window
 * when Electron's binary is installed, else in a browser. Runs until SIGINT/SIGTERM (or until
 * the Electron window is closed).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { createHandlers } from './api.ts';
import { loadRendererAssets } from './assets.ts';
import { startServer } from './server.ts';
import { writeSignInPage, type SignInPage } from './sign-in.ts';
import { openWindow } from './window.ts';

export interface StartAppOptions {
  /** The episode database (created when missing, with its directory). */
  db: string;
  /** 0 or absent: any free port. */
  port?: number;
  /** Open a window (Electron, else a browser) when a display is available. Default true. */
  open?: boolean;
}

export interface RunningApp {
  /**
   * The link to open: `file:///…/open.html`, the sign-in page (readable only by this user) that
   * gives the browser the token. The token itself is never part of a URL.
   */
  signInUrl: string;
  /** The sign-in page's path. */
  signInFile: string;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  token: string;
  dbPath: string;
  /** Stops the server, deletes the sign-in page, then closes the store. Idempotent. */
  close(): Promise<void>;
}

function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/** Everything but the window and the waiting: what tests start. */
export async function launchApp(opts: {
  db: string;
  port?: number;
  token?: string;
  log?: (line: string) => void;
  /** Where the sign-in page's directory is made (default: $XDG_RUNTIME_DIR when private, else the temporary directory). */
  signInDir?: string;
}): Promise<RunningApp> {
  const dbPath = resolve(opts.db);
  mkdirSync(dirname(dbPath), { recursive: true });
  const assets = loadRendererAssets();
  const store = SqliteEpisodeStore.open(dbPath);
  try {
    const server = await startServer({
      handlers: createHandlers(store, { version: packageVersion(), dbPath }),
      readScreenshot: (sha) => store.readScreenshot(sha),
      assets,
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    let page: SignInPage;
    try {
      page = writeSignInPage(server.origin, server.token, opts.signInDir);
    } catch (e) {
      await server.close();
      throw e;
    }
    let closing: Promise<void> | undefined;
    return {
      signInUrl: page.url,
      signInFile: page.file,
      origin: server.origin,
      port: server.port,
      token: server.token,
      dbPath,
      close: () =>
        (closing ??= server.close().finally(() => {
          page.remove();
          store.close();
        })),
    };
  } catch (e) {
    store.close();
    throw e;
  }
}

/** Runs the app until a signal or the window closes; resolves to the exit code. */
export async function startApp(opts: StartAppOptions): Promise<number> {
  const app = await launchApp({ db: opts.db, ...(opts.port !== undefined ? { port: opts.port } : {}) });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`Foresight is running at ${app.origin}/`);
  // The file's path holds no secret, so opening this link (a terminal runs xdg-open with it)
  // puts no token in any command line; only this user can read the file.
  out(`Open it with this link (a page only you can read, which signs your browser in):`);
  out(`  ${app.signInUrl}`);
  out(`Episodes: ${app.dbPath}`);

  const window = opts.open === false ? ({ kind: 'none', reason: '--no-open' } as const) : openWindow({ origin: app.origin, signInFile: app.signInFile, signInUrl: app.signInUrl });
  if (window.kind === 'electron') out('Opened an Electron window.');
  else if (window.kind === 'browser') out(`Opened the page with ${window.command}.`);
  else if (opts.open !== false) out(`Open the link above in a browser (${window.reason}).`);
  out('Press Ctrl+C to stop.');

  let stop: ((signal: NodeJS.Signals) => void) | undefined;
  const code = await new Promise<number>((resolveExit) => {
    stop = (signal) => {
      out(`\n${signal}: stopping.`);
      resolveExit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (window.kind === 'electron') {
      window.child.once('exit', (exitCode) => resolveExit(exitCode ?? 0));
      window.child.once('error', (e) => out(`Electron did not start (${e.message}); the link above still works.`));
    }
  });
  if (stop) {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }

  if (window.kind === 'electron' && window.child.exitCode === null) window.child.kill('SIGTERM');
  await app.close();
  return code;
}
