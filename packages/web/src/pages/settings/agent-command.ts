/** Where the agent's token file goes in the command shown (the README's place for it). */
const TOKEN_FILE = '/var/lib/flotilla-agent/enrollment-token';

/** The agent gateway's URL for a controller URL (`https://fleet` → `wss://fleet/api/v1/agent/ws`). */
export function agentGatewayUrl(controllerUrl: string): string {
  const url = new URL('/api/v1/agent/ws', controllerUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** The command that starts a host's agent with its one-time enrollment token in a file. */
export function agentCommand(host: string, controllerUrl: string, cacheKey: string | null): string {
  return [
    `flotilla-agent --controller-url ${agentGatewayUrl(controllerUrl)} \\`,
    `  --host ${host} --enrollment-token-file ${TOKEN_FILE} \\`,
    `  --trusted-public-key '${cacheKey ?? 'NAME:KEY (the cache key above)'}'`,
  ].join('\n');
}

export const AGENT_TOKEN_FILE = TOKEN_FILE;
