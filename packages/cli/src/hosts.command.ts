import { HostMode, HostOs, HostStatus } from '@flotilla/protocol';
import { enumOption, flagOption } from './args.js';
import { UsageError } from './errors.js';
import { printJson, timeFormat, type Command } from './command.js';
import { renderCreatedHost, renderHostDetail, renderHostTable } from './hosts.view.js';

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

/** `flotilla host add NAME`: registers a host and shows its agent token once. */
export const hostAddCommand: Command = {
  name: 'host add',
  args: ['NAME'],
  summary: 'Register a host and print its agent token (shown once)',
  options: {
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
    return async (context) => {
      const created = await context.client.call('createHost', { body: { name, mode, os } });
      if (context.json) printJson(context, created);
      else context.out(renderCreatedHost(created, context.client.url));
      return 0;
    };
  },
};

/** `flotilla host remove NAME --yes`: forgets a host. */
export const hostRemoveCommand: Command = {
  name: 'host remove',
  args: ['NAME'],
  summary: 'Remove a host: its token stops working and its deployments are deleted',
  description:
    "The host's agent is disconnected and cannot come back with its token; its deployments,\n" +
    'their logs and its policy are deleted (the audit log keeps what happened). Refused while a\n' +
    'deployment runs on the host. Needs --yes.',
  options: { yes: { type: 'boolean', description: 'yes, remove it' } },
  needsToken: true,
  prepare(input) {
    const [name = ''] = input.args;
    if (!flagOption(input, 'yes')) {
      throw new UsageError(
        `removing ${name} deletes its deployments and revokes its token; add --yes to go on`,
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
