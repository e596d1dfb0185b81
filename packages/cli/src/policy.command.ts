import { Policy } from '@flotilla/protocol';
import { flagOption, stringOption } from './args.js';
import { printJson, timeFormat, type Command } from './command.js';
import { CliError, UsageError } from './errors.js';
import {
  renderGraduation,
  renderPinChange,
  renderPolicyDetail,
  renderPolicySet,
  renderPolicyTable,
} from './policy.view.js';

const reason = {
  type: 'string',
  value: 'TEXT',
  description: 'why; kept in the audit log',
} as const;

/** `flotilla policy [HOST [POLICY]]`: lists policies, shows one, or sets one. */
export const policyCommand: Command = {
  name: 'policy',
  args: [],
  optionalArgs: ['HOST', 'POLICY'],
  summary: "List hosts' deployment policies, show one, or set one",
  description:
    'manual: each release waits for approval; auto: releases deploy once built; monitor: never\n' +
    'deployed (the host becomes monitor-only; its waiting deployments are cancelled). auto must\n' +
    'be earned (flotilla graduation) or forced with --force and a --reason (graduation_required).\n' +
    "A policy from the controller's config file is locked (policy_locked).",
  options: {
    reason,
    force: { type: 'boolean', description: 'promote to auto before graduation (needs --reason)' },
  },
  needsToken: true,
  prepare(input) {
    const [host, given] = input.args;
    const policy = given === undefined ? undefined : Policy.safeParse(given).data;
    if (given !== undefined && policy === undefined) {
      throw new UsageError(`POLICY must be one of ${Policy.options.join(', ')} (got "${given}")`);
    }
    const why = stringOption(input, 'reason');
    const force = flagOption(input, 'force');
    if (policy === undefined && (why !== undefined || force)) {
      throw new UsageError(
        '--reason and --force go with a new policy: flotilla policy HOST POLICY',
      );
    }
    if (force && why === undefined) throw new UsageError('--force needs a --reason');
    return async (context) => {
      if (host !== undefined && policy !== undefined) {
        const changed = await context.client.call('setPolicy', {
          params: { name: host },
          body: { policy, reason: why, force },
        });
        if (context.json) printJson(context, changed);
        else context.out(renderPolicySet(changed));
        return 0;
      }
      const list = await context.client.call('listPolicies');
      if (host === undefined) {
        if (context.json) printJson(context, list);
        else context.out(renderPolicyTable(list, timeFormat(context)));
        return 0;
      }
      const one = list.policies.find((p) => p.host === host);
      if (one === undefined) throw new CliError('host_not_found', `no host "${host}"`);
      if (context.json) printJson(context, one);
      else context.out(renderPolicyDetail(one, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla pin HOST`: holds every deployment to a host, whatever its policy. */
export const pinCommand: Command = {
  name: 'pin',
  args: ['HOST'],
  summary: 'Pin a host: auto stops moving it forward until it is unpinned',
  description:
    'Releases for a pinned host wait for approval whatever its policy. Approving an older\n' +
    'release than a host runs (a rollback) pins it too.',
  options: { reason },
  needsToken: true,
  prepare(input) {
    const [host = ''] = input.args;
    const why = stringOption(input, 'reason');
    return async (context) => {
      const policy = await context.client.call('pinHost', {
        params: { name: host },
        body: { reason: why },
      });
      if (context.json) printJson(context, policy);
      else context.out(renderPinChange(policy));
      return 0;
    };
  },
};

/** `flotilla unpin HOST`. */
export const unpinCommand: Command = {
  name: 'unpin',
  args: ['HOST'],
  summary: 'Unpin a host so its policy applies again',
  options: {},
  needsToken: true,
  prepare(input) {
    const [host = ''] = input.args;
    return async (context) => {
      const policy = await context.client.call('unpinHost', { params: { name: host } });
      if (context.json) printJson(context, policy);
      else context.out(renderPinChange(policy));
      return 0;
    };
  },
};

/** `flotilla graduation`: which manual hosts have earned `auto`. */
export const graduationCommand: Command = {
  name: 'graduation',
  args: [],
  summary: 'Show which hosts are stable long enough to move to auto',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const list = await context.client.call('graduation');
      if (context.json) printJson(context, list);
      else context.out(renderGraduation(list));
      return 0;
    };
  },
};
