#!/usr/bin/env bash
# The whole test suite: types, lint, unit tests, then the desktop integration tests
# (they start their own Xvfb, window manager and apps through test/harness/xdesktop.ts).
# Usage: test/run.sh [unit|integration|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
if [ "$what" = all ]; then
  echo "== typecheck"; npx --no-install tsc -p tsconfig.json --noEmit
  echo "== lint"; npx --no-install eslint .
fi
files=()
[ "$what" != integration ] && while IFS= read -r f; do files+=("$f"); done < <(find test/unit -name '*.test.ts' -o -name '*.test.tsx' | sort)
[ "$what" != unit ] && while IFS= read -r f; do files+=("$f"); done < <(find test/integration test/e2e -name '*.test.ts' | sort)
echo "== tests (${#files[@]} files)"
node --import tsx --test --test-concurrency=1 --test-timeout=300000 "${files[@]}"
if [ "$what" = all ]; then echo "== reliability (bounded)"; bash test/reliability/run.sh ci; fi
