/**
 * How a browser gets the token without it ever being on a command line (Jupyter's way): a small
 * page, written to a file only the user can read (0600, in a fresh 0700 directory), that posts
 * the token to the server's /login as a form. The browser is started on that file's path (no
 * secret in it), and the link printed for the user is that same file:// link, so a terminal
 * that opens it with xdg-open puts no token in any process's argv either.
 *
 * The directory is the user's runtime directory ($XDG_RUNTIME_DIR, a tmpfs only the user can
 * enter) when it is private, else the system's temporary directory; it goes when the app stops.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LOGIN_FIELD, LOGIN_PATH } from './server.ts';

export interface SignInPage {
  /** The page's path (0600, in a 0700 directory of its own). */
  file: string;
  /** `file:///…/open.html`: what the browser is started on and what is printed. */
  url: string;
  /** Deletes the page and its directory. Idempotent. */
  remove(): void;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page: a form that posts the token to the app as soon as it loads (or on a click). */
export function signInHtml(origin: string, token: string): string {
  const script = 'document.forms[0].submit();';
  const scriptHash = createHash('sha256').update(script).digest('base64');
  const action = `${origin}${LOGIN_PATH}`;
  // Nothing but this one script may run, and the form may go only to the app.
  const csp = `default-src 'none'; script-src 'sha256-${scriptHash}'; form-action ${origin}; base-uri 'none'`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`,
    '<meta name="referrer" content="no-referrer">',
    '<title>Foresight: signing in</title></head>',
    '<body>',
    `<form method="post" action="${escapeHtml(action)}" enctype="application/x-www-form-urlencoded">`,
    `<input type="hidden" name="${LOGIN_FIELD}" value="${escapeHtml(token)}">`,
    '<p>Opening Foresight… <button type="submit">Open</button></p>',
    '</form>',
    `<script>${script}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** $XDG_RUNTIME_DIR when it is a directory of this user that nobody else may enter. */
function privateRuntimeDir(env: NodeJS.ProcessEnv): string | undefined {
  const dir = env.XDG_RUNTIME_DIR;
  if (!dir || typeof process.getuid !== 'function') return undefined;
  try {
    const st = statSync(dir);
    return st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o077) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the sign-in page for the app at `origin`. `baseDir`: where its directory goes. */
export function writeSignInPage(origin: string, token: string, baseDir?: string): SignInPage {
  // mkdtemp creates the directory with mode 0700 under a name nobody could guess beforehand.
  const dir = mkdtempSync(join(baseDir ?? privateRuntimeDir(process.env) ?? tmpdir(), 'foresight-app-'));
  const file = join(dir, 'open.html');
  try {
    writeFileSync(file, signInHtml(origin, token), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { file, url: pathToFileURL(file).href, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
