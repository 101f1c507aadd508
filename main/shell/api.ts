/**
 * The calls of common/contract.ts, answered from the episode store. Transport-free: the
 * browser-mode HTTP server uses these handlers now, an Electron IPC transport can use the
 * same ones later.
 */
import type { z } from 'zod';
import type { AppInfo, CALLS, CallName, CallResponseInput } from '../../common/contract.ts';
import { ForesightError } from '../../common/errors.ts';
import type { SqliteEpisodeStore } from '../../store/index.ts';

/** One function per call: takes the checked request, returns what the response schema accepts. */
export type Handlers = {
  [N in CallName]: (request: z.output<(typeof CALLS)[N]['request']>) => CallResponseInput<N> | Promise<CallResponseInput<N>>;
};

/** The part of the store the app reads. */
export type EpisodeReader = Pick<SqliteEpisodeStore, 'listEpisodes' | 'getEpisode' | 'resolveEpisodeId' | 'readScreenshot'>;

export function createHandlers(store: EpisodeReader, info: AppInfo): Handlers {
  const later = (name: string) => () => {
    throw new ForesightError('INTERNAL', `${name} is not served yet`);
  };
  return {
    'app.info': () => info,
    'episodes.list': (request) => store.listEpisodes(request),
    'episodes.get': (request) => store.getEpisode(store.resolveEpisodeId(request.id)),
    'episodes.export': later('episodes.export'),
    'episodes.delete': later('episodes.delete'),
    'runs.start': later('runs.start'),
    'runs.current': () => ({ run: null }),
    'runs.pause': later('runs.pause'),
    'runs.resume': later('runs.resume'),
    'runs.stop': later('runs.stop'),
    'runs.noClickZones': later('runs.noClickZones'),
    'gate.decide': later('gate.decide'),
    'benchmarks.list': later('benchmarks.list'),
    'settings.get': later('settings.get'),
    'settings.update': later('settings.update'),
    'settings.setApiKey': later('settings.setApiKey'),
    'settings.clearApiKey': later('settings.clearApiKey'),
    'settings.testConnection': later('settings.testConnection'),
  };
}
