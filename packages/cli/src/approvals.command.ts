import { HostName } from '@flotilla/protocol';
import { flagOption, listOption, stringOption } from './args.js';
import {
  forceOptions,
  printJson,
  timeFormat,
  type Command,
  type CommandInput,
  type OptionSpec,
} from './command.js';
import { forceInput } from './force.js';
import { parseDecisionTarget, targetFields, type DecisionTarget } from './decision-target.js';
import { UsageError } from './errors.js';
import { renderApprovalTable, renderDecision } from './approvals.view.js';

const TARGET_HELP =
  'TARGET is a deployment id (d…), a release id (r…), or a revision id (rv…) to decide every\n' +
  'deployment of that revision that waits; --hosts and --wave narrow a revision to some hosts.';

const decisionOptions = {
  comment: { type: 'string', value: 'TEXT', description: 'why; kept in the audit log' },
  hosts: {
    type: 'string',
    value: 'HOST,HOST',
    description: 'with a revision: only these hosts',
  },
  wave: { type: 'string', value: 'NAME', description: 'with a revision: only this wave' },
} as const satisfies Record<string, OptionSpec>;

/** The fields shared by approve and reject, checked before any request. */
function decisionInput(input: CommandInput): {
  target: DecisionTarget;
  fields: { hosts?: string[]; wave?: string; comment?: string };
} {
  const target = parseDecisionTarget(input.args[0] ?? '');
  const hosts = listOption(input, 'hosts', HostName);
  const wave = stringOption(input, 'wave');
  if (target.kind !== 'revision' && (hosts !== undefined || wave !== undefined)) {
    throw new UsageError(`--hosts and --wave need a revision id (rv…), not a ${target.kind} id`);
  }
  const comment = stringOption(input, 'comment');
  return { target, fields: { hosts, wave, comment } };
}

/** `flotilla approvals`: deployments waiting for a human. */
export const approvalsCommand: Command = {
  name: 'approvals',
  args: [],
  summary: 'List deployments waiting for approval',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const list = await context.client.call('listApprovals');
      if (context.json) printJson(context, list);
      else context.out(renderApprovalTable(list, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla approve TARGET`: lets waiting deployments run. */
export const approveCommand: Command = {
  name: 'approve',
  args: ['TARGET'],
  summary: 'Approve a waiting deployment, a release, or a whole revision',
  description:
    `${TARGET_HELP}\n` +
    "An approved deployment still waits for its wave, the soak before it and the host's deploy\n" +
    'window; --force with a --reason skips them (and a quarantine), recorded in the audit log.\n' +
    'Approving on a halted rollout is refused (rollout_halted): resume it first. A superseded\n' +
    'release needs --allow-superseded. Deciding a revision is all or nothing: if one host is\n' +
    'refused, nothing is decided and the answer names the host and why.',
  options: {
    ...decisionOptions,
    force: forceOptions.force,
    reason: forceOptions.reason,
    'allow-superseded': {
      type: 'boolean',
      description: 'approve a release a newer one replaced',
    },
  },
  needsToken: true,
  prepare(input) {
    const { target, fields } = decisionInput(input);
    const flags = {
      allowSuperseded: flagOption(input, 'allow-superseded'),
      ...forceInput(input),
    };
    return async (context) => {
      const request = {
        decision: 'approve' as const,
        ...targetFields(target),
        ...fields,
        ...flags,
      };
      const result = await context.client.call('decide', { body: request });
      if (context.json) printJson(context, result);
      else context.out(renderDecision(result, 'approve', target));
      return 0;
    };
  },
};

/** `flotilla reject TARGET`: cancels waiting deployments. */
export const rejectCommand: Command = {
  name: 'reject',
  args: ['TARGET'],
  summary: 'Reject a waiting deployment, a release, or a whole revision',
  description: TARGET_HELP,
  options: decisionOptions,
  needsToken: true,
  prepare(input) {
    const { target, fields } = decisionInput(input);
    return async (context) => {
      const request = { decision: 'reject' as const, ...targetFields(target), ...fields };
      const result = await context.client.call('decide', { body: request });
      if (context.json) printJson(context, result);
      else context.out(renderDecision(result, 'reject', target));
      return 0;
    };
  },
};
