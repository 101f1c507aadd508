/**
 * `foresight app`: the episode viewer. A process entry point: opens the store, serves the
 * renderer and the contract on 127.0.0.1 (browser mode), and shows it in an Electron window
 * when Electron's binary is installed, else in a browser. Runs until SIGINT/SIGTERM (or until
 * the Electron window is closed).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteEpisodeStore } from '../../store/index.ts';
import { createHandlers, exportEpisode } from './api.ts';
import { loadRendererAssets } from './assets.ts';
import { BenchmarkFolders } from './benchmarks.ts';
import { EventHub } from './events.ts';
import { RunManager } from './runs.ts';
import { startServer } from './server.ts';
import { MemoryKeyStore, Settings } from './settings.ts';
import { Thumbnails } from './thumbnails.ts';
import { writeSignInPage, type SignInPage } from './sign-in.ts';
import { ELECTRON_MISSING, findElectron, hasDisplay, openBrowser, openElectron, type OpenedWindow } from './window.ts';

export interface StartAppOptions {
  /** The episode database (created when missing, with its directory). */
  db: string;
  /** 0 or absent: any free port. */
  port?: number;
  /** Open a window (Electron, else a browser) when a display is available. Default true. */
  open?: boolean;
  /** Set by a packaged app's Electron main, which started this server and is the window. */
  shell?: 'browser' | 'electron';
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

/** The `foresight` command: runs are started through it, supervisor and all, as in a terminal. */
const FORESIGHT_BIN = fileURLToPath(new URL('../../bin/foresight.mjs', import.meta.url));

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
  /** Electron: API keys come from main (safeStorage) and stay in memory here; else a 0600 file in the data folder. */
  shell?: 'browser' | 'electron';
  /** The environment of agent runs (default: this process's). */
  runEnv?: NodeJS.ProcessEnv;
  /** Extra `foresight run` options for every run (tests: faster settling). */
  runArgs?: readonly string[];
}): Promise<RunningApp> {
  const dbPath = resolve(opts.db);
  const dataDir = dirname(dbPath);
  mkdirSync(dataDir, { recursive: true });
  const assets = loadRendererAssets();
  const store = SqliteEpisodeStore.open(dbPath);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const shell = opts.shell ?? 'browser';
  let runs: RunManager | undefined;
  try {
    const settings = Settings.open(dataDir, dbPath, shell === 'electron' ? new MemoryKeyStore() : 'file', () => store.listEpisodes({ limit: 1 }).length > 0);
    const events = new EventHub(log);
    runs = new RunManager({
      foresightBin: FORESIGHT_BIN,
      dbPath,
      events,
      resolveModel: (choice, role) => settings.resolveModel(choice, role),
      killKey: () => settings.killKey,
      ...(opts.runEnv ? { env: opts.runEnv } : {}),
      ...(opts.runArgs ? { extraArgs: opts.runArgs } : {}),
      log,
    });
    const benchmarks = new BenchmarkFolders();
    const thumbnails = new Thumbnails((sha) => store.readScreenshot(sha));
    const server = await startServer({
      handlers: createHandlers({ store, info: { version: packageVersion(), dbPath, shell }, settings, runs, benchmarks }),
      readScreenshot: (sha) => store.readScreenshot(sha),
      events,
      thumbnail: (sha, width) => thumbnails.get(sha, width),
      exportEpisode: (id) => exportEpisode(store, id),
      benchReport: (id) => benchmarks.report(id),
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
        (closing ??= (runs?.close() ?? Promise.resolve())
          .then(() => server.close())
          .finally(() => {
            page.remove();
            store.close();
          })),
    };
  } catch (e) {
    await runs?.close();
    store.close();
    throw e;
  }
}

/** Runs the app until a signal or the window closes; resolves to the exit code. */
export async function startApp(opts: StartAppOptions): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const wantWindow = opts.open !== false && hasDisplay();
  const electron = wantWindow ? findElectron() : undefined;
  // Decided before the server starts: in Electron, API keys are kept by main with safeStorage.
  const shell = opts.shell ?? (electron ? 'electron' : 'browser');
  const app = await launchApp({ db: opts.db, ...(opts.port !== undefined ? { port: opts.port } : {}), shell });
  if (wantWindow && !electron) out(`${ELECTRON_MISSING}: opening browser mode.`);
  out(`Foresight is running at ${app.origin}/`);
  // The file's path holds no secret, so opening this link (a terminal runs xdg-open with it)
  // puts no token in any command line; only this user can read the file.
  out(`Open it with this link (a page only you can read, which signs your browser in):`);
  out(`  ${app.signInUrl}`);
  out(`Episodes: ${app.dbPath}`);

  const target = { origin: app.origin, signInFile: app.signInFile, signInUrl: app.signInUrl };
  const window: OpenedWindow =
    opts.open === false
      ? { kind: 'none', reason: '--no-open' }
      : electron
        ? { kind: 'electron', child: openElectron(electron, target) }
        : wantWindow
          ? openBrowser(app.signInUrl)
          : { kind: 'none', reason: 'no display (DISPLAY / WAYLAND_DISPLAY unset)' };
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
