import { HostName } from '@flotilla/protocol';
import { integerOption, stringOption } from './args.js';
import { printJson, timeFormat, type Command } from './command.js';
import { UsageError } from './errors.js';
import { renderAuditTable } from './audit.view.js';

/** `flotilla audit`: who decided what, newest first, one page at a time. */
export const auditCommand: Command = {
  name: 'audit',
  args: [],
  summary: 'Show the audit log: approvals, policy changes, pins and deployments',
  description: 'One page at a time; the footer gives the command for older entries.',
  options: {
    host: { type: 'string', value: 'HOST', description: 'only entries about this host' },
    kind: { type: 'string', value: 'KIND', description: 'only entries of this kind' },
    limit: { type: 'string', value: 'N', description: 'at most N entries (1-1000, default 100)' },
    before: {
      type: 'string',
      value: 'CURSOR',
      description: 'entries older than this cursor (from the previous page)',
    },
  },
  needsToken: true,
  prepare(input) {
    const host = stringOption(input, 'host');
    if (host !== undefined && !HostName.safeParse(host).success) {
      throw new UsageError(`--host: "${host}" is not a valid host name`);
    }
    const kind = stringOption(input, 'kind');
    const limit = integerOption(input, 'limit', { min: 1, max: 1000 });
    const before = integerOption(input, 'before', { min: 1, max: Number.MAX_SAFE_INTEGER });
    return async (context) => {
      const list = await context.client.call('listAudit', { query: { host, kind, before, limit } });
      if (context.json) printJson(context, list);
      else context.out(renderAuditTable(list, { host, kind, limit }, timeFormat(context)));
      return 0;
    };
  },
};
