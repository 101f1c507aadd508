/**
 * build/install.sh run twice, as someone who pastes the README's first line again would: the
 * second run must leave node_modules alone when nothing changed, and reinstall when the lock
 * file, .npmrc, onnxruntime-node's install choice or the Node ABI changed. Runs the real script
 * and the real `npm ci` on a copy with a tiny package (no dependencies, so nothing is downloaded) and the Debian part skipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const INSTALL_SH = fileURLToPath(new URL('../../build/install.sh', import.meta.url));
const SKIPPED = /skipping npm ci/;

let root: string;

function writeProject(version: string): void {
  const pkg = { name: 'install-probe', version, private: true };
  writeFileSync(join(root, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const lock = { name: pkg.name, version, lockfileVersion: 3, requires: true, packages: { '': { name: pkg.name, version } } };
  writeFileSync(join(root, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
}

function install(ortInstall?: string, pathFirst?: string): { status: number | null; out: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, FORESIGHT_SKIP_APT: '1', npm_config_offline: 'true', npm_config_update_notifier: 'false' };
  delete env.ONNXRUNTIME_NODE_INSTALL;
  if (ortInstall !== undefined) env.ONNXRUNTIME_NODE_INSTALL = ortInstall;
  if (pathFirst !== undefined) env.PATH = `${pathFirst}:${env.PATH ?? ''}`;
  const r = spawnSync('bash', [join(root, 'build', 'install.sh')], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A file `npm ci` would delete with the rest of node_modules. */
const MARKER = () => join(root, 'node_modules', 'still-here.txt');
const STAMP = () => join(root, 'node_modules', '.foresight-install-stamp');

before(() => {
  root = mkdtempSync(join(tmpdir(), 'foresight-install-'));
  mkdirSync(join(root, 'build'));
  copyFileSync(INSTALL_SH, join(root, 'build', 'install.sh'));
  writeFileSync(join(root, '.npmrc'), 'fund=false\n');
  writeProject('1.0.0');
});

after(() => rmSync(root, { recursive: true, force: true }));

void describe('build/install.sh', () => {
  void it('runs npm ci the first time and writes its stamp', () => {
    const first = install();
    assert.equal(first.status, 0, first.out);
    assert.doesNotMatch(first.out, SKIPPED);
    assert.match(readFileSync(STAMP(), 'utf8'), new RegExp(`node abi ${process.versions.modules}, ${process.platform}-${process.arch}`));
  });

  void it('leaves node_modules alone when nothing changed', () => {
    writeFileSync(MARKER(), 'x');
    const second = install();
    assert.equal(second.status, 0, second.out);
    assert.match(second.out, SKIPPED);
    assert.ok(existsSync(MARKER()), 'npm ci did not run');
  });

  void it('reinstalls when the lock file changed', () => {
    writeProject('1.0.1');
    const r = install();
    assert.equal(r.status, 0, r.out);
    assert.doesNotMatch(r.out, SKIPPED);
    assert.equal(existsSync(MARKER()), false, 'npm ci rebuilt node_modules');
    assert.match(install().out, SKIPPED, 'and the run after that skips again');
  });

  void it('reinstalls when .npmrc changed', () => {
    writeFileSync(MARKER(), 'x');
    writeFileSync(join(root, '.npmrc'), 'fund=false\naudit=false\n');
    const r = install();
    assert.doesNotMatch(r.out, SKIPPED);
    assert.equal(existsSync(MARKER()), false);
  });

  void it("records onnxruntime-node's install choice, and reinstalls when it changes", () => {
    // No NVIDIA GPU on the build machines: the CUDA provider is skipped, and the stamp says so.
    const here = install();
    assert.match(here.out, /no NVIDIA GPU/);
    assert.match(readFileSync(STAMP(), 'utf8'), /onnxruntime-node-install skip,/);
    writeFileSync(MARKER(), 'x');
    const chosen = install('cuda12');
    assert.equal(chosen.status, 0, chosen.out);
    assert.doesNotMatch(chosen.out, SKIPPED, 'another choice is another install');
    assert.match(readFileSync(STAMP(), 'utf8'), /onnxruntime-node-install cuda12,/);
    assert.match(install('cuda12').out, SKIPPED);
    assert.doesNotMatch(install().out, SKIPPED, 'back to the machine\'s own choice');
  });

  void it('with an NVIDIA GPU: the CUDA provider when nuget.org answers, else skip and say how to get it later', () => {
    // The one fake here: a GPU (nvidia-smi as the driver prints it); nuget.org is really tried.
    const bin = join(root, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'nvidia-smi'), '#!/bin/sh\necho "GPU 0: NVIDIA GeForce RTX 4070 (UUID: GPU-0)"\n', { mode: 0o755 });
    const r = install(undefined, bin);
    assert.equal(r.status, 0, r.out);
    const stamp = readFileSync(STAMP(), 'utf8');
    if (/cannot be reached/.test(r.out)) {
      assert.match(r.out, /NVIDIA GPU found \(GPU 0: NVIDIA GeForce RTX 4070 \(UUID: GPU-0\)\), but api\.nuget\.org cannot be reached: CPU provider only for now; later run ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
      assert.match(stamp, /onnxruntime-node-install skip,/);
    } else {
      assert.match(r.out, /NVIDIA GPU found \(GPU 0: NVIDIA GeForce RTX 4070 \(UUID: GPU-0\)\): installing the CUDA 12 and TensorRT providers/);
      assert.match(stamp, /onnxruntime-node-install cuda12,/);
    }
  });

  void it('npm commands in the project warn about no unknown config (the old .npmrc key did, on every npx call)', () => {
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const r = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: repo, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '"foresight"');
    assert.doesNotMatch(r.stderr, /Unknown project config/);
  });

  void it('reinstalls when the packages were built for another Node ABI, or the stamp is gone', () => {
    writeFileSync(STAMP(), readFileSync(STAMP(), 'utf8').replace(/node abi \d+/, 'node abi 1'));
    assert.doesNotMatch(install().out, SKIPPED);
    rmSync(STAMP());
    assert.doesNotMatch(install().out, SKIPPED);
    assert.match(install().out, SKIPPED);
  });
});
