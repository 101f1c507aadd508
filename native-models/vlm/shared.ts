/**
 * One loaded model per directory and execution choice in a process: a planner and a grounder
 * given the same directory share its sessions (a 2B model is several GB). The library (and with
 * it onnxruntime-node) is imported only when a local model is first loaded, so runs with other
 * planners do not pay for it.
 */
import type { LoadedVlm } from './runtime.ts';
import type { VlmDirectory } from './model-dir.ts';

const loaded = new Map<string, Promise<LoadedVlm>>();

export function loadShared(d: VlmDirectory): Promise<LoadedVlm> {
  const key = JSON.stringify([d.dir, d.execution]);
  let p = loaded.get(key);
  if (!p) {
    p = import('./runtime.ts').then(({ LoadedVlm }) => LoadedVlm.load(d));
    // A failed load is not kept: the next request tries again (after the user fixed the folder).
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}
