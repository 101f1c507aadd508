/**
 * The renderer as the server hands it out: `renderer/main.ts` bundled by esbuild into memory
 * at startup, plus the page and its stylesheet read from `renderer/`.
 *
 * Bundling at startup keeps `npm start` free of a build step; a packaged app would bundle
 * once at build time and load the same files from disk instead.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ForesightError } from '../../common/errors.ts';

export interface Asset {
  body: Buffer;
  contentType: string;
}

/** The files of the page, by the URL path they are served at. */
export type RendererAssets = ReadonlyMap<string, Asset>;

const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function typeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.'));
  return TYPES[ext] ?? 'application/octet-stream';
}

export async function buildRendererAssets(rendererDir: string = RENDERER_DIR): Promise<RendererAssets> {
  const assets = new Map<string, Asset>();
  let bundle;
  try {
    bundle = await build({
      entryPoints: [`${rendererDir}/main.ts`],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['chrome120', 'firefox121', 'safari17'],
      write: false,
      outdir: `${rendererDir}/.out`, // only names the outputs; nothing is written
      minify: true,
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'silent',
    });
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    const detail = errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text)).join('; ');
    throw new ForesightError('INTERNAL', `Could not bundle the renderer: ${detail || String(e)}`, undefined, { cause: e });
  }
  for (const out of bundle.outputFiles) {
    const name = basename(out.path);
    assets.set(`/${name}`, { body: Buffer.from(out.contents), contentType: typeOf(name) });
  }
  for (const [urlPath, file] of [
    ['/', 'index.html'],
    ['/style.css', 'style.css'],
    ['/favicon.svg', 'favicon.svg'],
  ] as const) {
    assets.set(urlPath, { body: await readFile(`${rendererDir}/${file}`), contentType: typeOf(file) });
  }
  return assets;
}
