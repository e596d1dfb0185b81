#!/usr/bin/env bash
# `npm run ci`: exactly what CI runs: typecheck, lint, format check, every test tier, then the
# unit tier and an integration smoke on the other supported Node.js lines (scripts/node-matrix.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "==> lint"
npx eslint .
echo "==> layers (dependency-cruiser)"
npm run --silent lint:layers
echo "==> unused files, exports and dependencies (knip)"
npm run --silent lint:unused
echo "==> format check"
npx prettier --check .
npm test
echo "==> Node.js matrix"
bash scripts/node-matrix.sh --except-running
