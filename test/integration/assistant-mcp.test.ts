import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type {
  AuditList,
  DeploymentList,
  ErrorBody,
  HostPolicyList,
  PendingApprovalList,
  Revision,
} from '@flotilla/protocol';
import { GitFlakeRepo, JsonClient, writeHost, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

/** The `flotilla` command line: the MCP server is the real CLI, spawned over stdio. */
const CLI = fileURLToPath(new URL('../../../packages/cli/bin/flotilla.js', import.meta.url));

interface ToolAnswer {
  isError?: boolean;
  content: { type: string; text?: string }[];
}

describe(
  'flotilla mcp: an assistant pushes, waits and reads errors, and cannot deploy',
  { timeout: 300_000 },
  () => {
    let fleet: FleetFixture;
    let repo: GitFlakeRepo;
    let assistantToken: string;
    let client: Client;
    let assistantApi: JsonClient;

    const sync = async () => {
      const response = await fleet.api.post('/api/v1/repository/sync', {});
      assert.equal(response.status, 200, JSON.stringify(response.body));
    };
    /** Calls a tool and parses its JSON answer; a tool error fails the test. */
    const tool = async <T>(name: string, args: Record<string, unknown>): Promise<T> => {
      const answer = (await client.callTool({ name, arguments: args }, undefined, {
        timeout: 200_000,
      })) as ToolAnswer;
      const text = answer.content[0]?.text ?? '';
      assert.notEqual(answer.isError, true, `${name}: ${text}`);
      return JSON.parse(text) as T;
    };

    before(async () => {
      fleet = await FleetFixture.start('assistant', {
        config: async (dir) => {
          repo = await GitFlakeRepo.create(join(dir, 'github'));
          await writeSandboxFlake(repo.work, [
            { name: 'alpha', version: '1' },
            { name: 'beta', version: '1' },
          ]);
          await repo.commit('initial fleet');
          await repo.push();
          return { repository: { url: repo.bare, branch: 'main', pollIntervalSeconds: 3600 } };
        },
      });
      await fleet.register('alpha');
      // The admin's own token of the assistant scope: refusals come from the scope, not the role.
      const token = await fleet.api.post<{ token: string }>('/api/v1/tokens', {
        name: 'assistant',
        scope: 'assistant',
      });
      assert.equal(token.status, 201, JSON.stringify(token.body));
      assistantToken = token.body.token;
      assistantApi = new JsonClient(fleet.controller.url, assistantToken);
      await JsonClient.until(async () => {
        const list = (await fleet.api.get<{ revisions: Revision[] }>('/api/v1/revisions')).body;
        return list.revisions[0];
      }, 'the first revision');

      client = new Client({ name: 'flotilla-test', version: '1.0.0' });
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [CLI, 'mcp'],
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            FLOTILLA_URL: fleet.controller.url,
            FLOTILLA_TOKEN: assistantToken,
            FLOTILLA_CONTEXT_FILE: join(fleet.dir, 'no-contexts.json'),
          },
          stderr: 'ignore',
        }),
      );
    });

    after(async () => {
      await client?.close();
      await fleet?.stop();
    });

    it('offers read-only tools and the fleet configuration, none that decides', async () => {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name).sort();
      assert.deepEqual(names, [
        'build_log',
        'deployment_history',
        'deployment_log',
        'evaluation_errors',
        'fleet_overview',
        'host_status',
        'pipeline_status',
        'revision_changes',
        'wait_for_revision',
      ]);
      const wait = tools.find((t) => t.name === 'wait_for_revision');
      assert.deepEqual(wait?.inputSchema.required, ['revision']);
      const resource = await client.readResource({ uri: 'flotilla://fleet/configuration' });
      const content = resource.contents[0];
      assert.ok(content && 'text' in content);
      const config = JSON.parse(content.text) as {
        repository: { branch: string };
        flakeHosts: { name: string }[];
      };
      assert.equal(config.repository.branch, 'main');
      assert.deepEqual(
        config.flakeHosts.map((h) => h.name),
        ['alpha', 'beta'],
      );
    });

    it('reports a pushed evaluation error with its file and line', async () => {
      await writeFile(
        join(repo.work, 'hosts', 'beta.nix'),
        '{\n  version = "2";\n  exitCode = 0\n}\n',
      );
      const sha = await repo.commit('beta: broken');
      await repo.push();
      await sync();
      const outcome = await tool<{
        state: string;
        exitCode: number;
        hosts: {
          host: string;
          state: string;
          error: { location: string; message: string } | null;
        }[];
      }>('wait_for_revision', { revision: sha, timeoutSeconds: 120 });
      assert.equal(outcome.state, 'evaluation_failed');
      assert.equal(outcome.exitCode, 3);
      const beta = outcome.hosts.find((h) => h.host === 'beta');
      assert.equal(beta?.error?.location, 'hosts/beta.nix:4:1');
      assert.match(beta.error.message, /^syntax error, unexpected '}'/);
      const errors = await tool<{
        hosts: { host: string; location: { file: string; line: number } }[];
      }>('evaluation_errors', { revision: sha.slice(0, 8) });
      assert.deepEqual(
        errors.hosts.map((h) => [h.host, h.location.file, h.location.line]),
        [['beta', 'hosts/beta.nix', 4]],
      );
    });

    it('follows a good commit to built and says which hosts it changes', async () => {
      await writeHost(repo.work, { name: 'beta', version: '2' });
      await writeHost(repo.work, { name: 'alpha', version: '2' });
      const sha = await repo.commit('alpha, beta: version 2');
      await repo.push();
      await sync();
      const outcome = await tool<{ state: string; hosts: { host: string; stage: string }[] }>(
        'wait_for_revision',
        { revision: sha, for: 'built', timeoutSeconds: 180 },
      );
      assert.equal(outcome.state, 'reached');
      assert.deepEqual(
        outcome.hosts.map((h) => [h.host, h.stage]),
        [
          ['alpha', 'built'],
          ['beta', 'built'],
        ],
      );
      const changes = await tool<{ hosts: { host: string; changed: boolean }[] }>(
        'revision_changes',
        { revision: sha },
      );
      assert.deepEqual(
        changes.hosts.map((h) => [h.host, h.changed]),
        [
          ['alpha', true],
          ['beta', true],
        ],
      );
    });

    it('every deciding action is refused to the assistant scope, and nothing changes', async () => {
      const approvals = await JsonClient.until(async () => {
        const list = (await fleet.api.get<PendingApprovalList>('/api/v1/approvals')).body;
        return list.approvals.find((a) => a.host === 'alpha');
      }, "alpha's deployment to wait for approval");
      assert.ok(approvals.releaseId !== null);
      const before = await state();
      const attempts: [string, string, string, unknown][] = [
        [
          'approve',
          'POST',
          '/api/v1/approvals',
          { decision: 'approve', deploymentId: approvals.deploymentId },
        ],
        [
          'reject',
          'POST',
          '/api/v1/approvals',
          { decision: 'reject', deploymentId: approvals.deploymentId },
        ],
        [
          'deploy',
          'POST',
          '/api/v1/deployments',
          { host: 'alpha', releaseId: approvals.releaseId },
        ],
        ['rollback', 'POST', '/api/v1/hosts/alpha/rollback', {}],
        ['reboot', 'POST', '/api/v1/hosts/alpha/reboot', { confirm: 'alpha' }],
        [
          'policy',
          'PUT',
          '/api/v1/hosts/alpha/policy',
          { policy: 'auto', force: true, reason: 'x' },
        ],
        ['pin', 'POST', '/api/v1/hosts/alpha/pin', {}],
        ['sync', 'POST', '/api/v1/repository/sync', {}],
      ];
      for (const [what, method, path, body] of attempts) {
        const answer = await assistantApi.request<{ error: ErrorBody }>(method, path, body);
        assert.equal(answer.status, 403, `${what}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'scope_forbidden', what);
      }
      assert.deepEqual(await state(), before);
    });

    /** What a refused action would have changed: deployments, policies, the audit log. */
    async function state() {
      const deployments = (await fleet.api.get<DeploymentList>('/api/v1/deployments?limit=500'))
        .body;
      const policies = (await fleet.api.get<HostPolicyList>('/api/v1/policies')).body;
      const audit = (await fleet.api.get<AuditList>('/api/v1/audit?limit=500')).body;
      return {
        deployments: deployments.deployments.map((d) => [d.id, d.status]),
        policies,
        audit: audit.entries.length,
      };
    }
  },
);
