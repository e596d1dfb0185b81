import { FLOTILLA_VERSION } from '@flotilla/protocol';
import type { Command, OptionSpec } from './command.js';
import { columns } from './format.js';

/** `[--name VALUE]` or `[-f|--name]` as shown in usage lines. */
function optionSynopsis(name: string, spec: OptionSpec): string {
  const flag = spec.short === undefined ? `--${name}` : `-${spec.short}|--${name}`;
  const synopsis = spec.type === 'string' ? `${flag} ${spec.value ?? 'VALUE'}` : flag;
  return spec.required === true ? synopsis : `[${synopsis}]`;
}

/** The one-line usage of a command, e.g. `flotilla deployment ID [-f|--follow]`. */
export function usageLine(command: Command | undefined): string {
  if (command === undefined)
    return 'flotilla [--url URL] [--context NAME] [--totp CODE] [--json] [--utc] COMMAND';
  const options = Object.entries(command.options).map(([name, spec]) => optionSynopsis(name, spec));
  const optional = (command.optionalArgs ?? []).map((a) => `[${a}]`);
  return ['flotilla', command.name, ...command.args, ...optional, ...options].join(' ');
}

/** `flotilla --help`: commands, global options and where settings come from. */
export function globalHelp(commands: readonly Command[]): string {
  const commandRows = [
    ...commands.map((c) => {
      const required = Object.entries(c.options)
        .filter(([, spec]) => spec.required === true)
        .map(([name, spec]) => optionSynopsis(name, spec));
      const optional = (c.optionalArgs ?? []).map((a) => `[${a}]`);
      return [`  ${[c.name, ...c.args, ...optional, ...required].join(' ')}`, c.summary];
    }),
    ['  help [COMMAND]', 'Show help for a command'],
  ];
  const optionRows = [
    ['  --url URL', 'controller URL (or FLOTILLA_URL)'],
    ['  --context NAME', 'use this context from the contexts file'],
    ['  --totp CODE', 'TOTP code for a destructive action (or FLOTILLA_TOTP; asked at a terminal)'],
    ['  --json', 'print the validated JSON answers instead of text; errors too, on stderr'],
    ['  --utc', 'show times in UTC (or FLOTILLA_UTC=1) instead of the local zone (TZ)'],
    ['  -h, --help', 'show help, for a command too'],
    ['  -V, --version', 'print the version'],
  ];
  return [
    `flotilla ${FLOTILLA_VERSION}: manage NixOS hosts through a Flotilla controller.`,
    '',
    `Usage: ${usageLine(undefined)} [options]`,
    '',
    'Commands:',
    columns(commandRows),
    '',
    'Global options (before or after the command):',
    columns(optionRows),
    '',
    'Logging in: "flotilla setup" creates the first admin of a new controller, "flotilla login"',
    'asks for your password and keeps an API token in a context of the contexts file',
    '(FLOTILLA_CONTEXT_FILE, else $XDG_CONFIG_HOME/flotilla/contexts.json, else',
    '~/.config/flotilla/contexts.json; readable by you only), "flotilla logout" revokes it.',
    'Automation passes a token in FLOTILLA_TOKEN (from "flotilla token create"), never on the',
    'command line, where the shell history and the process list would show it.',
    '',
    'Settings come from flags, then FLOTILLA_URL and FLOTILLA_TOKEN, then the contexts file and',
    'its "current" context. Naming a context with --context makes it win over the environment.',
    '"flotilla context" lists and switches contexts.',
    '',
    'Times: absolute times read 2026-03-01 14:05:09+01:00, in the zone TZ names or the',
    "system's, or 2026-03-01 13:05:09Z with --utc; durations read 740 ms, 1.2 s, 5 m 12 s.",
    '',
    'Exit codes: 0 success, 1 error or a followed deployment that did not succeed, 2 usage error.',
  ].join('\n');
}

function globalOptionsNote(command: Command): string {
  if (command.local !== true) {
    return 'Global options: --url, --context, --totp, --json, --utc (see flotilla --help).';
  }
  return command.session === true
    ? 'Global options: --json, --utc (the token is kept in the contexts file).'
    : 'Global options: --json (no controller is contacted).';
}

/** `flotilla COMMAND --help`. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: ${usageLine(command)}`, '', command.summary];
  if (command.description !== undefined) lines.push('', command.description);
  const options = Object.entries(command.options);
  if (options.length > 0) {
    const rows = options.map(([name, spec]) => {
      const flag = spec.short === undefined ? `--${name}` : `-${spec.short}, --${name}`;
      return [
        `  ${spec.type === 'string' ? `${flag} ${spec.value ?? 'VALUE'}` : flag}`,
        spec.description,
      ];
    });
    lines.push('', 'Options:', columns(rows));
  }
  lines.push('', globalOptionsNote(command));
  return lines.join('\n');
}
