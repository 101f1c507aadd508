/**
 * The calls of common/contract.ts, answered from the episode store, the settings, the run in
 * progress and the benchmark folders. Transport-free: the browser-mode HTTP server calls these
 * handlers, and so does the Electron window (its preload → main → the same HTTP calls).
 */
import type { z } from 'zod';
import { episodeViewSchema, type AppInfo, type CALLS, type CallName, type CallResponseInput, type EpisodeSummaryView } from '../../common/contract.ts';
import { ForesightError } from '../../common/errors.ts';
import type { SqliteEpisodeStore } from '../../store/index.ts';
import type { BenchmarkFolders } from './benchmarks.ts';
import type { RunManager } from './runs.ts';
import { testConnection, type Settings } from './settings.ts';
import { zip } from './zip.ts';

/** One function per call: takes the checked request, returns what the response schema accepts. */
export type Handlers = {
  [N in CallName]: (request: z.output<(typeof CALLS)[N]['request']>) => CallResponseInput<N> | Promise<CallResponseInput<N>>;
};

/** The part of the store the app uses. */
export type EpisodeReader = Pick<SqliteEpisodeStore, 'listEpisodes' | 'getEpisode' | 'resolveEpisodeId' | 'readScreenshot' | 'deleteEpisode'>;

export interface Services {
  store: EpisodeReader;
  info: AppInfo;
  /** Absent: the app only views episodes (tests of the viewer). */
  settings?: Settings;
  runs?: RunManager;
  benchmarks?: BenchmarkFolders;
}

type EpisodeQuery = z.output<(typeof CALLS)['episodes.list']['request']>;

function need<T>(service: T | undefined, what: string): T {
  if (service === undefined) throw new ForesightError('INTERNAL', `This app was started without ${what}`);
  return service;
}

/** The episode list with the page's filters; those the store's query does not take are applied here. */
function listEpisodes(store: EpisodeReader, q: EpisodeQuery): EpisodeSummaryView[] {
  const narrowed = q.text !== undefined || q.from !== undefined || q.to !== undefined || q.approval !== undefined || q.model !== undefined || q.offset !== undefined;
  if (!narrowed) return store.listEpisodes({ ...(q.limit !== undefined ? { limit: q.limit } : {}), ...(q.status !== undefined ? { status: q.status } : {}) });
  const text = q.text?.trim().toLowerCase();
  const model = q.model?.trim().toLowerCase();
  const rows = store.listEpisodes(q.status !== undefined ? { status: q.status } : {}).filter(
    (e) =>
      (!text || e.task.toLowerCase().includes(text)) &&
      (q.from === undefined || e.startedAt >= q.from) &&
      (q.to === undefined || e.startedAt < q.to) &&
      (!model || e.planner.toLowerCase().includes(model) || e.grounder.toLowerCase().includes(model)) &&
      (q.approval === undefined || e.approval === q.approval),
  );
  const start = q.offset ?? 0;
  return rows.slice(start, q.limit === undefined ? undefined : start + q.limit);
}

/** An episode as a zip: episode.json (the contract's view) and frames/<sha256>.png. */
export function exportEpisode(store: EpisodeReader, idOrPrefix: string): { fileName: string; body: Buffer } {
  const id = store.resolveEpisodeId(idOrPrefix);
  const episode = store.getEpisode(id);
  const shas = [...new Set(episode.steps.map((s) => s.frameSha256))];
  // The contract's view, which holds no path of this machine (the store's screenshotPath is
  // stripped): screenshots are named by their sha256.
  const view = episodeViewSchema.parse(episode);
  const body = zip([
    { name: 'episode.json', data: Buffer.from(JSON.stringify(view, null, 2)) },
    ...shas.map((sha) => ({ name: `frames/${sha}.png`, data: store.readScreenshot(sha), store: true })),
  ]);
  return { fileName: `foresight-episode-${id.slice(0, 8)}.zip`, body };
}

export function createHandlers(s: Services): Handlers {
  const { store } = s;
  const settings = () => need(s.settings, 'settings');
  const runs = () => need(s.runs, 'run control');
  return {
    'app.info': () => s.info,
    'episodes.list': (q) => listEpisodes(store, q),
    'episodes.get': (request) => store.getEpisode(store.resolveEpisodeId(request.id)),
    'episodes.export': (request) => {
      const id = store.resolveEpisodeId(request.id);
      store.getEpisode(id);
      return { downloadPath: `/exports/${encodeURIComponent(id)}.zip`, fileName: `foresight-episode-${id.slice(0, 8)}.zip` };
    },
    'episodes.delete': (request) => {
      const id = store.resolveEpisodeId(request.id);
      const current = s.runs?.current();
      if (current && current.episodeId === id && current.status !== 'ended') {
        throw new ForesightError('BAD_INPUT', 'This episode is the run in progress: stop it before deleting it');
      }
      store.deleteEpisode(id);
      return { deleted: id };
    },
    'runs.start': (request) => {
      const state = runs().start(request);
      s.settings?.markStarted();
      return state;
    },
    'runs.current': () => ({ run: s.runs?.current() ?? null }),
    'runs.pause': (r) => runs().pause(r.runId),
    'runs.resume': (r) => runs().resume(r.runId),
    'runs.stop': (r) => runs().stop(r.runId),
    'runs.noClickZones': (r) => runs().setZones(r.runId, r.rects),
    'gate.decide': (r) => runs().decide(r.runId, r.reviewId, r.decision),
    'benchmarks.list': (r) => need(s.benchmarks, 'the benchmark view').list(r.folder),
    'settings.get': () => settings().view(),
    'settings.update': (r) => settings().update(r),
    'settings.setApiKey': (r) => settings().setKey(r.endpointId, r.key),
    'settings.clearApiKey': (r) => settings().clearKey(r.endpointId),
    'settings.testConnection': async (r) => {
      if ('endpointId' in r) {
        const e = settings().endpoint(r.endpointId);
        return testConnection(e.baseUrl, settings().keys.get(e.id));
      }
      return testConnection(r.baseUrl, undefined);
    },
  };
}
