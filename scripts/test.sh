#!/usr/bin/env bash
# Runs the test suite with node's test runner. Usage: scripts/test.sh [unit|integration|all|DIR|FILE] [extra node --test args]
# A directory (e.g. test/slurm) runs every *.test.ts below it.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
which="${1:-all}"; shift || true
files=()
case "$which" in
  unit) files=(src/**/*.test.ts) ;;
  integration) files=(test/**/*.test.ts) ;;
  all) files=(src/**/*.test.ts test/**/*.test.ts) ;;
  *) if [ -d "$which" ]; then files=("$which"/**/*.test.ts); else files=("$which"); fi ;;
esac
exec node --import tsx --test --test-reporter=spec --test-concurrency=2 "$@" "${files[@]}"
