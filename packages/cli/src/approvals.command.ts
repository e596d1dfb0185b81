import { HostName } from '@flotilla/protocol';
import { flagOption, listOption, stringOption } from './args.js';
import {
  printJson,
  timeFormat,
  type Command,
  type CommandInput,
  type OptionSpec,
} from './command.js';
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
      const list = await context.client.listApprovals();
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
    'window (--override-window skips the window). A superseded or quarantined release is\n' +
    'refused (approval_not_allowed) unless the matching flag says so.',
  options: {
    ...decisionOptions,
    'override-window': { type: 'boolean', description: "run outside the host's deploy window" },
    'allow-superseded': {
      type: 'boolean',
      description: 'approve a release a newer one replaced',
    },
    'allow-quarantined': {
      type: 'boolean',
      description: 'approve a release that was rolled back before',
    },
  },
  needsToken: true,
  prepare(input) {
    const { target, fields } = decisionInput(input);
    const flags = {
      overrideWindow: flagOption(input, 'override-window'),
      allowSuperseded: flagOption(input, 'allow-superseded'),
      allowQuarantined: flagOption(input, 'allow-quarantined'),
    };
    return async (context) => {
      const request = {
        decision: 'approve' as const,
        ...targetFields(target),
        ...fields,
        ...flags,
      };
      const result = await context.client.decide(request);
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
      const result = await context.client.decide(request);
      if (context.json) printJson(context, result);
      else context.out(renderDecision(result, 'reject', target));
      return 0;
    };
  },
};
