import { printJson, timeFormat, type Command } from './command.js';
import { renderHostRollout, renderRollout, renderWaves } from './rollout.view.js';

/** `flotilla waves`: the waves a revision rolls out through. */
export const wavesCommand: Command = {
  name: 'waves',
  args: [],
  summary: 'List the rollout waves, their hosts and soak times',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const list = await context.client.listWaves();
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
      const rollout = await context.client.getRollout(id);
      if (context.json) printJson(context, rollout);
      else context.out(renderRollout(rollout, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla status HOST`: declared, built, approved, executed, verified. */
export const statusCommand: Command = {
  name: 'status',
  args: ['HOST'],
  summary: 'Show what a host should run and whether it is verified to run it',
  description:
    'Declared is what the branch evaluates to, built the newest release, approved the newest\n' +
    'approved deployment, executed the newest that ran; verified means the agent read back the\n' +
    'executed system as running.',
  options: {},
  needsToken: true,
  prepare(input) {
    const [host = ''] = input.args;
    return async (context) => {
      const rollout = await context.client.getHostRollout(host);
      if (context.json) printJson(context, rollout);
      else context.out(renderHostRollout(rollout));
      return 0;
    };
  },
};
