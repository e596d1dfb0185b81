#!/usr/bin/env node
import { homedir } from 'node:os';
import { run } from './cli.js';

// The only place that touches the process: everything else gets it passed in.
const code = await run({
  argv: process.argv.slice(2),
  env: process.env,
  homedir: homedir(),
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
});
process.exitCode = code;
