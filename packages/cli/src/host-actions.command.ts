import { flagOption, integerOption } from './args.js';
import { printJson, type Command } from './command.js';
import { printCreated } from './deployment-follow.js';

/** `flotilla rollback HOST [--to GENERATION]`: re-activate an earlier generation. */
export const rollbackCommand: Command = {
  name: 'rollback',
  args: ['HOST'],
  summary: 'Roll a host back to an earlier generation (default: the one before the current)',
  description:
    'The rollback is a deployment like any other: the host activates the generation, checks\n' +
    'its health and is confirmed, or rolls back by itself. `flotilla host HOST` lists generations.',
  options: {
    to: {
      type: 'string',
      value: 'GENERATION',
      description: 'the generation number to roll back to',
    },
    follow: { type: 'boolean', short: 'f', description: 'follow the deployment until it ends' },
  },
  needsToken: true,
  prepare(input) {
    const [host = ''] = input.args;
    const generation = integerOption(input, 'to', { min: 0, max: 1_000_000 });
    const following = flagOption(input, 'follow');
    return async (context) => {
      const deployment = await context.client.rollbackHost(host, generation);
      return printCreated(context, deployment, following);
    };
  },
};

/** `flotilla reboot HOST`. */
export const rebootCommand: Command = {
  name: 'reboot',
  args: ['HOST'],
  summary: 'Reboot a managed host (it reports back after the boot)',
  options: {},
  needsToken: true,
  prepare(input) {
    const [host = ''] = input.args;
    return async (context) => {
      const answer = await context.client.rebootHost(host);
      if (context.json) printJson(context, answer);
      else
        context.out(
          `reboot of ${answer.host} requested (${answer.requestId}); see flotilla host ${answer.host}`,
        );
      return 0;
    };
  },
};
