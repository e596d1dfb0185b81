import { flagOption, stringOption } from './args.js';
import type { CommandInput } from './command.js';
import { UsageError } from './errors.js';

/** `--force` with its required `--reason`, as request fields; checked before any request. */
export function forceInput(input: CommandInput): { force: boolean; reason?: string } {
  const force = flagOption(input, 'force');
  const reason = stringOption(input, 'reason');
  if (force && reason === undefined) throw new UsageError('--force needs a --reason');
  if (!force && reason !== undefined) throw new UsageError('--reason goes with --force');
  return reason === undefined ? { force } : { force, reason };
}
