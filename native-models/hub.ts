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
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT !== undefined && env.HF_ENDPOINT !== '' ? env.HF_ENDPOINT : 'https://huggingface.co').replace(/\/+$/, '');
}

const fileUrl = (endpoint: string, s: HubSpec, path: string) =>
  `${endpoint}/${s.repo}/resolve/${encodeURIComponent(s.revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;

async function get(url: string, spec: HubSpec, what: string, signal: AbortSignal | undefined): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, signal ? { signal, redirect: 'follow' } : { redirect: 'follow' });
  } catch (e) {
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

/** Downloads the folder into `dest` and returns its manifest. Throws before touching `dest` on any fault. */
export async function downloadFromHub(spec: HubSpec, opts: DownloadOptions): Promise<Manifest> {
  const endpoint = opts.endpoint ?? hubEndpoint();
  const say = opts.progress ?? (() => undefined);
  const manifestRes = await get(fileUrl(endpoint, spec, MANIFEST_FILE), spec, MANIFEST_FILE, opts.signal);
  const text = await manifestRes.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ForesightError('MODEL_INVALID', `${MANIFEST_FILE} of hf:${spec.repo}@${spec.revision} is no JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw new ForesightError('MODEL_INVALID', `${MANIFEST_FILE} of hf:${spec.repo}@${spec.revision} is not a valid model manifest: ${describeIssues(parsed.error)}`);
  const manifest = parsed.data;
  const total = manifest.files.reduce((a, f) => a + f.size, 0);
  say(`hf:${spec.repo}@${spec.revision}: ${manifest.files.length} files, ${mb(total)} MB`);

  const partial = `${opts.dest}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    let done = 0;
    for (const f of manifest.files) {
      const target = join(partial, f.path);
      const shown = join(opts.dest, f.path);
      mkdirSync(dirname(target), { recursive: true });
      const res = await get(fileUrl(endpoint, spec, f.path), spec, f.path, opts.signal);
      const hash = createHash('sha256');
      let got = 0;
      let lastShown = 0;
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        got += chunk.length;
        // A line per ~5% of the whole download keeps stderr readable in a log.
        if (got - lastShown >= Math.max(1, total / 20) || got === f.size) {
          lastShown = got;
          say(`  ${f.path}: ${mb(got)}/${mb(f.size)} MB (${total > 0 ? Math.round(((done + got) / total) * 100) : 100}% of all)`);
        }
      });
      await pipeline(body, createWriteStream(target));
      done += got;
      if (got !== f.size) throw new ForesightError('MODEL_INVALID', `${shown} is corrupt: ${got} bytes downloaded, expected ${f.size}`, { file: shown });
      const sha = hash.digest('hex');
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
