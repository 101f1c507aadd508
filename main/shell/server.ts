/**
 * Browser mode: the renderer and the calls of common/contract.ts over HTTP on 127.0.0.1.
 *
 *   POST /login                `token=<t>` (a form): sets the session cookie, redirects to /
 *   GET  /, /main.js, …        the page (public: it holds no data)
 *   POST /api/<call>           a call of the contract; JSON body in, `Result<T>` out
 *   GET  /blobs/<sha256>.png   a screenshot from the store
 *   GET  /thumbs/<w>/<sha>.jpg a screenshot at most w pixels wide (w of THUMBNAIL_WIDTHS)
 *   GET  /events               the live channel: server-sent events of common/contract.ts EVENTS
 *   GET  /exports/<id>.zip     an episode as a zip (episode.json + frames/)
 *   GET  /bench-reports/<id>/report.html   a listed benchmark run's report
 *
 * Who may ask: only this machine (bound to 127.0.0.1), only under our own host name (a
 * DNS-rebinding page reaches us under a foreign Host header), and only with the random
 * token, sent as `authorization: Bearer <t>` or as the HttpOnly, SameSite=Strict cookie that
 * POST /login set. The token never travels in a URL: a URL ends up in a process's command line
 * (readable by every local user in /proc/<pid>/cmdline), in the history and in logs. A browser
 * signs in through the sign-in page that start.ts writes to a file only the user can read (see
 * sign-in.ts). A cross-site page can neither read our answers (no CORS headers) nor make the
 * browser send the cookie; a foreign Origin header is refused anyway.
 *
 * Bodies: a request is authenticated from its headers before a byte of its body is read, every
 * POST must declare the content type its route takes (an empty one too), and bodies are capped
 * (64 KiB; 1 KiB for /login). A request answered before its body was read to the end is not
 * drained (Node would read and drop the rest to reuse the connection): we stop reading, give
 * the client a moment to read the answer, and close. A stranger's 50 MB upload costs us ~65 KB
 * of reading, not 50 MB. (Closing at once would reset the connection under the client before
 * it read the answer.)
 *
 * Every request body is checked against the contract's request schema (400 BAD_INPUT) and
 * every answer against its response schema before it leaves (500 INTERNAL when it does not
 * fit: a bug on this side, better caught here than in the renderer).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLS, describeIssues, EVENTS_PATH, isCallName, SHA256_HEX, THUMBNAIL_WIDTHS, type CallName, type LiveEvent, type ThumbnailWidth } from '../../common/contract.ts';
import type { EventHub } from './events.ts';
import { ForesightError, toErrorInfo, type ErrorCode, type ErrorInfo } from '../../common/errors.ts';
import type { Handlers } from './api.ts';
import type { RendererAssets } from './assets.ts';

export interface ServerOptions {
  handlers: Handlers;
  /** The PNG bytes of a screenshot (throws NOT_FOUND / STORE_CORRUPT like the store). */
  readScreenshot(sha256: string): Buffer | Promise<Buffer>;
  assets: RendererAssets;
  /** The live channel's source; without it /events is 404. */
  events?: EventHub;
  /** A screenshot at most `width` wide, as JPEG. */
  thumbnail?(sha256: string, width: ThumbnailWidth): Promise<Buffer>;
  /** An episode as a zip. */
  exportEpisode?(id: string): { fileName: string; body: Buffer };
  /** The report.html of a listed benchmark run. */
  benchReport?(id: string): Buffer;
  /** 0 (the default): a free port chosen by the system. */
  port?: number;
  /** Default: 32 random bytes. */
  token?: string;
  /** Where unexpected failures are reported (default: stderr). */
  log?: (line: string) => void;
}

export interface RunningServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  token: string;
  /** Stops accepting, lets requests in flight finish (at most ~2 s), then resolves. Idempotent. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Where a browser signs in: a form POST of {@link LOGIN_FIELD}. */
export const LOGIN_PATH = '/login';
export const LOGIN_FIELD = 'token';
const MAX_BODY_BYTES = 64 * 1024;
const MAX_LOGIN_BYTES = 1024;
/** How long a connection whose body we refused stays open for the client to read the answer. */
const LINGER_MS = 1_000;
const CLOSE_GRACE_MS = 2_000;

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  // Benchmark reports are shown in a frame of the page (same origin only).
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A benchmark report shown inside the app (an iframe of the page): its own inline styles and scripts, nothing from elsewhere. */
const REPORT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

/** A comment line on idle live connections, so proxies and the browser keep them open. */
const KEEPALIVE_MS = 15_000;

const MISSING_TOKEN: ErrorInfo = {
  code: 'BAD_INPUT',
  message: 'This browser is not signed in to this run of the app. Open the link printed by `npm start` (file:///…/open.html): it signs the browser in.',
  details: { reason: 'token' },
};

const STATUS_OF: Partial<Record<ErrorCode, number>> = { BAD_INPUT: 400, NOT_FOUND: 404, TIMEOUT: 504 };

/** Thrown inside the request handler to answer with an HTTP status and an ErrorInfo. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly info: ErrorInfo,
  ) {
    super(info.message);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('x-frame-options', 'DENY');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, error: ErrorInfo): void {
  sendJson(res, status, { ok: false, error });
}

/** Whether the request carries a body (chunked, or a non-zero length). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Takes charge of a request body: nothing reads it unless readBody does.
 * - Node drains a body the handler never touched once the answer is sent (to reuse the
 *   connection). A body we "read" (read(0) with no data listener: it stops at the stream's
 *   high-water mark and reading from the socket stops) is left alone.
 * - Until readBody has read it all, the answer says `connection: close`, so that no client
 *   sends its next request on a connection whose body we left unread.
 * - Node ends such an answer with socket.destroySoon(): FIN, then close as soon as written,
 *   which, with the rest of the body unread in the kernel, resets the connection under a client
 *   that may not have read the answer yet. We close after LINGER_MS (or when the client does).
 */
function holdBody(req: IncomingMessage, res: ServerResponse): void {
  if (!hasBody(req)) return;
  req.read(0);
  res.setHeader('connection', 'close');
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

/** Reads the whole body, at most `max` bytes; then the connection may be kept alive again. */
async function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string> {
  const tooLarge = () => new HttpError(413, { code: 'BAD_INPUT', message: `The request body is larger than ${max} bytes` });
  if (Number(req.headers['content-length'] ?? 0) > max) throw tooLarge();
  // Not `for await`: leaving that loop early destroys the socket before the 413 is sent.
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (b: Buffer) => {
      size += b.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(b);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    // The client went away mid-body (after 'end' this changes nothing).
    req.once('close', () => reject(new HttpError(400, { code: 'BAD_INPUT', message: 'The request body ended early' })));
  });
  res.removeHeader('connection');
  return text;
}

/** The media type of a request without its parameters, in lower case ('' when none). */
function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const tokenDigest = digest(token);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Filled in once the port is known.
  let cookieName = 'foresight_token';
  let allowedHosts = new Set<string>();
  let allowedOrigins = new Set<string>();

  const tokenMatches = (candidate: string | undefined): boolean => candidate !== undefined && timingSafeEqual(digest(candidate), tokenDigest);

  const authorized = (req: IncomingMessage): boolean => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return tokenMatches(auth.slice('Bearer '.length).trim());
    return tokenMatches(parseCookies(req.headers.cookie).get(cookieName));
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, name: string): Promise<void> => {
    if (!authorized(req)) throw new HttpError(401, MISSING_TOKEN);
    if (!isCallName(name)) throw new HttpError(404, { code: 'NOT_FOUND', message: `There is no call "${name}"` });
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      throw new HttpError(405, { code: 'BAD_INPUT', message: `Call ${name} with POST` });
    }
    // JSON only, an empty body included (it is the empty request): a cross-site form cannot
    // send this type without a CORS preflight we never answer. Checked before the body is read.
    if (mediaType(req) !== 'application/json') {
      throw new HttpError(415, { code: 'BAD_INPUT', message: 'Calls take a JSON body: send content-type: application/json (also with an empty body)' });
    }
    const text = await readBody(req, res, MAX_BODY_BYTES);
    let body: unknown = {};
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new HttpError(400, { code: 'BAD_INPUT', message: `The request body is not JSON: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    const result = await runCall(name, body);
    sendJson(res, result.status, result.body);
  };

  /** Runs one call; the status and the JSON it answers with. */
  const runCall = async (name: CallName, body: unknown): Promise<{ status: number; body: unknown }> => {
    const spec = CALLS[name];
    const request = spec.request.safeParse(body);
    if (!request.success) {
      return { status: 400, body: { ok: false, error: { code: 'BAD_INPUT', message: `Bad request to ${name}: ${describeIssues(request.error)}` } } };
    }
    let value: unknown;
    try {
      // The map is keyed by name, so the handler and the parsed request belong together.
      const handler = opts.handlers[name] as (r: unknown) => unknown;
      value = await handler(request.data);
    } catch (e) {
      const error = toErrorInfo(e);
      if (error.code === 'INTERNAL') log(`foresight app: ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return { status: STATUS_OF[error.code] ?? 500, body: { ok: false, error } };
    }
    const response = spec.response.safeParse(value);
    if (!response.success) {
      const message = `The answer to ${name} does not fit the contract: ${describeIssues(response.error)}`;
      log(`foresight app: ${message}`);
      return { status: 500, body: { ok: false, error: { code: 'INTERNAL', message } } };
    }
    return { status: 200, body: { ok: true, value: response.data } };
  };

  const handleBlob = async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    if (!authorized(req)) throw new HttpError(401, MISSING_TOKEN);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, { code: 'BAD_INPUT', message: 'Blobs are read with GET' });
    const m = /^\/blobs\/([^/]+)\.png$/.exec(pathname);
    const sha = m?.[1];
    if (sha === undefined || !SHA256_HEX.test(sha)) {
      throw new HttpError(400, { code: 'BAD_INPUT', message: 'A blob is named by the sha256 of its bytes in lower-case hex: /blobs/<64 hex digits>.png' });
    }
    const etag = `"${sha}"`;
    const cacheHeaders = { etag, 'cache-control': 'private, max-age=31536000, immutable' };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, cacheHeaders);
      res.end();
      return;
    }
    let png: Buffer;
    try {
      png = await opts.readScreenshot(sha);
    } catch (e) {
      const error = toErrorInfo(e);
      if (error.code === 'INTERNAL') log(`foresight app: reading screenshot ${sha} failed: ${error.message}`);
      throw new HttpError(STATUS_OF[error.code] ?? 500, error);
    }
    res.writeHead(200, { ...cacheHeaders, 'content-type': 'image/png', 'content-length': png.length });
    res.end(req.method === 'HEAD' ? undefined : png);
  };

  const getOnly = (req: IncomingMessage, res: ServerResponse, what: string): void => {
    if (!authorized(req)) throw new HttpError(401, MISSING_TOKEN);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      throw new HttpError(405, { code: 'BAD_INPUT', message: `${what} are read with GET` });
    }
  };

  const failWith = (e: unknown, what: string): never => {
    const error = toErrorInfo(e);
    if (error.code === 'INTERNAL') log(`foresight app: ${what} failed: ${error.message}`);
    throw new HttpError(STATUS_OF[error.code] ?? 500, error);
  };

  const handleThumb = async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    getOnly(req, res, 'Thumbnails');
    const m = /^\/thumbs\/(\d+)\/([^/]+)\.jpg$/.exec(pathname);
    const width = Number(m?.[1]) as ThumbnailWidth;
    const sha = m?.[2];
    if (sha === undefined || !SHA256_HEX.test(sha) || !THUMBNAIL_WIDTHS.includes(width)) {
      throw new HttpError(400, { code: 'BAD_INPUT', message: `A thumbnail is /thumbs/<${THUMBNAIL_WIDTHS.join('|')}>/<sha256 in lower-case hex>.jpg` });
    }
    if (!opts.thumbnail) throw new HttpError(404, { code: 'NOT_FOUND', message: 'This app serves no thumbnails' });
    const etag = `"${width}-${sha}"`;
    const cacheHeaders = { etag, 'cache-control': 'private, max-age=31536000, immutable' };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, cacheHeaders);
      res.end();
      return;
    }
    let jpeg: Buffer;
    try {
      jpeg = await opts.thumbnail(sha, width);
    } catch (e) {
      return failWith(e, `thumbnail ${sha}`);
    }
    res.writeHead(200, { ...cacheHeaders, 'content-type': 'image/jpeg', 'content-length': jpeg.length });
    res.end(req.method === 'HEAD' ? undefined : jpeg);
  };

  const handleExport = (req: IncomingMessage, res: ServerResponse, pathname: string): void => {
    getOnly(req, res, 'Exports');
    const m = /^\/exports\/([^/]+)\.zip$/.exec(pathname);
    let id: string | undefined;
    try {
      id = m?.[1] === undefined ? undefined : decodeURIComponent(m[1]);
    } catch {
      id = undefined;
    }
    if (!id || id.length > 200) throw new HttpError(400, { code: 'BAD_INPUT', message: 'An export is /exports/<episode id>.zip' });
    if (!opts.exportEpisode) throw new HttpError(404, { code: 'NOT_FOUND', message: 'This app exports nothing' });
    let out: { fileName: string; body: Buffer };
    try {
      out = opts.exportEpisode(id);
    } catch (e) {
      return failWith(e, `export of ${id}`);
    }
    res.writeHead(200, {
      'content-type': 'application/zip',
      'content-length': out.body.length,
      'content-disposition': `attachment; filename="${out.fileName.replace(/[^\w.-]/g, '_')}"`,
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : out.body);
  };

  const handleReport = (req: IncomingMessage, res: ServerResponse, pathname: string): void => {
    getOnly(req, res, 'Reports');
    const m = /^\/bench-reports\/([0-9a-f-]{36})\/report\.html$/.exec(pathname);
    if (!m?.[1]) throw new HttpError(400, { code: 'BAD_INPUT', message: 'A report is /bench-reports/<id from benchmarks.list>/report.html' });
    if (!opts.benchReport) throw new HttpError(404, { code: 'NOT_FOUND', message: 'This app serves no reports' });
    let html: Buffer;
    try {
      html = opts.benchReport(m[1]);
    } catch (e) {
      return failWith(e, 'a report');
    }
    // Shown in the app's own frame only.
    res.setHeader('x-frame-options', 'SAMEORIGIN');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': html.length, 'cache-control': 'no-store', 'content-security-policy': REPORT_SECURITY_POLICY });
    res.end(req.method === 'HEAD' ? undefined : html);
  };

  /** Open live connections, ended when the server closes (they never end by themselves). */
  const liveConnections = new Set<ServerResponse>();

  /**
   * The live channel: server-sent events. The same checks as every request (Host, Origin, the
   * token) ran before this; a page that reconnects sends Last-Event-ID and gets what it missed.
   */
  const handleEvents = (req: IncomingMessage, res: ServerResponse): void => {
    getOnly(req, res, 'Live events');
    const hub = opts.events;
    if (!hub) throw new HttpError(404, { code: 'NOT_FOUND', message: 'This app has no live events' });
    const lastRaw = req.headers['last-event-id'];
    const last = typeof lastRaw === 'string' && /^\d{1,15}$/.test(lastRaw) ? Number(lastRaw) : undefined;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (e: LiveEvent) => {
      res.write(`id: ${e.seq}\nevent: ${e.name}\ndata: ${JSON.stringify(e.data)}\n\n`);
    };
    // The retry hint: reconnect after 1 s; then the events the page missed, then live ones.
    res.write(`retry: 1000\n: connected at ${hub.lastSeq}\n\n`);
    for (const e of hub.since(last)) send(e);
    const unsubscribe = hub.subscribe(send);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    liveConnections.add(res);
    res.once('close', () => {
      clearInterval(keepalive);
      unsubscribe();
      liveConnections.delete(res);
    });
  };

  /**
   * The sign-in page's form: trades the token for the session cookie, then shows the app. A
   * wrong token sets nothing; the page then says what to do. The form comes from the sign-in
   * page, a file:// page (`Origin: null`) in a browser or in the Electron window.
   */
  const handleLogin = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      throw new HttpError(405, { code: 'BAD_INPUT', message: `Sign in with a form POST to ${LOGIN_PATH}` });
    }
    if (mediaType(req) !== 'application/x-www-form-urlencoded') {
      throw new HttpError(415, { code: 'BAD_INPUT', message: 'Sign in with a form: content-type: application/x-www-form-urlencoded' });
    }
    const form = new URLSearchParams(await readBody(req, res, MAX_LOGIN_BYTES));
    if (tokenMatches(form.get(LOGIN_FIELD) ?? undefined)) {
      res.setHeader('set-cookie', `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict`);
    }
    res.writeHead(303, { location: '/', 'cache-control': 'no-store' });
    res.end();
  };

  const handlePage = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      throw new HttpError(405, { code: 'BAD_INPUT', message: 'Pages are read with GET' });
    }
    const asset = opts.assets.get(url.pathname);
    if (!asset) throw new HttpError(404, { code: 'NOT_FOUND', message: `Nothing at ${url.pathname}` });
    const headers: Record<string, string | number> = {
      'content-type': asset.contentType,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
    };
    if (asset.contentType.startsWith('text/html')) headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    securityHeaders(res);
    holdBody(req, res);
    // DNS rebinding: a foreign page that made its host name resolve to 127.0.0.1 still sends
    // its own name in Host.
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      throw new HttpError(403, { code: 'BAD_INPUT', message: `Refusing a request for host "${req.headers.host ?? ''}"` });
    }
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const origin = req.headers.origin;
    const isLogin = url.pathname === LOGIN_PATH;
    // The sign-in page is a local file, whose requests say `Origin: null`.
    if (origin !== undefined && !allowedOrigins.has(origin.toLowerCase()) && !(isLogin && origin === 'null')) {
      throw new HttpError(403, { code: 'BAD_INPUT', message: `Refusing a request from origin "${origin}"` });
    }
    if (isLogin) return handleLogin(req, res);
    if (url.pathname.startsWith('/api/')) {
      let name: string;
      try {
        name = decodeURIComponent(url.pathname.slice('/api/'.length));
      } catch {
        throw new HttpError(404, { code: 'NOT_FOUND', message: `There is no call at ${url.pathname}` });
      }
      return handleApi(req, res, name);
    }
    if (url.pathname.startsWith('/blobs/')) return handleBlob(req, res, url.pathname);
    if (url.pathname === EVENTS_PATH) return handleEvents(req, res);
    if (url.pathname.startsWith('/thumbs/')) return handleThumb(req, res, url.pathname);
    if (url.pathname.startsWith('/exports/')) return handleExport(req, res, url.pathname);
    if (url.pathname.startsWith('/bench-reports/')) return handleReport(req, res, url.pathname);
    return handlePage(req, res, url);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) {
        sendError(res, e.status, e.info);
      } else {
        log(`foresight app: ${req.method ?? '?'} ${req.url ?? '?'} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        sendError(res, 500, toErrorInfo(e));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        e.code === 'EADDRINUSE'
          ? new ForesightError('BAD_INPUT', `Port ${opts.port ?? 0} on ${HOST} is in use: choose another with --port, or 0 for any free port`, { port: opts.port })
          : e,
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts.port ?? 0, HOST);
  });

  const port = (server.address() as AddressInfo).port;
  // Per port: cookies ignore ports, and two apps on one machine must not overwrite each other's.
  cookieName = `foresight_token_${port}`;
  allowedHosts = new Set([`${HOST}:${port}`, `localhost:${port}`]);
  allowedOrigins = new Set([...allowedHosts].map((h) => `http://${h}`));
  const origin = `http://${HOST}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      for (const live of liveConnections) live.end();
      server.closeIdleConnections();
    });
    return closing;
  };

  return { port, origin, token, close };
}
