#!/usr/bin/env bash
# `npm test`: installs what is missing, builds, then runs every test tier.
# Unit tests are fast and need nothing but a throwaway PostgreSQL server, which the runner
# starts for the whole run; integration tests use real Nix, git, SQLite, PostgreSQL and processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
node scripts/run-tests.mjs all
