import type { Health } from '@flotilla/protocol';
import { printJson, type Command } from './command.js';
import { keyValues } from './format.js';

/** `flotilla health`: the controller's own health check; exits 1 when degraded. */
export const healthCommand: Command = {
  name: 'health',
  args: [],
  summary: "Check the controller's health (exit 1 when degraded)",
  options: {},
  needsToken: false,
  prepare() {
    return async (context) => {
      const health = await context.client.health();
      if (context.json) printJson(context, health);
      else context.out(renderHealth(health, context.client.url));
      return health.status === 'ok' ? 0 : 1;
    };
  },
};

/** The health answer as text. */
export function renderHealth(health: Health, url: string): string {
  return [
    `controller ${url}: ${health.status}`,
    keyValues(
      [
        ['Version', health.version],
        ['Database', health.database],
        ['Agents connected', String(health.agentsConnected)],
      ],
      '  ',
    ),
  ].join('\n');
}
