/** Shared by the scripts of test/reliability/: their scale and a seeded random generator. */

/** `full` (npm run test:reliability) or `ci` (the bounded part npm test runs). */
export const RELIABILITY_SCALE: 'full' | 'ci' = process.env.RELIABILITY_SCALE === 'ci' ? 'ci' : 'full';

/** mulberry32: small, fast, and the same sequence for the same seed on every machine, so a failing series can be run again as it was. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
