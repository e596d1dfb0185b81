import { flagOption, integerOption, stringOption } from './args.js';
import { forceOptions, printJson, type Command } from './command.js';
import { printDecision } from './deployment-follow.js';
import { UsageError } from './errors.js';
import { forceInput } from './force.js';

/** `flotilla rollback HOST [--to GENERATION]`: re-activate an earlier generation. */
export const rollbackCommand: Command = {
  name: 'rollback',
  args: ['HOST'],
  summary: 'Roll a host back to its last good system (or to a generation); pins the host',
  description:
    'By default the host goes back to the system last verified on it before the current one,\n' +
    'never to one a rollback left (so a second rollback does not return to the bad system).\n' +
    'The profile is switched back to that generation, not copied on top. The rollback is a\n' +
    'deployment like any other: the host activates it, checks its health and is confirmed, or\n' +
    "rolls back by itself; the host's deploy window holds it unless --force with a --reason.\n" +
    'It pins the host (flotilla unpin HOST lets auto move it again). `flotilla host HOST`\n' +
    'lists generations.',
  options: {
    to: {
      type: 'string',
      value: 'GENERATION',
      description: 'the generation number to roll back to',
    },
    comment: { type: 'string', value: 'TEXT', description: 'why; kept in the audit log' },
    ...forceOptions,
    follow: { type: 'boolean', short: 'f', description: 'follow the deployment until it ends' },
  },
  needsToken: true,
  prepare(input) {
    const [host = ''] = input.args;
    const generation = integerOption(input, 'to', { min: 0, max: 1_000_000 });
    const following = flagOption(input, 'follow');
    const force = forceInput(input);
    const comment = stringOption(input, 'comment');
    return async (context) => {
      const decision = await context.client.call('rollbackHost', {
        params: { name: host },
        body: { generation, comment, ...force },
      });
      return printDecision(context, decision, following);
    };
  },
};

/** `flotilla reboot HOST`. */
export const rebootCommand: Command = {
  name: 'reboot',
  args: ['HOST'],
  summary: 'Reboot a managed host; it reports back after the boot',
  description:
    'The host name is typed out a second time, as in "flotilla reboot web1 --confirm web1", so\n' +
    'a reboot is never one mistyped word away. It needs the operator role; a user with TOTP\n' +
    'also gives a current code: --totp CODE, else it is asked for at a terminal.',
  options: {
    confirm: {
      type: 'string',
      value: 'HOST',
      description: 'the host name again, to confirm',
      required: true,
    },
  },
  needsToken: true,
  prepare(input) {
    const [host = ''] = input.args;
    const confirm = stringOption(input, 'confirm');
    if (confirm === undefined) {
      throw new UsageError(`a reboot needs the host name typed out: --confirm ${host || 'HOST'}`);
    }
    return async (context) => {
      const answer = await context.client.call('rebootHost', {
        params: { name: host },
        body: { confirm },
      });
      if (context.json) printJson(context, answer);
      else
        context.out(
          `reboot of ${answer.host} requested (${answer.requestId}); see flotilla host ${answer.host}`,
        );
      return 0;
    };
  },
};
