#!/usr/bin/env bash
# `npm test`: installs what is missing, builds, then runs every test tier.
# Unit tests are fast and need nothing; integration tests use real Nix, git, SQLite and processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "==> unit tests"
node scripts/run-tests.mjs unit
echo "==> integration tests"
node scripts/run-tests.mjs integration
