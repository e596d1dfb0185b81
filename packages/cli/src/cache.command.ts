import type { CacheInfo } from '@flotilla/protocol';
import { printJson, type Command } from './command.js';
import { keyValues } from './format.js';

/** `flotilla cache`: the controller's cache key, ready to paste into a host's Nix settings. */
export const cacheCommand: Command = {
  name: 'cache',
  args: [],
  summary: "Show the binary cache's public key and the Nix settings that trust it",
  description:
    'Agents are sent the cache URL and key with every deployment; the settings are for\n' +
    'hosts or builders that should also use the cache outside deployments.',
  options: {},
  needsToken: true,
  prepare() {
    return async (context) => {
      const cache = await context.client.call('getCacheInfo');
      if (context.json) printJson(context, cache);
      else context.out(renderCache(cache, context.client.url));
      return 0;
    };
  },
};

/** The cache info as text, with the `nix.conf` lines a host needs. */
export function renderCache(cache: CacheInfo, controllerUrl: string): string {
  return [
    keyValues([
      ['Public key', cache.publicKey],
      ['URL', `${controllerUrl}${cache.path}`],
      ['Also pushed to', cache.pushTo ?? '-'],
    ]),
    '',
    'nix.conf (the host token goes in a netrc file, as its password, for the URL):',
    `  extra-substituters = ${controllerUrl}${cache.path}`,
    `  extra-trusted-public-keys = ${cache.publicKey}`,
  ].join('\n');
}
