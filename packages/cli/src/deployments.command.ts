import { DeployAction } from '@flotilla/protocol';
import { enumOption, flagOption, integerOption, stringOption } from './args.js';
import { forceInput } from './force.js';
import { forceOptions, printJson, timeFormat, type Command } from './command.js';
import { followDeployment, printDecision } from './deployment-follow.js';
import { renderDeploymentTable, renderDeploymentWithLog } from './deployments.view.js';
import { renderPlan } from './plan.view.js';

const FOLLOW_JSON =
  'With --follow and --json, one JSON document is printed per line: the deployment, each log\n' +
  'page that brought lines or a new status, and finally the deployment as it ended.';

const follow = {
  type: 'boolean',
  short: 'f',
  description: 'print the log as it grows until the deployment ends; exit 0 only if it succeeded',
} as const;

/** `flotilla deploy HOST STORE_PATH|RELEASE_ID`: asks the controller to deploy a built system. */
export const deployCommand: Command = {
  name: 'deploy',
  args: ['HOST', 'STORE_PATH|RELEASE_ID'],
  summary: 'Deploy a release or a store path to a host',
  description:
    'A target starting with /nix/store/ is a store path; anything else is a release id\n' +
    '(see flotilla releases). Deploying counts as your approval: a deployment of the same\n' +
    'release that waits for approval is approved instead of adding a second one. It then\n' +
    "passes the same gates as every deployment: earlier waves, their soak and the host's\n" +
    'deploy window hold it (the answer says why) unless --force with a --reason.\n' +
    `${FOLLOW_JSON}`,
  options: {
    action: {
      type: 'string',
      value: DeployAction.options.join('|'),
      description: 'what switch-to-configuration does (default switch)',
    },
    comment: { type: 'string', value: 'TEXT', description: 'a note kept with the approval' },
    ...forceOptions,
    follow,
  },
  needsToken: true,
  prepare(input) {
    const [host = '', target = ''] = input.args;
    const what = target.startsWith('/nix/store/') ? { storePath: target } : { releaseId: target };
    const action = enumOption(input, 'action', DeployAction.options);
    const following = flagOption(input, 'follow');
    const force = forceInput(input);
    const comment = stringOption(input, 'comment');
    return async (context) => {
      const decision = await context.client.call('createDeployment', {
        body: { host, ...what, action, comment, ...force },
      });
      return printDecision(context, decision, following);
    };
  },
};

/** `flotilla deployments`: recent deployments, newest first. */
export const deploymentsCommand: Command = {
  name: 'deployments',
  args: [],
  summary: 'List recent deployments',
  options: {
    host: { type: 'string', value: 'HOST', description: 'only deployments to this host' },
    limit: { type: 'string', value: 'N', description: 'at most N deployments (1-500, default 50)' },
  },
  needsToken: true,
  prepare(input) {
    const host = stringOption(input, 'host');
    const limit = integerOption(input, 'limit', { min: 1, max: 500 });
    return async (context) => {
      const list = await context.client.call('listDeployments', { query: { host, limit } });
      if (context.json) printJson(context, list);
      else context.out(renderDeploymentTable(list, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla deployment ID`: one deployment with its log, optionally followed to its end. */
export const deploymentCommand: Command = {
  name: 'deployment',
  args: ['ID'],
  summary: 'Show a deployment and its log',
  description: FOLLOW_JSON,
  options: { follow },
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    const following = flagOption(input, 'follow');
    return async (context) => {
      const deployment = await context.client.call('getDeployment', { params: { id } });
      if (!following) {
        if (context.json) printJson(context, deployment);
        else context.out(renderDeploymentWithLog(deployment, timeFormat(context)));
        return 0;
      }
      context.out(
        context.json
          ? JSON.stringify(deployment)
          : renderDeploymentWithLog(deployment, timeFormat(context)),
      );
      const after = deployment.log.reduce((max, line) => Math.max(max, line.seq), 0);
      return followDeployment(context, deployment.id, { after, status: deployment.status });
    };
  },
};

/** `flotilla deployment plan ID`: what a deployment will change, as its host's agent prepared it. */
export const deploymentPlanCommand: Command = {
  name: 'deployment plan',
  args: ['ID'],
  summary: 'Show what a waiting deployment will change on its host',
  description:
    "While a deployment waits, the host's agent fetches its closure and tells what it changes:\n" +
    'packages added, removed and changed (nix store diff-closures against the running\n' +
    'system), the units activation stops, starts, restarts and reloads (switch-to-configuration\n' +
    'dry-activate), and whether the new kernel or initrd needs a reboot.',
  options: {},
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    return async (context) => {
      const plan = await context.client.call('getDeploymentPlan', { params: { id } });
      if (context.json) printJson(context, plan);
      else context.out(renderPlan(plan, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla deployment cancel ID`: stops a deployment nothing was sent for yet. */
export const deploymentCancelCommand: Command = {
  name: 'deployment cancel',
  args: ['ID'],
  summary: 'Cancel a deployment that waits (for approval, its wave or window, or an offline host)',
  description:
    'A deployment already running on its host cannot be cancelled (deployment_not_cancellable):\n' +
    'the agent finishes it, or rolls it back by itself if it fails.',
  options: { reason: { type: 'string', value: 'TEXT', description: 'why; kept in the audit log' } },
  needsToken: true,
  prepare(input) {
    const [id = ''] = input.args;
    const reason = stringOption(input, 'reason');
    return async (context) => {
      const deployment = await context.client.call('cancelDeployment', {
        params: { id },
        body: reason === undefined ? {} : { reason },
      });
      if (context.json) printJson(context, deployment);
      else context.out(`deployment ${deployment.id} on ${deployment.host} is cancelled`);
      return 0;
    };
  },
};
