/**
 * `episodes`: our own episode store as a benchmark. Every step that was executed successfully
 * becomes a replay step; its truth is what was actually done (after a person's edit, when there
 * was one), so approved and corrected episodes are the labelled data. `--data` is the episode
 * database file (`foresight run --db …`).
 *
 * Splits: `finished` (default: steps of episodes that reached their goal) or `all` (every
 * episode, including failed and stopped ones, whose executed steps may still be right).
 *
 * Scoring (no official script exists; the rule follows AndroidControl's, the closest one):
 * action types equal; a pointed action within 0.14 of the screen on the 0–1000 grid of the
 * screenshot (inclusive); text equal after trimming; keys equal as a combination; scroll
 * directions equal. Step SR = all of these; grounding accuracy over the pointed truths whose
 * type matched.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Action, ActionFields, ActionType, Direction, ForecastStep } from '../../../common/actions.ts';
import { describeAction, needsPoint, plannerPoint } from '../../../common/actions.ts';
import { assertNever } from '../../../common/assert.ts';
import { convertPoint, type Point } from '../../../common/coords.ts';
import { ForesightError } from '../../../common/errors.ts';
import { SqliteEpisodeStore, type StoredEpisode } from '../../../store/index.ts';
import { replayGeometry, type Breakdown, type ReplayStep, type ReplaySuite, type ScoredStep, type StepScore, type StepTruth, type SuiteSummary } from '../suite.ts';

export interface EpisodeGold {
  action_type: ActionType;
  /** Screenshot pixels. */
  point?: Point;
  text?: string;
  keys?: string[];
  direction?: Direction;
}

/** Inclusive radius on the 0–1000 grid of the screenshot. */
export const EPISODE_CLICK_RADIUS = 140;

/** What a replayed step must get right besides its type and point: the text, keys or direction. */
function goldOf(a: Action, point: Point | undefined): EpisodeGold {
  const gold: EpisodeGold = { action_type: a.action_type, ...(point ? { point } : {}) };
  switch (a.action_type) {
    case 'type':
    case 'input_text':
      return { ...gold, text: a.text };
    case 'finished':
      return a.answer !== undefined ? { ...gold, text: a.answer } : gold;
    case 'hotkey':
    case 'key':
      return { ...gold, keys: a.keys };
    case 'scroll':
      return { ...gold, direction: a.direction };
    case 'click':
    case 'double_click':
    case 'right_click':
    case 'drag':
    case 'move':
    case 'long_press':
    case 'select':
    case 'wait':
    case 'call_user':
    case 'fail':
    case 'open_app':
    case 'navigate_home':
    case 'navigate_back':
    case 'navigate_recent':
    case 'tool_call':
      return gold;
    default:
      return assertNever(a, 'action');
  }
}

/** The executed action with the point it was executed at (screenshot pixels) instead of the planner's. */
function truthAction(a: Action, point: Point | undefined): Action {
  const t = { ...a };
  if ('point' in t) delete t.point;
  if (t.action_type === 'drag') delete t.end_point;
  return point && needsPoint(t) ? { ...t, point: { space: 'screenshot', x: point.x, y: point.y } } : t;
}

async function* loadEpisodes(dataPath: string, opts: { split?: string; limit?: number }): AsyncGenerator<ReplayStep<EpisodeGold>> {
  const split = opts.split ?? 'finished';
  if (!existsSync(dataPath)) throw new ForesightError('NOT_FOUND', `No episode database at ${dataPath}; give --data the file \`foresight run --db\` wrote`);
  const store = SqliteEpisodeStore.open(dataPath);
  let yielded = 0;
  try {
    const list = store.listEpisodes({ limit: 1_000_000 }).reverse();
    for (const summary of list) {
      if (split === 'finished' && summary.status !== 'finished') continue;
      const ep: StoredEpisode = store.getEpisode(summary.id);
      // The steps that did something, with what was done and where (screenshot pixels).
      const done = ep.steps.flatMap((s) => {
        const ex = [...s.executions].reverse().find((e) => e.result === 'ok');
        if (!ex) return [];
        let point: Point | undefined;
        if (needsPoint(ex.action) && ex.globalPoint) {
          const p = convertPoint({ space: 'global', ...ex.globalPoint }, 'screenshot', s.geometry);
          point = { x: p.x, y: p.y };
        }
        return [{ step: s, action: truthAction(ex.action, point), point }];
      });
      const finishedEpisode = ep.status === 'finished';
      const future: ForecastStep[] = done.map((d, i) => ({
        screenshot_abstraction: '',
        action: d.action,
        status: i === done.length - 1 && finishedEpisode ? 'done' : 'not done',
      }));
      for (let i = 0; i < done.length; i++) {
        if (opts.limit !== undefined && yielded >= opts.limit) return;
        const d = done[i]!;
        const s = d.step;
        yielded++;
        yield {
          id: `${ep.id}#${s.stepNumber}`,
          episodeId: ep.id,
          index: i,
          instruction: ep.task,
          image: { width: s.imageWidth, height: s.imageHeight, read: () => Promise.resolve(store.readScreenshot(s.frameSha256)) },
          history: done.slice(0, i).map((h, k) => ({ step: k + 1, action: describeAction(h.action), outcome: 'ok' })),
          future: future.slice(i),
          categories: { actionType: d.action.action_type },
          gold: goldOf(d.action, d.point),
        };
      }
    }
  } finally {
    store.close();
  }
}

function scoreStep(pred: Action | undefined, truth: StepTruth<EpisodeGold>): StepScore {
  const g = truth.gold;
  const typeMatch = pred?.action_type === g.action_type;
  let groundingMatch: boolean | null = null;
  let argsMatch = true;
  if (pred && typeMatch) {
    // Same type as the gold: the fields the gold names are the prediction's own.
    const f: ActionFields = pred;
    if (g.point) {
      const pp = plannerPoint(pred);
      const p = pp ? convertPoint(pp, 'norm1000', truthGeometry(truth)) : undefined;
      const t = convertPoint({ space: 'screenshot', ...g.point }, 'norm1000', truthGeometry(truth));
      groundingMatch = p !== undefined && Math.hypot(p.x - t.x, p.y - t.y) <= EPISODE_CLICK_RADIUS;
    }
    if (g.text !== undefined) argsMatch &&= (f.text ?? f.answer ?? '').trim() === g.text.trim();
    if (g.keys) argsMatch &&= (f.keys ?? []).join('+').toLowerCase() === g.keys.join('+').toLowerCase();
    if (g.direction) argsMatch &&= f.direction === g.direction;
  }
  const success = typeMatch && groundingMatch !== false && argsMatch;
  return { success, metrics: { typeMatch, groundingMatch: typeMatch ? groundingMatch : null, argsMatch: typeMatch ? argsMatch : null } };
}

function figures(rows: readonly ScoredStep<EpisodeGold>[]): Record<string, number> {
  const n = rows.length;
  const out: Record<string, number> = {};
  if (n === 0) return out;
  out['step SR'] = rows.filter((r) => r.score.success).length / n;
  out['type accuracy'] = rows.filter((r) => r.score.metrics.typeMatch === true).length / n;
  const grounded = rows.filter((r) => r.score.metrics.groundingMatch !== null && r.score.metrics.groundingMatch !== undefined);
  if (grounded.length) out['grounding accuracy'] = grounded.filter((r) => r.score.metrics.groundingMatch === true).length / grounded.length;
  return out;
}

function summarize(scored: readonly ScoredStep<EpisodeGold>[]): SuiteSummary {
  const byType = new Map<string, ScoredStep<EpisodeGold>[]>();
  for (const s of scored) {
    const k = s.gold.action_type;
    byType.set(k, [...(byType.get(k) ?? []), s]);
  }
  const episodes = new Map<string, boolean>();
  for (const s of scored) episodes.set(s.episodeId, (episodes.get(s.episodeId) ?? true) && s.score.success);
  const metrics = figures(scored);
  if (episodes.size) metrics['episode SR'] = [...episodes.values()].filter(Boolean).length / episodes.size;
  const breakdowns: Breakdown[] = [
    {
      name: 'action type',
      rows: [...byType.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, rows]) => ({ key, count: rows.length, metrics: figures(rows) })),
    },
  ];
  return { count: scored.length, metrics, breakdowns };
}

async function writePredictions(scored: readonly ScoredStep<EpisodeGold>[], outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, 'episodes.jsonl');
  const lines = scored.map((s) => JSON.stringify({ id: s.id, episode_id: s.episodeId, step: s.index + 1, prediction: s.prediction ?? null, truth: s.gold, success: s.score.success }));
  await writeFile(path, lines.join('\n') + (lines.length ? '\n' : ''));
  return [path];
}

export const episodesSuite: ReplaySuite<EpisodeGold> = {
  id: 'episodes',
  title: 'Foresight episodes',
  splits: ['finished', 'all'],
  modes: [],
  load(dataPath, opts) {
    if (opts.split !== undefined && opts.split !== 'finished' && opts.split !== 'all') {
      throw new ForesightError('BAD_INPUT', `The episodes suite has the splits finished and all, not "${opts.split}"`);
    }
    return loadEpisodes(dataPath, opts);
  },
  score: scoreStep,
  summarize,
  writePredictions,
};

function truthGeometry(t: StepTruth) {
  return replayGeometry(t.imageWidth, t.imageHeight);
}
