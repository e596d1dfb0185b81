#!/usr/bin/env node
// Runs compiled tests with Node's own test runner.
//   unit:        packages/*/dist/**/*.test.js   (fast, no Nix, no processes of ours)
//   integration: test/dist/**/*.test.js         (real Nix, git, SQLite, processes, sockets)
// Extra arguments are name filters (substrings of the file path); each must match a file.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [tier = 'all', ...filters] = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry === 'node_modules') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (entry.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const unit = readdirSync(join(root, 'packages')).flatMap((p) =>
  findTests(join(root, 'packages', p, 'dist')),
);
const integration = findTests(join(root, 'test', 'dist'));
const selected = { unit, integration, all: [...unit, ...integration] }[tier];
if (!selected) {
  console.error(`unknown test tier "${tier}" (use unit, integration or all)`);
  process.exit(2);
}
const files = selected
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort();
if (files.length === 0) {
  console.error(`no ${tier} tests found; did the build run?`);
  process.exit(1);
}
// A filter that names no file is a mistake (a renamed test), not a reason to run less.
const unmatched = filters.filter((needle) => !files.some((f) => f.includes(needle)));
if (unmatched.length > 0) {
  console.error(`no ${tier} test matches ${unmatched.map((n) => `"${n}"`).join(', ')}`);
  process.exit(1);
}
// Integration tests share one Nix store and spawn processes: run files one at a time.
const concurrency = tier === 'unit' ? [] : ['--test-concurrency=1'];
const result = spawnSync(process.execPath, ['--test', ...concurrency, ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
