/**
 * Which onnxruntime execution providers can run on this machine, and why the others cannot.
 *
 * Split in two: `probeProviders()` looks at the machine (what onnxruntime-node's binding says it
 * supports, which provider plug-ins its install step put next to it, whether an NVIDIA GPU is
 * there, which shared libraries the dynamic loader would find), and the pure functions below
 * turn such a probe into decisions. The decisions are what the tests check, for every platform,
 * on any machine; the probe is what `foresight models doctor` shows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';

export const PROVIDER_IDS = ['tensorrt', 'cuda', 'dml', 'coreml', 'cpu'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/**
 * Which provider a session runs on and why the faster ones were passed over: what the episode
 * log records. A schema, because it crosses the model worker's process boundary.
 */
export const ProviderReportSchema = z.object({ provider: z.enum(PROVIDER_IDS), reasons: z.array(z.string()) });
export type ProviderReport = z.infer<typeof ProviderReportSchema>;

export const PROVIDER_LABEL: Readonly<Record<ProviderId, string>> = {
  tensorrt: 'TensorRT',
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'CoreML',
  cpu: 'CPU',
};

/** Fastest first. CPU ends every list: it is compiled into every onnxruntime-node binary. */
export function providerPreference(platform: string): ProviderId[] {
  switch (platform) {
    case 'linux':
      return ['tensorrt', 'cuda', 'cpu'];
    case 'win32':
      return ['dml', 'cpu'];
    case 'darwin':
      return ['coreml', 'cpu'];
    default:
      return ['cpu'];
  }
}

/** What the dynamic loader finds for one library: its path, or where it lies off the loader's path. */
export interface LibraryLookup {
  found: string | null;
  /** Found outside the loader's path (e.g. /usr/local/cuda/lib64): the user only has to point the loader there. */
  elsewhere?: string;
}

export interface ProviderProbe {
  platform: string;
  arch: string;
  /** onnxruntime-node's version, and the folder its binding and provider plug-ins live in. */
  ortVersion: string;
  ortBinDir: string;
  /** What the binding reports (`listSupportedBackends()`): a provider it was built with, and whether its files ship in the npm package. */
  backends: ReadonlyArray<{ name: string; bundled: boolean }>;
  /** The provider plug-ins present in ortBinDir (basenames), which onnxruntime-node's install step downloads. */
  ortFiles: readonly string[];
  /** An NVIDIA GPU: `present`, and what showed it (or what was looked at). */
  gpu: { present: boolean; evidence: string };
  /** Each system library a GPU provider needs (soname) and where the loader would find it. */
  libraries: Readonly<Record<string, LibraryLookup>>;
  cores: number;
}

/** One thing that keeps a provider from running, and what the user can do about it. */
export interface ProviderProblem {
  reason: string;
  remedy: string;
}

export interface ProviderStatus {
  provider: ProviderId;
  label: string;
  available: boolean;
  problems: ProviderProblem[];
}

/** The plug-ins onnxruntime-node's install script downloads for linux-x64 (its script/install-metadata.js). */
export const ORT_PLUGIN = {
  shared: 'libonnxruntime_providers_shared.so',
  cuda: 'libonnxruntime_providers_cuda.so',
  tensorrt: 'libonnxruntime_providers_tensorrt.so',
} as const;

/**
 * System libraries the CUDA 12 builds of onnxruntime's CUDA and TensorRT providers load, grouped
 * by what the user installs to get them (onnxruntime's CUDA requirements: CUDA 12.x, cuDNN 9.x,
 * TensorRT 10.x). The CUDA provider links cudart, cublas, cublasLt, curand and the driver's
 * libcuda.so.1 (onnxruntime's cmake/onnxruntime_providers_cuda.cmake); recent builds open cuDNN
 * and cuFFT only when an operator needs them, but every convolution does (PP-OCR, ViTs' patch
 * embedding), so a missing cuDNN is as fatal for our models as a missing cudart.
 */
export const GPU_LIBRARY_GROUPS = [
  { sonames: ['libcuda.so.1'], remedy: 'install the NVIDIA driver for your GPU, or run on CPU', for: ['cuda', 'tensorrt'] },
  {
    sonames: ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcurand.so.10'],
    remedy: 'install the CUDA 12 runtime (NVIDIA\'s cuda-libraries-12-x packages), or run on CPU',
    for: ['cuda', 'tensorrt'],
  },
  { sonames: ['libcudnn.so.9'], remedy: 'install cuDNN 9 for CUDA 12 (NVIDIA\'s libcudnn9-cuda-12 package), or run on CPU', for: ['cuda', 'tensorrt'] },
  { sonames: ['libnvinfer.so.10', 'libnvonnxparser.so.10'], remedy: 'install TensorRT 10 for CUDA 12 (NVIDIA\'s libnvinfer10 and libnvonnxparsers10 packages), or use CUDA without it', for: ['tensorrt'] },
] as const satisfies ReadonlyArray<{ sonames: readonly string[]; remedy: string; for: readonly ProviderId[] }>;

export const GPU_LIBRARIES: readonly string[] = GPU_LIBRARY_GROUPS.flatMap((g) => g.sonames);

/** The command that fetches onnxruntime-node's CUDA provider (its install script reads ONNXRUNTIME_NODE_INSTALL). */
export const CUDA_INSTALL_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node';

const listNames = (names: readonly string[]) => (names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`);

/** Why the CUDA or TensorRT provider cannot run here (empty: it should). */
function nvidiaProblems(provider: 'cuda' | 'tensorrt', p: ProviderProbe): ProviderProblem[] {
  const label = PROVIDER_LABEL[provider];
  const backend = p.backends.find((b) => b.name === provider);
  if (backend === undefined) {
    return [
      {
        reason: `this onnxruntime-node build (${p.platform}-${p.arch}) has no ${label} provider`,
        remedy: `onnxruntime publishes ${label} for linux-x64 only; run on CPU`,
      },
    ];
  }
  const problems: ProviderProblem[] = [];
  if (!p.gpu.present) {
    problems.push({ reason: `no NVIDIA GPU found (${p.gpu.evidence})`, remedy: `${label} needs an NVIDIA GPU and its driver; run on CPU` });
  }
  if (!backend.bundled) {
    const plugins = [ORT_PLUGIN.shared, ORT_PLUGIN[provider]];
    const missing = plugins.filter((f) => !p.ortFiles.includes(f));
    if (missing.length > 0) {
      problems.push({
        reason: `onnxruntime-node was installed without its ${label} provider (${listNames(missing)} not in ${p.ortBinDir})`,
        remedy: `on a machine with an NVIDIA GPU run ${CUDA_INSTALL_COMMAND} (it downloads the provider from nuget.org), or bash build/install.sh`,
      });
    }
  }
  for (const group of GPU_LIBRARY_GROUPS) {
    if (!(group.for as readonly ProviderId[]).includes(provider)) continue;
    const missing = group.sonames.filter((s) => p.libraries[s]?.found == null);
    if (missing.length === 0) continue;
    const offPath = missing.map((s) => p.libraries[s]?.elsewhere).filter((d): d is string => d !== undefined);
    problems.push(
      offPath.length === missing.length
        ? {
            reason: `${listNames(missing)} ${missing.length === 1 ? 'is' : 'are'} in ${listNames([...new Set(offPath.map(dirname))])} but not on the loader's path`,
            remedy: 'add that folder to LD_LIBRARY_PATH (or to /etc/ld.so.conf.d/ and run ldconfig)',
          }
        : { reason: `${listNames(missing)} not found`, remedy: group.remedy },
    );
  }
  return problems;
}

function bundledProblems(provider: 'dml' | 'coreml', p: ProviderProbe): ProviderProblem[] {
  if (p.backends.some((b) => b.name === provider)) return [];
  return [{ reason: `this onnxruntime-node build (${p.platform}-${p.arch}) has no ${PROVIDER_LABEL[provider]} provider`, remedy: 'run on CPU' }];
}

/** Every provider of the platform's preference list, in that order, with why each cannot run. */
export function assessProviders(p: ProviderProbe): ProviderStatus[] {
  return providerPreference(p.platform).map((provider) => {
    let problems: ProviderProblem[];
    switch (provider) {
      case 'tensorrt':
      case 'cuda':
        problems = nvidiaProblems(provider, p);
        break;
      case 'dml':
      case 'coreml':
        problems = bundledProblems(provider, p);
        break;
      case 'cpu':
        problems = [];
        break;
      default: {
        const never: never = provider;
        throw new Error(`unknown provider ${String(never)}`);
      }
    }
    return { provider, label: PROVIDER_LABEL[provider], available: problems.length === 0, problems };
  });
}

export interface ProviderPlan {
  /** Providers to try, in order; the first that creates a session wins. */
  order: ProviderId[];
  /** Why each skipped provider was skipped, in words ("CUDA: libcudart.so.12 not found"). */
  reasons: string[];
}

export const describeProblem = (label: string, problems: readonly ProviderProblem[]) => `${label}: ${problems.map((x) => x.reason).join('; ')}`;

/**
 * The providers a session should try, from a probe. `wanted` narrows the list (in the given
 * order); with `fallback` CPU is appended so a session always opens somewhere.
 */
export function planProviders(p: ProviderProbe, wanted?: readonly ProviderId[], fallback = true): ProviderPlan {
  const statuses = assessProviders(p);
  const asked = wanted ?? statuses.map((s) => s.provider);
  const order: ProviderId[] = [];
  const reasons: string[] = [];
  for (const provider of asked) {
    const status = statuses.find((s) => s.provider === provider);
    if (status === undefined) {
      reasons.push(`${PROVIDER_LABEL[provider]}: not offered by onnxruntime on ${p.platform}`);
    } else if (status.available) {
      order.push(provider);
    } else {
      reasons.push(describeProblem(status.label, status.problems));
    }
  }
  if (fallback && !order.includes('cpu')) order.push('cpu');
  return { order, reasons };
}

/**
 * intra-op threads: all cores but one, at least one. A session that takes every core makes the
 * desktop it drives stutter (X, the window manager and the app under test share the machine, and
 * on a 2-core laptop a 2-thread session left them nothing while a frame was decoded); one core
 * stays free for them. inter-op is 1: our graphs are chains (PP-OCR, ViTs), with no parallel
 * branches worth a second pool.
 */
export function threadCounts(cores: number): { intraOp: number; interOp: number } {
  return { intraOp: Math.max(1, Math.floor(cores) - 1), interOp: 1 };
}

// ---------------------------------------------------------------------------------------------
// The probe of this machine.

/** `ldconfig -p` as a map of soname → path, for the given architecture. */
export function parseLdconfig(text: string, arch: string): Map<string, string> {
  const want = arch === 'x64' ? 'x86-64' : arch === 'arm64' ? 'AArch64' : undefined;
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const [, soname, flags, path] = m as unknown as [string, string, string, string];
    // 32-bit or foreign entries carry no or another architecture tag; skip those that name another.
    if (want !== undefined && /x86-64|AArch64|x32|IA-64/.test(flags) && !flags.includes(want)) continue;
    if (!map.has(soname)) map.set(soname, path);
  }
  return map;
}

export interface LoaderView {
  /** LD_LIBRARY_PATH's folders, searched first. */
  ldLibraryPath: readonly string[];
  /** ld.so.cache (`ldconfig -p`). */
  cache: ReadonlyMap<string, string>;
  /** Folders that hold CUDA where the loader does not look by default (to tell "missing" from "off the path"). */
  extraDirs: readonly string[];
  exists(path: string): boolean;
}

/** Where the dynamic loader would find `soname`: LD_LIBRARY_PATH, then its cache, then /lib and /usr/lib. */
export function lookupLibrary(soname: string, v: LoaderView): LibraryLookup {
  for (const dir of v.ldLibraryPath) {
    if (dir !== '' && v.exists(join(dir, soname))) return { found: join(dir, soname) };
  }
  const cached = v.cache.get(soname);
  if (cached !== undefined) return { found: cached };
  for (const dir of ['/lib', '/usr/lib', '/lib64', '/usr/lib64']) {
    if (v.exists(join(dir, soname))) return { found: join(dir, soname) };
  }
  for (const dir of v.extraDirs) {
    if (v.exists(join(dir, soname))) return { found: null, elsewhere: join(dir, soname) };
  }
  return { found: null };
}

function readLdCache(arch: string): Map<string, string> {
  for (const cmd of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = spawnSync(cmd, ['-p'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0) return parseLdconfig(r.stdout, arch);
  }
  return new Map();
}

/** CUDA's usual install folders (/usr/local/cuda*, its targets/ tree), which the loader ignores unless configured. */
function cudaDirs(): string[] {
  const dirs: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/usr/local').filter((e) => e.startsWith('cuda') || e.startsWith('TensorRT'));
  } catch {
    return dirs;
  }
  for (const e of entries) dirs.push(join('/usr/local', e, 'lib64'), join('/usr/local', e, 'lib'), join('/usr/local', e, 'targets', 'x86_64-linux', 'lib'));
  return dirs;
}

function probeNvidiaGpu(): { present: boolean; evidence: string } {
  const smi = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000 });
  if (smi.status === 0 && /GPU \d+/.test(smi.stdout)) return { present: true, evidence: smi.stdout.trim().split('\n')[0] ?? 'nvidia-smi -L' };
  const dev = existsSync('/dev/nvidia0');
  const smiSays = smi.error !== undefined ? 'nvidia-smi not found' : `nvidia-smi -L failed${smi.stderr ? `: ${smi.stderr.trim().split('\n')[0]}` : ''}`;
  if (dev) return { present: true, evidence: `/dev/nvidia0 exists (${smiSays})` };
  return { present: false, evidence: `no /dev/nvidia0, ${smiSays}` };
}

const localRequire = createRequire(import.meta.url);

/** onnxruntime-node's package folder (its `main` is dist/index.js). */
export function ortPackageDir(): string {
  return dirname(dirname(localRequire.resolve('onnxruntime-node')));
}

/** Looks at this machine. Takes a few milliseconds (ldconfig, nvidia-smi); callers cache it. */
export async function probeProviders(): Promise<ProviderProbe> {
  const ort = await import('onnxruntime-node');
  const pkgDir = ortPackageDir();
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version?: string };
  const ortBinDir = join(pkgDir, 'bin', 'napi-v6', process.platform, process.arch);
  let ortFiles: string[] = [];
  try {
    ortFiles = readdirSync(ortBinDir);
  } catch {
    // No folder: no plug-ins; the binding itself would not have loaded either.
  }
  const backends = ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  const linux = process.platform === 'linux';
  const libraries: Record<string, LibraryLookup> = {};
  if (linux) {
    const view: LoaderView = {
      ldLibraryPath: (process.env.LD_LIBRARY_PATH ?? '').split(':'),
      cache: readLdCache(process.arch),
      extraDirs: cudaDirs(),
      exists: existsSync,
    };
    for (const soname of GPU_LIBRARIES) libraries[soname] = lookupLibrary(soname, view);
  }
  return {
    platform: process.platform,
    arch: process.arch,
    ortVersion: pkg.version ?? 'unknown',
    ortBinDir,
    backends,
    ortFiles,
    gpu: linux ? probeNvidiaGpu() : { present: false, evidence: 'not probed on this platform' },
    libraries,
    cores: availableParallelism(),
  };
}
