#!/usr/bin/env node
// Bundles the three programs from the TypeScript build (packages/*/dist) into dist/, each
// needing only Node.js at run time (no `npm install` on a host):
//
//   dist/agent/flotilla-agent.mjs        the agent, self-contained
//   dist/agent/activation-runner.sh      the shell script the agent starts per activation
//   dist/agent/node-flags                the Node.js flags the agent is run with (below)
//   dist/cli/flotilla.mjs                the CLI, self-contained
//   dist/controller/flotilla-controller.mjs
//   dist/controller/web/                 the web UI (when `npm run build -w @flotilla/web` ran)
//   dist/controller/node_modules/        only the native modules (better-sqlite3, argon2)
//                                        and their few runtime files, built for this node
//
// Run each with `node FILE.mjs`; a package wraps them as bin/flotilla-agent and so on.
// Usage: node scripts/bundle.mjs (after `tsc -b`; `npm run build` does both).
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist');

/**
 * The Node.js flags the agent runs with: `node $(cat node-flags) flotilla-agent.mjs`. The
 * package's launcher (nix/package.nix) and the sandbox (tests, benchmarks, the demo) read
 * them from dist/agent/node-flags, so what is measured is what hosts run. An agent mostly
 * waits, so its memory counts for more than its peak speed (docs/BENCHMARKS.md, "Bundled
 * programs"):
 * - `--max-semi-space-size=1`: the young generation stays at 1 MiB a half instead of
 *   growing to 8 MiB in the burst of allocation of a start;
 * - `--no-sparkplug`: no baseline machine code for the many functions run a few times at
 *   the start (the optimizing compiler still compiles what runs hot).
 * Both exist in Node.js 20, 22 and 24; an unknown flag would stop node from starting.
 */
const AGENT_NODE_FLAGS = ['--max-semi-space-size=1', '--no-sparkplug'];

/** Native modules the controller loads with `require`; everything else is inside the bundle. */
const CONTROLLER_NATIVE = ['better-sqlite3', 'argon2'];

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The programs' own paths (the activation runner, the web UI) depend on this being set.
  define: { __FLOTILLA_BUNDLE__: 'true' },
  // CommonJS dependencies bundled into ESM still call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __flotillaCreateRequire } from 'node:module'; const require = __flotillaCreateRequire(import.meta.url);",
  },
  legalComments: 'linked',
  // Less source to read and parse at every start; names stay, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: true,
};

function entry(pkg, file) {
  const path = join(root, 'packages', pkg, 'dist', file);
  if (!existsSync(path))
    throw new Error(`${relative(root, path)} is missing: run npx tsc -b first`);
  return path;
}

/** Copies one installed package's runtime files (no sources of native code, no build objects). */
function copyPackage(name, into, seen = new Set()) {
  if (seen.has(name)) return;
  seen.add(name);
  const from = join(root, 'node_modules', name);
  const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
  cpSync(from, join(into, 'node_modules', name), {
    recursive: true,
    filter: (path) => {
      const rel = relative(from, path);
      if (rel === '') return true;
      const parts = rel.split('/');
      if (['deps', 'src', 'obj', 'obj.target', 'test', 'docs'].some((p) => parts.includes(p))) {
        return false;
      }
      if (parts[0] === 'prebuilds' && parts.length > 1) {
        return parts[1] === `${process.platform}-${process.arch}`;
      }
      if (statSync(path).isDirectory()) return true;
      return !/\.(a|cc|cpp|c|h|hpp|gyp|gypi|mk|ts|map|md)$/.test(path) || path.endsWith('.d.ts');
    },
  });
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    // Build-time helpers of native modules are not needed to load them.
    if (['prebuild-install', 'cross-env', 'node-addon-api'].includes(dependency)) continue;
    copyPackage(dependency, into, seen);
  }
}

async function bundle(name, entries, external = []) {
  const dir = join(out, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const result = await build({
    ...common,
    entryPoints: entries,
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    external,
  });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  console.log(`  dist/${name}: ${Math.round(bytes / 1024)} KiB`);
  return dir;
}

const started = Date.now();
const agentDir = await bundle('agent', [{ in: entry('agent', 'main.js'), out: 'flotilla-agent' }]);
writeFileSync(join(agentDir, 'node-flags'), `${AGENT_NODE_FLAGS.join(' ')}\n`);
// Run with /bin/sh, so it needs no mode bits; it is not TypeScript, so tsc does not copy it.
cpSync(
  join(root, 'packages', 'agent', 'src', 'activation-runner.sh'),
  join(agentDir, 'activation-runner.sh'),
);
await bundle('cli', [{ in: entry('cli', 'main.js'), out: 'flotilla' }]);
const controllerDir = await bundle(
  'controller',
  [{ in: entry('controller', 'main.js'), out: 'flotilla-controller' }],
  // pg's optional native client and Cloudflare socket are never used.
  [...CONTROLLER_NATIVE, 'pg-native', 'cloudflare:sockets'],
);
const seen = new Set();
for (const name of CONTROLLER_NATIVE) copyPackage(name, controllerDir, seen);
const webApp = join(root, 'packages', 'web', 'dist', 'app');
if (existsSync(webApp)) cpSync(webApp, join(controllerDir, 'web'), { recursive: true });
else console.log('  (no web UI: packages/web/dist/app is not built)');
console.log(`bundled in ${Date.now() - started} ms`);
