import { printJson, timeFormat, type Command } from './command.js';
import { stringOption } from './args.js';
import { UsageError } from './errors.js';
import { renderHostStatus, renderRollout, renderWaves } from './rollout.view.js';

/** `flotilla waves`: the waves a revision rolls out through. */
export const wavesCommand: Command = {
  name: 'waves',
  args: [],
  summary: 'List the rollout waves, their hosts and soak times',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const list = await context.client.call('listWaves');
      if (context.json) printJson(context, list);
      else context.out(renderWaves(list.waves));
      return 0;
    };
  },
};

/** `flotilla rollout REVISION_ID`: how far a revision got through the waves. */
export const rolloutCommand: Command = {
  name: 'rollout',
  args: ['REVISION_ID'],
  summary: "Show a revision's rollout: each wave's state and each host's deployment",
  options: {},
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    return async (context) => {
      const rollout = await context.client.call('getRollout', { params: { id } });
      if (context.json) printJson(context, rollout);
      else context.out(renderRollout(rollout, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla status HOST`: where a host stands, as one story. */
export const statusCommand: Command = {
  name: 'status',
  args: ['HOST'],
  summary: 'Show where a host stands: declared, built, pending, running, verified, pinned',
  description:
    'One story, first line first: monitor-only, deploying, drifted (it runs something no\n' +
    'release explains), awaiting approval, held, pinned, failed, not deployed yet, behind the\n' +
    'branch, or up to date. Verified means the agent read back the deployed system as running.\n' +
    'A host whose file does not evaluate at the branch head shows the error with file and line.',
  options: {},
  needsToken: true,
  prepare(input) {
    const [host = ''] = input.args;
    return async (context) => {
      const report = await context.client.call('getHostStatus', { params: { name: host } });
      if (context.json) printJson(context, report);
      else context.out(renderHostStatus(report, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla rollout resume REVISION_ID --reason TEXT`: lifts a halt. */
export const rolloutResumeCommand: Command = {
  name: 'rollout resume',
  args: ['REVISION_ID'],
  summary: "Resume a halted rollout; the revision's held deployments move on",
  description:
    'A failure or rollback inside a wave halts the rollout of that revision: approvals of it\n' +
    'are refused (rollout_halted) and approved deployments wait. Resuming needs a reason,\n' +
    'which is kept in the audit log.',
  options: {
    reason: { type: 'string', value: 'TEXT', description: 'why it is safe to go on (required)' },
  },
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    const reason = stringOption(input, 'reason');
    if (reason === undefined) throw new UsageError('--reason is required: say why it is safe');
    return async (context) => {
      const rollout = await context.client.call('resumeRollout', {
        params: { id },
        body: { reason },
      });
      if (context.json) printJson(context, rollout);
      else context.out(`resumed.\n\n${renderRollout(rollout, timeFormat(context))}`);
      return 0;
    };
  },
};
