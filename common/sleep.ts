/** A sleep that ends early, with the error `stopped()` makes, when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined, stopped: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(stopped());
    if (ms <= 0) return resolve();
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(stopped());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
