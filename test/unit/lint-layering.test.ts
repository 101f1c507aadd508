/**
 * The layering lint as a contributor meets it: a file with a wrong import, written where it
 * would live, fails ESLint (the project's own eslint.config.js, through ESLint's Node API) with
 * the "Bad layering" message; the same file with allowed imports passes. And every package the
 * code loads is declared in package.json.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Probe files are written into the real folders (the rule is per folder) and removed after. */
const written: string[] = [];
after(() => {
  for (const f of written) rmSync(f, { force: true });
});

interface Probe {
  name: string;
  folder: string;
  source: string;
  /** undefined: the file must pass; else a part of the layering message it must give. */
  bad?: RegExp;
}

const PROBES: Probe[] = [
  {
    name: 'grounders → store',
    folder: 'main/grounders',
    source: "import { SqliteEpisodeStore } from '../../store/index.ts';\nexport const store = SqliteEpisodeStore;\n",
    bad: /main\/grounders\/ may not import store\/index\.ts/,
  },
  {
    name: 'cli → renderer',
    folder: 'main/cli',
    source: "import { call } from '../../renderer/transport.ts';\nexport const caller = call;\n",
    bad: /main\/cli\/ may not import renderer\/transport\.ts/,
  },
  {
    name: 'renderer → an npm package outside its list',
    folder: 'renderer',
    source: "import sharp from 'sharp';\nexport const s = sharp;\n",
    bad: /renderer\/ may load only the packages react, react-dom, zod \("sharp"\)/,
  },
  {
    name: 'renderer → react-dom/client (allowed)',
    folder: 'renderer',
    source: "import { createRoot } from 'react-dom/client';\nexport const r = createRoot;\n",
  },
  {
    name: "createRequire(…)('better-sqlite3') in a planner",
    folder: 'main/planners',
    source: "import { createRequire } from 'node:module';\nexport const Database: unknown = createRequire(import.meta.url)('better-sqlite3');\n",
    bad: /only store\/ may load better-sqlite3/,
  },
  {
    name: "a function bound to createRequire, then require('better-sqlite3'), in a planner",
    folder: 'main/planners',
    source:
      "import { createRequire } from 'node:module';\nexport function open(): unknown {\n  return load('better-sqlite3');\n}\nconst load = createRequire(import.meta.url);\n",
    bad: /only store\/ may load better-sqlite3/,
  },
  {
    name: 'dynamic import of nut.js in the agent',
    folder: 'main/agent',
    source: "export async function mouse(): Promise<unknown> {\n  return import('@nut-tree-fork/nut-js');\n}\n",
    bad: /only main\/desktop\/ may load nut\.js/,
  },
  {
    name: 'libnut in the replay',
    folder: 'main/replay',
    source: "import { createRequire } from 'node:module';\nexport const libnut: unknown = createRequire(import.meta.url)('@nut-tree-fork/libnut-linux');\n",
    bad: /only main\/desktop\/ may load nut\.js/,
  },
  {
    name: 'onnxruntime-node in the store',
    folder: 'store',
    source: "export const ort: unknown = await import('onnxruntime-node');\n",
    bad: /only native-models\/ may load onnxruntime-node/,
  },
  {
    name: 'a re-export of the desktop from the replay',
    folder: 'main/replay',
    source: "export * from '../desktop/index.ts';\n",
    bad: /main\/replay\/ may not import main\/desktop\/index\.ts/,
  },
  {
    name: 'a Node module in common/',
    folder: 'common',
    source: "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
    bad: /common\/ may not import the Node module "node:fs"/,
  },
  {
    name: 'a prompt of the planners in a grounder',
    folder: 'main/grounders',
    source: "import * as prompts from '../planners/prompts.ts';\nexport const p = prompts;\n",
    bad: /main\/grounders\/ may not import main\/planners\/prompts\.ts/,
  },
  {
    name: 'uiohook in a folder under main/ that has no row yet',
    folder: 'main',
    source: "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport const hook: unknown = require('uiohook-napi');\n",
    bad: /only main\/desktop\/ may load uiohook-napi/,
  },
  {
    name: 'the shell requiring electron (its home)',
    folder: 'main/shell',
    source: "import { createRequire } from 'node:module';\nexport const electron: unknown = createRequire(import.meta.url)('electron');\n",
  },
  {
    name: 'a correct grounder: common/, sharp, and the shared endpoint spec of the planners',
    folder: 'main/grounders',
    source:
      "import sharp from 'sharp';\nimport { ForesightError } from '../../common/errors.ts';\nimport { parseEndpointSpec } from '../planners/endpoint-spec.ts';\nexport const parts = [sharp, ForesightError, parseEndpointSpec];\n",
  },
  {
    name: 'a correct replay module: the store, planners and grounders',
    folder: 'main/replay',
    source: "import { SqliteEpisodeStore } from '../../store/index.ts';\nimport { createGrounder } from '../grounders/index.ts';\nexport const parts = [SqliteEpisodeStore, createGrounder];\n",
  },
  {
    name: 'a test opening a database with better-sqlite3 itself',
    folder: 'test/unit',
    source: "import { createRequire } from 'node:module';\nexport const Database: unknown = createRequire(import.meta.url)('better-sqlite3');\n",
  },
];

void describe('the layering lint', () => {
  void it('fails each wrong import with "Bad layering" and passes the correct files', async () => {
    const files = PROBES.map((p, i) => {
      const file = join(ROOT, p.folder, `lint-probe-${process.pid}-${i}.ts`);
      written.push(file);
      writeFileSync(file, p.source);
      return file;
    });
    const eslint = new ESLint({ cwd: ROOT });
    const results = await eslint.lintFiles(files);
    for (const [i, probe] of PROBES.entries()) {
      const result = results.find((r) => r.filePath === files[i]);
      assert.ok(result, `${probe.name}: linted`);
      const messages = result.messages.map((m) => `${m.ruleId ?? 'parser'}: ${m.message}`);
      if (probe.bad === undefined) {
        assert.deepEqual(messages, [], `${probe.name}: passes`);
        continue;
      }
      const layering = result.messages.filter((m) => m.ruleId === 'foresight/layering');
      assert.equal(layering.length, 1, `${probe.name}: one layering error, got ${JSON.stringify(messages)}`);
      assert.match(layering[0]?.message ?? '', /^Bad layering: /);
      assert.match(layering[0]?.message ?? '', probe.bad, probe.name);
      assert.equal(layering[0]?.severity, 2, `${probe.name}: an error, so npm run lint fails`);
    }
  });
});

const PACKAGE_NAME = /^(@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/;

/** Every module specifier the sources spell out, with the file it is in. */
function loadedModules(): { spec: string; file: string }[] {
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bcreateRequire\([^()]*(?:\([^()]*\))?[^()]*\)\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const out: { spec: string; file: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        // renderer/dist is the renderer's build output (bundled code, not sources).
        if (entry.name !== 'node_modules' && entry.name !== 'fixtures' && relative(ROOT, path) !== join('renderer', 'dist')) walk(path);
      } else if (/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(entry.name) && !entry.name.startsWith('lint-probe-')) {
        const text = readFileSync(path, 'utf8');
        for (const re of patterns) for (const m of text.matchAll(re)) if (m[1]) out.push({ spec: m[1], file: relative(ROOT, path) });
      }
    }
  };
  for (const dir of ['common', 'main', 'store', 'renderer', 'native-models', 'bin', 'bench', 'test']) walk(join(ROOT, dir));
  return out;
}

void describe('package.json', () => {
  void it('declares every package the code loads', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const builtins = new Set(builtinModules);
    const undeclared = new Map<string, string>();
    for (const { spec, file } of loadedModules()) {
      if (spec.startsWith('node:')) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
      // Relative paths, and words in strings that only look like a specifier (Python in a fixture).
      if (!PACKAGE_NAME.test(name) || builtins.has(name) || declared.has(name)) continue;
      if (!undeclared.has(name)) undeclared.set(name, file);
    }
    assert.deepEqual(Object.fromEntries(undeclared), {}, 'packages loaded but not declared (package → a file that loads it)');
  });
});
