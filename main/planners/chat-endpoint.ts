/**
 * One chat-completion call to an OpenAI-compatible endpoint (vLLM, SGLang, Ollama, LM Studio,
 * hosted providers), shared by the `openai:` planner and grounder.
 *
 * Why not the OpenAI SDK: its timeout ends when the response headers arrive, so an endpoint
 * that sends headers and then stalls hangs the agent forever; and what it does with a body that
 * is not a chat completion (truncated JSON, an HTML page with status 200, no choices, null
 * content) surfaces as a bare SyntaxError or TypeError, or as an empty answer that the loop
 * then re-asks as a parse error. Here one deadline covers each attempt from the first byte sent
 * to the last byte read, the kill switch's signal cancels at once (as STOPPED), and every way
 * the endpoint can fail becomes ENDPOINT_ERROR with `details.fault` and a message that says what
 * the endpoint did. Faults a retry may cure are retried `retries` times, 1 s, 2 s, 4 s apart.
 */
import { ForesightError, isForesightError } from '../../common/errors.ts';
import { abortableSleep } from '../../common/sleep.ts';

/** What went wrong, in `details.fault` of an ENDPOINT_ERROR. */
export const ENDPOINT_FAULTS = [
  'timeout', // no complete answer within the deadline (headers or body)
  'refused', // nothing listens at the address
  'unreachable', // DNS, routing, TLS and other failures before an answer
  'reset', // the connection was closed or reset before the answer was complete
  'status', // an HTTP error status
  'html', // an HTML page where JSON was expected
  'not_json', // a body that is not JSON at all
  'truncated_json', // JSON cut off before its end
  'invalid_json', // JSON with a syntax error
  'error_body', // status 2xx, but the body is an error object
  'no_choices', // a JSON body without a first choice
  'empty_content', // the first choice's content is null or empty
  'too_large', // a body beyond any sensible answer
] as const;
export type EndpointFault = (typeof ENDPOINT_FAULTS)[number];

export interface ChatEndpointOptions {
  /** e.g. http://127.0.0.1:8000/v1 (no trailing slash). */
  baseURL: string;
  apiKey?: string;
  /** The deadline of one attempt: from sending the request to the last byte of the answer. */
  timeoutMs: number;
  /** Attempts after the first, for faults a retry may cure (0: none). */
  retries?: number;
  /** The wait before retry n (1-based); default 1 s, 2 s, 4 s, … at most 8 s. */
  backoffMs?: (retry: number) => number;
  /** A body larger than this is refused (default 16 MiB; an answer is a few KB). */
  maxBodyBytes?: number;
}

export interface ChatAnswer {
  /** The text of the first choice. */
  content: string;
  finishReason: string | undefined;
  /** 1 when the first attempt answered. */
  attempts: number;
}

/** A chat-completion request body (the parts we send; the endpoint may accept more). */
export interface ChatRequestBody {
  model: string;
  messages: unknown[];
  temperature?: number;
  max_tokens?: number;
}

export const DEFAULT_BACKOFF_MS = (retry: number): number => Math.min(8000, 1000 * 2 ** (retry - 1));
const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
/** How much of a wrong body a message shows. */
const SHOW = 160;

/** 4xx statuses a retry may cure: request timeout, conflict, too many requests. */
const RETRYABLE_4XX = new Set([408, 409, 429]);

export class ChatEndpoint {
  readonly url: string;

  constructor(private readonly opts: ChatEndpointOptions) {
    this.url = `${opts.baseURL}/chat/completions`;
  }

  /** Sends the request, retrying endpoint faults; throws ENDPOINT_ERROR, or STOPPED when `signal` aborts. */
  async complete(body: ChatRequestBody, signal: AbortSignal): Promise<ChatAnswer> {
    const retries = this.opts.retries ?? 0;
    const backoff = this.opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await this.once(body, signal);
        return { ...answer, attempts: attempt };
      } catch (e) {
        if (!isForesightError(e, 'ENDPOINT_ERROR')) throw e;
        const retryable = e.details?.retryable !== false;
        if (!retryable || attempt > retries) throw this.final(e, attempt);
        await abortableSleep(backoff(attempt), signal, stopped);
      }
    }
  }

  /** The last fault, saying how many attempts it took. */
  private final(e: ForesightError, attempts: number): ForesightError {
    const tail = attempts > 1 ? ` (${attempts} attempts, each limited to ${this.opts.timeoutMs} ms)` : '';
    return new ForesightError('ENDPOINT_ERROR', `${e.message}${tail}`, { ...e.details, attempts }, { cause: e });
  }

  private fault(fault: EndpointFault, what: string, details: Record<string, unknown> = {}, retryable = true): ForesightError {
    return new ForesightError('ENDPOINT_ERROR', `Model endpoint at ${this.opts.baseURL} ${what}`, {
      baseURL: this.opts.baseURL,
      fault,
      retryable,
      timeoutMs: this.opts.timeoutMs,
      ...details,
    });
  }

  /** One attempt under one deadline. */
  private async once(body: ChatRequestBody, signal: AbortSignal): Promise<Omit<ChatAnswer, 'attempts'>> {
    if (signal.aborted) throw stopped();
    const timeoutMs = this.opts.timeoutMs;
    // One controller for the whole exchange: the kill switch and the deadline both abort it.
    // fetch ties the response body's stream to it, so a stalled body is cut as well.
    const controller = new AbortController();
    const onKill = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onKill, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const t0 = performance.now();
    const elapsed = () => Math.round(performance.now() - t0);
    let status: number | undefined;
    const progress = { received: 0, head: '' };
    try {
      let res: Response;
      try {
        res = await fetch(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            authorization: `Bearer ${this.opts.apiKey ?? 'none'}`,
          },
          body: JSON.stringify(body),
          signal: controller.signal,
        });
      } catch (e) {
        if (signal.aborted) throw stopped();
        if (timedOut) {
          throw this.fault('timeout', `sent no response within ${timeoutMs} ms (--timeout)`, { phase: 'headers', elapsedMs: elapsed() });
        }
        throw this.transportFault(e, 'headers', 0);
      }
      status = res.status;
      const contentType = res.headers.get('content-type') ?? '';
      let text: string;
      try {
        text = await this.readBody(res, controller, progress);
      } catch (e) {
        if (signal.aborted) throw stopped();
        if (isForesightError(e)) throw e;
        if (timedOut) {
          throw this.fault(
            'timeout',
            `sent its headers (HTTP ${status}) but not the whole body within ${timeoutMs} ms (--timeout): ` +
              `${progress.received} bytes received${progress.received ? `, starting ${show(progress.head)}` : ''}`,
            { phase: 'body', status, elapsedMs: elapsed(), receivedBytes: progress.received },
          );
        }
        throw this.transportFault(e, 'body', progress.received, status);
      }
      return this.interpret(status, contentType, text);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onKill);
    }
  }

  /** Reads the body as UTF-8, counting bytes (for the message) and refusing an endless one. */
  private async readBody(res: Response, controller: AbortController, progress: { received: number; head: string }): Promise<string> {
    if (!res.body) return '';
    const max = this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const chunks: Uint8Array[] = [];
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      // The first bytes, for a message about a body that never ends (concatenated only while short).
      if (progress.received < SHOW) progress.head = Buffer.concat(chunks).subarray(0, SHOW).toString('utf8');
      progress.received += value.byteLength;
      if (progress.received > max) {
        controller.abort();
        throw this.fault('too_large', `sent a body of more than ${max} bytes, far more than any answer`, { receivedBytes: progress.received }, false);
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** A network failure before the answer was complete. */
  private transportFault(e: unknown, phase: 'headers' | 'body', received: number, status?: number): ForesightError {
    const cause = (e as { cause?: unknown }).cause ?? e;
    const code = (cause as { code?: unknown }).code;
    const why = cause instanceof Error ? cause.message : String(cause);
    const details = { phase, ...(status !== undefined ? { status } : {}), ...(typeof code === 'string' ? { errno: code } : {}), receivedBytes: received };
    if (code === 'ECONNREFUSED') {
      return this.fault('refused', 'refused the connection: is the server running and the URL right?', details);
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return this.fault('unreachable', `is unreachable: its host name did not resolve (${why})`, details);
    }
    const closed = code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || /terminated|closed|reset|socket hang up/i.test(why);
    if (closed) {
      return phase === 'body'
        ? this.fault('reset', `closed the connection mid-body (HTTP ${status ?? '?'}, after ${received} bytes): ${why}`, details)
        : this.fault('reset', `closed the connection before answering: ${why}`, details);
    }
    return this.fault('unreachable', `is unreachable at ${this.url}: ${why}`, details);
  }

  /** A complete body: an error status, something that is not a chat completion, or the answer. */
  private interpret(status: number, contentType: string, text: string): Omit<ChatAnswer, 'attempts'> {
    const trimmed = text.trim();
    // By its first bytes, or by its content type unless the bytes are JSON after all.
    const looksHtml = /^<(!doctype|html|head|body|\?xml)/i.test(trimmed) || (/text\/html/i.test(contentType) && !/^[{[]/.test(trimmed));
    if (status < 200 || status > 299) {
      const retryable = status >= 500 || RETRYABLE_4XX.has(status) || status < 200;
      const said = looksHtml ? `an HTML page: ${show(trimmed)}` : (errorMessageOf(trimmed) ?? (trimmed ? show(trimmed) : 'an empty body'));
      const hint = status === 404 ? ' (is the base URL right? it usually ends in /v1)' : status === 401 || status === 403 ? ' (check --api-key or $FORESIGHT_API_KEY)' : '';
      throw this.fault('status', `answered HTTP ${status}${hint}: ${said}`, { status, bodyStart: trimmed.slice(0, SHOW) }, retryable);
    }
    if (looksHtml) {
      throw this.fault(
        'html',
        `answered HTTP ${status} with an HTML page instead of JSON (is the base URL that of the API? it usually ends in /v1): ${show(trimmed)}`,
        { status, contentType, bodyStart: trimmed.slice(0, SHOW) },
      );
    }
    if (!trimmed) throw this.fault('not_json', `answered HTTP ${status} with an empty body`, { status, contentType });
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (!/^[{[]/.test(trimmed)) {
        throw this.fault('not_json', `answered HTTP ${status} with a body that is not JSON (content-type ${contentType || 'none'}): ${show(trimmed)}`, {
          status,
          contentType,
          bodyStart: trimmed.slice(0, SHOW),
        });
      }
      const at = Number(/position (\d+)/.exec(why)?.[1] ?? NaN);
      const cut = /end of (JSON )?input/i.test(why) || at >= trimmed.length;
      throw cut
        ? this.fault('truncated_json', `sent JSON that ends too early, after ${Buffer.byteLength(text)} bytes (truncated body): …${showEnd(trimmed)}`, {
            status,
            bodyBytes: Buffer.byteLength(text),
            bodyEnd: trimmed.slice(-SHOW),
          })
        : this.fault('invalid_json', `sent malformed JSON (${why}): ${show(trimmed)}`, { status, bodyStart: trimmed.slice(0, SHOW) });
    }
    return this.answerOf(json, status, trimmed);
  }

  private answerOf(json: unknown, status: number, text: string): Omit<ChatAnswer, 'attempts'> {
    if (!isObject(json)) throw this.fault('no_choices', `answered with JSON that is not a chat completion: ${show(text)}`, { status, bodyStart: text.slice(0, SHOW) });
    const choices = json.choices;
    if (!Array.isArray(choices) || choices.length === 0) {
      const err = errorMessageOf(text);
      if (err !== undefined && !Array.isArray(choices)) {
        throw this.fault('error_body', `answered HTTP ${status} with an error: ${err}`, { status, bodyStart: text.slice(0, SHOW) });
      }
      const what = Array.isArray(choices) ? 'an empty "choices" array' : 'no "choices" array';
      throw this.fault('no_choices', `answered with ${what}, so there is no answer to read: ${show(text)}`, { status, bodyStart: text.slice(0, SHOW) });
    }
    const first: unknown = choices[0];
    const message = isObject(first) ? first.message : undefined;
    const finishReason = isObject(first) && typeof first.finish_reason === 'string' ? first.finish_reason : undefined;
    const content = isObject(message) ? contentText(message.content) : undefined;
    const refusal = isObject(message) && typeof message.refusal === 'string' ? message.refusal : undefined;
    const answer = content !== undefined && content.trim() !== '' ? content : refusal;
    if (answer === undefined || answer.trim() === '') {
      const was = !isObject(message) ? 'no message' : message.content === null || message.content === undefined ? 'null content' : 'empty content';
      const hint = finishReason === 'length' ? ' — the model hit max_tokens before answering' : '';
      throw this.fault('empty_content', `answered with ${was} in its first choice (finish_reason: ${finishReason ?? 'none'}${hint})`, {
        status,
        ...(finishReason !== undefined ? { finishReason } : {}),
        bodyStart: text.slice(0, SHOW),
      });
    }
    return { content: answer, finishReason };
  }
}

function stopped(): ForesightError {
  return new ForesightError('STOPPED', 'The request to the model was stopped');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A message's content: a string, or the text parts of a list of parts. */
function contentText(c: unknown): string | undefined {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    const texts = c.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).filter((t) => t !== '');
    return texts.length ? texts.join('') : undefined;
  }
  return undefined;
}

/** The message of an error body in the forms servers use (OpenAI, vLLM, FastAPI, Ollama). */
function errorMessageOf(text: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(json)) return undefined;
  const e = json.error;
  if (isObject(e) && typeof e.message === 'string') return e.message;
  if (typeof e === 'string') return e;
  if (typeof json.message === 'string') return json.message;
  if (typeof json.detail === 'string') return json.detail;
  if (json.detail !== undefined) return JSON.stringify(json.detail).slice(0, 300);
  return undefined;
}

function show(s: string): string {
  const one = s.replace(/\s+/g, ' ');
  return JSON.stringify(one.length > SHOW ? `${one.slice(0, SHOW)}…` : one);
}

function showEnd(s: string): string {
  return JSON.stringify(s.replace(/\s+/g, ' ').slice(-60));
}
