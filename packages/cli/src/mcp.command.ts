import { FLOTILLA_VERSION } from '@flotilla/protocol';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { ApiClient } from './api-client.js';
import type { Command, CommandContext } from './command.js';
import { CliError } from './errors.js';
import { ASSISTANT_TOOLS, fleetConfiguration, type AssistantTool } from './mcp.tools.js';

/** The resource holding the fleet's configuration summary. */
export const FLEET_CONFIGURATION_URI = 'flotilla://fleet/configuration';

const INSTRUCTIONS = `Flotilla manages a fleet of NixOS hosts from one flake repository.
Your loop: before pushing, revision_changes with the pull request's ref shows which hosts a change rebuilds;
after pushing, wait_for_revision (for: built) with the commit id; on evaluation_failed or build_failed,
read the error (file:line:column first; build_log for a build), fix, push again. Deployments need a human's
approval: tell the human which commit is built and which hosts it changes. This server cannot approve,
deploy, roll back, reboot or change policies, and the controller refuses those to its token.`;

/**
 * `flotilla mcp`: a Model Context Protocol server on standard input and output for an AI
 * assistant, with the tools of `mcp.tools.ts`. Standard output carries only the protocol;
 * anything else goes to standard error.
 */
export const mcpCommand: Command = {
  name: 'mcp',
  args: [],
  summary: 'Serve the read-only assistant tools over MCP on stdio (needs an assistant token)',
  description: `Starts a Model Context Protocol server on standard input/output for an AI assistant.
Authenticate with an API token of the assistant scope (flotilla token create NAME --scope assistant),
e.g. FLOTILLA_URL and FLOTILLA_TOKEN in the assistant's MCP server config. Tools: ${ASSISTANT_TOOLS.map((t) => t.name).join(', ')}.
Resource: ${FLEET_CONFIGURATION_URI}. See docs/AGENT-WORKFLOW.md.`,
  options: {},
  needsToken: true,
  prepare() {
    return (context) => serveMcp(context);
  },
};

async function serveMcp(context: CommandContext): Promise<number> {
  const stdio = context.stdio;
  if (stdio === undefined)
    throw new CliError('not_configured', 'flotilla mcp needs standard input and output');
  const me = await context.client.call('me');
  if (me.scope !== 'assistant') {
    throw new CliError(
      'invalid_setting',
      `flotilla mcp runs only with an API token of the assistant scope (this one is ${me.scope ?? me.via}): flotilla token create NAME --scope assistant`,
    );
  }
  const server = createAssistantServer(context.client, (line) => context.err(line));
  const transport = new StdioServerTransport(stdio.input, stdio.output);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  stdio.input.once('end', () => void server.close());
  await server.connect(transport);
  context.err(
    `flotilla mcp: serving ${ASSISTANT_TOOLS.length} tools for ${me.user.username} at ${context.client.url}`,
  );
  await closed;
  return 0;
}

/** The MCP server with every assistant tool and the configuration resource. */
export function createAssistantServer(client: ApiClient, log: (line: string) => void): McpServer {
  const server = new McpServer(
    { name: 'flotilla', version: FLOTILLA_VERSION },
    { instructions: INSTRUCTIONS },
  );
  for (const definition of ASSISTANT_TOOLS) register(server, client, definition, log);
  server.registerResource(
    'fleet-configuration',
    FLEET_CONFIGURATION_URI,
    {
      title: 'Fleet configuration',
      description:
        'The linked repository and branch, the hosts the flake declares (registered or not), each host policy and the rollout waves',
      mimeType: 'application/json',
    },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify(await fleetConfiguration(client), null, 2),
        },
      ],
    }),
  );
  return server;
}

function register(
  server: McpServer,
  client: ApiClient,
  definition: AssistantTool,
  log: (line: string) => void,
): void {
  server.registerTool(
    definition.name,
    {
      title: definition.title,
      description: definition.description,
      inputSchema: definition.input,
      annotations: {
        readOnlyHint: definition.name !== 'revision_changes',
        destructiveHint: false,
        openWorldHint: false,
      },
    },
    async (input: Record<string, unknown>) => {
      try {
        const result = await definition.run(client, input);
        return { content: [{ type: 'text' as const, text: JSON.stringify(result, null, 2) }] };
      } catch (error) {
        const body =
          error instanceof CliError
            ? error.toBody()
            : {
                code: error instanceof RangeError ? 'validation_failed' : 'internal_error',
                message: error instanceof Error ? error.message : String(error),
              };
        log(`flotilla mcp: ${definition.name} failed: ${body.message} (${body.code})`);
        return {
          isError: true,
          content: [{ type: 'text' as const, text: JSON.stringify({ error: body }, null, 2) }],
        };
      }
    },
  );
}
