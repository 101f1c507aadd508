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

interface AddOpts extends LocationOpts {
  download?: boolean;
  name?: string;
}

/** What `add` checked, by kind, in a sentence. */
const CHECKED = {
  onnx: "every file's sha256 and every graph's inputs and outputs checked",
  'element-detector': "every file's sha256 checked, and the detector's graph opened as som:<dir> opens it (input, shape, output layout, classes)",
  vlm: 'loaded as onnx:<dir> loads it: the family from config.json, every graph\'s inputs against what the family feeds it; every file\'s sha256 recorded',
} as const;

async function addCommand(target: string, opts: AddOpts): Promise<number> {
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
  const added = await registry.add(dir, opts.name !== undefined ? { name: opts.name } : {});
  if (opts.json === true) json(added);
  else {
    const { describeModel } = await import('./manifest.ts');
    const what = added.manifest !== undefined ? describeModel(added.manifest) : '';
    print(`Added ${added.name} from ${added.dir} (${what}): ${CHECKED[added.kind ?? 'onnx']}.\n`);
    if (added.kind === 'vlm' && added.manifest !== undefined) {
      // Which export of each graph a CPU run opens, and which other precisions the folder holds (?dtype= picks one).
      for (const [name, g] of Object.entries(added.manifest.graphs)) {
        const others = (g.variants ?? []).filter((v) => v !== g.dtype);
        print(`  ${name}: ${g.file} (${g.dtype ?? 'fp32'}${others.length > 0 ? `; also present: ${others.join(', ')}` : ''}), ${g.inputs.length} input${g.inputs.length === 1 ? '' : 's'}\n`);
      }
    }
  }
  return 0;
}

async function listCommand(opts: LocationOpts): Promise<number> {
  const registry = await openRegistry(opts);
  const { describeModel } = await import('./manifest.ts');
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
      const mb = (m.manifest.files.reduce((a, f) => a + (f.size ?? 0), 0) / 1e6).toFixed(1);
      print(`${head}${describeModel(m.manifest)}, ${mb} MB, ${m.dir}\n`);
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
      if (r.ok) {
        const how =
          r.kind === 'vlm'
            ? `every file's sha256 as when it was added; loaded on ${r.ranOn ?? 'cpu'} with every graph's inputs fitting its family`
            : r.kind === 'element-detector'
              ? `every file's sha256 as its manifest says; the detector opened on ${r.ranOn ?? 'cpu'} and its graph fits the manifest`
              : `every file's sha256 and every graph's inputs and outputs match ${r.builtin ? 'its built-in manifest' : 'its manifest'}`;
        print(`${r.name}: ok (${how})\n`);
      }
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
    .description(
      'Check a model folder and register it: ONNX graphs or an element detector with a foresight-model.json (every file\'s sha256, every graph\'s inputs and outputs), ' +
        'or a vision-language model in the Hugging Face layout (config.json, preprocessor_config.json, tokenizer files, onnx/*.onnx), loaded as a run loads it',
    )
    .argument('<dir|hf:repo[@rev]>', 'a model folder, or a hub model (with --download)')
    .option('--download', 'fetch a hub model (the only command that goes online)')
    .option('--name <name>', 'the name to register it under (default: its manifest\'s name; for a VLM folder, the folder\'s name)')
    .option(...MODELS_OPTION)
    .option('--json', 'print JSON')
    .action(async (target: string, opts: AddOpts) => setExitCode(await addCommand(target, opts)));
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
