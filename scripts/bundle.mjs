#!/usr/bin/env node
// Bundles the three programs from the TypeScript build (packages/*/dist) into dist/, each
// needing only Node.js at run time (no `npm install` on a host):
//
//   dist/agent/flotilla-agent.mjs        the agent, self-contained
//   dist/agent/activation-runner.sh      the shell script the agent starts per activation
//   dist/agent/node-flags                the Node.js flags the agent is run with (below)
//   dist/cli/flotilla.mjs                the CLI, self-contained
//   dist/controller/flotilla-controller.mjs  the controller's entry (scripts/controller-entry.mjs):
//                                        compiles controller.cjs with V8's code cache
//   dist/controller/controller.cjs       the controller, self-contained but for the modules below
//   dist/controller/web/                 the web UI (when `npm run build -w @flotilla/web` ran)
//   dist/controller/node_modules/        only the native modules (better-sqlite3, argon2)
//                                        and their few runtime files, built for this node
//
// Run each with `node FILE.mjs`; a package wraps them as bin/flotilla-agent and so on.
// Usage: node scripts/bundle.mjs (after `tsc -b`; `npm run build` does both).
import { createHash } from 'node:crypto';
import {
  chmodSync,
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

async function bundle(name, entries, external = [], options = {}) {
  const dir = join(out, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const result = await build({
    ...common,
    entryPoints: entries,
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    external,
    ...options,
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
// The controller is CommonJS, so that its entry can compile it with a code cache
// (scripts/controller-entry.mjs): V8 offers one for a script, while Node.js 20 has none for
// an ES module. Its `import.meta.url` becomes the file's URL.
const controllerDir = await bundle(
  'controller',
  [{ in: entry('controller', 'main.js'), out: 'controller' }],
  // pg's optional native client and Cloudflare socket are never used.
  [...CONTROLLER_NATIVE, 'pg-native', 'cloudflare:sockets'],
  {
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    define: { ...common.define, 'import.meta.url': '__flotillaUrl' },
    // Strict, as the ES modules it is made of were.
    banner: {
      js: "'use strict'; const __flotillaUrl = require('node:url').pathToFileURL(__filename).href;",
    },
  },
);
{
  const programFile = join(controllerDir, 'controller.cjs');
  // Run inside a function by the entry: no `#!` line (main.ts has one for its own use).
  const program = Buffer.from(readFileSync(programFile, 'latin1').replace(/^#!.*\n/, ''), 'latin1');
  writeFileSync(programFile, program);
  chmodSync(programFile, 0o644);
  // Read as Latin-1 and run from a code cache: it must be ASCII, and must not import()
  // (a function restored from a code cache has nothing to resolve an import with).
  const text = program.toString('latin1');
  const nonAscii = text.match(/[^\x00-\x7f]/);
  if (nonAscii) throw new Error(`controller.cjs is not ASCII: ${JSON.stringify(nonAscii[0])}`);
  if (/\bimport\(/.test(text)) throw new Error('controller.cjs calls import(): require instead');
  const buildId = createHash('sha256').update(program).digest('hex').slice(0, 16);
  const entryFile = join(controllerDir, 'flotilla-controller.mjs');
  const template = readFileSync(join(root, 'scripts', 'controller-entry.mjs'), 'utf8');
  writeFileSync(entryFile, template.replace('__FLOTILLA_BUILD_ID__', buildId));
  chmodSync(entryFile, 0o755);
}
const seen = new Set();
for (const name of CONTROLLER_NATIVE) copyPackage(name, controllerDir, seen);
const webApp = join(root, 'packages', 'web', 'dist', 'app');
if (existsSync(webApp)) cpSync(webApp, join(controllerDir, 'web'), { recursive: true });
else console.log('  (no web UI: packages/web/dist/app is not built)');
console.log(`bundled in ${Date.now() - started} ms`);
