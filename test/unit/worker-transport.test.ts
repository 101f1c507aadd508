/**
 * The Electron side of the worker's transport adapter (main/worker/transport.ts), which cannot
 * run here (no Electron binary): `utilityProcessWorker` over a stand-in for Electron's
 * `utilityProcess` module that behaves as Electron documents it (postMessage, kill() = SIGTERM,
 * an `exit` event with a code only). The process behind it is real (`sleep`), so a SIGKILL
 * really kills it. And the frame channel's files: written once, named, cleaned up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Observation } from '../../common/ports.ts';
import { utilityProcessWorker, type UtilityProcessChild, type UtilityProcessModule } from '../../main/worker/transport.ts';
import { FrameChannel } from '../../main/worker/frames.ts';

/** A stand-in for Electron's UtilityProcess: a real `sleep` process, and Electron's events. */
class FakeUtilityProcess extends EventEmitter {
  readonly posted: unknown[] = [];
  private readonly proc = spawn('sleep', ['30'], { stdio: 'ignore' });
  readonly forkedWith: { modulePath: string; options: unknown };

  constructor(modulePath: string, options: unknown) {
    super();
    this.forkedWith = { modulePath, options };
    // Electron reports an exit code only, whatever ended the process.
    this.proc.on('exit', (code) => this.emit('exit', code ?? 1));
  }
  get pid(): number | undefined {
    return this.proc.pid;
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  kill(): boolean {
    return this.proc.kill('SIGTERM');
  }
}

function fakeModule(): { module: UtilityProcessModule; children: FakeUtilityProcess[] } {
  const children: FakeUtilityProcess[] = [];
  return {
    children,
    module: {
      fork(modulePath, _args, options) {
        const c = new FakeUtilityProcess(modulePath, options);
        children.push(c);
        return c as unknown as UtilityProcessChild;
      },
    },
  };
}

test('utilityProcess adapter: starts the entry with tsx, posts messages, SIGKILL goes to the pid, the exit says which signal', async () => {
  const { module, children } = fakeModule();
  const start = utilityProcessWorker(module);
  const w = start({ entry: '/app/native-models/worker.ts', env: { A: '1' } });
  const child = children[0]!;
  assert.equal(w.host, 'utility_process');
  assert.equal(w.pid, child.pid);
  assert.equal(child.forkedWith.modulePath, '/app/native-models/worker.ts');
  const opts = child.forkedWith.options as { env: Record<string, string>; execArgv: string[] };
  assert.deepEqual(opts.env, { A: '1' });
  assert.equal(opts.execArgv[0], '--import');
  assert.match(opts.execArgv[1]!, /^file:\/\/.*tsx/);

  const messages: unknown[] = [];
  w.onMessage((m) => messages.push(m));
  child.emit('message', { type: 'pong', seq: 1 });
  assert.deepEqual(messages, [{ type: 'pong', seq: 1 }]);
  assert.equal(w.send({ type: 'ping', seq: 2 }), true);
  assert.deepEqual(child.posted, [{ type: 'ping', seq: 2 }]);

  const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => w.onExit((code, signal) => r([code, signal])));
  w.kill('SIGKILL');
  assert.deepEqual(await exited, [null, 'SIGKILL']);
  assert.equal(w.send({ type: 'ping', seq: 3 }), false, 'nothing is posted to a process that is gone');
  assert.equal(child.posted.length, 1);
});

test('utilityProcess adapter: a worker that exits on its own reports its code', async () => {
  const { module, children } = fakeModule();
  const w = utilityProcessWorker(module)({ entry: '/x.ts', env: {} });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => w.onExit((code, signal) => r([code, signal])));
  process.kill(children[0]!.pid!, 'SIGTERM'); // from outside: Electron would say code 1 or the like
  const [code, signal] = await exited;
  assert.equal(signal, null);
  assert.equal(typeof code, 'number');
});

const observation = (frameId: string, fill: number): Observation => ({
  frameId,
  png: new Uint8Array([137, 80, 78, 71, fill]),
  geometry: { display: { id: ':0', bounds: { x: 0, y: 0, width: 2, height: 1 }, scaleFactor: 1, primary: true }, imageWidth: 2, imageHeight: 1 },
  raw: { width: 2, height: 1, channels: 4, order: 'bgra', data: new Uint8Array(8).fill(fill) },
  capturedAt: 0,
});

test('frame channel: a frame is written once as PNG + pixels in a private /dev/shm file, then named; reset and close clean up', { skip: !existsSync('/dev/shm') }, () => {
  const ch = new FrameChannel('shm');
  try {
    const a = ch.message(observation('a', 7));
    assert.ok(a.kind === 'full' && a.bytes.via === 'file');
    const file = join(ch.dir!, a.bytes.file);
    assert.deepEqual([...readFileSync(file)], [137, 80, 78, 71, 7, ...new Array<number>(8).fill(7)]);
    assert.deepEqual({ png: a.bytes.pngBytes, raw: a.bytes.rawBytes }, { png: 5, raw: 8 });
    assert.deepEqual(ch.message(observation('a', 7)), { kind: 'known', frameId: 'a' }, 'the worker holds it now');
    // The worker dropped it: sent whole again.
    ch.forget('a');
    assert.equal(ch.message(observation('a', 7)).kind, 'full');
    // The worker holds 4 frames: the oldest of 5 goes whole again.
    for (const id of ['b', 'c', 'd', 'e']) ch.message(observation(id, 1));
    assert.equal(ch.message(observation('a', 7)).kind, 'full');
    ch.reset();
    assert.deepEqual(readdirSync(ch.dir!), [], 'a restarted worker holds nothing, and unread files are deleted');
    assert.equal(ch.message(observation('e', 1)).kind, 'full');
  } finally {
    ch.close();
  }
  assert.equal(existsSync(ch.dir!), false);
});

test('frame channel without /dev/shm: the bytes go in the message, the very arrays', () => {
  const ch = new FrameChannel('inline');
  const o = observation('z', 3);
  const m = ch.message(o);
  assert.ok(m.kind === 'full' && m.bytes.via === 'inline');
  assert.equal(m.bytes.png, o.png);
  assert.equal(m.bytes.raw, o.raw.data);
  assert.equal(ch.dir, undefined);
  ch.close();
});

test('frame directories of agents that are gone (killed with SIGKILL) are removed when the next one starts; a live agent keeps its own', { skip: !existsSync('/dev/shm') }, async () => {
  const dead = spawn('true');
  await new Promise((r) => dead.once('exit', r));
  const live = spawn('sleep', ['30'], { stdio: 'ignore' });
  const staleDir = join('/dev/shm', `foresight-frames-${dead.pid}-test`);
  const liveDir = join('/dev/shm', `foresight-frames-${live.pid}-test`);
  try {
    for (const d of [staleDir, liveDir]) {
      mkdirSync(d);
      writeFileSync(join(d, 's1'), 'pixels');
    }
    const ch = new FrameChannel('shm');
    ch.close();
    assert.equal(existsSync(staleDir), false, 'the dead agent’s directory is gone');
    assert.equal(existsSync(join(liveDir, 's1')), true, 'the live agent’s directory is kept');
  } finally {
    live.kill('SIGKILL');
    rmSync(liveDir, { recursive: true, force: true });
    rmSync(staleDir, { recursive: true, force: true });
  }
});
