/**
 * ScreenSpot, ScreenSpot-v2 and ScreenSpot-Pro: GUI grounding benchmarks. Each sample is one
 * screenshot, one instruction and the box of the element it names; a prediction is one click
 * point, correct when it falls inside the box.
 *
 * Formats (annotation JSON files, each a list of entries):
 * - ScreenSpot (SeeClick) and ScreenSpot-v2 (OS-Atlas): one file per platform,
 *   `screenspot_{mobile,desktop,web}.json` (v2: `…_v2.json`); entries have `img_filename`,
 *   `bbox` as pixel [x, y, width, height], `instruction`, `data_type` ('text' | 'icon'),
 *   `data_source` (ios, android, windows, macos, a web site kind, …). The image size is the
 *   size of the image file itself (read here from the PNG's IHDR chunk).
 * - ScreenSpot-Pro: one file per application/platform under `annotations/`; entries have
 *   `img_filename`, `bbox` as pixel [x1, y1, x2, y2], `img_size` [width, height], `instruction`,
 *   `ui_type` ('text' | 'icon'), `group`, `platform`, `application`, `id`.
 *
 * Boxes are converted here, at the loader, into screenshot-pixel corners {x1, y1, x2, y2}.
 *
 * Hit rule (both official scripts, SeeClick `pretrain/screenspot_test.py` and ScreenSpot-Pro
 * `eval_screenspot_pro.py`): x1 <= x <= x2 and y1 <= y <= y2, every edge inclusive, compared as the
 * scripts compare: the point as a fraction of the image against the box divided by the image size
 * (`pointInBox`). Not in pixels: a 0–1000 point taken to pixels and compared there can land on the
 * other side of an edge (0.175 × 2880 = 503.99999999999994 < 504).
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { convertPoint, type Point, type SpacePoint } from '../../common/coords.ts';
import { ForesightError } from '../../common/errors.ts';
import { pngSize } from '../../common/png.ts';
import { replayGeometry } from './suite.ts';

export type ScreenSpotVariant = 'screenspot' | 'screenspot-v2' | 'screenspot-pro';
export const SCREENSPOT_VARIANTS: readonly ScreenSpotVariant[] = ['screenspot', 'screenspot-v2', 'screenspot-pro'];

export type UiType = 'text' | 'icon';

/** A box in screenshot pixels, corners inclusive. */
export interface PixelBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface ScreenSpotSample {
  /** Pro: the entry's `id`; otherwise `<annotation file name>#<entry index>`. Unique per load. */
  id: string;
  variant: ScreenSpotVariant;
  /** Absolute path of the screenshot. */
  imagePath: string;
  /** `img_filename` as the annotation gives it (relative to the images folder). */
  imgFilename: string;
  imageWidth: number;
  imageHeight: number;
  instruction: string;
  /** Target element, screenshot pixels. */
  box: PixelBox;
  /** ScreenSpot/v2: mobile | desktop | web (from the file name). Pro: the entry's `platform`. */
  platform: string;
  uiType: UiType;
  /** Pro only: Dev, Creative, CAD, Scientific, Office, OS. */
  group?: string;
  /** Pro only. */
  application?: string;
  /** ScreenSpot/v2 only: `data_source` (ios, android, windows, macos, shop, …). */
  dataSource?: string;
  /** Annotation file the sample came from and its index there. */
  source: { file: string; index: number };
}

export interface LoadScreenSpotOptions {
  /** Stop after this many samples (files are read in name order). */
  limit?: number;
  /** Where `img_filename` is resolved; default: the first existing of the variant's usual folders. */
  imagesDir?: string;
  /** Where the annotation JSON files are; default `<dir>/annotations` if it exists, else `<dir>`. */
  annotationsDir?: string;
}

// ---------------------------------------------------------------------------------------------
// Schemas

const coord = z.number().refine(Number.isFinite, 'must be a finite number');
const bbox4 = z.tuple([coord, coord, coord, coord]);

const seeClickEntry = z.object({
  img_filename: z.string().min(1),
  bbox: bbox4.refine((b) => b[2] >= 0 && b[3] >= 0, 'width and height must not be negative'),
  instruction: z.string(),
  data_type: z.enum(['text', 'icon']),
  data_source: z.string().optional(),
});

const proEntry = z.object({
  img_filename: z.string().min(1),
  bbox: bbox4.refine((b) => b[2] >= b[0] && b[3] >= b[1], 'x2 must be >= x1 and y2 >= y1'),
  img_size: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  instruction: z.string(),
  ui_type: z.enum(['text', 'icon']),
  platform: z.string(),
  application: z.string(),
  group: z.string().optional(),
  id: z.union([z.string(), z.number()]).optional(),
});

// ---------------------------------------------------------------------------------------------
// PNG header (pngSize is in common/png.ts)

async function readPngSize(path: string, where: string): Promise<{ width: number; height: number }> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new ForesightError('BAD_INPUT', `${where}: image file ${path} is missing or unreadable`, { path }, { cause: e });
  }
  try {
    const buf = new Uint8Array(24);
    const { bytesRead } = await fh.read(buf, 0, 24, 0);
    const size = pngSize(buf.subarray(0, bytesRead));
    if (!size) throw new ForesightError('BAD_INPUT', `${where}: image file ${path} is not a PNG (no IHDR header)`, { path });
    return size;
  } finally {
    await fh.close();
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Loader

const IMAGE_DIRS: Record<ScreenSpotVariant, string[]> = {
  screenspot: ['screenspot_imgs', 'images', '.'],
  'screenspot-v2': ['screenspotv2_image', 'screenspot_imgs', 'images', '.'],
  'screenspot-pro': ['images', '.'],
};

/** mobile | desktop | web from `screenspot_<platform>[_v2].json`, else the file's base name. */
function platformFromFileName(file: string): string {
  const base = basename(file, '.json');
  const m = /^screenspot_?(?:v2_)?([a-z]+?)(?:_v2)?$/i.exec(base);
  return (m?.[1] ?? base).toLowerCase();
}

function issuesText(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/**
 * Reads every annotation JSON file of one ScreenSpot variant and returns its samples with
 * boxes in screenshot pixels. Throws BAD_INPUT naming the file (and entry index) for malformed
 * annotations and naming the image for a missing or non-PNG screenshot.
 */
export async function loadScreenSpot(
  dir: string,
  variant: ScreenSpotVariant,
  opts: LoadScreenSpotOptions = {},
): Promise<ScreenSpotSample[]> {
  if (!SCREENSPOT_VARIANTS.includes(variant)) {
    throw new ForesightError('BAD_INPUT', `Unknown ScreenSpot variant "${String(variant)}"`);
  }
  const limit = opts.limit ?? Infinity;
  if (!(limit >= 0)) throw new ForesightError('BAD_INPUT', `limit must be >= 0, got ${opts.limit}`);
  if (!(await isDir(dir))) throw new ForesightError('BAD_INPUT', `ScreenSpot directory ${dir} does not exist`);

  const annDir = opts.annotationsDir ?? ((await isDir(join(dir, 'annotations'))) ? join(dir, 'annotations') : dir);
  if (!(await isDir(annDir))) throw new ForesightError('BAD_INPUT', `Annotation directory ${annDir} does not exist`);
  let imagesDir = opts.imagesDir;
  if (imagesDir === undefined) {
    for (const d of IMAGE_DIRS[variant]) {
      if (await isDir(join(dir, d))) {
        imagesDir = join(dir, d);
        break;
      }
    }
  }
  const imgRoot = imagesDir ?? dir;

  const files = (await readdir(annDir)).filter((f) => f.toLowerCase().endsWith('.json')).sort();
  if (files.length === 0) throw new ForesightError('BAD_INPUT', `No annotation .json files in ${annDir}`);

  const samples: ScreenSpotSample[] = [];
  const seen = new Set<string>();
  const sizeCache = new Map<string, { width: number; height: number }>();

  for (const file of files) {
    if (samples.length >= limit) break;
    const filePath = join(annDir, file);
    if (!(await isFile(filePath))) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(filePath, 'utf8'));
    } catch (e) {
      throw new ForesightError(
        'BAD_INPUT',
        `${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`,
        { file: filePath },
        { cause: e },
      );
    }
    if (!Array.isArray(raw)) {
      throw new ForesightError('BAD_INPUT', `${file}: expected a JSON array of annotation entries`, { file: filePath });
    }
    const filePlatform = platformFromFileName(file);

    for (let index = 0; index < raw.length && samples.length < limit; index++) {
      const where = `${file}: entry ${index}`;
      const entry: unknown = raw[index];
      let sample: Omit<ScreenSpotSample, 'imageWidth' | 'imageHeight'> & { imageWidth?: number; imageHeight?: number };

      if (variant === 'screenspot-pro') {
        const r = proEntry.safeParse(entry);
        if (!r.success) {
          throw new ForesightError('BAD_INPUT', `${where}: ${issuesText(r.error)}`, { file: filePath, index });
        }
        const e = r.data;
        const [x1, y1, x2, y2] = e.bbox;
        sample = {
          id: e.id === undefined ? `${file}#${index}` : String(e.id),
          variant,
          imagePath: join(imgRoot, e.img_filename),
          imgFilename: e.img_filename,
          imageWidth: e.img_size[0],
          imageHeight: e.img_size[1],
          instruction: e.instruction,
          box: { x1, y1, x2, y2 },
          platform: e.platform,
          uiType: e.ui_type,
          application: e.application,
          source: { file: filePath, index },
        };
        if (e.group !== undefined) sample.group = e.group;
        if (!(await isFile(sample.imagePath))) {
          throw new ForesightError('BAD_INPUT', `${where}: image file ${sample.imagePath} is missing`, {
            path: sample.imagePath,
          });
        }
      } else {
        const r = seeClickEntry.safeParse(entry);
        if (!r.success) {
          throw new ForesightError('BAD_INPUT', `${where}: ${issuesText(r.error)}`, { file: filePath, index });
        }
        const e = r.data;
        const [x, y, w, h] = e.bbox;
        sample = {
          id: `${file}#${index}`,
          variant,
          imagePath: join(imgRoot, e.img_filename),
          imgFilename: e.img_filename,
          instruction: e.instruction,
          box: { x1: x, y1: y, x2: x + w, y2: y + h },
          platform: filePlatform,
          uiType: e.data_type,
          source: { file: filePath, index },
        };
        if (e.data_source !== undefined) sample.dataSource = e.data_source;
        let size = sizeCache.get(sample.imagePath);
        if (!size) {
          size = await readPngSize(sample.imagePath, where);
          sizeCache.set(sample.imagePath, size);
        }
        sample.imageWidth = size.width;
        sample.imageHeight = size.height;
      }

      if (seen.has(sample.id)) {
        throw new ForesightError('BAD_INPUT', `${where}: duplicate sample id "${sample.id}"`, { file: filePath, index });
      }
      seen.add(sample.id);
      samples.push(sample as ScreenSpotSample);
    }
  }
  return samples;
}

// ---------------------------------------------------------------------------------------------
// Metric

/**
 * The official hit rule, in the space the scripts compare in: the point as a fraction of the image
 * (0–1) inside the box divided by the image size, every edge inclusive. Comparing in pixels is
 * not the same: 0.175 × 2880 = 503.99999999999994 misses a box from x = 504 that 0.175 hits.
 * Non-finite points miss.
 */
export function pointInBox(norm: Point, box: PixelBox, imageWidth: number, imageHeight: number): boolean {
  if (!Number.isFinite(norm.x) || !Number.isFinite(norm.y)) return false;
  return box.x1 / imageWidth <= norm.x && norm.x <= box.x2 / imageWidth && box.y1 / imageHeight <= norm.y && norm.y <= box.y2 / imageHeight;
}

/** A predicted point as the scripts' model adapters hand it over: 0–1 of the image, converted in one step. */
export function normalizedPoint(p: SpacePoint, imageWidth: number, imageHeight: number): Point {
  const q = convertPoint(p, 'norm1', replayGeometry(imageWidth, imageHeight));
  return { x: q.x, y: q.y };
}

export interface Accuracy {
  total: number;
  correct: number;
  /** correct / total; 0 when total is 0 (as the official scripts report it). */
  accuracy: number;
  /** Samples without a prediction (the scripts' "wrong format"); counted as wrong. */
  missing: number;
}

export interface AccuracyBreakdown extends Accuracy {
  text: Accuracy;
  icon: Accuracy;
}

export interface ScreenSpotSummary {
  /** All samples (Pro script: `overall.action_acc`, `text_acc`, `icon_acc`). */
  overall: AccuracyBreakdown;
  /** Per platform, each split text/icon: the columns of the SeeClick / OS-Atlas tables. */
  byPlatform: Record<string, AccuracyBreakdown>;
  /** Pro: per group, split text/icon (leaderboard "simple" style, the Pro paper's table). */
  byGroup: Record<string, AccuracyBreakdown>;
  /** Pro: per application (leaderboard "detailed" style). */
  byApplication: Record<string, AccuracyBreakdown>;
  /**
   * Unweighted mean of the accuracies of the non-empty platform × ui-type cells: the
   * "Average" column of the SeeClick paper's ScreenSpot table (not the same as overall
   * accuracy, which weighs cells by their size).
   */
  cellAverage: number;
  /** Predictions whose id matches no sample (ignored). */
  unknownPredictions: number;
}

function emptyAcc(): Accuracy {
  return { total: 0, correct: 0, accuracy: 0, missing: 0 };
}

function emptyBreakdown(): AccuracyBreakdown {
  return { ...emptyAcc(), text: emptyAcc(), icon: emptyAcc() };
}

function add(acc: Accuracy, hit: boolean, missing: boolean): void {
  acc.total += 1;
  if (hit) acc.correct += 1;
  if (missing) acc.missing += 1;
}

function finish(acc: Accuracy): void {
  acc.accuracy = acc.total > 0 ? acc.correct / acc.total : 0;
}

function addTo(b: AccuracyBreakdown, uiType: UiType, hit: boolean, missing: boolean): void {
  add(b, hit, missing);
  add(b[uiType], hit, missing);
}

function bucket(map: Record<string, AccuracyBreakdown>, key: string): AccuracyBreakdown {
  let b = map[key];
  if (!b) {
    b = emptyBreakdown();
    map[key] = b;
  }
  return b;
}

/**
 * Scores click predictions (keyed by sample id; points in any space of the sample's image, plain
 * {x, y} meaning screenshot pixels; undefined or absent = no answer, counted wrong) and breaks
 * accuracy down as the papers report it.
 */
export function summarizeScreenSpot(
  samples: readonly ScreenSpotSample[],
  predictions: ReadonlyMap<string, Point | SpacePoint | undefined>,
): ScreenSpotSummary {
  const overall = emptyBreakdown();
  const byPlatform: Record<string, AccuracyBreakdown> = {};
  const byGroup: Record<string, AccuracyBreakdown> = {};
  const byApplication: Record<string, AccuracyBreakdown> = {};
  const ids = new Set<string>();

  for (const s of samples) {
    ids.add(s.id);
    const p = predictions.get(s.id);
    const missing = p === undefined;
    const hit = !missing && pointInBox(normalizedPoint({ space: 'screenshot', ...p }, s.imageWidth, s.imageHeight), s.box, s.imageWidth, s.imageHeight);
    addTo(overall, s.uiType, hit, missing);
    addTo(bucket(byPlatform, s.platform), s.uiType, hit, missing);
    if (s.group !== undefined) addTo(bucket(byGroup, s.group), s.uiType, hit, missing);
    if (s.application !== undefined) addTo(bucket(byApplication, s.application), s.uiType, hit, missing);
  }

  const cells: number[] = [];
  for (const b of [overall, ...Object.values(byPlatform), ...Object.values(byGroup), ...Object.values(byApplication)]) {
    finish(b);
    finish(b.text);
    finish(b.icon);
  }
  for (const b of Object.values(byPlatform)) {
    for (const c of [b.text, b.icon]) if (c.total > 0) cells.push(c.accuracy);
  }
  let unknownPredictions = 0;
  for (const id of predictions.keys()) if (!ids.has(id)) unknownPredictions++;

  return {
    overall,
    byPlatform,
    byGroup,
    byApplication,
    cellAverage: cells.length > 0 ? cells.reduce((a, b) => a + b, 0) / cells.length : 0,
    unknownPredictions,
  };
}

export { pngSize };
