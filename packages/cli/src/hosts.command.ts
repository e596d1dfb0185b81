import { HostMode, HostOs, HostStatus } from '@flotilla/protocol';
import { enumOption } from './args.js';
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
      const host = await context.client.getHost(name);
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
      const created = await context.client.createHost({ name, mode, os });
      if (context.json) printJson(context, created);
      else context.out(renderCreatedHost(created, context.client.url));
      return 0;
    };
  },
};
