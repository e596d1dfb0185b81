// Test support, not shipped behaviour: a controller stand-in on a real local HTTP server, so
// the client's fetch, headers and parsing are exercised for real. Only the answers are canned.
import type {
  DecisionRequest,
  Deployment,
  DeploymentPlan,
  Host,
  HostPolicy,
  HostStatusReport,
  LogLine,
  Notification,
  PendingApproval,
  PinRequest,
  Rollout,
} from '@flotilla/protocol';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from './cli.js';
import type { CliEnv } from './context.js';

/** A request the stub received. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: unknown;
}

/** What a route answers: a status and a JSON body, or raw text for non-JSON answers. */
export type StubAnswer = { status?: number; json?: unknown; text?: string };

/** Routes keyed by `METHOD /path` (no query string). */
export type StubRoutes = Record<string, (request: RecordedRequest) => StubAnswer>;

/** A running stub; `close` stops it. */
export interface TestController {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a stub controller on 127.0.0.1 with a free port. Unknown routes answer 404 not_found. */
export async function startTestController(routes: StubRoutes): Promise<TestController> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const request: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        authorization: req.headers.authorization,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      };
      requests.push(request);
      const route = routes[`${request.method} ${request.path}`];
      const answer: StubAnswer = route
        ? route(request)
        : {
            status: 404,
            json: { error: { code: 'not_found', message: `no route ${request.path}` } },
          };
      const isJson = answer.text === undefined;
      res.writeHead(answer.status ?? 200, {
        'content-type': isJson ? 'application/json' : 'text/html',
      });
      res.end(isJson ? JSON.stringify(answer.json) : answer.text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** What one in-process run of the CLI printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process against `controller` with a token, no contexts file, `now`,
 * and times in UTC unless `env` names another zone (`TZ`) or adds other settings.
 */
export async function runCli(
  controller: TestController,
  argv: readonly string[],
  now: Date,
  env: CliEnv = {},
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run({
    argv,
    env: {
      FLOTILLA_URL: controller.url,
      FLOTILLA_TOKEN: 'admin',
      FLOTILLA_CONTEXT_FILE: '/nonexistent',
      TZ: 'UTC',
      ...env,
    },
    homedir: '/nonexistent',
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    now: () => now,
    sleep: () => Promise.resolve(),
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A store path with a valid hash, for fixtures. */
export const STORE_PATH = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-web1-25.05';

/** A host as the controller would send it; fields can be overridden. */
export function sampleHost(overrides: Partial<Host> = {}): Host {
  return {
    name: 'web1',
    mode: 'managed',
    os: 'linux',
    status: 'online',
    agentVersion: '0.1.0',
    agentOutdated: false,
    protocolVersion: 1,
    connectedAt: '2025-01-01T11:00:00.000Z',
    lastSeenAt: '2025-01-01T11:59:48.000Z',
    facts: null,
    factsAt: null,
    metrics: null,
    createdAt: '2024-12-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A deployment as the controller would send it; fields can be overridden. */
export function sampleDeployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 'dep-1',
    host: 'web1',
    storePath: STORE_PATH,
    action: 'switch',
    status: 'queued',
    phase: null,
    actor: 'admin',
    createdAt: '2025-01-01T11:59:00.000Z',
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    errorCode: null,
    errorMessage: null,
    resultSystem: null,
    releaseId: null,
    kind: 'deploy',
    previousSystem: null,
    rebootRequired: false,
    revisionId: null,
    approvedBy: null,
    approvalComment: null,
    holdReason: null,
    forced: false,
    forceReason: null,
    ...overrides,
  };
}

/** A stdout log line with sequence number `seq`. */
export function logLine(seq: number, line: string): LogLine {
  return { seq, at: '2025-01-01T12:00:00.000Z', stream: 'stdout', line };
}

/** A release id, a revision id and a sha shaped like the controller's, for fixtures. */
export const IDS = {
  release: 'rmwy8sihi3adf1e',
  revision: 'rvmwy8in5bf48d3d',
  sha: '0123456789abcdef0123456789abcdef01234567',
} as const;

/** A host's policy as the controller would send it; fields can be overridden. */
export function samplePolicy(overrides: Partial<HostPolicy> = {}): HostPolicy {
  return {
    host: 'web1',
    mode: 'managed',
    policy: 'manual',
    source: 'default',
    locked: false,
    stableSince: '2024-12-20T12:00:00.000Z',
    pinned: false,
    pinReason: null,
    wave: 'canary',
    updatedAt: '2024-12-01T00:00:00.000Z',
    updatedBy: 'admin',
    ...overrides,
  };
}

/**
 * A ready plan as a host's agent prepares it: three packages changed, one added, one removed,
 * two units restarted, a new kernel. Fields can be overridden.
 */
export function samplePlan(overrides: Partial<DeploymentPlan> = {}): DeploymentPlan {
  return {
    deploymentId: 'dmwy8t0001',
    host: 'web1',
    state: 'ready',
    reason: null,
    code: null,
    requestedAt: '2025-01-01T11:00:01.000Z',
    updatedAt: '2025-01-01T11:00:05.000Z',
    plan: {
      storePath: STORE_PATH,
      currentSystem: '/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-nixos-system-web1-25.04',
      closure: {
        added: [{ name: 'nginx', from: [], to: ['1.24.0'], sizeDelta: 1_300_000 }],
        removed: [{ name: 'curl', from: ['8.5.0'], to: [], sizeDelta: -41_267 }],
        changed: [
          { name: 'hello', from: ['2.10'], to: ['2.12'], sizeDelta: 20_480 },
          { name: 'linux', from: ['6.6.1'], to: ['6.6.2'], sizeDelta: null },
          { name: 'tzdata', from: ['2024a'], to: ['2024b'], sizeDelta: null },
        ],
        resized: [{ name: 'etc', from: [], to: [], sizeDelta: 29_696 }],
        truncated: false,
        sizeDelta: 13_002_342,
        closureSize: 1_234_567_890,
      },
      activation: {
        stop: [],
        start: [],
        restart: ['nginx.service', 'sshd.service'],
        reload: [],
        skip: ['display-manager.service'],
        restartSystemd: false,
        other: ['setting up /etc...'],
        exitCode: 0,
      },
      reboot: { required: true, changed: ['kernel', 'initrd'], bootedSystem: null },
      fetched: true,
      timings: { fetchMs: 4200, diffMs: 80, dryActivateMs: 900, totalMs: 5300 },
      preparedAt: '2025-01-01T11:00:05.000Z',
    },
    ...overrides,
  };
}

/** A deployment waiting for approval; fields can be overridden. */
export function sampleApproval(overrides: Partial<PendingApproval> = {}): PendingApproval {
  return {
    deploymentId: 'dmwy8t0001',
    host: 'web1',
    status: 'awaiting_approval',
    releaseId: IDS.release,
    storePath: STORE_PATH,
    revisionId: IDS.revision,
    sha: IDS.sha,
    commitMessage: 'Bump nixpkgs\n\nWeekly update.',
    wave: 'canary',
    createdAt: '2025-01-01T11:00:00.000Z',
    approvedBy: null,
    holdReason: null,
    isRollback: false,
    quarantined: false,
    halted: false,
    haltReason: null,
    plan: null,
    ...overrides,
  };
}

/** A host that is up to date and verified; fields can be overridden. */
export function sampleHostStatus(overrides: Partial<HostStatusReport> = {}): HostStatusReport {
  return {
    host: 'web1',
    mode: 'managed',
    policy: 'manual',
    online: true,
    state: 'up_to_date',
    summary: `up to date: runs release ${IDS.release} (01234567 Bump nixpkgs), verified by deployment dmwy8t0001`,
    details: [],
    declared: { revisionId: IDS.revision, sha: IDS.sha, drvPath: `${STORE_PATH}.drv` },
    declaredError: null,
    built: {
      releaseId: IDS.release,
      revisionId: IDS.revision,
      sha: IDS.sha,
      storePath: STORE_PATH,
      status: 'deployed',
    },
    pending: null,
    running: {
      storePath: STORE_PATH,
      releaseId: IDS.release,
      revisionId: IDS.revision,
      sha: IDS.sha,
    },
    verified: { deploymentId: 'dmwy8t0001', storePath: STORE_PATH, at: '2025-01-01T11:30:00.000Z' },
    lastDeployment: {
      deploymentId: 'dmwy8t0001',
      kind: 'deploy',
      status: 'succeeded',
      storePath: STORE_PATH,
      finishedAt: '2025-01-01T11:30:00.000Z',
      error: null,
    },
    pinned: null,
    sync: {
      state: 'up_to_date',
      runningReleaseId: IDS.release,
      runningRevisionId: IDS.revision,
      runningSha: IDS.sha,
      headSha: IDS.sha,
      behindBy: null,
    },
    ...overrides,
  };
}

/** A rollout halted in its second wave. */
export function sampleRollout(overrides: Partial<Rollout> = {}): Rollout {
  return {
    revisionId: IDS.revision,
    sha: IDS.sha,
    halted: true,
    haltReason: 'deployment dmwy8t0002 on web2 failed',
    haltedAt: '2025-01-01T11:40:00.000Z',
    waves: [
      {
        name: 'canary',
        state: 'done',
        soakUntil: '2025-01-01T11:30:00.000Z',
        hosts: [
          {
            host: 'web1',
            change: 'changed',
            deploymentId: 'dmwy8t0001',
            status: 'succeeded',
            holdReason: null,
          },
        ],
      },
      {
        name: 'rest',
        state: 'halted',
        soakUntil: null,
        hosts: [
          {
            host: 'web2',
            change: 'changed',
            deploymentId: 'dmwy8t0002',
            status: 'failed',
            holdReason: null,
          },
          { host: 'db1', change: 'unchanged', deploymentId: null, status: null, holdReason: null },
        ],
      },
    ],
    ...overrides,
  };
}

/** A notification about a failed deployment, delivered to one webhook; fields can be overridden. */
export function sampleNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: 'n1',
    kind: 'deployment.failed',
    at: '2025-01-01T11:58:00.000Z',
    host: 'web1',
    summary: 'deployment dmwy8t0002 on web1 failed: activation_failed (exit code 4)',
    data: { deploymentId: 'dmwy8t0002' },
    deliveries: [
      {
        receiver: 'webhook:0',
        status: 'delivered',
        attempts: 1,
        nextAttemptAt: null,
        lastError: null,
        deliveredAt: '2025-01-01T11:58:01.000Z',
      },
    ],
    ...overrides,
  };
}

function stubError(status: number, code: string, message: string): StubAnswer {
  return { status, json: { error: { code, message } } };
}

/**
 * Canned answers for the human-in-the-loop API: `web1` is a manual host, `db1` is locked by the
 * config file, `POST /approvals` decides what it is asked (a revision decides web1 and web2, and
 * web2's is a rollback), and the revision `rv0none` has nothing waiting.
 */
export function policyRoutes(): StubRoutes {
  const decided = (body: DecisionRequest, host: string, notes: string[] = []) => ({
    deploymentId: body.deploymentId ?? `d-${host}`,
    host,
    status: body.decision === 'approve' ? ('queued' as const) : ('rejected' as const),
    holdReason: null,
    notes,
  });
  return {
    'GET /api/v1/policies': () => ({
      json: {
        policies: [
          samplePolicy({
            host: 'db1',
            mode: 'monitor',
            policy: 'monitor',
            source: 'config',
            locked: true,
          }),
          samplePolicy({ pinned: true, pinReason: 'kernel bisect' }),
        ],
      },
    }),
    'PUT /api/v1/hosts/web1/policy': ({ body }) => ({
      json: samplePolicy({ ...(body as { policy: HostPolicy['policy'] }), source: 'api' }),
    }),
    'PUT /api/v1/hosts/db1/policy': () =>
      stubError(409, 'policy_locked', "db1's policy is set in the config file"),
    'POST /api/v1/hosts/web1/pin': ({ body }) => ({
      json: samplePolicy({ pinned: true, pinReason: (body as PinRequest).reason ?? null }),
    }),
    'DELETE /api/v1/hosts/web1/pin': () => ({ json: samplePolicy({ policy: 'auto' }) }),
    'GET /api/v1/approvals': () => ({
      json: {
        approvals: [
          sampleApproval({ plan: samplePlan() }),
          sampleApproval({
            deploymentId: 'dmwy8t0002',
            host: 'web2',
            isRollback: true,
            plan: samplePlan({
              deploymentId: 'dmwy8t0002',
              host: 'web2',
              state: 'unavailable',
              code: 'prefetch_disabled',
              reason: 'prefetching is off for this host',
              plan: null,
            }),
          }),
        ],
      },
    }),
    'GET /api/v1/deployments/dmwy8t0001/plan': () => ({ json: samplePlan() }),
    'POST /api/v1/approvals': ({ body }) => {
      const request = body as DecisionRequest;
      if (request.revisionId === 'rv0none') {
        return stubError(404, 'nothing_to_approve', 'nothing of rv0none waits');
      }
      if (request.revisionId === undefined)
        return { json: { decided: [decided(request, 'web1')] } };
      const rollback = 'this is a rollback: the host runs a newer release';
      return {
        json: { decided: [decided(request, 'web1'), decided(request, 'web2', [rollback])] },
      };
    },
    'GET /api/v1/graduation': () => ({
      json: {
        hosts: [
          {
            host: 'web1',
            policy: 'manual',
            stableSince: '2024-12-20T12:00:00.000Z',
            stableDays: 12.5,
            requiredDays: 7,
            after: [],
            eligible: true,
            reasons: [],
          },
        ],
      },
    }),
    'GET /api/v1/waves': () => ({
      json: { waves: [{ name: 'canary', hosts: ['web1'], soakSeconds: 1800 }] },
    }),
    [`GET /api/v1/rollouts/${IDS.revision}`]: () => ({ json: sampleRollout() }),
    [`POST /api/v1/rollouts/${IDS.revision}/resume`]: () => ({
      json: sampleRollout({ halted: false, haltReason: null, haltedAt: null }),
    }),
    'GET /api/v1/audit': ({ query }) => ({
      json: {
        entries: [
          {
            id: 42,
            at: '2025-01-01T11:00:00.000Z',
            kind: 'policy.set',
            actor: 'admin',
            host: query.get('host') ?? 'web1',
            deploymentId: null,
            data: { from: 'manual', to: 'auto', reason: 'stable for weeks' },
          },
        ],
        nextCursor: 42,
      },
    }),
    'GET /api/v1/hosts/web1/status': () => ({ json: sampleHostStatus() }),
  };
}
