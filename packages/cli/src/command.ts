import type { ApiClient } from './api-client.js';
import { TimeFormat } from './format.js';

/** A command-specific option, as `util.parseArgs` takes it plus what help shows. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder or choices shown in help, e.g. `switch|boot|test|dry-activate`. */
  value?: string;
  description: string;
}

/** What the command line gave a command once parsed. */
export interface CommandInput {
  args: readonly string[];
  options: Readonly<Record<string, string | boolean | undefined>>;
}

/** What a running command may use; all I/O goes through here so tests can drive it. */
export interface CommandContext {
  client: ApiClient;
  /** Print responses as JSON instead of text. */
  json: boolean;
  out(text: string): void;
  err(text: string): void;
  /** The IANA zone absolute times are shown in (`UTC` with `--utc`). */
  timeZone: string;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** How a command shows times at this moment: in its zone, relative to now. */
export function timeFormat(context: CommandContext): TimeFormat {
  return new TimeFormat(context.timeZone, context.now());
}

/** Runs a prepared command; resolves to the process exit code. */
export type CommandRunner = (context: CommandContext) => Promise<number>;

/**
 * One CLI command. `prepare` checks the arguments before any connection is made, so a usage
 * error never waits on the network or on configuration; it throws UsageError.
 */
export interface Command {
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
  /** False only for commands the controller answers without authentication. */
  needsToken: boolean;
  prepare(input: CommandInput): CommandRunner;
}

/** Prints a value as the `--json` output of a single response. */
export function printJson(context: CommandContext, value: unknown): void {
  context.out(JSON.stringify(value, null, 2));
}
