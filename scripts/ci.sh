#!/usr/bin/env bash
# `npm run ci`: exactly what CI runs: typecheck, lint, format check, every test tier, then the
# unit tier and an integration smoke on the other supported Node.js lines (scripts/node-matrix.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step says when it started (seconds into the run), to see where CI time goes.
step() { echo "==> $* (at ${SECONDS} s)"; }
bash scripts/ensure-deps.sh
step "lint"
npx eslint .
step "layers (dependency-cruiser)"
npm run --silent lint:layers
step "unused files, exports and dependencies (knip)"
npm run --silent lint:unused
step "format check"
npx prettier --check .
step "tests"
npm test
step "Node.js matrix"
bash scripts/node-matrix.sh --except-running
step "done"
