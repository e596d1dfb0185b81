import {
  DeploymentStatus,
  HostName,
  RefName,
  RevisionSelector,
  type LogLine,
  type BuildLogLine,
} from '@flotilla/protocol';
import * as z from 'zod';
import type { ApiClient } from './api-client.js';
import { readStatus, waitForRevision } from './revision-wait.js';
import { decideWait, usefulErrorLines, WAIT_EXIT_CODES } from './wait-outcome.js';

/**
 * The assistant's tools: each reads the controller through the same typed client as the
 * CLI, with the assistant-scoped token the server was started with. None approves,
 * deploys, rolls back, reboots or changes a policy; the controller refuses those to that
 * scope anyway (`scope_forbidden`).
 */

/** One tool: its input schema (a zod object shape), what it is for, and what it does. */
export interface AssistantTool<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: S;
  run(client: ApiClient, input: z.infer<z.ZodObject<S>>): Promise<unknown>;
}

function tool<S extends z.ZodRawShape>(definition: AssistantTool<S>): AssistantTool<S> {
  return definition;
}

const revision = RevisionSelector.describe(
  'The commit: a full commit id or a prefix of 7+ hex digits, HEAD or the tracked branch name (its newest recorded commit), a revision id (rv…), or a previewed ref such as refs/pull/12/head',
);
const maxLines = (fallback: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(500)
    .default(fallback)
    .describe(`At most this many log lines (1-500, default ${fallback}); the error comes first`);

/** Longest wait one tool call may take, in seconds (clients time out requests). */
export const MAX_WAIT_SECONDS = 600;

export const ASSISTANT_TOOLS = [
  tool({
    name: 'fleet_overview',
    title: 'Fleet overview',
    description:
      'Every host with mode (managed/monitor), online state, OS, the revision it runs against the branch head (up to date, behind, drifted), policy (manual/auto), waiting approvals and its last deployment. Read-only.',
    input: {},
    run: (client) => client.call('overview'),
  }),
  tool({
    name: 'host_status',
    title: "One host's status and drift",
    description:
      'One host as a story (state, summary, details): what the branch declares for it (or its evaluation error with file:line), what was built, what waits for approval, what it runs and whether that is verified, plus its facts and drift against the branch. Read-only.',
    input: { host: HostName.describe('Host name, e.g. gpc0') },
    run: async (client, { host }) => ({
      status: await client.call('getHostStatus', { params: { name: host } }),
      host: await client.call('getHost', { params: { name: host } }),
    }),
  }),
  tool({
    name: 'revision_changes',
    title: 'What a commit or pull request changes',
    description:
      'Which hosts a commit or a pull request rebuilds. With `ref` (e.g. refs/pull/12/head) the controller records a preview (never deployed, never signed) and answers per host: changed or not, build status, closure size and its change against the tracked branch. With `revision` (a commit of the tracked branch) it answers per host whether the system changed, and for hosts with a deployment waiting the activation plan (packages added/removed/changed, units restarted, reboot needed) when the agent has prepared one. Give exactly one of the two.',
    input: {
      revision: revision.optional(),
      ref: RefName.describe('A pull request head such as refs/pull/12/head').optional(),
    },
    run: async (client, input) => {
      if ((input.revision === undefined) === (input.ref === undefined)) {
        throw new RangeError('give exactly one of revision and ref');
      }
      if (input.ref !== undefined) {
        const created = await client.call('createPreview', { body: { ref: input.ref } });
        return client.call('getPreview', { params: { id: created.revision.id } });
      }
      const status = await client.call('getRevisionStatus', {
        params: { rev: input.revision ?? '' },
      });
      const hosts = [];
      for (const host of status.hosts) {
        const plan = host.deployment
          ? await client
              .call('getDeploymentPlan', { params: { id: host.deployment.id } })
              .catch(() => null)
          : null;
        hosts.push({
          host: host.host,
          changed: host.changed,
          evaluation: host.evaluation,
          error: host.error,
          build: host.build?.status ?? null,
          deployment: host.deployment,
          plan,
        });
      }
      return { revision: status.revision, error: status.error, hosts };
    },
  }),
  tool({
    name: 'pipeline_status',
    title: 'Pipeline status of a commit',
    description:
      'Where one commit stands, host by host: evaluation (ok, or the error with file:line:column), build (status, error summary), release, deployment (status, error). `outcome` says whether it is built yet: reached, pending, evaluation_failed, build_failed or deployment_failed. A commit the controller has not fetched yet answers {"recorded": false}. Read-only.',
    input: { revision },
    run: async (client, { revision: selector }) => {
      const status = await readStatus(client, selector);
      if (status === null) return { recorded: false };
      const outcome = decideWait(status, 'built');
      return { recorded: true, outcome: outcome.state, hosts: outcome.hosts, status };
    },
  }),
  tool({
    name: 'evaluation_errors',
    title: "A commit's evaluation errors",
    description:
      "Nix's evaluation errors of a commit: for the whole flake (when flake.nix itself failed) and per host, each with the message and file:line:column first, then Nix's error text cut to `maxChars`. Empty `hosts` when everything evaluated.",
    input: {
      revision,
      maxChars: z
        .number()
        .int()
        .min(200)
        .max(20_000)
        .default(4000)
        .describe("Nix's full error text is cut to this many characters per host"),
    },
    run: async (client, { revision: selector, maxChars }) => {
      const status = await client.call('getRevisionStatus', { params: { rev: selector } });
      const full = await client.call('getRevision', { params: { id: status.revision.id } });
      const evaluation = full.evaluation as { hostErrors?: Record<string, string> } | null;
      return {
        revision: status.revision,
        error: status.error && {
          ...status.error,
          text: (full.errorText ?? '').slice(0, maxChars),
        },
        hosts: status.hosts
          .filter((h) => h.evaluation === 'failed')
          .map((h) => ({
            host: h.host,
            message: h.error?.message ?? null,
            location: h.error?.location ?? null,
            text: (evaluation?.hostErrors?.[h.host] ?? '').slice(0, maxChars),
          })),
      };
    },
  }),
  tool({
    name: 'build_log',
    title: 'Build log',
    description:
      "A build's status and Nix's error summary first, then the last `maxLines` lines of its log. Build ids come from pipeline_status (hosts[].buildId).",
    input: {
      buildId: z.string().min(1).max(64).describe('A build id, e.g. b…'),
      maxLines: maxLines(80),
    },
    run: async (client, { buildId, maxLines: max }) => {
      const build = await client.call('getBuild', { params: { id: buildId } });
      const tail = await readTail(
        (after) =>
          client.call('getBuildLog', { params: { id: buildId }, query: { after, limit: 5000 } }),
        max,
      );
      return {
        id: build.id,
        host: build.host,
        revisionId: build.revisionId,
        status: build.status,
        errorLines: build.errorSummary === null ? [] : usefulErrorLines(build.errorSummary, 40),
        logTruncated: build.logTruncated,
        tail: tail.map((line) => line.line),
      };
    },
  }),
  tool({
    name: 'deployment_history',
    title: 'Deployment history',
    description:
      'Deployments, newest first, optionally of one host or in some statuses: release, revision, status, who approved, when, and the error of failed ones. Read-only.',
    input: {
      host: HostName.optional().describe('Only this host'),
      status: z.array(DeploymentStatus).max(12).optional().describe('Only these statuses'),
      limit: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(20)
        .describe('At most this many (default 20)'),
    },
    run: (client, { host, status, limit }) =>
      client.call('listDeployments', { query: { host, status, limit } }),
  }),
  tool({
    name: 'deployment_log',
    title: 'Deployment log',
    description:
      "One deployment's status, error code and message first, then the last `maxLines` lines of its log (fetch, activation, health checks, confirmation, rollback).",
    input: {
      deploymentId: z.string().min(1).max(64).describe('A deployment id'),
      maxLines: maxLines(80),
    },
    run: async (client, { deploymentId, maxLines: max }) => {
      const deployment = await client.call('getDeployment', { params: { id: deploymentId } });
      const tail = await readTail(
        (after) =>
          client.call('getDeploymentLog', {
            params: { id: deploymentId },
            query: { after, limit: 5000 },
          }),
        max,
      );
      return {
        id: deployment.id,
        host: deployment.host,
        status: deployment.status,
        errorCode: deployment.errorCode,
        errorMessage: deployment.errorMessage,
        tail: tail.map((line) => `${line.stream}: ${line.line}`),
      };
    },
  }),
  tool({
    name: 'wait_for_revision',
    title: 'Wait for a commit',
    description: `Waits until a commit reached a stage on its hosts, or failed, or the time is up (at most ${MAX_WAIT_SECONDS} s per call; call again to keep waiting). Stages: evaluated, built (signed into the cache), approved, deployed (activated), verified. Approval is a human's decision: waiting for approved or later may take hours. Answers {state: reached | evaluation_failed | build_failed | deployment_failed | timed_out, exitCode as flotilla wait would exit, hosts with their stage and error (file:line:column for evaluation errors, the first error lines for builds)}.`,
    input: {
      revision,
      for: z
        .enum(['evaluated', 'built', 'approved', 'deployed', 'verified'])
        .default('built')
        .describe('The stage to wait for (default built)'),
      hosts: z.array(HostName).max(100).optional().describe('Only these hosts'),
      timeoutSeconds: z
        .number()
        .int()
        .min(1)
        .max(MAX_WAIT_SECONDS)
        .default(50)
        .describe(`Give up after this long (default 50, at most ${MAX_WAIT_SECONDS})`),
    },
    run: async (client, input) => {
      const outcome = await waitForRevision(client, input.revision, {
        target: input.for,
        hosts: input.hosts,
        timeoutMs: input.timeoutSeconds * 1000,
      });
      const exitCode = outcome.state === 'pending' ? null : WAIT_EXIT_CODES[outcome.state];
      return { ...outcome, exitCode };
    },
  }),
] as const;

/** The last `max` lines of a log read page by page (at most 20 pages of 5,000 lines). */
async function readTail<L extends LogLine | BuildLogLine>(
  page: (after: number) => Promise<{ lines: L[]; last: number }>,
  max: number,
): Promise<L[]> {
  const kept: L[] = [];
  let after = 0;
  for (let pages = 0; pages < 20; pages++) {
    const next = await page(after);
    kept.push(...next.lines);
    kept.splice(0, Math.max(0, kept.length - max));
    if (next.lines.length < 5000) break;
    after = next.last;
  }
  return kept;
}

/** The fleet's configuration, for the `flotilla://fleet/configuration` resource. */
export async function fleetConfiguration(client: ApiClient): Promise<unknown> {
  const repository = await client.call('getRepository').catch(() => null);
  return {
    repository: repository && {
      url: repository.url,
      branch: repository.branch,
      flakeDir: repository.flakeDir,
      followedSha: repository.followedSha,
      lastFetchAt: repository.lastFetchAt,
      lastFetchError: repository.lastFetchError,
    },
    flakeHosts: (await client.call('flakeHosts')).hosts,
    policies: (await client.call('listPolicies')).policies,
    waves: await client.call('listWaves'),
  };
}
