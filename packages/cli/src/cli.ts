import { FLOTILLA_VERSION } from '@flotilla/protocol';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiClient } from './api-client.js';
import { CommandUsageError, parseCommandLine, type GlobalOptions } from './args.js';
import type {
  Command,
  CommandContext,
  LocalContext,
  RemoteCommand,
  SecretInput,
} from './command.js';
import { COMMANDS } from './commands.js';
import { contextFilePath, resolveConnection, type CliEnv } from './context.js';
import { CliError, UsageError } from './errors.js';
import { commandHelp, globalHelp, usageLine } from './help.js';
import { resolveTimeZone, systemTimeZone } from './time-zone.js';

/** Everything the CLI takes from its process, passed in so tests can run it in-process. */
export interface CliProcess {
  /** Arguments after the executable and script. */
  argv: readonly string[];
  env: CliEnv;
  /** The user's home directory, for the default contexts file. */
  homedir: string;
  /** Write a line (a newline is added) to standard output / standard error. */
  stdout(text: string): void;
  stderr(text: string): void;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Standard input, for secrets piped or typed in; none by default. */
  stdin?: SecretInput;
  /** The zone when `TZ` names none Intl knows; default: what Intl reports for this process. */
  systemTimeZone?: string;
}

/** Standard input with nothing to read, for callers that give none. */
const NO_INPUT: SecretInput = {
  isTerminal: false,
  readAll: () => Promise.resolve(''),
  readHidden: () => Promise.resolve(''),
};

/**
 * Runs one command line and resolves to the exit code: 0 success, 1 error, 2 usage error.
 * It never throws; every failure is printed.
 */
export async function run(proc: CliProcess): Promise<number> {
  let commandLine: ReturnType<typeof parseCommandLine>;
  try {
    commandLine = parseCommandLine(proc.argv, COMMANDS);
  } catch (error) {
    return reportUsage(proc, error, error instanceof CommandUsageError ? error.command : undefined);
  }
  switch (commandLine.kind) {
    case 'version':
      proc.stdout(`flotilla ${FLOTILLA_VERSION}`);
      return 0;
    case 'help':
      proc.stdout(
        commandLine.command === undefined ? globalHelp(COMMANDS) : commandHelp(commandLine.command),
      );
      return 0;
    case 'run':
      break;
  }
  const { command, globals, input } = commandLine;
  return command.local === true
    ? execute(
        proc,
        command,
        globals.json,
        () => command.prepare(input),
        () => Promise.resolve(localContext(proc, globals)),
      )
    : execute(
        proc,
        command,
        globals.json,
        () => command.prepare(input),
        () => connect(proc, command, globals),
      );
}

/** Prepares the command (a usage error exits 2), builds its context and runs it (errors exit 1). */
async function execute<C>(
  proc: CliProcess,
  command: Command,
  json: boolean,
  prepare: () => (context: C) => Promise<number>,
  makeContext: () => Promise<C>,
): Promise<number> {
  let runner: (context: C) => Promise<number>;
  try {
    runner = prepare();
  } catch (error) {
    return reportUsage(proc, error, command);
  }
  try {
    return await runner(await makeContext());
  } catch (error) {
    return reportError(proc, error, json);
  }
}

function localContext(proc: CliProcess, globals: GlobalOptions): LocalContext {
  return {
    json: globals.json,
    out: (text) => proc.stdout(text),
    err: (text) => proc.stderr(text),
    contextFile: contextFilePath(proc.env, proc.homedir),
    stdin: proc.stdin ?? NO_INPUT,
  };
}

/** Resolves every global setting (connection, time zone) and builds the command's context. */
async function connect(
  proc: CliProcess,
  command: RemoteCommand,
  globals: GlobalOptions,
): Promise<CommandContext> {
  const timeZone = resolveTimeZone(globals, proc.env, proc.systemTimeZone ?? systemTimeZone());
  const connection = await resolveConnection(globals, proc.env, proc.homedir);
  if (command.needsToken && connection.token === undefined) {
    throw new CliError(
      'not_configured',
      `no admin token for ${connection.url}: pass --token, set FLOTILLA_TOKEN, or add it to a context`,
    );
  }
  return {
    client: new ApiClient({ url: connection.url, token: connection.token }),
    json: globals.json,
    out: (text) => proc.stdout(text),
    err: (text) => proc.stderr(text),
    timeZone,
    now: proc.now ?? (() => new Date()),
    sleep: proc.sleep ?? ((ms) => delay(ms)),
  };
}

function reportUsage(proc: CliProcess, error: unknown, command: Command | undefined): number {
  if (!(error instanceof UsageError)) return reportError(proc, error, false);
  proc.stderr(`error: ${error.message}`);
  proc.stderr(`usage: ${usageLine(command)}`);
  proc.stderr(
    command === undefined
      ? 'Run "flotilla --help" for the commands.'
      : `Run "flotilla ${command.name} --help" for details.`,
  );
  return 2;
}

function reportError(proc: CliProcess, error: unknown, json: boolean): number {
  const body =
    error instanceof CliError
      ? error.toBody()
      : { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
  proc.stderr(json ? JSON.stringify({ error: body }) : `error: ${body.message} (${body.code})`);
  return 1;
}
