import { HostName, WaitStage } from '@flotilla/protocol';
import { durationOption, enumOption, flagOption, listOption } from './args.js';
import type { Command, CommandContext, OptionSpec } from './command.js';
import { CliError } from './errors.js';
import { waitForRevision } from './revision-wait.js';
import { WAIT_EXIT_CODES, type WaitOutcome } from './wait-outcome.js';
import { renderWaitOutcome, waitOutcomeJson } from './wait.view.js';

/** Default and longest time `flotilla wait` waits, in seconds. */
const DEFAULT_TIMEOUT_SECONDS = 30 * 60;
const MAX_TIMEOUT_SECONDS = 7 * 86400;

export const WAIT_DESCRIPTION = `Exit codes: 0 reached, 3 evaluation failed, 4 build failed, 5 rejected, failed or rolled back,
124 timed out; 1 other errors, 2 usage errors. On a failure the error comes first: Nix's
message with file:line:column for an evaluation, the first error lines of a build.
Stages: evaluated, built (signed into the cache), approved, deployed (activated),
verified (the controller confirmed the host runs it). Without --hosts every host of the
commit counts; for approved and later only managed hosts whose system changes.`;

/** `--timeout`, shared by `wait` and `preview --wait`. */
export const timeoutOption = {
  type: 'string',
  value: 'DURATION',
  description: 'give up after this long (e.g. 90s, 30m; default 30m): exit 124',
} as const satisfies OptionSpec;

/** `flotilla wait REVISION|REF`: follows one commit until it reached a stage or failed. */
export const waitCommand: Command = {
  name: 'wait',
  args: ['REVISION|REF'],
  summary: 'Wait until a commit is evaluated, built, approved, deployed or verified',
  description: WAIT_DESCRIPTION,
  options: {
    for: {
      type: 'string',
      value: WaitStage.options.join('|'),
      description: 'the stage to wait for (default built)',
    },
    hosts: { type: 'string', value: 'a,b', description: 'only these hosts' },
    timeout: timeoutOption,
    poll: {
      type: 'boolean',
      description: 'read the status every 2 s instead of following the live event stream',
    },
  },
  needsToken: true,
  prepare(input) {
    const [selector = ''] = input.args;
    const target = enumOption(input, 'for', WaitStage.options) ?? 'built';
    const hosts = listOption(input, 'hosts', HostName);
    const timeout = durationOption(input, 'timeout', { min: 1, max: MAX_TIMEOUT_SECONDS });
    const pollOnly = flagOption(input, 'poll');
    return async (context) => {
      const timeoutSeconds = timeout ?? DEFAULT_TIMEOUT_SECONDS;
      const outcome = await followCommit(context, selector, {
        target,
        hosts,
        timeoutSeconds,
        pollOnly,
      });
      if (context.json) context.out(JSON.stringify(waitOutcomeJson(outcome), null, 2));
      else context.out(renderWaitOutcome(outcome, timeoutSeconds));
      return exitCodeOf(outcome);
    };
  },
};

/** The exit code `flotilla wait` ends with for an outcome. */
export function exitCodeOf(outcome: WaitOutcome): number {
  return outcome.state === 'pending' ? 1 : WAIT_EXIT_CODES[outcome.state];
}

/** Waits, printing progress on stderr (not with --json), and resolves to the outcome. */
export async function followCommit(
  context: CommandContext,
  selector: string,
  options: {
    target: WaitStage;
    hosts: string[] | undefined;
    timeoutSeconds: number;
    pollOnly?: boolean;
  },
): Promise<WaitOutcome> {
  let last = '';
  try {
    return await waitForRevision(context.client, selector, {
      target: options.target,
      hosts: options.hosts,
      timeoutMs: options.timeoutSeconds * 1000,
      pollOnly: options.pollOnly,
      onProgress(progress) {
        if (context.json) return;
        const line = progressLine(progress);
        if (line !== last) context.err(line);
        last = line;
      },
    });
  } catch (error) {
    if (error instanceof RangeError) throw new CliError('validation_failed', error.message);
    throw error;
  }
}

/** One line on stderr each time where the commit stands changes. */
function progressLine(outcome: WaitOutcome): string {
  if (outcome.revision === null) return 'waiting for the controller to record the commit';
  if (outcome.hosts.length === 0) return `${outcome.revision.id}: ${outcome.revision.status}`;
  return `${outcome.revision.id}: ${outcome.hosts.map((h) => `${h.host} ${h.stage}`).join(', ')}`;
}
