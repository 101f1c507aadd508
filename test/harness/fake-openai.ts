/**
 * An OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks: the one fake we
 * allow, since no multimodal model runs on these machines. It speaks the real protocol
 * (POST /v1/chat/completions) and records every request it received.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: string | Array<{ type: string; text?: string; image_url?: { url: string } }> }>;
  [k: string]: unknown;
}

/**
 * Faults a real endpoint shows, spoken over real HTTP:
 * - `stall`: status 200 and headers, then nothing (the connection stays open);
 * - `drip`: a valid answer sent a few bytes at a time, `tickMs` apart (default 4 bytes / 100 ms);
 * - `truncated`: a complete HTTP message whose JSON body stops half-way;
 * - `html`: status 200 with an HTML page (a proxy's or a web UI's);
 * - `empty_choices`: `"choices": []`;
 * - `null_content`: a choice whose `message.content` is null (finish_reason `length`);
 * - `reset`: headers and half the body, then a TCP reset;
 * - a status (`{ status, body }`, e.g. 500 or 503 with a JSON error) is the plain Reply form.
 * A refused connection needs no server: see closedPortURL().
 */
export const FAKE_FAULTS = ['stall', 'drip', 'truncated', 'html', 'empty_choices', 'null_content', 'reset'] as const;
export type FakeFault = (typeof FAKE_FAULTS)[number];

export type Reply =
  | string
  | { status: number; body: unknown }
  | { delayMs: number; content: string }
  | { fault: FakeFault; content?: string; bytesPerTick?: number; tickMs?: number };

export interface FakeOpenAI {
  baseURL: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

function completion(index: number, model: string, content: string | null, finish = 'stop'): string {
  return JSON.stringify({
    id: `chatcmpl-${index}`,
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  });
}

/** Sends one fault. Resolves when the response is over (or the client went away). */
function sendFault(req: IncomingMessage, res: ServerResponse, reply: Extract<Reply, { fault: FakeFault }>, index: number, model: string): Promise<void> {
  const body = completion(index, model, reply.content ?? 'Action: finished()');
  const gone = new Promise<void>((r) => res.once('close', () => r()));
  switch (reply.fault) {
    case 'stall':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return gone;
    case 'drip': {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      const bytes = Buffer.from(body);
      const n = reply.bytesPerTick ?? 4;
      let at = 0;
      const t = setInterval(() => {
        if (res.destroyed) return clearInterval(t);
        res.write(bytes.subarray(at, at + n));
        at += n;
        if (at >= bytes.length) {
          clearInterval(t);
          res.end();
        }
      }, reply.tickMs ?? 100);
      res.once('close', () => clearInterval(t));
      return gone;
    }
    case 'truncated': {
      const half = body.slice(0, Math.floor(body.length / 2));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(half) });
      res.end(half);
      return gone;
    }
    case 'html':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><h1>Please sign in to continue</h1></body></html>\n');
      return gone;
    case 'empty_choices':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `chatcmpl-${index}`, object: 'chat.completion', created: 0, model, choices: [] }));
      return gone;
    case 'null_content':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(completion(index, model, null, 'length'));
      return gone;
    case 'reset': {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.write(body.slice(0, Math.floor(body.length / 2)), () => {
        // Give the bytes a moment on the wire, then a TCP RST (not a clean FIN).
        setTimeout(() => req.socket.resetAndDestroy(), 20);
      });
      return gone;
    }
  }
}

/** A base URL on 127.0.0.1 where nothing listens (the port was free a moment ago): connections are refused. */
export async function closedPortURL(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  return `http://127.0.0.1:${port}/v1`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `respond(request, index)` gives the assistant's text (or an HTTP error, or a fault) for each request. */
export async function startFakeOpenAI(respond: (req: ChatRequest, index: number) => Reply | Promise<Reply>): Promise<FakeOpenAI> {
  const requests: ChatRequest[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      const body = JSON.parse(await readBody(req)) as ChatRequest;
      const index = requests.push(body) - 1;
      let reply = await respond(body, index);
      if (typeof reply === 'object' && 'delayMs' in reply) {
        await new Promise((r) => setTimeout(r, reply && typeof reply === 'object' && 'delayMs' in reply ? reply.delayMs : 0));
        reply = reply.content;
      }
      if (typeof reply === 'object' && 'fault' in reply) {
        await sendFault(req, res, reply, index, body.model);
        return;
      }
      if (typeof reply === 'object') {
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(completion(index, body.model, reply));
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The text parts and the image URLs of a request's user message. */
export function userParts(req: ChatRequest): { text: string; images: string[]; system: string } {
  const system = req.messages.find((m) => m.role === 'system');
  const user = req.messages.filter((m) => m.role === 'user').at(-1);
  const parts = typeof user?.content === 'string' ? [{ type: 'text', text: user.content }] : (user?.content ?? []);
  return {
    system: typeof system?.content === 'string' ? system.content : '',
    text: parts.filter((p) => p.type === 'text').map((p) => p.text ?? '').join('\n'),
    images: parts.filter((p) => p.type === 'image_url').map((p) => p.image_url?.url ?? ''),
  };
}
