#!/usr/bin/env node
import { homedir, hostname, userInfo } from 'node:os';
import { isatty } from 'node:tty';
import { run } from './cli.js';
import { secretInput } from './secret-input.js';

// The only place that touches the process: everything else gets it passed in.
const code = await run({
  argv: process.argv.slice(2),
  env: process.env,
  homedir: homedir(),
  hostname: hostname(),
  username: loginName(),
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  stdin: secretInput({
    isTerminal: isatty(0),
    open: () => process.stdin,
    prompts: process.stderr,
  }),
  stdio: { input: process.stdin, output: process.stdout },
});
process.exitCode = code;

/** The name of the user running this process; none when the system has no entry for it. */
function loginName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
