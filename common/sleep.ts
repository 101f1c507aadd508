/**
 * The longest delay one timer can hold: setTimeout stores it as a signed 32-bit number of
 * milliseconds and fires at once (after 1 ms) for anything larger, so 3e9 ms would end in 1.7 ms.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A sleep that ends early, with the error `stopped()` makes, when the signal aborts. Waits the
 * whole time however long it is: a delay above MAX_TIMER_MS is slept in timer-sized pieces
 * (Infinity: until the signal aborts). A delay that is not a positive number ends at once.
 */
export function abortableSleep(ms: number, signal: AbortSignal | undefined, stopped: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(stopped());
    if (!(ms > 0)) return resolve();
    // Counted down piece by piece rather than against a clock, so a fake clock drives it too.
    let left = ms;
    let t: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (left <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve();
        return;
      }
      const piece = Math.min(left, MAX_TIMER_MS);
      left -= piece;
      t = setTimeout(arm, piece);
    };
    const onAbort = () => {
      clearTimeout(t);
      reject(stopped());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

/**
 * Runs `fn` with a signal of its own that aborts when `signal` does, and lets go of `signal`
 * afterwards. For libraries that add an abort listener to the signal they are given and never
 * remove it (the OpenAI SDK does, once per request): given a run-long signal, thousands of
 * requests would pile up thousands of listeners, and the memory they hold.
 */
export async function withScopedSignal<T>(signal: AbortSignal, fn: (scoped: AbortSignal) => Promise<T>): Promise<T> {
  const child = new AbortController();
  if (signal.aborted) child.abort(signal.reason);
  const onAbort = () => child.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn(child.signal);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
