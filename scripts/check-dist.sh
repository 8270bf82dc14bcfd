#!/usr/bin/env bash
# dist/ ships no test code: builds src (tsconfig.build.json) into a scratch directory, so dist/
# itself is left alone and no stale file from an older build can hide or fake a finding, then
# fails on any compiled test file, any module that imports node:test, and any test double
# (a file named like fake/mock/stub/double, or one exporting a Fake*/Mock*/Stub* class).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d "${TMPDIR:-/tmp}/skyshift-check-dist-XXXXXX")"
trap 'rm -rf "$out"' EXIT
npx tsc -p tsconfig.build.json --outDir "$out" --tsBuildInfoFile "$out/.tsbuildinfo" --declaration false --sourceMap false
cd "$out"
problems="$(
  {
    find . -name '*.test.js' -printf '%P: a compiled test file\n'
    find . -name '*.js' \( -iname '*fake*' -o -iname '*mock*' -o -iname '*stub*' -o -iname '*double*' \) -printf '%P: named like a test double\n'
    grep -rlE --include='*.js' "(from|import\\(|require\\()[[:space:]]*['\"]node:test['\"]" . | sed -E 's|^\./||; s|$|: imports node:test|' || true
    grep -rlE --include='*.js' 'export (class|function) (Fake|Mock|Stub)[A-Z]' . | sed -E 's|^\./||; s|$|: exports a test double|' || true
  } | sort -u
)"
if [ -n "$problems" ]; then
  echo "dist/ would ship test code:" >&2
  echo "$problems" | sed 's/^/  /' >&2
  exit 1
fi
echo "check-dist: $(find . -name '*.js' | wc -l) compiled files, no test code"
