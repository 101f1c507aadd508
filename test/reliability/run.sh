#!/usr/bin/env bash
# The reliability suite: hostile model answers, endpoint faults, SIGKILL at random moments, the
# kill switch under load. Each script prints its figures and exits non-zero when an acceptance
# limit is broken. Usage: test/reliability/run.sh [full|ci]
#   full (npm run test:reliability): the figures of issue 15 (>= 100,000 fuzzed answers per format, ...)
#   ci   (part of npm test): a bounded, seeded part of the same checks, a few minutes at most
set -euo pipefail
cd "$(dirname "$0")/../.."
scale="${1:-full}"
status=0
shopt -s nullglob
for f in test/reliability/*.ts; do
  echo "== reliability: ${f#test/reliability/} ($scale)"
  RELIABILITY_SCALE="$scale" node --import tsx "$f" || status=1
done
exit "$status"
