import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Command, CommandInput, LocalCommand, SessionCommand } from './command.js';
import { UsageError } from './errors.js';

type ParseOptions = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts, before or after the command name. */
export const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  context: { type: 'string' },
  totp: { type: 'string' },
  json: { type: 'boolean' },
  utc: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies ParseOptions;

/** The global options as given. */
export interface GlobalOptions {
  url: string | undefined;
  token: string | undefined;
  context: string | undefined;
  /** A current TOTP code for the actions that ask for step-up. */
  totp: string | undefined;
  json: boolean;
  /** Show absolute times in UTC instead of the local zone. */
  utc: boolean;
}

/** What the command line asks for. */
export type CommandLine =
  | { kind: 'help'; command: Command | undefined }
  | { kind: 'version' }
  | { kind: 'run'; command: Command; globals: GlobalOptions; input: CommandInput };

/** A usage error that knows which command it is about, so its usage line can be shown. */
export class CommandUsageError extends UsageError {
  constructor(
    message: string,
    readonly command: Command | undefined,
  ) {
    super(message);
  }
}

/**
 * Parses `argv` (without node and the script). The command is named by the first positional
 * words; global options may come before or after it, command options only after.
 * Throws {@link CommandUsageError}.
 */
export function parseCommandLine(
  argv: readonly string[],
  commands: readonly Command[],
): CommandLine {
  // A first, lenient pass only locates the command words: global options that take a value
  // must not be mistaken for them (`--url http://x hosts`).
  const { tokens, values } = parseArgs({
    args: [...argv],
    options: GLOBAL_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals = tokens.filter((token) => token.kind === 'positional');
  const words = positionals.map((token) => token.value);
  if (words[0] === 'help') return { kind: 'help', command: findCommand(commands, words.slice(1)) };
  const command = findCommand(commands, words);
  if (command === undefined) {
    if (values.version === true) return { kind: 'version' };
    if (values.help === true || words.length === 0) return { kind: 'help', command: undefined };
    throw new CommandUsageError(`unknown command "${words[0] ?? ''}"`, undefined);
  }
  const wordIndexes = new Set(
    positionals.slice(0, command.name.split(' ').length).map((t) => t.index),
  );
  const rest = argv.filter((_, index) => !wordIndexes.has(index));
  return parseCommandArgs(command, rest);
}

function findCommand(commands: readonly Command[], words: readonly string[]): Command | undefined {
  // Longest name first, so `host add web1` is `host add`, not `host` with two arguments.
  const byLength = [...commands].sort(
    (a, b) => b.name.split(' ').length - a.name.split(' ').length,
  );
  return byLength.find((command) =>
    command.name.split(' ').every((word, index) => words[index] === word),
  );
}

function parseCommandArgs(command: Command, argv: readonly string[]): CommandLine {
  const options: ParseOptions = { ...GLOBAL_OPTIONS };
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] =
      spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short };
  }
  let parsed: {
    values: Record<string, string | boolean | (string | boolean)[] | undefined>;
    positionals: string[];
  };
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    // parseArgs names the bad option in its first sentence; the rest is advice about `--`.
    const message = error instanceof Error ? error.message : String(error);
    throw new CommandUsageError(message.split('. ')[0] ?? message, command);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: 'help', command };
  if (values.version === true) return { kind: 'version' };
  const maxArgs = command.args.length + (command.optionalArgs?.length ?? 0);
  if (positionals.length < command.args.length || positionals.length > maxArgs) {
    const problem =
      positionals.length < command.args.length
        ? `missing ${command.args.slice(positionals.length).join(' ')}`
        : `unexpected argument "${positionals[maxArgs] ?? ''}"`;
    throw new CommandUsageError(problem, command);
  }
  if (command.local === true) refuseConnectionFlags(command, values);
  const commandOptions: Record<string, string | boolean | undefined> = {};
  for (const name of Object.keys(command.options)) {
    const value = values[name];
    if (!Array.isArray(value)) commandOptions[name] = value;
  }
  return {
    kind: 'run',
    command,
    globals: {
      url: asString(values.url),
      token: asString(values.token),
      context: asString(values.context),
      totp: asString(values.totp),
      json: values.json === true,
      utc: values.utc === true,
    },
    input: { args: positionals, options: commandOptions },
  };
}

/**
 * A local command never connects, so a connection flag given to it would be silently
 * ignored; it is refused instead. A `--token` in particular would have landed in the shell
 * history for nothing. A session command (`login`) connects, but only where its own options
 * say, and never with a token from the command line.
 */
function refuseConnectionFlags(
  command: LocalCommand | SessionCommand,
  values: Record<string, unknown>,
): void {
  const refused = ['url', 'token', 'context', 'totp'].filter(
    (name) => values[name] !== undefined && !(name in command.options),
  );
  if (refused.length > 0) {
    const why = command.session === true ? 'keeps its own token' : 'needs no controller';
    throw new CommandUsageError(
      `${command.name} ${why} and takes no ${refused.map((n) => `--${n}`).join(', ')}`,
      command,
    );
  }
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The value of a string option, if given. */
export function stringOption(input: CommandInput, name: string): string | undefined {
  return asString(input.options[name]);
}

/** Whether a boolean option was given. */
export function flagOption(input: CommandInput, name: string): boolean {
  return input.options[name] === true;
}

/** A string option that must be one of `choices` (e.g. a zod enum's `options`); throws UsageError otherwise. */
export function enumOption<T extends string>(
  input: CommandInput,
  name: string,
  choices: readonly T[],
): T | undefined {
  const value = stringOption(input, name);
  if (value === undefined) return undefined;
  const match = choices.find((choice) => choice === value);
  if (match !== undefined) return match;
  throw new UsageError(`--${name} must be one of ${choices.join(', ')} (got "${value}")`);
}

/** An integer option within [min, max]; throws UsageError otherwise. */
export function integerOption(
  input: CommandInput,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  const value = stringOption(input, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < range.min || number > range.max) {
    throw new UsageError(
      `--${name} must be a whole number from ${range.min} to ${range.max} (got "${value}")`,
    );
  }
  return number;
}

/**
 * A comma-separated list option (`--hosts a,b`), each item checked with `item` (e.g. the
 * protocol's HostName) so a typo is a usage error, not a round trip. Empty items are dropped.
 */
export function listOption(
  input: CommandInput,
  name: string,
  item: { safeParse(value: string): { success: boolean } },
): string[] | undefined {
  const value = stringOption(input, name);
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const bad = items.find((part) => !item.safeParse(part).success);
  if (items.length === 0 || bad !== undefined) {
    throw new UsageError(
      bad === undefined
        ? `--${name} needs at least one name`
        : `--${name}: "${bad}" is not a valid name`,
    );
  }
  return items;
}

/** Seconds per unit of a duration option. */
const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * A duration option such as `90s`, `30m`, `1h` or `7d`, in seconds, within [min, max];
 * throws UsageError otherwise.
 */
export function durationOption(
  input: CommandInput,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  const value = stringOption(input, name);
  if (value === undefined) return undefined;
  const match = /^(\d+)([smhd])$/.exec(value);
  const seconds = match ? Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? 0) : NaN;
  if (!(seconds >= range.min && seconds <= range.max)) {
    throw new UsageError(
      `--${name} must be a duration such as 30m, 1h or 7d, from ${range.min} s to ${range.max / 86400} d (got "${value}")`,
    );
  }
  return seconds;
}
