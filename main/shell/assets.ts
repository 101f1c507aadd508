/**
 * The renderer as the server hands it out: the production build that Vite wrote to
 * renderer/dist/ (`npm run build:renderer`, run by build/install.sh), read into memory once at
 * startup. Nothing is bundled here: a start costs a directory read, and the files served are
 * exactly the ones the build checked.
 *
 * When the build is missing, starting fails with a message that says which command makes it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ForesightError } from '../../common/errors.ts';

export interface Asset {
  body: Buffer;
  contentType: string;
}

/** The files of the page, by the URL path they are served at. */
export type RendererAssets = ReadonlyMap<string, Asset>;

/** Where `npm run build:renderer` writes the build (vite.config.ts's root + outDir). */
export const RENDERER_BUILD_DIR = fileURLToPath(new URL('../../renderer/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

function typeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot >= 0 && TYPES[name.slice(dot)]) || 'application/octet-stream';
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return walk(path);
    // The build stamp (build/build-renderer.mjs) and other dot files are not part of the page.
    return e.name.startsWith('.') ? [] : [path];
  });
}

/** Reads the renderer's production build; throws NOT_FOUND (saying what to run) when it is missing. */
export function loadRendererAssets(buildDir: string = RENDERER_BUILD_DIR): RendererAssets {
  if (!existsSync(join(buildDir, 'index.html'))) {
    throw new ForesightError(
      'NOT_FOUND',
      `The app's page has not been built (no ${join(buildDir, 'index.html')}). Run \`npm run build:renderer\` (or \`bash build/install.sh\`), then start the app again.`,
      { buildDir },
    );
  }
  const assets = new Map<string, Asset>();
  for (const file of walk(buildDir)) {
    const urlPath = `/${relative(buildDir, file).split(sep).join('/')}`;
    assets.set(urlPath, { body: readFileSync(file), contentType: typeOf(file) });
  }
  const index = assets.get('/index.html');
  if (index) assets.set('/', index);
  return assets;
}
