#!/usr/bin/env bash
# The whole test suite: types, lint, unit tests, then the desktop integration tests
# (they start their own Xvfb, window manager and apps through test/harness/xdesktop.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; npx --no-install tsc -p tsconfig.json --noEmit
echo "== lint"; npx --no-install eslint .
echo "== tests"
node --import tsx --test --test-concurrency=1 --test-timeout=300000 \
  'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts'
