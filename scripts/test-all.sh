#!/usr/bin/env bash
# The README's test command: installs everything the tests need, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm ci --no-audit --no-fund
npm test
