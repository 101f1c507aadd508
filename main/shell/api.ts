/**
 * The calls of common/contract.ts, answered from the episode store. Transport-free: the
 * browser-mode HTTP server uses these handlers now, an Electron IPC transport can use the
 * same ones later.
 */
import type { z } from 'zod';
import type { AppInfo, CALLS, CallName, CallResponseInput } from '../../common/contract.ts';
import type { SqliteEpisodeStore } from '../../store/index.ts';

/** One function per call: takes the checked request, returns what the response schema accepts. */
export type Handlers = {
  [N in CallName]: (request: z.output<(typeof CALLS)[N]['request']>) => CallResponseInput<N> | Promise<CallResponseInput<N>>;
};

/** The part of the store the app reads. */
export type EpisodeReader = Pick<SqliteEpisodeStore, 'listEpisodes' | 'getEpisode' | 'resolveEpisodeId' | 'readScreenshot'>;

export function createHandlers(store: EpisodeReader, info: AppInfo): Handlers {
  return {
    'app.info': () => info,
    'episodes.list': (request) => store.listEpisodes(request),
    'episodes.get': (request) => store.getEpisode(store.resolveEpisodeId(request.id)),
  };
}
