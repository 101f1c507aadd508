/**
 * The renderer's side of common/contract.ts over HTTP (browser mode, and for now the Electron
 * window too). Checks the request before sending it and the answer before handing it on, so
 * the views only ever see values of the contract's types.
 *
 * Authentication is the HttpOnly cookie the printed link set; this code never sees the token.
 */
import { CALLS, describeIssues, resultSchema, type Caller, type CallName, type CallResponse } from '../common/contract.ts';
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
