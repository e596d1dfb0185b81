#!/usr/bin/env node
// The bundled controller's entry, dist/controller/flotilla-controller.mjs (copied there by
// scripts/bundle.mjs, which fills in BUILD_ID). The program itself is controller.cjs beside
// it; most of a start would go into compiling its 2.7 MB, so it is compiled with V8's code
// cache of an earlier start when there is one, and the cache is written once per build: a
// few seconds after a start or, if sooner, when the process exits.
//
// The cache is a file of compiled code the process runs: it is kept only in a folder of the
// user's own, made 0700 (systemd's CACHE_DIRECTORY, else $XDG_CACHE_HOME/flotilla, else
// ~/.cache/flotilla, each only when the folder it is in exists), and named after the
// build, the Node.js version and the architecture.
// Without such a folder, or with a cache V8 refuses, the controller compiles as usual.
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const BUILD_ID = '__FLOTILLA_BUILD_ID__';
const SAVE_AFTER_MS = 5_000;

const program = fileURLToPath(new URL('./controller.cjs', import.meta.url));

// Only a folder that already exists is used as the base: a HOME like /nonexistent (a
// service user's) means no cache, never a folder made where nobody expects one.
function cacheDirectory() {
  const env = process.env;
  const base = env.CACHE_DIRECTORY
    ? { dir: env.CACHE_DIRECTORY.split(':')[0], sub: [] }
    : env.XDG_CACHE_HOME?.startsWith('/')
      ? { dir: env.XDG_CACHE_HOME, sub: ['flotilla'] }
      : env.HOME?.startsWith('/')
        ? { dir: env.HOME, sub: ['.cache', 'flotilla'] }
        : null;
  if (base === null || !isDirectory(base.dir)) return null;
  return join(base.dir, ...base.sub);
}

function isDirectory(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const directory = cacheDirectory();
const prefix = 'controller-';
const cacheFile =
  directory && join(directory, `${prefix}${BUILD_ID}-${process.version}-${process.arch}.v8`);
let cachedData;
if (cacheFile) {
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // No cache yet (or none readable): compiled from source, cached below.
  }
}

// The same wrapper Node.js puts around a CommonJS module.
const source = readFileSync(program, 'latin1'); // ASCII only (bundle.mjs checks)
const script = new Script(
  `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
  { filename: program, cachedData },
);
const module = { exports: {} };
script
  .runInThisContext()
  .call(module.exports, module.exports, createRequire(program), module, program, dirname(program));

if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) {
  let saved = false;
  const save = () => {
    if (saved) return;
    saved = true;
    try {
      mkdirSync(directory, { recursive: true, mode: 0o700 });
      // Built after the start, the cache holds the functions the start compiled as well.
      const temporary = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
      renameSync(temporary, cacheFile);
      // Caches of other builds or Node.js versions are of no further use.
      for (const name of readdirSync(directory)) {
        if (name.startsWith(prefix) && join(directory, name) !== cacheFile) {
          rmSync(join(directory, name), { force: true });
        }
      }
    } catch {
      // A cache is an optimisation: without one, the next start compiles from source.
    }
  };
  setTimeout(save, SAVE_AFTER_MS).unref();
  process.once('exit', save);
}
