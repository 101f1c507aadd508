/**
 * Multimodal-Mind2Web (`osunlp/Multimodal-Mind2Web` on Hugging Face, dataset card read at
 * 361e52d and 1b4c6a8): parquet files, one row per action, named by split — `test_task`,
 * `test_website`, `test_domain`, `train` (e.g. `data/train-00000-of-00027-4d11798d7219186d.parquet`);
 * every column is a string or a list of strings except `screenshot` (the `datasets` Image
 * feature: a struct {bytes: binary, path: string}). Columns used:
 * `annotation_id` (the task), `confirmed_task`, `action_uid`, `operation` (a JSON string
 * {op, original_op, value}), `pos_candidates` (JSON strings of the target element, whose
 * `attributes` hold `bounding_box_rect` "x,y,width,height" in page pixels = screenshot
 * pixels), `screenshot` ({bytes, path}, the full-page screenshot), `action_reprs`,
 * `target_action_index`, `target_action_reprs`, `website`, `domain`, `subdomain`. The large
 * HTML columns are never read.
 *
 * `--data`: a folder of parquet files (or its `data/` sub-folder), or one parquet file.
 * `--split`: the files whose name starts with it; default test_task.
 *
 * A task's rows must be consecutive (the release writes tasks whole; a task may continue into the
 * next file); steps are ordered by `target_action_index`. Rows are read one row group at a
 * time, so memory holds one row group and one task. Pages may be SNAPPY (what `datasets`
 * writes, read by hyparquet itself), GZIP, BROTLI or, on a Node with zstd, ZSTD (node:zlib).
 *
 * Steps left out, as SeeClick's evaluation leaves them out: a step whose target element has no
 * box (`pos_candidates` empty or without `bounding_box_rect`; it is not in later steps' history
 * either), and a TYPE / SELECT step whose value the script cannot read back
 * (metrics/mind2web.ts `pyLiteralValue`, e.g. a value with a `"`: the script `continue`s after
 * adding it to the history, so later steps do see it). `index` is the step's position among
 * the task's steps that have a box, so a left-out step leaves a gap.
 *
 * Truth → ours: CLICK (and HOVER, ENTER, which the release maps to CLICK) → click at the centre
 * of the target box; TYPE → type with the text; SELECT → select with the option as `value`;
 * each with that point, in screenshot pixels (the box is in page pixels of the full-page
 * screenshot, which is the step's image). The text / option is the value as the script reads
 * it (escapes interpreted), so the oracle is right by the script's rule. History: the earlier
 * steps' true actions, teacher-forced (describeAction, whose line ends with the step's
 * `target_action_reprs`, e.g. "[combobox]  From -> TYPE: New York").
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type Compressors } from 'hyparquet';
import sharp from 'sharp';
import { z } from 'zod';
import { describeAction, type Action, type ForecastStep } from '../../../common/actions.ts';
import { ForesightError } from '../../../common/errors.ts';
import { M2W_OP_NAMES, normBox, opNumber, pyLiteralValue, type M2wOp, type NormBox } from '../metrics/mind2web.ts';
import type { LoadOptions, ReplayStep } from '../suite.ts';

export const MIND2WEB_SPLITS = ['test_task', 'test_website', 'test_domain', 'train'] as const;

export interface Mind2WebGold {
  op: M2wOp;
  originalOp: string;
  /** TYPE / SELECT: the value as the script reads it back (pyLiteralValue); '' for clicks. */
  value: string;
  /** Target box normalized and rounded as the SeeClick script does. */
  box: NormBox;
  /** Target box in screenshot pixels. */
  pixelBox: { x: number; y: number; width: number; height: number };
  annotationId: string;
  actionUid: string;
  website: string;
  domain: string;
  subdomain: string;
  task: string;
}

const COLUMNS = [
  'action_uid',
  'operation',
  'pos_candidates',
  'website',
  'domain',
  'subdomain',
  'annotation_id',
  'confirmed_task',
  'screenshot',
  'action_reprs',
  'target_action_index',
  'target_action_reprs',
];

const operationSchema = z.object({ op: z.string(), original_op: z.string().optional(), value: z.string().optional() });

interface Row {
  action_uid?: unknown;
  operation?: unknown;
  pos_candidates?: unknown;
  website?: unknown;
  domain?: unknown;
  subdomain?: unknown;
  annotation_id?: unknown;
  confirmed_task?: unknown;
  screenshot?: unknown;
  action_reprs?: unknown;
  target_action_index?: unknown;
  target_action_reprs?: unknown;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function filesOf(dataPath: string, split: string): Promise<string[]> {
  let st;
  try {
    st = await stat(dataPath);
  } catch {
    throw new ForesightError('NOT_FOUND', `Mind2Web data not found at ${dataPath}; give the folder with the parquet files of osunlp/Multimodal-Mind2Web`, { path: dataPath });
  }
  if (st.isFile()) return [dataPath];
  const dirs = [dataPath, ...((await isDir(join(dataPath, 'data'))) ? [join(dataPath, 'data')] : [])];
  const all: string[] = [];
  for (const d of dirs) for (const f of (await readdir(d)).sort()) if (f.endsWith('.parquet')) all.push(join(d, f));
  if (all.length === 0) throw new ForesightError('NOT_FOUND', `No .parquet files in ${dirs.join(' or ')}`, { path: dataPath });
  const mine = all.filter((f) => basename(f).startsWith(split));
  if (mine.length === 0) {
    throw new ForesightError('NOT_FOUND', `No parquet file of split ${split} in ${dataPath} (files: ${all.map((f) => basename(f)).slice(0, 5).join(', ')}…)`, { path: dataPath });
  }
  return mine;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : v === null || v === undefined ? '' : String(v));

/** The target element's box (page pixels) from the first positive candidate that has one. */
export function targetBox(candidates: unknown, where: string): { x: number; y: number; width: number; height: number } | undefined {
  if (!Array.isArray(candidates)) return undefined;
  for (const c of candidates) {
    let obj: unknown;
    try {
      obj = typeof c === 'string' ? JSON.parse(c) : c;
    } catch {
      throw new ForesightError('BAD_INPUT', `${where}: a pos_candidates entry is not JSON: ${str(c).slice(0, 80)}`);
    }
    let attrs = (obj as { attributes?: unknown } | null)?.attributes;
    if (typeof attrs === 'string') {
      try {
        attrs = JSON.parse(attrs);
      } catch {
        throw new ForesightError('BAD_INPUT', `${where}: the attributes of a pos_candidates entry are not JSON`);
      }
    }
    const rect = (attrs as { bounding_box_rect?: unknown } | null | undefined)?.bounding_box_rect;
    if (typeof rect !== 'string') continue;
    const n = rect.split(',').map(Number);
    if (n.length !== 4 || !n.every(Number.isFinite)) throw new ForesightError('BAD_INPUT', `${where}: bounding_box_rect "${rect}" is not x,y,width,height`);
    return { x: n[0]!, y: n[1]!, width: n[2]!, height: n[3]! };
  }
  return undefined;
}

interface Prepared {
  row: Row;
  index: number;
  where: string;
}

/** A row's operation: its number and original name, and the value as written and as the script reads it. */
function operationOf(row: Row, where: string): { num: M2wOp; originalOp: string; value: string; scriptValue: string | undefined } {
  let opJson: unknown;
  try {
    opJson = JSON.parse(str(row.operation));
  } catch {
    throw new ForesightError('BAD_INPUT', `${where}: operation is not JSON: ${str(row.operation).slice(0, 80)}`);
  }
  const op = operationSchema.safeParse(opJson);
  if (!op.success) throw new ForesightError('BAD_INPUT', `${where}: operation has no "op"`);
  const originalOp = op.data.original_op ?? op.data.op;
  const num = opNumber(originalOp);
  if (num === undefined) throw new ForesightError('BAD_INPUT', `${where}: unknown operation ${originalOp}; expected CLICK, TYPE, SELECT, HOVER or ENTER`);
  const value = op.data.value ?? '';
  // Only TYPE and SELECT write their value into the script's answer string.
  return { num, originalOp, value, scriptValue: num === 4 ? '' : pyLiteralValue(value) };
}

interface TaskStep {
  action: Action;
  gold: Mind2WebGold;
  /** False when the script skips the step (its value does not read back). */
  scored: boolean;
  png: Uint8Array;
  width: number;
  height: number;
}

async function* taskSteps(rows: Prepared[], split: string): AsyncGenerator<ReplayStep<Mind2WebGold>> {
  rows.sort((a, b) => a.index - b.index);
  const steps: TaskStep[] = [];
  for (const { row, where } of rows) {
    const box = targetBox(row.pos_candidates, where);
    if (!box) continue;
    const { num, originalOp, value, scriptValue } = operationOf(row, where);
    const shot = row.screenshot as { bytes?: unknown } | null | undefined;
    const png = shot?.bytes;
    if (!(png instanceof Uint8Array) || png.length === 0) throw new ForesightError('BAD_INPUT', `${where}: the screenshot column holds no image bytes`);
    let meta;
    try {
      meta = await sharp(png).metadata();
    } catch (e) {
      throw new ForesightError('BAD_INPUT', `${where}: the screenshot is not an image (${(e as Error).message})`);
    }
    const width = meta.width ?? 0;
    const height = meta.height ?? 0;
    const text = scriptValue ?? value;
    // The true point where SeeClick's rule says hit: the centre of the box as the script rounds it
    // (a 3 px box on a tall page can round to a line that the pixel centre misses), as 0–1.
    const rounded = normBox(box.x, box.y, box.width, box.height, width, height);
    const point = { space: 'norm1' as const, x: (rounded[0] + rounded[2]) / 2, y: (rounded[1] + rounded[3]) / 2 };
    const instruction = str(row.target_action_reprs) || `${M2W_OP_NAMES[num]} ${value}`.trim();
    const action: Action =
      num === 3
        ? { action_type: 'type', step_instruction: instruction, text, point }
        : num === 2
          ? { action_type: 'select', step_instruction: instruction, value: text, point }
          : { action_type: 'click', step_instruction: instruction, point };
    steps.push({
      action,
      scored: scriptValue !== undefined,
      png,
      width,
      height,
      gold: {
        op: num,
        originalOp,
        value: text,
        box: rounded,
        pixelBox: box,
        annotationId: str(row.annotation_id),
        actionUid: str(row.action_uid),
        website: str(row.website),
        domain: str(row.domain),
        subdomain: str(row.subdomain),
        task: str(row.confirmed_task),
      },
    });
  }
  const future: ForecastStep[] = steps.map((s, i) => ({ screenshot_abstraction: '', action: s.action, status: i === steps.length - 1 ? 'done' : 'not done' }));
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (!s.scored) continue;
    yield {
      id: `${s.gold.annotationId}#${s.gold.actionUid}`,
      episodeId: s.gold.annotationId,
      index: i,
      instruction: s.gold.task,
      image: { width: s.width, height: s.height, read: () => Promise.resolve(s.png) },
      history: steps.slice(0, i).map((h, k) => ({ step: k + 1, action: describeAction(h.action), outcome: 'ok' })),
      future: future.slice(i),
      categories: { operation: M2W_OP_NAMES[s.gold.op], website: s.gold.website, domain: s.gold.domain, subdomain: s.gold.subdomain, split },
      gold: s.gold,
    };
  }
}

/**
 * Decompressors for the codecs hyparquet does not carry itself (it reads SNAPPY and
 * UNCOMPRESSED), from node:zlib; ZSTD only where this Node has it (22.15+).
 */
const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Buffer }).zstdDecompressSync;
const COMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
  ...(zstd ? { ZSTD: (input: Uint8Array) => new Uint8Array(zstd(input)) } : {}),
};
const CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', ...Object.keys(COMPRESSORS)]);

async function openParquet(path: string) {
  let opened;
  try {
    const file = await asyncBufferFromFile(path);
    opened = { file, metadata: await parquetMetadataAsync(file), compressors: COMPRESSORS };
  } catch (e) {
    throw new ForesightError('BAD_INPUT', `${path} is not a readable parquet file (${(e as Error).message})`, { path }, { cause: e });
  }
  for (const group of opened.metadata.row_groups) {
    for (const chunk of group.columns) {
      const codec = chunk.meta_data?.codec;
      if (codec !== undefined && !CODECS.has(codec)) {
        throw new ForesightError(
          'BAD_INPUT',
          `${path} is compressed with ${codec}, which Foresight cannot read (it reads ${[...CODECS].join(', ')}); rewrite it with snappy, e.g. pyarrow.parquet.write_table(pyarrow.parquet.read_table(F), F2, compression="snappy")`,
          { path },
        );
      }
    }
  }
  return opened;
}

/** Reads rows of a file, naming the file when a page cannot be decoded. */
async function readRows(opened: Awaited<ReturnType<typeof openParquet>>, path: string, columns: string[], rowStart?: number, rowEnd?: number): Promise<Row[]> {
  try {
    return (await parquetReadObjects({ ...opened, columns, rowStart, rowEnd, utf8: false })) as Row[];
  } catch (e) {
    throw new ForesightError('BAD_INPUT', `${path}: rows ${rowStart ?? 0}–${rowEnd ?? 'end'} cannot be decoded (${(e as Error).message})`, { path }, { cause: e });
  }
}

/** Each row of a split with its task and whether the script scores it (a target box and a value it reads back); only those columns are read. */
async function scoredRows(dataPath: string, split: string): Promise<{ task: string; scored: boolean }[]> {
  const out: { task: string; scored: boolean }[] = [];
  for (const path of await filesOf(dataPath, split)) {
    const opened = await openParquet(path);
    const rows = await readRows(opened, path, ['annotation_id', 'pos_candidates', 'operation']);
    rows.forEach((row, k) => {
      const where = `${basename(path)}, row ${k}`;
      out.push({ task: str(row.annotation_id), scored: targetBox(row.pos_candidates, where) !== undefined && operationOf(row, where).scriptValue !== undefined });
    });
  }
  return out;
}

/** How many steps `loadMind2Web` yields. */
export async function countMind2Web(dataPath: string, opts: LoadOptions): Promise<number> {
  const n = (await scoredRows(dataPath, opts.split ?? 'test_task')).filter((r) => r.scored).length;
  return opts.limit !== undefined ? Math.min(n, opts.limit) : n;
}

/**
 * The tasks of a split none of whose steps the script scores, in file order. SeeClick's
 * mind2web_test.py still appends their empty result lists: they count in its episode total, as
 * successes, and make its macro lines NaN.
 */
export async function emptyMind2WebTasks(dataPath: string, opts: LoadOptions): Promise<string[]> {
  const scored = new Map<string, boolean>();
  for (const r of await scoredRows(dataPath, opts.split ?? 'test_task')) scored.set(r.task, (scored.get(r.task) ?? false) || r.scored);
  return [...scored].filter(([, ok]) => !ok).map(([task]) => task);
}

/** Streams the steps of a split, task by task, in file order. */
export async function* loadMind2Web(dataPath: string, opts: LoadOptions): AsyncGenerator<ReplayStep<Mind2WebGold>> {
  const split = opts.split ?? 'test_task';
  if (!(MIND2WEB_SPLITS as readonly string[]).includes(split)) {
    throw new ForesightError('BAD_INPUT', `Mind2Web has no split "${split}"; use one of: ${MIND2WEB_SPLITS.join(', ')}`);
  }
  const files = await filesOf(dataPath, split);
  let yielded = 0;
  const seen = new Set<string>();
  /** The rows of the task being read (it may continue into the next row group or file). */
  let current: Prepared[] = [];
  async function* emit(rows: Prepared[]): AsyncGenerator<ReplayStep<Mind2WebGold>> {
    const task = str(rows[0]!.row.annotation_id);
    if (seen.has(task)) throw new ForesightError('BAD_INPUT', `${rows[0]!.where}: task ${task} appears again after other tasks; its rows must be consecutive`);
    seen.add(task);
    for await (const s of taskSteps(rows, split)) {
      if (opts.limit !== undefined && yielded >= opts.limit) return;
      yielded++;
      yield s;
    }
  }
  for (const path of files) {
    const opened = await openParquet(path);
    const names = new Set(opened.metadata.schema.map((s) => s.name));
    const missing = ['annotation_id', 'operation', 'pos_candidates', 'screenshot', 'target_action_index'].filter((c) => !names.has(c));
    if (missing.length > 0) throw new ForesightError('BAD_INPUT', `${path} is not a Multimodal-Mind2Web file: no column ${missing.join(', ')}`, { path });
    let rowStart = 0;
    for (const group of opened.metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const rows = await readRows(opened, path, COLUMNS.filter((c) => names.has(c)), rowStart, rowEnd);
      /** Tasks whose last row has been read in this row group. */
      const done: Prepared[][] = [];
      rows.forEach((row, k) => {
        const where = `${basename(path)}, row ${rowStart + k}`;
        const index = Number(str(row.target_action_index));
        if (!Number.isInteger(index)) throw new ForesightError('BAD_INPUT', `${where}: target_action_index "${str(row.target_action_index)}" is not a whole number`);
        if (current.length > 0 && str(current[0]!.row.annotation_id) !== str(row.annotation_id)) {
          done.push(current);
          current = [];
        }
        current.push({ row, index, where });
      });
      for (const task of done) {
        yield* emit(task);
        if (opts.limit !== undefined && yielded >= opts.limit) return;
      }
      rowStart = rowEnd;
    }
  }
  if (current.length > 0) yield* emit(current);
}
