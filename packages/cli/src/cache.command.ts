import type { CacheInfo } from '@flotilla/protocol';
import { printJson, type Command } from './command.js';
import { keyValues } from './format.js';

/** `flotilla cache`: the controller's cache key, ready to paste into a host's Nix settings. */
export const cacheCommand: Command = {
  name: 'cache',
  args: [],
  summary: "Show the binary cache's public key, which each agent's config must trust",
  description:
    'Agents trust only the keys of their own config (--trusted-public-key): deploy requests\n' +
    'carry no keys. The cache serves agents only, each its own releases, with short-lived\n' +
    'credentials their agent asks for over its connection.',
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
    'Agent setting (flag, or trustedPublicKeys in its --config file):',
    `  --trusted-public-key ${cache.publicKey}`,
  ].join('\n');
}
