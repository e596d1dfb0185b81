#!/usr/bin/env node
/**
 * Runs one activation for the agent, detached from it: the agent starts this script in a
 * session of its own with stdout and stderr going to a log file, so neither the agent
 * exiting nor its service being restarted (which activating a new system may well do)
 * cuts the activation short. The agent tails the log and waits for the result file.
 *
 * Usage: node activation-runner.js PID_FILE RESULT_FILE PROGRAM [ARG…]
 *
 * PID_FILE is created exclusively before PROGRAM starts. A restarted agent that finds
 * neither it nor a result creates it itself to mark the activation abandoned; whichever
 * side creates it first wins, so an activation can never start after the agent gave up
 * on it. RESULT_FILE is written atomically once PROGRAM has exited.
 */
import { spawn } from 'node:child_process';
import { createFileExclusive, writeFileAtomic } from '@flotilla/runtime';
import type { ActivationOutcome } from './deploy/activator.js';
import { processIdentity } from './process-identity.js';

/** Exit code when the activation was abandoned by the agent before this runner claimed it. */
const EXIT_NOT_CLAIMED = 3;
const EXIT_USAGE = 2;

async function main(): Promise<number> {
  const [pidFile, resultFile, program, ...args] = process.argv.slice(2);
  if (pidFile === undefined || resultFile === undefined || program === undefined) {
    process.stderr.write('usage: activation-runner PID_FILE RESULT_FILE PROGRAM [ARG…]\n');
    return EXIT_USAGE;
  }
  // Hang-ups and interrupts are about terminals, which a detached session does not have.
  // SIGTERM is not ignored: it means the service manager is stopping whatever it finds in
  // the agent's unit (which should run with KillMode=process), and stalling that stop
  // would only delay the activation it may be waiting for.
  for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => {});
  const claimed = await createFileExclusive(pidFile, JSON.stringify(await processIdentity()));
  if (!claimed) {
    process.stderr.write(
      'activation runner: the agent abandoned this activation; not running it\n',
    );
    return EXIT_NOT_CLAIMED;
  }
  const outcome = await runToEnd(program, args);
  await writeFileAtomic(
    resultFile,
    JSON.stringify({ ...outcome, finishedAt: new Date().toISOString() }),
  );
  return 0;
}

function runToEnd(program: string, args: string[]): Promise<ActivationOutcome> {
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: process.env,
    });
    child.once('error', (error) =>
      resolve({ exitCode: null, signal: null, spawnError: error.message, lost: null }),
    );
    child.once('exit', (exitCode, signal) =>
      resolve({ exitCode, signal, spawnError: null, lost: null }),
    );
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `activation runner: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
