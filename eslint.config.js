// Lint rules that hold the process boundaries of docs/ARCHITECTURE.md (its folder table is the
// source of the LAYERS below): common/ is platform-free, renderer/ is browser-only, each folder
// imports only the folders its row names, and each native library has one home. The layering
// rule sees every way a module is loaded: `import`, `export … from`, `import()`, `require()`,
// `createRequire(…)(…)` and a function bound to `createRequire(…)`, and `require.resolve()`.
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;

/** Native (or process-bound) packages and the one folder that may load each. */
const NATIVE_HOMES = [
  { name: 'better-sqlite3', home: 'store/' },
  { name: 'onnxruntime-node', home: 'native-models/' },
  { name: '@huggingface/transformers', home: 'native-models/' },
  { name: '@nut-tree-fork/', home: 'main/desktop/', label: 'nut.js (@nut-tree-fork/*)' },
  { name: '@nut-tree/', home: 'main/desktop/', label: 'nut.js (@nut-tree/*)' },
  { name: 'uiohook-napi', home: 'main/desktop/' },
  { name: 'x11', home: 'main/desktop/' },
  { name: 'electron', home: 'main/shell/' },
];

/** Every folder with a row in the table; an import into one of them is judged by the rows below. */
const FOLDERS = ['common/', 'renderer/', 'store/', 'native-models/', 'main/agent/', 'main/desktop/', 'main/planners/', 'main/grounders/', 'main/replay/', 'main/cli/', 'main/shell/', 'main/worker/', 'bin/', 'test/', 'bench/'];

/**
 * Each folder's row: the folders it may import (besides itself), files allowed as exceptions,
 * whether Node's built-in modules are allowed, and why (shown in the message).
 * test/ and bench/ have no row: they may import anything, native packages included (a test may
 * open a database with better-sqlite3 to damage it; a benchmark measures every layer).
 */
const LAYERS = [
  { folder: 'common/', may: [], builtins: false, why: 'common/ runs in every process, the browser included: it imports only common/ (and zod)' },
  {
    folder: 'renderer/',
    may: ['common/'],
    builtins: false,
    // The page's npm packages: React and zod (through common/). Anything else is a decision for docs/ARCHITECTURE.md.
    packages: ['react', 'react-dom', 'zod'],
    why: 'renderer/ is browser code (React); it talks to main only through the common/ contract',
  },
  { folder: 'store/', may: ['common/'], why: 'store/ depends only on common/' },
  {
    folder: 'native-models/',
    may: ['common/', 'main/planners/', 'main/grounders/'],
    why: 'native-models/ hosts the models: local sessions of its own, and the planners and grounders of main/ (endpoint clients, Tesseract)',
  },
  { folder: 'main/desktop/', may: ['common/'], why: 'the desktop adapters depend only on common/' },
  { folder: 'main/agent/', may: ['common/'], why: 'the agent loop talks to ports from common/, never to adapters' },
  { folder: 'main/planners/', may: ['common/'], why: 'planners depend only on common/' },
  {
    folder: 'main/grounders/',
    may: ['common/'],
    // An `openai:` grounder calls the same kind of endpoint as an `openai:` planner: it shares the
    // endpoint spec and the chat-completion client (deadline, fault classification), nothing else.
    except: ['main/planners/endpoint-spec.ts', 'main/planners/chat-endpoint.ts'],
    why: 'grounders depend on common/ and, from main/planners/, only on the endpoint modules (endpoint-spec.ts, chat-endpoint.ts)',
  },
  { folder: 'main/replay/', may: ['common/', 'store/', 'main/planners/', 'main/grounders/'], why: 'the benchmark replay never touches the desktop; it uses planners, grounders and the store' },
  {
    folder: 'main/cli/',
    may: ['common/', 'store/', 'main/agent/', 'main/desktop/', 'main/planners/', 'main/grounders/', 'main/replay/', 'main/shell/', 'main/worker/'],
    // `foresight models` (registry, doctor) runs in the CLI process and loads onnxruntime only when
    // called; planners and grounders run in the model worker (main/worker starts it by path).
    except: ['native-models/models-command.ts'],
    why: 'the CLI wires main/ and store/ together; the renderer and the model worker are other processes',
  },
  {
    folder: 'main/worker/',
    may: ['common/'],
    why: 'the model worker client starts native-models/worker.ts by path and speaks common/worker-protocol.ts; it imports only common/',
  },
  { folder: 'main/shell/', may: ['common/', 'store/'], why: 'the app shell serves the store through the common/ contract; the renderer is bundled, not imported' },
  { folder: 'bin/', may: ['main/cli/'], why: 'bin/ only starts the CLI' },
];

/**
 * Files under main/ in a folder without a row yet: main/, store/ and common/, but no native
 * package and nothing of the renderer, the model worker, test/ or bench/ (give the folder its row).
 */
const MAIN_DEFAULT = {
  folder: 'main/',
  may: ['common/', 'store/', 'main/agent/', 'main/desktop/', 'main/planners/', 'main/grounders/', 'main/replay/', 'main/cli/', 'main/shell/'],
  why: 'code under main/ depends on common/, store/ and main/; give a new folder its row in docs/ARCHITECTURE.md and eslint.config.js',
};

const BUILTINS = new Set(builtinModules);
const posix = (p) => p.split(sep).join('/');

/** The layering problem of loading `spec` from a file of `layer`, or undefined. */
function judge(layer, fileDir, spec) {
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const target = posix(relative(ROOT, resolve(fileDir, spec)));
    const folder = FOLDERS.find((f) => target.startsWith(f));
    if (folder === undefined || folder === layer.folder || layer.may.includes(folder)) return undefined;
    if ((layer.except ?? []).some((e) => target.startsWith(e))) return undefined;
    return `${layer.folder} may not import ${target}: ${layer.why}.`;
  }
  if (layer.builtins === false && (spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0]))) {
    return `${layer.folder} may not import the Node module "${spec}": ${layer.why}.`;
  }
  if (layer.packages) {
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    if (!layer.packages.includes(name)) return `${layer.folder} may load only the packages ${layer.packages.join(', ')} ("${spec}"): ${layer.why}.`;
  }
  const native = NATIVE_HOMES.find((n) => (n.name.endsWith('/') ? spec.startsWith(n.name) : spec === n.name || spec.startsWith(`${n.name}/`)));
  if (native && native.home !== layer.folder) return `only ${native.home} may load ${native.label ?? native.name} ("${spec}" in ${layer.folder}).`;
  return undefined;
}

/** A string the code spells out: a literal or a template without substitutions. */
function staticString(node) {
  if (node?.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node?.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? undefined;
  return undefined;
}

const isCreateRequire = (callee) =>
  (callee.type === 'Identifier' && callee.name === 'createRequire') || (callee.type === 'MemberExpression' && callee.property.type === 'Identifier' && callee.property.name === 'createRequire');

const layeringRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Holds the folder table of docs/ARCHITECTURE.md for every way a module is loaded' },
    schema: [{ type: 'object', properties: { folder: { type: 'string' } }, required: ['folder'], additionalProperties: false }],
    messages: { bad: 'Bad layering: {{detail}}' },
  },
  create(context) {
    const layer = [...LAYERS, MAIN_DEFAULT].find((l) => l.folder === context.options[0].folder);
    const fileDir = dirname(context.filename);
    const check = (node) => {
      const spec = staticString(node);
      if (spec === undefined) return;
      const detail = judge(layer, fileDir, spec);
      if (detail) context.report({ node, messageId: 'bad', data: { detail } });
    };
    // `const require = createRequire(import.meta.url)` may come after a function that calls it.
    const requireNames = new Set(['require']);
    const calls = [];
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => n.source && check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
      TSImportEqualsDeclaration: (n) => n.moduleReference.type === 'TSExternalModuleReference' && check(n.moduleReference.expression),
      VariableDeclarator: (n) => {
        if (n.id.type === 'Identifier' && n.init?.type === 'CallExpression' && isCreateRequire(n.init.callee)) requireNames.add(n.id.name);
      },
      CallExpression: (n) => calls.push(n),
      'Program:exit': () => {
        for (const n of calls) {
          let callee = n.callee;
          // require.resolve('x') names the package as surely as require('x') does.
          if (callee.type === 'MemberExpression' && callee.property.type === 'Identifier' && callee.property.name === 'resolve') callee = callee.object;
          const loads = (callee.type === 'Identifier' && requireNames.has(callee.name)) || (callee.type === 'CallExpression' && isCreateRequire(callee.callee));
          if (loads && n.arguments[0]) check(n.arguments[0]);
        }
      },
    };
  },
};

const SOURCES = '**/*.{ts,tsx,mts,cts,js,mjs,cjs}';

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'build/**', '.dbg/**', 'renderer/dist/**', 'test-artifacts/**'] },
  { files: ['bin/**/*.mjs'], languageOptions: { globals: { process: 'readonly', setTimeout: 'readonly' } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The Electron main and preload, and what they require: CommonJS, since Electron loads them as is.
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', exports: 'writable', process: 'readonly', __dirname: 'readonly', Buffer: 'readonly', URL: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { plugins: { foresight: { rules: { layering: layeringRule } } } },
  // Later entries win: main/ first, then each folder's own row.
  { files: [`main/${SOURCES}`], rules: { 'foresight/layering': ['error', { folder: 'main/' }] } },
  ...LAYERS.map((l) => ({ files: [`${l.folder}${SOURCES}`], rules: { 'foresight/layering': ['error', { folder: l.folder }] } })),
);
