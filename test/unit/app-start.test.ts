/**
 * `npm start` (`foresight app`) where Electron's binary is not installed — as on these machines:
 * it says so in one line, then serves browser mode (the sign-in link, the running origin), and
 * stops cleanly on Ctrl+C.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ELECTRON_MISSING, findElectron } from '../../main/shell/window.ts';
import { FORESIGHT_BIN } from '../harness/cli.ts';

test('without Electronʼs binary, npm start says so in one line and opens browser mode', { skip: findElectron() !== undefined ? 'Electron is installed here' : false }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'foresight-start-'));
  try {
    // A display, but no browser on PATH: the app prints the link instead of opening one.
    const child = spawn(process.execPath, [FORESIGHT_BIN, 'app', '--db', join(home, 'episodes.db')], {
      env: { ...process.env, DISPLAY: ':4242', PATH: '/nonexistent', HOME: home, XDG_RUNTIME_DIR: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    for (let i = 0; i < 600 && !out.includes('Press Ctrl+C'); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    const lines = out.split('\n');
    assert.equal(lines.filter((l) => l.includes("Electron's binary")).length, 1, out);
    assert.equal(lines[0], `${ELECTRON_MISSING}: opening browser mode.`);
    assert.match(lines[1] ?? '', /^Foresight is running at http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(lines.some((l) => /^ {2}file:\/\/.*open\.html$/.test(l)), 'the sign-in link is printed');
    assert.equal(code, 0);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
