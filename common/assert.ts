import { ForesightError } from './errors.ts';

/**
 * The end of every `switch` over a discriminated union: the compiler proves `x` is `never`,
 * so a new member is a compile error here until it is handled. At run time it can only be
 * reached by a value from outside the type system (an unchecked cast), which is a bug.
 */
export function assertNever(x: never, what = 'value'): never {
  const shown = typeof x === 'object' && x !== null ? JSON.stringify(x).slice(0, 200) : String(x);
  throw new ForesightError('INTERNAL', `Unhandled ${what}: ${shown}`);
}
