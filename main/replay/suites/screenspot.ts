/**
 * ScreenSpot, ScreenSpot-v2 and ScreenSpot-Pro as replay suites: one step per sample, the
 * instruction as the task, the click point of the answer scored by the official hit rule.
 * Loader and metric: main/replay/screenspot.ts (formats, sources and the rule are stated there).
 *
 * What is scored: the point of the answer's first action, whatever its type, as the official
 * scripts read only the coordinates out of the model's answer. An answer without a point is
 * the scripts' "wrong format": counted wrong.
 *
 * Summary: `accuracy` (all samples), `text accuracy`, `icon accuracy`; for ScreenSpot and v2
 * also `average`, the unweighted mean of the platform × text/icon cells (the papers' "Average"
 * column). Breakdowns: by platform (ScreenSpot, v2, Pro), group and application (Pro), each
 * split text/icon as the papers' tables are.
 *
 * Predictions file: `predictions/<suite>.json`, a list in the order of the annotations of
 * {id, img_filename, instruction, ui_type, platform, (Pro) group and application, bbox in the
 * annotation's own convention, pred: [x, y] in image pixels or null, correctness:
 * 'correct' | 'wrong' | 'wrong_format'} — the fields of the result details that the Pro
 * script's `eval_screenspot_pro.py` writes, so its tables can be rebuilt from it.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { plannerPoint, type Action } from '../../../common/actions.ts';
import { convertPoint, type SpacePoint } from '../../../common/coords.ts';
import { ForesightError } from '../../../common/errors.ts';
import {
  loadScreenSpot,
  normalizedPoint,
  pointInBox,
  summarizeScreenSpot,
  type AccuracyBreakdown,
  type PixelBox,
  type ScreenSpotSample,
  type ScreenSpotVariant,
  type UiType,
} from '../screenspot.ts';
import { replayGeometry, type BreakdownRow, type ReplayStep, type ReplaySuite, type ScoredStep, type StepTruth, type SuiteSummary } from '../suite.ts';

export interface ScreenSpotGold {
  box: PixelBox;
  platform: string;
  uiType: UiType;
  group?: string;
  application?: string;
  dataSource?: string;
  instruction: string;
  /** `img_filename` as the annotation has it. */
  imgFilename: string;
  /** Order of the sample in the load (annotation files by name, entries in order). */
  position: number;
}

/** The point scored for an answer: the first action's, whatever its type, in the space it was written in. */
function answerPoint(pred: Action | undefined): SpacePoint | undefined {
  return pred ? plannerPoint(pred) : undefined;
}

const NO_POINT = 'the answer has no point (the script\'s "wrong format")';

function sampleOf(t: StepTruth<ScreenSpotGold>, variant: ScreenSpotVariant): ScreenSpotSample {
  const g = t.gold;
  return {
    id: t.id,
    variant,
    imagePath: g.imgFilename,
    imgFilename: g.imgFilename,
    imageWidth: t.imageWidth,
    imageHeight: t.imageHeight,
    instruction: g.instruction,
    box: g.box,
    platform: g.platform,
    uiType: g.uiType,
    ...(g.group !== undefined ? { group: g.group } : {}),
    ...(g.application !== undefined ? { application: g.application } : {}),
    source: { file: '', index: g.position },
  };
}

function figures(b: AccuracyBreakdown): Record<string, number> {
  const m: Record<string, number> = { accuracy: b.accuracy };
  if (b.text.total > 0) m['text accuracy'] = b.text.accuracy;
  if (b.icon.total > 0) m['icon accuracy'] = b.icon.accuracy;
  return m;
}

function rows(map: Record<string, AccuracyBreakdown>): BreakdownRow[] {
  return Object.entries(map)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, b]) => ({ key, count: b.total, metrics: figures(b) }));
}

function summarizeFor(variant: ScreenSpotVariant) {
  return (scored: readonly ScoredStep<ScreenSpotGold>[]): SuiteSummary => {
    if (scored.length === 0) return { count: 0, metrics: {}, breakdowns: [] };
    const samples = scored.map((s) => sampleOf(s, variant));
    const predictions = new Map(scored.map((s) => [s.id, answerPoint(s.prediction)] as const));
    const sum = summarizeScreenSpot(samples, predictions);
    const metrics = figures(sum.overall);
    if (variant !== 'screenspot-pro') metrics.average = sum.cellAverage;
    const breakdowns = [{ name: 'platform', rows: rows(sum.byPlatform) }];
    if (variant === 'screenspot-pro') {
      breakdowns.push({ name: 'group', rows: rows(sum.byGroup) }, { name: 'application', rows: rows(sum.byApplication) });
    }
    return { count: scored.length, metrics, breakdowns };
  };
}

function nativeBox(b: PixelBox, variant: ScreenSpotVariant): number[] {
  return variant === 'screenspot-pro' ? [b.x1, b.y1, b.x2, b.y2] : [b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1];
}

function writePredictionsFor(variant: ScreenSpotVariant) {
  return async (scored: readonly ScoredStep<ScreenSpotGold>[], outDir: string): Promise<string[]> => {
    await mkdir(outDir, { recursive: true });
    const entries = [...scored]
      .sort((a, b) => a.gold.position - b.gold.position)
      .map((s) => {
        const g = s.gold;
        const p = answerPoint(s.prediction);
        const px = p ? convertPoint(p, 'screenshot', replayGeometry(s.imageWidth, s.imageHeight)) : undefined;
        return {
          id: s.id,
          img_filename: g.imgFilename,
          instruction: g.instruction,
          ui_type: g.uiType,
          platform: g.platform,
          ...(g.group !== undefined ? { group: g.group } : {}),
          ...(g.application !== undefined ? { application: g.application } : {}),
          ...(g.dataSource !== undefined ? { data_source: g.dataSource } : {}),
          bbox: nativeBox(g.box, variant),
          pred: px ? [px.x, px.y] : null,
          correctness: p ? (s.score.success ? 'correct' : 'wrong') : 'wrong_format',
        };
      });
    const path = join(outDir, `${variant}.json`);
    await writeFile(path, JSON.stringify(entries, null, 2) + '\n');
    return [path];
  };
}

function loadFor(variant: ScreenSpotVariant) {
  return async function* (dataPath: string, opts: { split?: string; limit?: number; mode?: string }): AsyncIterable<ReplayStep<ScreenSpotGold>> {
    if (opts.split !== undefined) throw new ForesightError('BAD_INPUT', `${variant} has no splits; leave out --split`);
    if (opts.mode !== undefined) throw new ForesightError('BAD_INPUT', `${variant} has no modes; leave out --mode`);
    const samples = await loadScreenSpot(dataPath, variant, opts.limit !== undefined ? { limit: opts.limit } : {});
    let position = 0;
    for (const s of samples) {
      const centre = { space: 'screenshot' as const, x: (s.box.x1 + s.box.x2) / 2, y: (s.box.y1 + s.box.y2) / 2 };
      const imagePath = s.imagePath;
      yield {
        id: s.id,
        episodeId: s.id,
        index: 0,
        instruction: s.instruction,
        image: { width: s.imageWidth, height: s.imageHeight, read: async () => new Uint8Array(await readFile(imagePath)) },
        history: [],
        future: [{ screenshot_abstraction: '', action: { action_type: 'click', step_instruction: s.instruction, point: centre }, status: 'done' }],
        categories: { platform: s.platform, uiType: s.uiType, ...(s.group !== undefined ? { group: s.group } : {}) },
        gold: {
          box: s.box,
          platform: s.platform,
          uiType: s.uiType,
          ...(s.group !== undefined ? { group: s.group } : {}),
          ...(s.application !== undefined ? { application: s.application } : {}),
          ...(s.dataSource !== undefined ? { dataSource: s.dataSource } : {}),
          instruction: s.instruction,
          imgFilename: s.imgFilename,
          position: position++,
        },
      };
    }
  };
}

function suiteFor(variant: ScreenSpotVariant, title: string): ReplaySuite<ScreenSpotGold> {
  return {
    id: variant,
    title,
    splits: [],
    modes: [],
    load: loadFor(variant),
    async count(dataPath, opts) {
      return (await loadScreenSpot(dataPath, variant, opts.limit !== undefined ? { limit: opts.limit } : {})).length;
    },
    // The scripts read a point out of any answer, so any action's target is grounded and scored.
    scoresTarget: () => true,
    score(pred, truth) {
      const p = answerPoint(pred);
      if (!p) return { success: false, metrics: { answered: false }, reason: NO_POINT };
      const hit = pointInBox(normalizedPoint(p, truth.imageWidth, truth.imageHeight), truth.gold.box, truth.imageWidth, truth.imageHeight);
      return { success: hit, metrics: { answered: true } };
    },
    summarize: summarizeFor(variant),
    writePredictions: writePredictionsFor(variant),
  };
}

export const screenSpotSuite = suiteFor('screenspot', 'ScreenSpot');
export const screenSpotV2Suite = suiteFor('screenspot-v2', 'ScreenSpot-v2');
export const screenSpotProSuite = suiteFor('screenspot-pro', 'ScreenSpot-Pro');
