import type { Readable, Writable } from 'node:stream';
import type { ApiClient } from './api-client.js';
import { TimeFormat } from './format.js';

/** A command-specific option, as `util.parseArgs` takes it plus what help shows. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder or choices shown in help, e.g. `switch|boot|test|dry-activate`. */
  value?: string;
  description: string;
  /** Shown without brackets in the usage line; `prepare` still checks it is given. */
  required?: boolean;
}

/** What the command line gave a command once parsed. */
export interface CommandInput {
  args: readonly string[];
  options: Readonly<Record<string, string | boolean | undefined>>;
}

/** Where a command prints; what every command gets. */
export interface OutputContext {
  /** Print responses as JSON instead of text. */
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

/** What a running command may use; all I/O goes through here so tests can drive it. */
export interface CommandContext extends OutputContext {
  client: ApiClient;
  /** The IANA zone absolute times are shown in (`UTC` with `--utc`). */
  timeZone: string;
  now(): Date;
  sleep(ms: number): Promise<void>;
  /** Standard input, for passwords and codes typed at a terminal or piped in. */
  stdin: SecretInput;
  /** The TOTP code given with `--totp` or `FLOTILLA_TOTP`, if any. */
  totp: string | undefined;
  /** The process's raw standard streams, for a command that speaks a protocol on them (`mcp`). */
  stdio?: ProtocolStreams | undefined;
}

/** Standard input and output as byte streams. */
export interface ProtocolStreams {
  input: Readable;
  output: Writable;
}

/** Standard input as a command that reads a secret from it sees it. */
export interface SecretInput {
  /** Whether a person types at it (a terminal) rather than a pipe or file feeding it. */
  isTerminal: boolean;
  /** Everything until end of input. */
  readAll(): Promise<string>;
  /** One line typed at the terminal without echoing it, after `prompt` on stderr. */
  readHidden(prompt: string): Promise<string>;
}

/** What a command that needs no controller (`flotilla context`) may use. */
export interface LocalContext extends OutputContext {
  /** The contexts file, resolved as for every command. */
  contextFile: string;
  stdin: SecretInput;
}

/**
 * What a command that keeps its own token in the contexts file (`setup`, `login`, `logout`)
 * may use: the contexts file, and clients for the controller it names.
 */
export interface SessionContext extends LocalContext {
  /** `FLOTILLA_URL`, when set. */
  envUrl: string | undefined;
  /** The TOTP code given with `--totp` or `FLOTILLA_TOTP`, if any. */
  totp: string | undefined;
  /** This machine's name, for the default token name (`cli@HOST`). */
  hostname: string;
  /** Who runs the CLI here, the default user name to log in as. */
  username: string | undefined;
  /** A client for the controller at `url`, sending `token` when given. */
  connect(url: string, token?: string): ApiClient;
  timeZone: string;
  now(): Date;
}

/** How a command shows times at this moment: in its zone, relative to now. */
export function timeFormat(context: CommandContext | SessionContext): TimeFormat {
  return new TimeFormat(context.timeZone, context.now());
}

/** Runs a prepared command; resolves to the process exit code. */
export type CommandRunner = (context: CommandContext) => Promise<number>;

/** Runs a prepared local command; resolves to the process exit code. */
export type LocalRunner = (context: LocalContext) => Promise<number>;

/** Runs a prepared session command; resolves to the process exit code. */
export type SessionRunner = (context: SessionContext) => Promise<number>;

/** What help shows of a command and how its command line is parsed. */
interface CommandShape {
  /** The words that select it, e.g. `host add`. */
  name: string;
  /** Required positional arguments, by the names help shows. */
  args: readonly string[];
  /** Optional positional arguments after the required ones. */
  optionalArgs?: readonly string[];
  summary: string;
  /** Longer help text shown by `--help`, after the usage line. */
  description?: string;
  options: Readonly<Record<string, OptionSpec>>;
}

/**
 * A command that talks to the controller. `prepare` checks the arguments before any
 * connection is made, so a usage error never waits on the network or on configuration; it
 * throws UsageError.
 */
export interface RemoteCommand extends CommandShape {
  local?: false;
  /** False only for commands the controller answers without authentication. */
  needsToken: boolean;
  prepare(input: CommandInput): CommandRunner;
}

/** `--force` and `--reason`: skipping a wave, a window or a quarantine needs a reason. */
export const forceOptions = {
  force: {
    type: 'boolean',
    description: 'skip earlier waves, a closed deploy window and a quarantine (needs --reason)',
  },
  reason: { type: 'string', value: 'TEXT', description: 'why; kept in the audit log' },
} as const satisfies Record<string, OptionSpec>;
/**
 * A command that works on this machine only and needs no controller; the connection flags
 * (`--url` unless it declares its own, `--token`, `--context`) are refused.
 */
export interface LocalCommand extends CommandShape {
  local: true;
  session?: false;
  prepare(input: CommandInput): LocalRunner;
}

/**
 * A command that logs in or out (`setup`, `login`, `logout`): it finds the controller from
 * its own options and the contexts file and keeps the token there, so it never takes one
 * from `--token` or `FLOTILLA_TOKEN`; the connection flags it does not declare are refused.
 */
export interface SessionCommand extends CommandShape {
  local: true;
  session: true;
  prepare(input: CommandInput): SessionRunner;
}

/** One CLI command. */
export type Command = RemoteCommand | LocalCommand | SessionCommand;

/** Prints a value as the `--json` output of a single response. */
export function printJson(context: OutputContext, value: unknown): void {
  context.out(JSON.stringify(value, null, 2));
}
