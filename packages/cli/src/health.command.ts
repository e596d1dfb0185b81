import type { Health, HealthDetails } from '@flotilla/protocol';
import { printJson, type Command } from './command.js';
import { keyValues } from './format.js';

/**
 * `flotilla health`: the controller's own health check; exits 1 when degraded. With a token
 * it reads the authenticated health (version, agents connected); without one, the public
 * `/healthz`, which tells only whether the controller and its database work.
 */
export const healthCommand: Command = {
  name: 'health',
  args: [],
  summary: "Check the controller's health (exit 1 when degraded)",
  options: {},
  needsToken: false,
  prepare() {
    return async (context) => {
      const health = context.client.hasToken
        ? await context.client.healthDetails()
        : await context.client.health();
      if (context.json) printJson(context, health);
      else context.out(renderHealth(health, context.client.url));
      return health.status === 'ok' ? 0 : 1;
    };
  },
};

/** The health answer as text. */
export function renderHealth(health: Health | HealthDetails, url: string): string {
  const details: [string, string][] =
    'version' in health
      ? [
          ['Version', health.version],
          ['Agents connected', String(health.agentsConnected)],
        ]
      : [];
  return [
    `controller ${url}: ${health.status}`,
    keyValues([['Database', health.database], ...details], '  '),
  ].join('\n');
}
