// Lint rules that hold the process boundaries of docs/ARCHITECTURE.md:
// common/ is platform-free, renderer/ is browser-only, and each native library has one home.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nativeHomes = [
  { name: 'better-sqlite3', home: 'store/' },
  { name: 'onnxruntime-node', home: 'native-models/' },
  { name: '@nut-tree-fork/nut-js', home: 'main/desktop/' },
  { name: 'uiohook-napi', home: 'main/desktop/' },
  { name: 'x11', home: 'main/desktop/' },
];

const nativePaths = (except) =>
  nativeHomes
    .filter((n) => n.home !== except)
    .map((n) => ({ name: n.name, message: `Bad layering: only ${n.home} may import ${n.name}.` }));

const layer = (files, patterns, paths) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns, paths }] },
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'build/**', '.dbg/**', '**/*.cjs'] },
  { files: ['bin/**/*.mjs'], languageOptions: { globals: { process: 'readonly', setTimeout: 'readonly' } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
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
  layer(
    ['common/**/*.ts'],
    [
      { group: ['**/main/**', '**/store/**', '**/native-models/**', '**/renderer/**'], message: 'Bad layering: common/ imports only common/.' },
      { group: ['node:*', 'fs', 'path', 'child_process', 'os'], message: 'Bad layering: common/ must run in every process, browser included.' },
    ],
    nativePaths(null),
  ),
  layer(
    ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    [
      { group: ['**/main/**', '**/store/**', '**/native-models/**'], message: 'Bad layering: renderer/ talks to main only through the common/ contract.' },
      { group: ['node:*'], message: 'Bad layering: renderer/ is browser code.' },
    ],
    nativePaths(null),
  ),
  layer(['store/**/*.ts'], [{ group: ['**/main/**', '**/renderer/**', '**/native-models/**'], message: 'Bad layering: store/ depends only on common/.' }], nativePaths('store/')),
  layer(['native-models/**/*.ts'], [{ group: ['**/main/**', '**/renderer/**', '**/store/**'], message: 'Bad layering: native-models/ depends only on common/.' }], nativePaths('native-models/')),
  layer(['main/desktop/**/*.ts'], [{ group: ['**/store/**', '**/renderer/**', '**/native-models/**'], message: 'Bad layering: desktop adapters depend only on common/.' }], nativePaths('main/desktop/')),
  layer(['main/agent/**/*.ts'], [{ group: ['**/store/**', '**/renderer/**', '**/native-models/**', '**/desktop/**'], message: 'Bad layering: the agent loop talks to ports from common/, never to adapters.' }], nativePaths(null)),
  layer(
    ['main/replay/**/*.ts'],
    [{ group: ['**/desktop/**', '**/agent/**', '**/renderer/**', '**/native-models/**'], message: 'Bad layering: the benchmark replay never touches the desktop; it uses planners, grounders and the store.' }],
    nativePaths(null),
  ),
  layer(['main/planners/**/*.ts', 'main/grounders/**/*.ts', 'main/cli/**/*.ts'], [], nativePaths(null)),
);
