/**
 * Model folders for tests: two tiny real ONNX graphs and a character list, with a
 * foresight-model.json that lists their true sizes and sha256 — and a hub that serves such a
 * folder over real HTTP the way Hugging Face does (`/<owner>/<name>/resolve/<rev>/<file>`).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { doublerModel } from './onnx-model.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface TinyModel {
  files: Record<string, Buffer>;
  manifest: Record<string, unknown>;
}

/** A detector/recognizer pair: det.onnx (x → y), rec.onnx (x → probs), keys.txt. */
export function tinyModel(name = 'tiny-ocr'): TinyModel {
  const files: Record<string, Buffer> = {
    'det.onnx': doublerModel('x', 'y'),
    'rec.onnx': doublerModel('x', 'probs'),
    'keys.txt': Buffer.from('a\nb\nc\n'),
  };
  const manifest = {
    name,
    role: ['text-detector', 'text-recognizer'],
    format: 'onnx',
    files: Object.entries(files).map(([path, bytes]) => ({ path, sha256: sha256(bytes), size: bytes.length })),
    graphs: {
      det: { file: 'det.onnx', inputs: ['x'], outputs: ['y'], warmup: { x: { dims: [1, 3, 8, 8] } } },
      rec: { file: 'rec.onnx', inputs: ['x'], outputs: ['probs'], preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], size: { height: 48 } } },
    },
    licence: 'Apache-2.0',
    source: { url: 'https://example.org/tiny-ocr' },
  };
  return { files, manifest };
}

export function writeModelDir(dir: string, m: TinyModel = tinyModel()): string {
  mkdirSync(dir, { recursive: true });
  for (const [path, bytes] of Object.entries(m.files)) writeFileSync(join(dir, path), bytes);
  writeFileSync(join(dir, 'foresight-model.json'), `${JSON.stringify(m.manifest, null, 2)}\n`);
  return dir;
}

export interface FakeHub {
  url: string;
  /** Paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `repos` ("owner/name@rev" → folder contents) at `/<owner>/<name>/resolve/<rev>/<path>`.
 * A file named in `stallAfter` sends that many bytes of its body, then nothing (a stalled hub).
 */
export async function startHub(repos: Record<string, Record<string, Buffer>>, stallAfter: Record<string, number> = {}): Promise<FakeHub> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const body = m ? repos[`${m[1]}@${m[2]}`]?.[m[3]!] : undefined;
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    const stall = stallAfter[m![3]!];
    if (stall !== undefined) res.write(body.subarray(0, stall));
    else res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A hub repo's files: the model's files and its manifest. */
export function hubRepo(m: TinyModel = tinyModel()): Record<string, Buffer> {
  return { ...m.files, 'foresight-model.json': Buffer.from(JSON.stringify(m.manifest)) };
}
