/**
 * `foresight models add hf:<repo>[@rev] --download`: fetches a model folder from a Hugging Face
 * style hub (`<endpoint>/<repo>/resolve/<rev>/<file>`; `HF_ENDPOINT` names another hub or a
 * mirror, as Hugging Face's own tools read it). Foresight is offline by default: nothing is
 * fetched without `--download`. The folder's `foresight-model.json` comes first; each file it
 * lists is streamed to disk while hashed, and kept only if its size and sha256 match. The folder
 * is assembled aside and moved into place whole, so a failed download leaves nothing behind.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ForesightError } from '../common/errors.ts';
import { describeIssues, MANIFEST_FILE, ManifestSchema, type Manifest } from './manifest.ts';

export interface HubSpec {
  repo: string;
  revision: string;
}

export const HUB_PREFIX = 'hf:';

export function isHubSpec(target: string): boolean {
  return target.startsWith(HUB_PREFIX);
}

/** `hf:owner/name` or `hf:owner/name@revision` (default revision: main). */
export function parseHubSpec(target: string): HubSpec {
  const m = /^hf:([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(target);
  if (!m) throw new ForesightError('BAD_INPUT', `${target} is no hub model: write hf:<owner>/<name> or hf:<owner>/<name>@<revision>`);
  return { repo: m[1]!, revision: m[2] ?? 'main' };
}

export interface DownloadOptions {
  /** The folder the model lands in (must not exist yet, or is replaced when complete). */
  dest: string;
  endpoint?: string;
  /** One line of progress at a time (the CLI writes them to stderr). */
  progress?: (line: string) => void;
  signal?: AbortSignal;
  /** A hub that sends nothing for this long (headers or body) is given up on (default 30 s). */
  idleMs?: number;
}

/**
 * An abort signal that fires when `touch()` was not called for `ms` (a stalled hub), or when the
 * caller's signal fires. A deadline on the whole download would cut a slow but steady one.
 */
function idleDeadline(ms: number, what: string, url: string, outer: AbortSignal | undefined) {
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => ctl.abort(new ForesightError('ENDPOINT_ERROR', `The model hub sent nothing of ${what} for ${ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`} (${url}); try again later`, { fault: 'timeout', url })),
      ms,
    );
  };
  const onOuter = () => ctl.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  touch();
  return {
    signal: ctl.signal,
    touch,
    done: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT !== undefined && env.HF_ENDPOINT !== '' ? env.HF_ENDPOINT : 'https://huggingface.co').replace(/\/+$/, '');
}

const fileUrl = (endpoint: string, s: HubSpec, path: string) =>
  `${endpoint}/${s.repo}/resolve/${encodeURIComponent(s.revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;

async function get(url: string, spec: HubSpec, what: string, signal: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (e) {
    if (signal.aborted && signal.reason instanceof Error) throw signal.reason;
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new ForesightError(
      'ENDPOINT_ERROR',
      `Could not reach the model hub for ${what} (${url}: ${cause}). Check the network (or HF_ENDPOINT), or download the model folder yourself and run foresight models add <dir>`,
      { fault: 'unreachable', url },
    );
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw new ForesightError('NOT_FOUND', `hf:${spec.repo}@${spec.revision} has no ${what} (HTTP 404 from ${url}); a Foresight model folder holds ${MANIFEST_FILE}`, { url });
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel();
    throw new ForesightError('ENDPOINT_ERROR', `The model hub answered HTTP ${res.status} for ${what} (${url})`, { fault: 'status', status: res.status, url });
  }
  return res;
}

const mb = (n: number) => (n / 1e6).toFixed(1);

/** Streams one file to disk while hashing it; the idle deadline restarts with every chunk. */
async function fetchToFile(
  url: string,
  target: string,
  what: string,
  o: { spec: HubSpec; idleMs: number; signal: AbortSignal | undefined; onBytes: (n: number) => void },
): Promise<{ bytes: number; sha256: string }> {
  const idle = idleDeadline(o.idleMs, what, url, o.signal);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const res = await get(url, o.spec, what, idle.signal);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      idle.touch();
      hash.update(chunk);
      bytes += chunk.length;
      o.onBytes(bytes);
    });
    await pipeline(body, createWriteStream(target));
  } catch (e) {
    throw idle.signal.aborted && idle.signal.reason instanceof Error ? idle.signal.reason : e;
  } finally {
    idle.done();
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Downloads the folder into `dest` and returns its manifest. Throws before touching `dest` on any fault. */
export async function downloadFromHub(spec: HubSpec, opts: DownloadOptions): Promise<Manifest> {
  const endpoint = opts.endpoint ?? hubEndpoint();
  const say = opts.progress ?? (() => undefined);
  const idleMs = opts.idleMs ?? 30_000;
  const manifestUrl = fileUrl(endpoint, spec, MANIFEST_FILE);
  const idle = idleDeadline(idleMs, MANIFEST_FILE, manifestUrl, opts.signal);
  let text: string;
  try {
    text = await (await get(manifestUrl, spec, MANIFEST_FILE, idle.signal)).text();
  } catch (e) {
    throw idle.signal.aborted && idle.signal.reason instanceof Error ? idle.signal.reason : e;
  } finally {
    idle.done();
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ForesightError('MODEL_INVALID', `${MANIFEST_FILE} of hf:${spec.repo}@${spec.revision} is no JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw new ForesightError('MODEL_INVALID', `${MANIFEST_FILE} of hf:${spec.repo}@${spec.revision} is not a valid model manifest: ${describeIssues(parsed.error)}`);
  const manifest = parsed.data;
  // Sizes give the progress and tell a truncated download apart; a hub manifest must list them.
  const unsized = manifest.files.find((f) => f.size === undefined);
  if (unsized !== undefined) throw new ForesightError('MODEL_INVALID', `${MANIFEST_FILE} of hf:${spec.repo}@${spec.revision} gives no size for ${unsized.path}: a hub model lists each file's size`);
  const sizeOf = (f: Manifest['files'][number]) => f.size ?? 0;
  const total = manifest.files.reduce((a, f) => a + sizeOf(f), 0);
  say(`hf:${spec.repo}@${spec.revision}: ${manifest.files.length} files, ${mb(total)} MB`);

  const partial = `${opts.dest}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    let done = 0;
    let lastShown = 0;
    for (const f of manifest.files) {
      const target = join(partial, f.path);
      const shown = join(opts.dest, f.path);
      mkdirSync(dirname(target), { recursive: true });
      const got = await fetchToFile(fileUrl(endpoint, spec, f.path), target, f.path, {
        spec,
        idleMs,
        signal: opts.signal,
        onBytes: (n) => {
          const sofar = done + n;
          // A line per ~5% of the whole download keeps stderr readable in a log.
          if (sofar - lastShown >= Math.max(1, total / 20) || n === sizeOf(f)) {
            lastShown = sofar;
            say(`  ${f.path}: ${mb(n)}/${mb(sizeOf(f))} MB (${total > 0 ? Math.round((sofar / total) * 100) : 100}% of all)`);
          }
        },
      });
      done += got.bytes;
      if (got.bytes !== sizeOf(f)) throw new ForesightError('MODEL_INVALID', `${shown} is corrupt: ${got.bytes} bytes downloaded, expected ${sizeOf(f)}`, { file: shown });
      const sha = got.sha256;
      if (sha !== f.sha256) throw new ForesightError('MODEL_INVALID', `${shown} is corrupt: sha256 ${sha}, expected ${f.sha256}`, { file: shown });
    }
    const manifestPath = join(partial, MANIFEST_FILE);
    await pipeline(Readable.from([text]), createWriteStream(manifestPath));
    if (existsSync(opts.dest)) rmSync(opts.dest, { recursive: true, force: true });
    mkdirSync(dirname(opts.dest), { recursive: true });
    renameSync(partial, opts.dest);
    say(`hf:${spec.repo}@${spec.revision}: downloaded to ${opts.dest}, every sha256 checked`);
    return manifest;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** Where a hub model lands inside the registry folder. */
export function hubModelDir(registryDir: string, spec: HubSpec): string {
  return join(registryDir, 'hub', `${spec.repo.replace('/', '--')}@${spec.revision.replace(/[^\w.-]/g, '_')}`);
}
