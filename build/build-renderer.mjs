#!/usr/bin/env node
// Makes the renderer's production build (renderer/dist/, served by main/shell/assets.ts) unless
// the build there was made from exactly today's sources. The stamp, written after a successful
// build, is the sha256 of every file the bundle is made from (renderer/ without dist/, common/,
// vite.config.ts, package-lock.json): a content hash rather than modification times, which a
// checkout or a copy can set to anything. Used by build/install.sh and by the e2e tests.
//   node build/build-renderer.mjs           build when stale
//   node build/build-renderer.mjs --check   exit 1 (and say so) when stale, build nothing
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'renderer', 'dist');
const STAMP = join(DIST, '.foresight-build-stamp');

function files(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== DIST && entry.name !== 'node_modules') out.push(...files(path));
    } else out.push(path);
  }
  return out;
}

export function sourceStamp() {
  const h = createHash('sha256');
  const all = [...files(join(ROOT, 'renderer')), ...files(join(ROOT, 'common')), join(ROOT, 'vite.config.ts'), join(ROOT, 'package-lock.json')];
  for (const f of all.sort()) {
    const bytes = existsSync(f) ? readFileSync(f) : Buffer.from('(none)');
    h.update(`${relative(ROOT, f)}\0${bytes.length}\0`).update(bytes);
  }
  return `renderer sources sha256 ${h.digest('hex')}`;
}

const want = sourceStamp();
const have = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
if (have === want && existsSync(join(DIST, 'index.html'))) {
  console.log('The renderer build matches its sources: skipping vite build.');
  process.exit(0);
}
if (process.argv.includes('--check')) {
  console.error('The renderer build is missing or older than its sources: run `npm run build:renderer`.');
  process.exit(1);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const r = spawnSync(npm, ['run', '--silent', 'build:renderer'], { cwd: ROOT, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('The renderer build failed (see above).');
  process.exit(r.status ?? 1);
}
writeFileSync(STAMP, `${want}\n`);
