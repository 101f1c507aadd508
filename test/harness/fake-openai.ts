/**
 * An OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks: the one fake we
 * allow, since no multimodal model runs on these machines. It speaks the real protocol
 * (POST /v1/chat/completions) and records every request it received.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: string | Array<{ type: string; text?: string; image_url?: { url: string } }> }>;
  [k: string]: unknown;
}

export type Reply = string | { status: number; body: unknown } | { delayMs: number; content: string };

export interface FakeOpenAI {
  baseURL: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `respond(request, index)` gives the assistant's text (or an HTTP error) for each request. */
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
      if (typeof reply === 'object') {
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${index}`,
          object: 'chat.completion',
          created: 0,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
        }),
      );
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
