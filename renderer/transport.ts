/**
 * The renderer's side of common/contract.ts: over HTTP and server-sent events in browser mode, and
 * over the Electron preload's functions in the Electron window (preloadCaller below). Checks the
 * request before sending it and the answer before handing it on, so the views only ever see values
 * of the contract's types.
 *
 * Authentication is the HttpOnly cookie the printed link set; this code never sees the token.
 */
import { CALLS, describeIssues, EVENT_NAMES, EVENTS_PATH, parseEvent, resultSchema, type Caller, type CallName, type CallResponse, type EventName, type LiveEvent } from '../common/contract.ts';
import type { ErrorInfo, Result } from '../common/errors.ts';

const failure = (error: ErrorInfo) => ({ ok: false as const, error });

const answerSchemas = new Map<CallName, ReturnType<typeof resultSchema>>();

function answerSchema(name: CallName): ReturnType<typeof resultSchema> {
  let schema = answerSchemas.get(name);
  if (!schema) {
    schema = resultSchema(CALLS[name].response);
    answerSchemas.set(name, schema);
  }
  return schema;
}

/** A Caller over `POST <base>/api/<call>`. */
export function httpCaller(base = ''): Caller {
  return async <N extends CallName>(name: N, request: unknown): Promise<Result<CallResponse<N>>> => {
    const checked = CALLS[name].request.safeParse(request);
    if (!checked.success) return failure({ code: 'BAD_INPUT', message: `Bad request to ${name}: ${describeIssues(checked.error)}` });

    let response: Response;
    try {
      response = await fetch(`${base}/api/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(checked.data),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      return failure({
        code: 'ENDPOINT_UNREACHABLE',
        message: 'The Foresight app does not answer. Is `npm start` still running? Start it again and open the link it prints.',
      });
    }

    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return failure({ code: 'INTERNAL', message: `The app answered ${name} with HTTP ${response.status} and no JSON` });
    }
    const answer = answerSchema(name).safeParse(body);
    if (!answer.success) {
      return failure({ code: 'INTERNAL', message: `The answer to ${name} does not fit the contract: ${describeIssues(answer.error)}` });
    }
    // Checked against CALLS[name].response just above.
    return answer.data as Result<CallResponse<N>>;
  };
}

/** The transport of this page. */
export const call: Caller = httpCaller();

/** The server refused us for want of the token (the page was opened without the printed link). */
export function isMissingToken(error: ErrorInfo): boolean {
  return error.code === 'BAD_INPUT' && error.details?.reason === 'token';
}

// ---------------------------------------------------------------- live events

/** The live channel as the views use it: events checked against the contract, in order. */
export interface LiveChannel {
  /** Calls `onOpen` at every (re)connection — the moment to read the snapshot again. Returns the unsubscribe. */
  subscribe(onEvent: (event: LiveEventOf) => void, onOpen: () => void, onProblem: (message: string) => void): () => void;
}

export type LiveEventOf = { [N in EventName]: LiveEvent<N> }[EventName];

/**
 * Server-sent events at EVENTS_PATH. EventSource reconnects by itself and sends Last-Event-ID,
 * so the server replays what this page missed; an event that does not fit the contract is
 * reported, never applied.
 */
export function eventSourceChannel(url = EVENTS_PATH): LiveChannel {
  return {
    subscribe(onEvent, onOpen, onProblem) {
      if (typeof EventSource === 'undefined') {
        onProblem('This browser has no EventSource: the run view will not update live.');
        return () => undefined;
      }
      const source = new EventSource(url, { withCredentials: true });
      source.onopen = () => onOpen();
      source.onerror = () => {
        if (source.readyState === EventSource.CLOSED) onProblem('The live connection to the app was refused. Is `npm start` still running? Reload the page.');
      };
      for (const name of EVENT_NAMES) {
        source.addEventListener(name, (m: MessageEvent<string>) => {
          let data: unknown;
          try {
            data = JSON.parse(m.data);
          } catch {
            onProblem(`event ${name} is not JSON`);
            return;
          }
          const checked = parseEvent(name, data);
          if (!checked.ok) {
            onProblem(checked.message);
            return;
          }
          // parseEvent checked `data` against EVENTS[name].
          onEvent({ seq: Number(m.lastEventId) || 0, name, data: checked.event.data } as LiveEventOf);
        });
      }
      return () => source.close();
    },
  };
}

// ---------------------------------------------------------------- Electron

/** What the Electron preload (main/shell/preload.cjs) exposes as `window.foresight`. */
export interface PreloadApi {
  kind: 'electron';
  calls: Record<string, (request: unknown) => Promise<unknown>>;
  onEvent(listener: (name: string, data: unknown, seq: number) => void): () => void;
}

const preloadName = (name: CallName) => name.replace(/\.([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * The calls through the preload's one-function-per-call API. The answer is checked against the
 * contract here too: main is trusted less than the schema.
 */
export function preloadCaller(api: PreloadApi): Caller {
  return async <N extends CallName>(name: N, request: unknown): Promise<Result<CallResponse<N>>> => {
    const checked = CALLS[name].request.safeParse(request);
    if (!checked.success) return failure({ code: 'BAD_INPUT', message: `Bad request to ${name}: ${describeIssues(checked.error)}` });
    const fn = api.calls[preloadName(name)];
    if (!fn) return failure({ code: 'INTERNAL', message: `This Electron window has no call ${name}: restart the app after an update` });
    let body: unknown;
    try {
      body = await fn(checked.data);
    } catch (e) {
      return failure({ code: 'INTERNAL', message: `${name} failed in the Electron shell: ${e instanceof Error ? e.message : String(e)}` });
    }
    const answer = answerSchema(name).safeParse(body);
    if (!answer.success) return failure({ code: 'INTERNAL', message: `The answer to ${name} does not fit the contract: ${describeIssues(answer.error)}` });
    return answer.data as Result<CallResponse<N>>;
  };
}

/** The live events through the preload; `onOpen` once (main replays nothing: the snapshot is read at once). */
export function preloadChannel(api: PreloadApi): LiveChannel {
  return {
    subscribe(onEvent, onOpen, onProblem) {
      queueMicrotask(onOpen);
      return api.onEvent((name, data, seq) => {
        const checked = parseEvent(name, data);
        if (!checked.ok) return onProblem(checked.message);
        onEvent({ seq, name: checked.event.name, data: checked.event.data } as LiveEventOf);
      });
    },
  };
}

function isPreloadApi(v: unknown): v is PreloadApi {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'electron' && typeof (v as { calls?: unknown }).calls === 'object' && typeof (v as { onEvent?: unknown }).onEvent === 'function';
}

/** This page's transport: the Electron preload when the page is in the app's window, else HTTP + server-sent events. */
export function pageTransport(): { call: Caller; live: LiveChannel } {
  const api: unknown = (globalThis as { foresight?: unknown }).foresight;
  return isPreloadApi(api) ? { call: preloadCaller(api), live: preloadChannel(api) } : { call, live: eventSourceChannel() };
}
