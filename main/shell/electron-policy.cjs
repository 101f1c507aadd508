// What the Electron window may do, as plain functions of strings: electron-main.cjs asks these
// at each of Electron's checkpoints, and Node tests them (test/unit/electron-policy.test.ts)
// where Electron itself cannot start. No Electron import here.
'use strict';

const { isAbsolute } = require('node:path');
const { pathToFileURL } = require('node:url');

/**
 * Hosts whose https pages a link in the app may open in the user's browser (a link's own host or
 * a subdomain of it). Everything else is dropped: a page that went wrong, or content from an
 * episode, must not make the shell open arbitrary URLs. Add a host here when the renderer links
 * to it.
 */
const EXTERNAL_HOSTS = Object.freeze(['github.com', 'arxiv.org']);

function parse(raw) {
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/**
 * The app server's origin (`http://127.0.0.1:<port>`) from FORESIGHT_ORIGIN, or undefined when
 * it is anything else: the window shows our loopback server and nothing else.
 */
function appOrigin(raw) {
  const url = parse(raw);
  if (!url || url.protocol !== 'http:' || url.port === '' || url.username !== '' || url.password !== '') return undefined;
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') return undefined;
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return undefined;
  return url.origin;
}

/** The sign-in page's file URL from FORESIGHT_SIGN_IN (an absolute path to an .html file), or undefined. */
function signInUrl(rawPath) {
  if (typeof rawPath !== 'string' || !isAbsolute(rawPath) || !rawPath.endsWith('.html')) return undefined;
  return pathToFileURL(rawPath).href;
}

/**
 * Whether the window may navigate, or be redirected, to `target`: only within the app's origin
 * (the sign-in form posts there, and the app redirects within it). The sign-in page itself is
 * loaded by the main process, which asks no one.
 */
function mayNavigate(target, origin) {
  const url = parse(target);
  return url !== undefined && url.protocol === 'http:' && url.origin === origin;
}

/**
 * The URL to hand to the user's browser for a link the page tried to open, or undefined to drop
 * it: https only, no user name or password in it, a host of EXTERNAL_HOSTS (or a subdomain).
 */
function externalLink(target) {
  const url = parse(target);
  if (!url || url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '') return undefined;
  const host = url.hostname.toLowerCase();
  return EXTERNAL_HOSTS.some((h) => host === h || host.endsWith(`.${h}`)) ? url.href : undefined;
}

/**
 * Whether a page may use a permission (camera, microphone, notifications, clipboard, geolocation,
 * …) or be asked for one: never. The episode viewer needs none, and a page that asks is not ours.
 */
function allowPermission(/* permission, requestingOrigin */) {
  return false;
}

exports.EXTERNAL_HOSTS = EXTERNAL_HOSTS;
exports.appOrigin = appOrigin;
exports.signInUrl = signInUrl;
exports.mayNavigate = mayNavigate;
exports.externalLink = externalLink;
exports.allowPermission = allowPermission;
