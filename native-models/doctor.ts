/**
 * `foresight models doctor`: which execution providers and which models are usable here, and
 * for each that is not, why, in words the user can act on.
 */
import { assessProviders, PROVIDER_LABEL, PROVIDER_IDS, threadCounts, type ProviderId, type ProviderProbe, type ProviderStatus } from './providers.ts';
import { rolesOf, type ModelKind } from './manifest.ts';
import { ModelRegistry, resolveBuiltinModel, type VerifyReport } from './registry.ts';
import { SessionManager } from './sessions.ts';

export interface DoctorProvider extends ProviderStatus {
  /** For a provider the probe found fit: what opening a real graph on it said (its error, if any). */
  checked?: string;
}

export interface DoctorModel {
  name: string;
  builtin: boolean;
  /** onnx, element-detector or vlm (undefined when its manifest cannot be read). */
  kind: ModelKind | undefined;
  /** A VLM's model type, an element detector's decoder family. */
  family: string | undefined;
  roles: string[];
  dir: string;
  usable: boolean;
  /**
   * Where it runs here when usable: for a VLM the device transformers.js was given (onnx:<dir>'s
   * default, cpu) and loaded it on; for an element detector the provider its session opened on;
   * for other ONNX graphs the session manager's first usable provider.
   */
  runsOn: ProviderId | undefined;
  /** What else a user can do: a GPU provider usable here and how to ask for it. */
  note: string | undefined;
  problems: string[];
}

export interface DoctorReport {
  onnxruntime: { version: string; platform: string; arch: string; binDir: string };
  gpu: ProviderProbe['gpu'];
  threads: { cores: number; intraOp: number; interOp: number };
  providers: DoctorProvider[];
  /** The provider a new session runs on (the first usable one of the list). */
  sessionsRunOn: ProviderId;
  models: DoctorModel[];
}

/**
 * Assesses the providers from the probe, then confirms each GPU provider the probe found fit by
 * opening a real graph on it (a driver or library mismatch shows only then), and verifies
 * every registered model.
 */
export async function runDoctor(registry: ModelRegistry, manager: SessionManager = new SessionManager()): Promise<DoctorReport> {
  try {
    const probe = await manager.probe();
    const providers: DoctorProvider[] = assessProviders(probe);
    for (const p of providers) {
      if (!p.available || p.provider === 'cpu') continue;
      const det = resolveBuiltinModel('pp-ocrv4').graphs.det;
      if (det === undefined) break;
      try {
        await manager.open(det.path, { providers: [p.provider], fallback: false });
        p.checked = `opened ${det.file} on ${p.label}`;
      } catch (e) {
        const msg = e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
        p.available = false;
        p.problems = [{ reason: `opening a model failed: ${msg}`, remedy: 'check the driver and library versions against onnxruntime\'s CUDA requirements, or run on CPU' }];
      }
    }
    const reports: VerifyReport[] = await registry.verify(undefined, { manager });
    const sessionsRunOn = providers.find((p) => p.available)?.provider ?? 'cpu';
    const gpu = providers.find((p) => p.available && p.provider !== 'cpu');
    const listed = registry.list();
    const models = reports.map((r): DoctorModel => {
      const manifest = listed.find((l) => l.name === r.name)?.manifest;
      const ranOn = (PROVIDER_IDS as readonly string[]).includes(r.ranOn ?? '') ? (r.ranOn as ProviderId) : undefined;
      const runsOn = !r.ok ? undefined : r.kind === 'vlm' || r.kind === 'element-detector' ? (ranOn ?? 'cpu') : sessionsRunOn;
      let note: string | undefined;
      if (r.ok && r.kind === 'vlm') {
        // onnx:<dir> runs on the CPU unless ?device= says otherwise; doctor loads it as that default does.
        const cuda = providers.find((p) => p.provider === 'cuda');
        note =
          cuda?.available === true
            ? `CUDA is usable here: --planner onnx:${r.dir}?device=cuda runs it there (doctor checked CPU only)`
            : `runs as --planner/--grounder onnx:${r.dir}; on an NVIDIA GPU add ?device=cuda once CUDA is available (see Providers above)`;
      }
      if (r.ok && r.kind === 'element-detector' && gpu !== undefined) note = `som:<dir> opens its detector on CPU; ${gpu.label} is not used for it yet`;
      return {
        name: r.name,
        builtin: r.builtin,
        kind: r.kind,
        family: manifest?.family,
        roles: manifest ? rolesOf(manifest) : [],
        dir: r.dir,
        usable: r.ok,
        runsOn,
        note,
        problems: r.problems.map((p) => p.message),
      };
    });
    const t = threadCounts(probe.cores);
    return {
      onnxruntime: { version: probe.ortVersion, platform: probe.platform, arch: probe.arch, binDir: probe.ortBinDir },
      gpu: probe.gpu,
      threads: { cores: probe.cores, intraOp: t.intraOp, interOp: t.interOp },
      providers,
      sessionsRunOn,
      models,
    };
  } finally {
    await manager.close();
  }
}

export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  const o = r.onnxruntime;
  lines.push(`onnxruntime-node ${o.version} on ${o.platform}-${o.arch}, ${r.threads.cores} cores: sessions use ${r.threads.intraOp} intra-op thread${r.threads.intraOp === 1 ? '' : 's'} and ${r.threads.interOp} inter-op, leaving a core to the desktop.`);
  lines.push('');
  lines.push('Providers, in the order Foresight tries them:');
  const width = Math.max(...r.providers.map((p) => p.label.length));
  for (const p of r.providers) {
    const head = `  ${p.label.padEnd(width)}  `;
    if (p.available) {
      lines.push(`${head}available${p.checked ? ` (${p.checked})` : p.provider === 'cpu' ? ' (built into onnxruntime-node)' : ''}`);
      continue;
    }
    lines.push(`${head}not available:`);
    for (const x of p.problems) lines.push(`${' '.repeat(head.length)}- ${p.label}: ${x.reason}; ${x.remedy}`);
  }
  const used = r.providers.find((p) => p.provider === r.sessionsRunOn)?.label ?? r.sessionsRunOn;
  lines.push('');
  lines.push(`Models run on: ${used}.`);
  lines.push('');
  lines.push('Models:');
  if (r.models.length === 0) lines.push('  (none)');
  const nameWidth = Math.max(0, ...r.models.map((m) => m.name.length));
  for (const m of r.models) {
    const kind = m.kind === undefined ? '' : `${m.kind}${m.family !== undefined ? ` ${m.family}` : ''}`;
    const roles = m.roles.length === 1 && m.roles[0] === m.kind ? '' : m.roles.join(' + ');
    const what = [m.builtin ? 'built in' : 'added', [kind, roles].filter((x) => x !== '').join(': ')].filter((x) => x !== '').join(', ');
    const head = `  ${m.name.padEnd(nameWidth)}  `;
    if (m.usable) {
      const on = m.runsOn !== undefined ? PROVIDER_LABEL[m.runsOn] : used;
      lines.push(`${head}usable on ${on} (${what})`);
      if (m.note !== undefined) lines.push(`${' '.repeat(head.length)}- ${m.note}`);
    } else {
      lines.push(`${head}not usable (${what}):`);
      for (const p of m.problems) lines.push(`${' '.repeat(head.length)}- ${p}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
