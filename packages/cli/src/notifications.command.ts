import { integerOption } from './args.js';
import { printJson, timeFormat, type Command } from './command.js';
import { renderNotificationTable } from './notifications.view.js';

/** `flotilla notifications`: what was sent to webhooks and ntfy, and how each delivery went. */
export const notificationsCommand: Command = {
  name: 'notifications',
  args: [],
  summary: "List recent notifications and how each receiver's delivery went",
  description:
    'Newest first; one row per receiver. A failed delivery is not retried any more; a\n' +
    'retrying one shows when its next try is due.',
  options: {
    limit: {
      type: 'string',
      value: 'N',
      description: 'at most N notifications (1-500, default 50)',
    },
  },
  needsToken: true,
  prepare(input) {
    const limit = integerOption(input, 'limit', { min: 1, max: 500 });
    return async (context) => {
      const list = await context.client.call('listNotifications', { query: { limit } });
      if (context.json) printJson(context, list);
      else context.out(renderNotificationTable(list, timeFormat(context)));
      return 0;
    };
  },
};
