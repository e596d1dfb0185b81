import { HostMode, HostOs, HostStatus, type EnrollmentToken } from '@flotilla/protocol';
import { durationOption, enumOption, flagOption, stringOption } from './args.js';
import { UsageError } from './errors.js';
import {
  printJson,
  timeFormat,
  type Command,
  type CommandContext,
  type OptionSpec,
} from './command.js';
import {
  renderCreatedHost,
  renderEnrollment,
  renderHostDetail,
  renderHostTable,
  renderRevoked,
} from './hosts.view.js';

/** How long an enrollment token may be valid: a minute to 30 days. */
const EXPIRY_RANGE = { min: 60, max: 30 * 86400 };

const expiresInOption: OptionSpec = {
  type: 'string',
  value: 'DURATION',
  description: 'how long the enrollment token stays valid, e.g. 30m, 1h, 7d (default 1h)',
};

/**
 * The cache key agents must trust, for the agent settings shown with a token; null when the
 * caller may not read it (the token is what matters).
 */
async function cacheKey(context: CommandContext): Promise<string | null> {
  try {
    return (await context.client.call('getCacheInfo')).publicKey;
  } catch {
    return null;
  }
}

async function printEnrollment(
  context: CommandContext,
  enrollment: EnrollmentToken,
  renewal: boolean,
): Promise<void> {
  const key = await cacheKey(context);
  context.out(renderEnrollment(enrollment, context.client.url, key, timeFormat(context), renewal));
}

/** `flotilla hosts`: every host, following pages until the last. */
export const hostsCommand: Command = {
  name: 'hosts',
  args: [],
  summary: 'List all hosts with their status, agent and system',
  options: {
    status: {
      type: 'string',
      value: HostStatus.options.join('|'),
      description: 'only hosts with this status',
    },
  },
  needsToken: true,
  prepare(input) {
    const status = enumOption(input, 'status', HostStatus.options);
    return async (context) => {
      const list = await context.client.listAllHosts({ status });
      if (context.json) printJson(context, list);
      else context.out(renderHostTable(list, timeFormat(context), status !== undefined));
      return 0;
    };
  },
};

/** `flotilla host NAME`: one host in detail. */
export const hostCommand: Command = {
  name: 'host',
  args: ['NAME'],
  summary: 'Show one host: status, facts, systems and metrics',
  options: {},
  needsToken: true,
  prepare(input) {
    const [name = ''] = input.args;
    return async (context) => {
      const host = await context.client.call('getHost', { params: { name } });
      if (context.json) printJson(context, host);
      else context.out(renderHostDetail(host, timeFormat(context)));
      return 0;
    };
  },
};

/** `flotilla host add NAME`: registers a host and shows its enrollment token once. */
export const hostAddCommand: Command = {
  name: 'host add',
  args: ['NAME'],
  summary: 'Register a host and print its one-time enrollment token and agent settings',
  description:
    "The token is shown once and works once: the host's agent makes its own key on first\n" +
    'start and enrolls it with the token; from then on it proves that key, no secret travels.',
  options: {
    'expires-in': expiresInOption,
    mode: {
      type: 'string',
      value: HostMode.options.join('|'),
      description: 'managed hosts take deployments; monitor hosts only report (default managed)',
    },
    os: {
      type: 'string',
      value: HostOs.options.join('|'),
      description: "the host's operating system",
    },
  },
  needsToken: true,
  prepare(input) {
    const [name = ''] = input.args;
    const mode = enumOption(input, 'mode', HostMode.options);
    const os = enumOption(input, 'os', HostOs.options);
    const expires = durationOption(input, 'expires-in', EXPIRY_RANGE);
    return async (context) => {
      const created = await context.client.call('createHost', {
        body: { name, mode, os, enrollmentExpiresInSeconds: expires },
      });
      if (context.json) {
        printJson(context, created);
        return 0;
      }
      context.out(renderCreatedHost(created));
      await printEnrollment(context, created.enrollment, false);
      return 0;
    };
  },
};

/** `flotilla host enroll NAME`: a fresh enrollment token (a new key for the host). */
export const hostEnrollCommand: Command = {
  name: 'host enroll',
  args: ['NAME'],
  summary: 'Issue a new one-time enrollment token for a host (to replace or restore its key)',
  description:
    'For a reinstalled host, a lost state directory, a revoked host or a key to replace. The\n' +
    "host's current key keeps working until its agent enrolls with the new token; then only\n" +
    'the new key works. Older unused tokens of the host stop working at once.',
  options: { 'expires-in': expiresInOption },
  needsToken: true,
  prepare(input) {
    const [name = ''] = input.args;
    const expires = durationOption(input, 'expires-in', EXPIRY_RANGE);
    return async (context) => {
      const enrollment = await context.client.call('issueEnrollment', {
        params: { name },
        body: { expiresInSeconds: expires },
      });
      if (context.json) printJson(context, enrollment);
      else await printEnrollment(context, enrollment, true);
      return 0;
    };
  },
};

/** `flotilla host revoke NAME`: the host's key stops working and its agent is cut off. */
export const hostRevokeCommand: Command = {
  name: 'host revoke',
  args: ['NAME'],
  summary: "Revoke a host's key: its agent is disconnected at once and stays out until it enrolls",
  description:
    'For a lost or compromised host. Its unused enrollment tokens stop working too; the host\n' +
    'and its history stay. It comes back only with a new token: flotilla host enroll NAME.',
  options: { reason: { type: 'string', value: 'TEXT', description: 'why; kept in the audit log' } },
  needsToken: true,
  prepare(input) {
    const [name = ''] = input.args;
    const reason = stringOption(input, 'reason');
    return async (context) => {
      const revoked = await context.client.call('revokeHost', {
        params: { name },
        body: { reason },
      });
      if (context.json) printJson(context, revoked);
      else context.out(renderRevoked(revoked));
      return 0;
    };
  },
};

/** `flotilla host remove NAME --yes`: forgets a host. */
export const hostRemoveCommand: Command = {
  name: 'host remove',
  args: ['NAME'],
  summary: 'Remove a host: its key stops working and its deployments are deleted',
  description:
    "The host's agent is disconnected and cannot come back with its key; its deployments,\n" +
    'their logs and its policy are deleted (the audit log keeps what happened). Refused while a\n' +
    'deployment runs on the host. Needs --yes.',
  options: { yes: { type: 'boolean', description: 'yes, remove it' } },
  needsToken: true,
  prepare(input) {
    const [name = ''] = input.args;
    if (!flagOption(input, 'yes')) {
      throw new UsageError(
        `removing ${name} deletes its deployments and revokes its key; add --yes to go on`,
      );
    }
    return async (context) => {
      const removed = await context.client.call('removeHost', { params: { name } });
      if (context.json) printJson(context, removed);
      else
        context.out(
          `host ${removed.removed} removed (${removed.deploymentsRemoved} deployments deleted)`,
        );
      return 0;
    };
  },
};
