/** Calls of the contract as React state: loading, the value, or the error, and a way to ask again. */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CallName, CallRequest, CallResponse, Caller } from '../../common/contract.ts';
import type { ErrorInfo } from '../../common/errors.ts';

export type Loaded<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'error'; error: ErrorInfo };

/**
 * Runs `name` with `request` whenever `key` changes (the request's identity in words, so an
 * object literal in the caller does not re-run it at every render). An answer that arrives
 * after a newer request was made is dropped.
 */
export function useCall<N extends CallName>(call: Caller, name: N, request: CallRequest<N>, key: string): Loaded<CallResponse<N>> & { reload(): void } {
  const [loaded, setLoaded] = useState<Loaded<CallResponse<N>>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  const requestRef = useRef(request);
  requestRef.current = request;
  useEffect(() => {
    let current = true;
    call(name, requestRef.current).then(
      (r) => {
        if (current) setLoaded(r.ok ? { state: 'ok', value: r.value } : { state: 'error', error: r.error });
      },
      (e: unknown) => {
        if (current) setLoaded({ state: 'error', error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } });
      },
    );
    return () => {
      current = false;
    };
  }, [call, name, key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...loaded, reload };
}
