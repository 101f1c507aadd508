/**
 * `foresight models add <dir> | add hf:<repo>[@rev] --download | list | verify [name] | doctor`.
 * The CLI registers it from here (the one native-models/ file main/cli may import besides
 * backends.ts); onnxruntime is loaded only when a subcommand runs, so `foresight run` starts
 * without it.
 */
import type { Command } from 'commander';
import { ForesightError } from '../common/errors.ts';

interface LocationOpts {
  models?: string;
  json?: boolean;
}

const MODELS_OPTION = ['--models <dir>', 'the model registry folder (default: the data folder\'s models/, or $FORESIGHT_DATA/models)'] as const;

async function openRegistry(opts: LocationOpts) {
  const { ModelRegistry } = await import('./registry.ts');
  return new ModelRegistry(opts.models !== undefined ? { dir: opts.models } : {});
}

const print = (s: string) => process.stdout.write(s);
const json = (v: unknown) => print(`${JSON.stringify(v, null, 2)}\n`);

async function addCommand(target: string, opts: LocationOpts & { download?: boolean }): Promise<number> {
  const registry = await openRegistry(opts);
  const hub = await import('./hub.ts');
  let dir = target;
  if (hub.isHubSpec(target)) {
    const spec = hub.parseHubSpec(target);
    if (opts.download !== true) {
      throw new ForesightError(
        'BAD_INPUT',
        `${target} is on a model hub, and Foresight goes online only when asked: add --download (it fetches the folder, with progress, and checks every sha256), or download the folder yourself and run foresight models add <dir>`,
      );
    }
    dir = hub.hubModelDir(registry.dir, spec);
    await hub.downloadFromHub(spec, { dest: dir, progress: (l) => process.stderr.write(`${l}\n`) });
  } else if (opts.download === true) {
    throw new ForesightError('BAD_INPUT', '--download is for hub models (hf:<owner>/<name>[@<revision>]); a folder is added as it is');
  }
  const added = await registry.add(dir);
  if (opts.json === true) json(added);
  else print(`Added ${added.name} from ${added.dir}: every file's sha256 and every graph's inputs and outputs checked.\n`);
  return 0;
}

async function listCommand(opts: LocationOpts): Promise<number> {
  const registry = await openRegistry(opts);
  const { rolesOf } = await import('./manifest.ts');
  const models = registry.list();
  if (opts.json === true) {
    json(models);
    return 0;
  }
  if (models.length === 0) print('No models.\n');
  const width = Math.max(0, ...models.map((m) => m.name.length));
  for (const m of models) {
    const head = `${m.name.padEnd(width)}  ${m.builtin ? 'built in' : 'added   '}  `;
    if (m.manifest === undefined) print(`${head}unreadable: ${m.error ?? ''}\n`);
    else {
      const mb = (m.manifest.files.reduce((a, f) => a + f.size, 0) / 1e6).toFixed(1);
      print(`${head}${rolesOf(m.manifest).join(' + ')}, ${m.manifest.format}, ${mb} MB, ${m.dir}\n`);
    }
  }
  return 0;
}

async function verifyCommand(name: string | undefined, opts: LocationOpts): Promise<number> {
  const registry = await openRegistry(opts);
  const reports = await registry.verify(name);
  if (opts.json === true) json(reports);
  else {
    for (const r of reports) {
      if (r.ok) print(`${r.name}: ok (every file's sha256 and every graph's inputs and outputs match ${r.builtin ? 'its built-in manifest' : 'its manifest'})\n`);
      else {
        print(`${r.name}: refused\n`);
        for (const p of r.problems) print(`  - ${p.message}\n`);
      }
    }
  }
  return reports.every((r) => r.ok) ? 0 : 1;
}

async function doctorCommand(opts: LocationOpts): Promise<number> {
  const registry = await openRegistry(opts);
  const { runDoctor, formatDoctor } = await import('./doctor.ts');
  const report = await runDoctor(registry);
  if (opts.json === true) json(report);
  else print(formatDoctor(report));
  return 0;
}

/** Adds `models` and its subcommands to the program; each sets the exit code through `setExitCode`. */
export function registerModelsCommand(program: Command, setExitCode: (code: number) => void): void {
  const models = program.command('models').description('Local models: the registry of model folders, and which execution providers run them here');
  models
    .command('add')
    .description('Check a model folder (its foresight-model.json, every file\'s sha256, every graph\'s inputs and outputs) and register it')
    .argument('<dir|hf:repo[@rev]>', 'a model folder, or a hub model (with --download)')
    .option('--download', 'fetch a hub model (the only command that goes online)')
    .option(...MODELS_OPTION)
    .option('--json', 'print JSON')
    .action(async (target: string, opts: LocationOpts & { download?: boolean }) => setExitCode(await addCommand(target, opts)));
  models
    .command('list')
    .description('The built-in and added models')
    .option(...MODELS_OPTION)
    .option('--json', 'print JSON')
    .action(async (opts: LocationOpts) => setExitCode(await listCommand(opts)));
  models
    .command('verify')
    .description('Check the files and graphs of one model or all (exit 1 when one is refused)')
    .argument('[name]', 'a model name (default: all)')
    .option(...MODELS_OPTION)
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, opts: LocationOpts) => setExitCode(await verifyCommand(name, opts)));
  models
    .command('doctor')
    .description('Which execution providers (CPU, CUDA, TensorRT, DirectML, CoreML) and which models are usable here, and why not')
    .option(...MODELS_OPTION)
    .option('--json', 'print JSON')
    .action(async (opts: LocationOpts) => setExitCode(await doctorCommand(opts)));
}
