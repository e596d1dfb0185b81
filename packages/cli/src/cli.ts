import { FLOTILLA_VERSION } from '@flotilla/protocol';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiClient, type StepUp } from './api-client.js';
import { CommandUsageError, parseCommandLine, type GlobalOptions } from './args.js';
import type {
  Command,
  CommandContext,
  LocalContext,
  ProtocolStreams,
  RemoteCommand,
  SecretInput,
  SessionContext,
} from './command.js';
import { COMMANDS } from './commands.js';
import { contextFilePath, nonEmptyOr, resolveConnection, type CliEnv } from './context.js';
import { errorMessage } from './error.view.js';
import { CliError, UsageError } from './errors.js';
import { TimeFormat } from './format.js';
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
  /** This machine's name, for the default name of a login's token. */
  hostname?: string;
  /** The name of the user running the CLI, the default user to log in as. */
  username?: string;
  /** The raw standard streams, for `flotilla mcp`. */
  stdio?: ProtocolStreams;
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
  if (command.local !== true) {
    return execute(
      proc,
      globals,
      command,
      () => command.prepare(input),
      () => connect(proc, command, globals),
    );
  }
  if (command.session === true) {
    return execute(
      proc,
      globals,
      command,
      () => command.prepare(input),
      () => Promise.resolve(sessionContext(proc, globals)),
    );
  }
  return execute(
    proc,
    globals,
    command,
    () => command.prepare(input),
    () => Promise.resolve(localContext(proc, globals)),
  );
}

/** Prepares the command (a usage error exits 2), builds its context and runs it (errors exit 1). */
async function execute<C>(
  proc: CliProcess,
  globals: GlobalOptions,
  command: Command,
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
    return reportError(proc, error, globals);
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

function sessionContext(proc: CliProcess, globals: GlobalOptions): SessionContext {
  const stepUp = stepUpOf(proc, globals);
  return {
    ...localContext(proc, globals),
    envUrl: nonEmptyOr(proc.env.FLOTILLA_URL),
    totp: stepUp.code,
    hostname: proc.hostname ?? 'localhost',
    username: proc.username,
    connect: (url, token) => new ApiClient({ url, token, stepUp }),
    timeZone: resolveTimeZone(globals, proc.env, proc.systemTimeZone ?? systemTimeZone()),
    now: proc.now ?? (() => new Date()),
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
      `not logged in to ${connection.url}: run "flotilla login" (automation: set FLOTILLA_TOKEN)`,
    );
  }
  const stepUp = stepUpOf(proc, globals);
  return {
    client: new ApiClient({ url: connection.url, token: connection.token, stepUp }),
    json: globals.json,
    out: (text) => proc.stdout(text),
    err: (text) => proc.stderr(text),
    timeZone,
    now: proc.now ?? (() => new Date()),
    sleep: proc.sleep ?? ((ms) => delay(ms)),
    stdin: proc.stdin ?? NO_INPUT,
    totp: stepUp.code,
    stdio: proc.stdio,
  };
}

/**
 * The TOTP code given up front (`--totp`, else `FLOTILLA_TOTP`), and at a terminal a prompt
 * for one when an action asks for it; the code is not echoed, so it stays out of terminal logs.
 */
function stepUpOf(proc: CliProcess, globals: GlobalOptions): StepUp {
  const stdin = proc.stdin ?? NO_INPUT;
  return {
    code: globals.totp ?? nonEmptyOr(proc.env.FLOTILLA_TOTP),
    ask: stdin.isTerminal
      ? (action) =>
          stdin.readHidden(`TOTP code for "${action}" (from your authenticator app; hidden): `)
      : undefined,
  };
}

function reportUsage(proc: CliProcess, error: unknown, command: Command | undefined): number {
  if (!(error instanceof UsageError)) return reportError(proc, error, undefined);
  proc.stderr(`error: ${error.message}`);
  proc.stderr(`usage: ${usageLine(command)}`);
  proc.stderr(
    command === undefined
      ? 'Run "flotilla --help" for the commands.'
      : `Run "flotilla ${command.name} --help" for details.`,
  );
  return 2;
}

/** Prints an error: as the controller's JSON body with `--json`, else one line that says what to do. */
function reportError(proc: CliProcess, error: unknown, globals: GlobalOptions | undefined): number {
  if (!(error instanceof CliError)) {
    const message = error instanceof Error ? error.message : String(error);
    const body = { code: 'internal_error', message };
    proc.stderr(
      globals?.json === true
        ? JSON.stringify({ error: body })
        : `error: ${message} (internal_error)`,
    );
    return 1;
  }
  if (globals?.json === true) {
    proc.stderr(JSON.stringify({ error: error.toBody() }));
    return 1;
  }
  proc.stderr(`error: ${errorMessage(error, errorTimeFormat(proc, globals))} (${error.code})`);
  return 1;
}

/** The time format for an error's times; UTC when the settings themselves are what failed. */
function errorTimeFormat(proc: CliProcess, globals: GlobalOptions | undefined): TimeFormat {
  const now = proc.now?.() ?? new Date();
  try {
    const zone = resolveTimeZone(
      { utc: globals?.utc ?? false },
      proc.env,
      proc.systemTimeZone ?? systemTimeZone(),
    );
    return new TimeFormat(zone, now);
  } catch {
    return new TimeFormat('UTC', now);
  }
}
