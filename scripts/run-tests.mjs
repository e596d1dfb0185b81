#!/usr/bin/env node
// Runs compiled tests with Node's own test runner.
//   unit:        packages/*/dist/**/*.test.js, scripts/dist/**/*.test.js (fast, no Nix), and
//                test/dist/nix/**/*.test.js (the flake and modules: Nix evaluation only, no builds)
//   service:     test/dist/service/**/*.test.js  (a whole controller in-process on SQLite and
//                PostgreSQL, a manual clock; Nix and agents stood in for)
//   integration: test/dist/integration/**/*.test.js (real Nix, git, SQLite, processes, sockets)
//   browser:     test/dist/browser/**/*.test.js (the web UI in headless Chromium against a real
//                controller and agents; needs the web UI built and /usr/bin/chromium)
//   all:         unit, then service, then integration, then browser
// Integration and browser runs bundle the programs first (scripts/bundle.mjs into dist/).
// Extra arguments are name filters (substrings of the file path); each must match a file.
//
// One throwaway PostgreSQL server serves the whole run: its superuser URL reaches the tests
// in FLOTILLA_TEST_POSTGRES_URL and each test creates databases of its own on it. When the
// variable is already set, that server is used instead. A server that cannot start fails
// the run; it is stopped and its directory removed at the end, also on SIGINT/SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const POSTGRES_URL_VARIABLE = 'FLOTILLA_TEST_POSTGRES_URL';
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

function selectFiles(name) {
  const found =
    name === 'unit'
      ? [
          ...readdirSync(join(root, 'packages')).flatMap((p) =>
            findTests(join(root, 'packages', p, 'dist')),
          ),
          ...findTests(join(root, 'scripts', 'dist')),
          ...findTests(join(root, 'test', 'dist', 'nix')),
        ]
      : findTests(join(root, 'test', 'dist', name));
  return found
    .map((f) => relative(root, f))
    .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
    .sort();
}

const tiers = {
  unit: ['unit'],
  service: ['service'],
  integration: ['integration'],
  browser: ['browser'],
  all: ['unit', 'service', 'integration', 'browser'],
}[tier];
if (!tiers) {
  console.error(`unknown test tier "${tier}" (use unit, service, integration, browser or all)`);
  process.exit(2);
}
const runs = tiers.map((name) => ({ name, files: selectFiles(name) }));
// A filter that names no file is a mistake (a renamed test), not a reason to run less.
const unmatched = filters.filter(
  (needle) => !runs.some((r) => r.files.some((f) => f.includes(needle))),
);
if (unmatched.length > 0) {
  console.error(`no ${tier} test matches ${unmatched.map((n) => `"${n}"`).join(', ')}`);
  process.exit(1);
}
if (runs.every((r) => r.files.length === 0)) {
  console.error(`no ${tier} tests found; did the build run?`);
  process.exit(1);
}

// Integration and browser tests run the bundled agent (dist/agent): bundled from the
// compiled packages before each run, so it is never older than the code under test.
if (runs.some((r) => ['integration', 'browser'].includes(r.name) && r.files.length > 0)) {
  const bundled = spawnSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], {
    stdio: 'inherit',
  });
  if (bundled.status !== 0) {
    console.error('bundling the programs failed');
    process.exit(1);
  }
}

let postgres;
let child;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = true;
    child?.kill(signal);
    void (postgres?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function startPostgres() {
  if (process.env[POSTGRES_URL_VARIABLE]) {
    console.log(`==> PostgreSQL: using ${POSTGRES_URL_VARIABLE}`);
    return process.env[POSTGRES_URL_VARIABLE];
  }
  const sandbox = await import('@flotilla/sandbox').catch((error) => {
    throw new Error(`@flotilla/sandbox is not built (run npx tsc -b): ${error.message}`);
  });
  const started = Date.now();
  postgres = await sandbox.startPostgres();
  console.log(
    `==> PostgreSQL ${postgres.version} at ${postgres.url} (started in ${Date.now() - started} ms)`,
  );
  return postgres.url;
}

function runTier({ name, files }, postgresUrl) {
  // Integration tests share one Nix store and spawn processes: run files one at a time.
  // Unit files are independent; two at a time (Node's default is one less than the cores,
  // i.e. one on a 2-core CI machine) overlaps their process starts and waits on subprocesses.
  const concurrency = name === 'unit' ? ['--test-concurrency=2'] : ['--test-concurrency=1'];
  return new Promise((resolve) => {
    child = spawn(process.execPath, ['--test', ...concurrency, ...files], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, [POSTGRES_URL_VARIABLE]: postgresUrl },
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let status = 0;
try {
  const postgresUrl = await startPostgres();
  for (const run of runs) {
    if (run.files.length === 0) continue;
    if (tiers.length > 1) console.log(`==> ${run.name} tests`);
    status = await runTier(run, postgresUrl);
    if (status !== 0 || interrupted) break;
  }
} catch (error) {
  console.error(`test run failed: ${error instanceof Error ? error.message : String(error)}`);
  status = 1;
} finally {
  await postgres?.stop();
}
if (!interrupted) process.exit(status);
