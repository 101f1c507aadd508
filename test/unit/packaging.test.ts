/**
 * The packages' configuration (electron-builder.yml), loaded and validated by electron-builder's
 * own loader (its JSON schema, the package.json checks) — the build itself needs Electron's
 * binary, which cannot be downloaded here. Then what a broken package would show only on a
 * user's machine: the targets of each platform, every native addon file unpacked from the asar,
 * the app's files in and the tests out, the macOS hardened runtime with its entitlements and the
 * usage strings for screen recording and accessibility, and `npm run dist`.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { Packager } from 'electron-builder';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Config {
  /** The loader turns the list into one set of filters. */
  files: ({ filter: string[] } | string)[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  directories: { buildResources: string };
  linux: { target: string[]; icon: string; maintainer: string };
  deb: { depends: string[] };
  mac: { target: string[]; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string; extendInfo: Record<string, string>; icon: string };
  win: { target: string[]; icon: string };
}

let config: Config;

before(async () => {
  const packager = new Packager({ projectDir: ROOT });
  await packager.validateConfig(); // throws on anything the schema refuses
  config = packager.config as unknown as Config;
});

/** electron-builder's globs as used here: `a/b/**`, `**\/*.x`, `!…`, plain paths. */
function matches(pattern: string, path: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\//g, '@ANYDIR@')
    .replace(/\*\*/g, '@ANY@')
    .replace(/\*/g, '[^/]*')
    .replaceAll('@ANYDIR@', '(?:.*/)?')
    .replaceAll('@ANY@', '.*');
  return new RegExp(`^${re}$`).test(path);
}

function included(files: Config['files'], path: string): boolean {
  const patterns = files.flatMap((f) => (typeof f === 'string' ? [f] : f.filter));
  let inc = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matches(p.slice(1), path)) inc = false;
    } else if (matches(p, path)) inc = true;
  }
  return inc;
}

/** Every file under a folder, as paths relative to the repository. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(ROOT, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

void describe('electron-builder configuration', () => {
  it('builds AppImage and deb on Linux, a dmg on macOS, an NSIS installer on Windows', () => {
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.deepEqual(config.mac.target, ['dmg']);
    assert.deepEqual(config.win.target, ['nsis']);
    assert.match(config.linux.maintainer, /<.+@.+>/, 'a deb needs a maintainer with an e-mail');
    for (const dep of ['xdotool', 'x11-xserver-utils', 'util-linux']) assert.ok(config.deb.depends.includes(dep), dep);
    for (const icon of [config.linux.icon, config.mac.icon, config.win.icon]) assert.ok(existsSync(join(ROOT, icon)), icon);
  });

  it('unpacks every native addon from the asar (better-sqlite3, onnxruntime-node, nut.js, uiohook-napi, sharp) and rebuilds them for Electron', () => {
    assert.equal(config.asar, true);
    assert.equal(config.npmRebuild, true);
    const roots = ['better-sqlite3', 'onnxruntime-node', '@nut-tree-fork', 'uiohook-napi', 'sharp', '@img'].map((p) => join(ROOT, 'node_modules', p));
    const addons = roots.flatMap(filesUnder).filter((f) => f.endsWith('.node') || /\.(so|dylib|dll)(\.\d+)*$/.test(f));
    assert.ok(addons.length >= 4, `native files found: ${addons.join(', ')}`);
    for (const packageName of ['better-sqlite3', 'onnxruntime-node', '@nut-tree-fork', 'uiohook-napi', 'sharp']) {
      assert.ok(addons.some((a) => a.includes(`node_modules/${packageName}/`)) || packageName === 'sharp', `${packageName} has a native file here`);
    }
    for (const addon of addons) assert.ok(config.asarUnpack.some((p) => matches(p, addon)), `${addon} is unpacked`);
    // esbuild (under tsx) is an executable: it must be a real file too.
    assert.ok(config.asarUnpack.some((p) => matches(p, 'node_modules/@esbuild/linux-x64/bin/esbuild')));
  });

  it("packs the app's code and the renderer's build, not the tests, benchmarks or the renderer's sources", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string> };
    for (const f of [pkg.main, 'main/shell/preload.cjs', 'main/shell/electron-policy.cjs', 'bin/foresight.mjs', 'main/cli/index.ts', 'main/agent/loop.ts', 'common/contract.ts', 'store/episode-store.ts', 'renderer/dist/index.html', 'package.json', 'build/tray.png']) {
      assert.ok(included(config.files, f), `${f} is packed`);
    }
    for (const f of ['test/unit/packaging.test.ts', 'bench/app.ts', 'renderer/main.tsx', 'docs/ARCHITECTURE.md', 'main/shell/x.test.ts', 'renderer/dist/main.js.map']) {
      assert.equal(included(config.files, f), false, `${f} is not packed`);
    }
    assert.equal(pkg.scripts.dist, 'electron-builder', 'npm run dist builds the packages');
  });

  it('signs for macOS with the hardened runtime, its entitlements, and says why it needs the screen and the input', () => {
    assert.equal(config.mac.hardenedRuntime, true);
    const plist = readFileSync(join(ROOT, config.mac.entitlements), 'utf8');
    for (const key of ['com.apple.security.cs.allow-jit', 'com.apple.security.cs.disable-library-validation']) assert.match(plist, new RegExp(`<key>${key}</key>\\s*<true/>`));
    assert.equal(config.mac.entitlementsInherit, config.mac.entitlements);
    for (const key of ['NSScreenCaptureUsageDescription', 'NSAccessibilityUsageDescription', 'NSAppleEventsUsageDescription']) {
      assert.ok((config.mac.extendInfo[key] ?? '').length > 20, `${key} says why`);
    }
    assert.match(config.mac.extendInfo.NSScreenCaptureUsageDescription!, /screen/i);
  });
});
