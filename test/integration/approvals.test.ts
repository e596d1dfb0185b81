import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  AuditList,
  DecisionResult,
  Deployment,
  DeploymentList,
  GraduationList,
  HostPolicy,
  DeploymentDecision,
  HostStatusReport,
  PendingApprovalList,
  Release,
  ReleaseList,
  Revision,
} from '@flotilla/protocol';
import {
  buildHost,
  GitFlakeRepo,
  JsonClient,
  writeHost,
  writeSandboxFlake,
} from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

const HOSTS = ['gpc0', 'hsb1', 'csb0', 'win1'];
const WEBHOOK_SECRET = 'test-webhook-secret';

/** Webhook deliveries received by the test's own receiver on 127.0.0.1. */
const received: { kind: string; signature: string; body: string }[] = [];

function startReceiver(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({
        kind: String(request.headers['x-flotilla-event']),
        signature: String(request.headers['x-flotilla-signature-256']),
        body,
      });
      response.end('ok');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        server,
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`,
      });
    }),
  );
}

/** A window that is surely closed now: one minute, twelve hours away, in UTC. */
function closedWindow(): { start: string; end: string; timeZone: string } {
  const at = new Date(Date.now() + 12 * 3600_000);
  const hhmm = (d: Date) =>
    `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return { start: hhmm(at), end: hhmm(new Date(at.getTime() + 60_000)), timeZone: 'UTC' };
}

describe(
  'human in the loop: policies, approvals, waves, quarantine, pins, windows',
  { timeout: 300_000 },
  () => {
    let fleet: FleetFixture;
    let repo: GitFlakeRepo;
    let receiver: { server: Server; url: string } | undefined;
    const stamp = Date.now();

    const deploymentsOf = async (host: string) =>
      (await fleet.api.get<DeploymentList>(`/api/v1/deployments?host=${host}`)).body.deployments;
    /** Pushes the working tree and waits until the new revision's releases are ready. */
    const pushAndRelease = async (message: string, changed: string[]): Promise<string> => {
      const sha = await repo.commit(message);
      await repo.push();
      const sync = await fleet.api.post<{ newRevisions: Revision[] }>(
        '/api/v1/repository/sync',
        {},
      );
      const revision = sync.body.newRevisions[0];
      assert.ok(revision, `the sync recorded ${sha}`);
      await JsonClient.until(
        async () => {
          const releases = (await fleet.api.get<ReleaseList>('/api/v1/releases?limit=500')).body
            .releases;
          return changed.every((h) =>
            releases.some((r) => r.host === h && r.sha === sha && r.status !== 'publishing'),
          )
            ? true
            : undefined;
        },
        `releases of ${message}`,
        60_000,
      );
      return revision.id;
    };
    const setVersion = (name: string, version: string, extra: object = {}) =>
      writeHost(repo.work, { name, version: `${stamp}-${version}`, ...extra });
    /** Sets a policy; `auto` is forced (with a reason) unless `earned` says the host graduated. */
    const policy = (host: string, value: string, earned = false) =>
      fleet.api.request<HostPolicy>('PUT', `/api/v1/hosts/${host}/policy`, {
        policy: value,
        reason: 'test',
        ...(value === 'auto' && !earned ? { force: true } : {}),
      });
    const current = (host: string) => realpath(fleet.agents.get(host)!.paths.currentSystemLink);

    before(async () => {
      fleet = await FleetFixture.start('approvals', {
        config: async (dir) => {
          receiver = await startReceiver();
          const secretFile = join(dir, 'webhook-secret');
          await writeFile(secretFile, WEBHOOK_SECRET);
          repo = await GitFlakeRepo.create(join(dir, 'github'));
          await writeSandboxFlake(
            repo.work,
            HOSTS.map((name) => ({ name, version: `${stamp}-0` })),
          );
          await repo.commit('fleet');
          await repo.push();
          return {
            repository: { url: repo.bare, pollIntervalSeconds: 3600 },
            deployments: { confirmTimeoutSeconds: 15 },
            notifications: {
              // The second receiver is down (nothing listens there): it must not hold anything up.
              webhooks: [
                { url: receiver.url, secretFile },
                { url: 'http://127.0.0.1:9/down', secretFile },
              ],
            },
            rollout: {
              waves: [
                { name: 'canary', hosts: ['gpc0'], soakSeconds: 3 },
                { name: 'home', hosts: ['hsb1'] },
              ],
            },
            hosts: {
              csb0: { policy: 'manual' },
              hsb1: { graduation: { stableDays: 0, after: ['gpc0'] } },
              win1: { windows: [closedWindow()] },
            },
          };
        },
      });
      const flake = join(fleet.dir, 'initial');
      await writeSandboxFlake(
        flake,
        HOSTS.map((name) => ({ name, version: `${stamp}-init` })),
      );
      for (const name of HOSTS)
        await fleet.addAgent(name, { initialSystem: await buildHost(`path:${flake}`, name) });
    });

    after(async () => {
      await fleet?.stop();
      receiver?.server.close();
    });

    it('holds every release of a manual host until a human approves it, and records who and why', async () => {
      const before = await current('csb0');
      await setVersion('csb0', '1');
      await pushAndRelease('csb0: 1', ['csb0']);
      const pending = (await fleet.api.get<PendingApprovalList>('/api/v1/approvals')).body
        .approvals;
      const mine = pending.find((p) => p.host === 'csb0');
      assert.ok(mine, JSON.stringify(pending));
      assert.equal(await current('csb0'), before, 'nothing deployed without approval');

      const decided = await fleet.api.post<DecisionResult>('/api/v1/approvals', {
        decision: 'approve',
        deploymentId: mine.deploymentId,
        comment: 'looks fine',
      });
      assert.equal(decided.status, 200, JSON.stringify(decided.body));
      const done = await fleet.waitForDeployment(mine.deploymentId, 90_000);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.notEqual(await current('csb0'), before);
      const audit = (
        await fleet.api.get<AuditList>('/api/v1/audit?host=csb0&kind=approval.approved')
      ).body.entries;
      assert.equal(audit[0]?.actor, 'admin (token sandbox)', 'the person and the token');
      assert.deepEqual((audit[0]?.data as { comment: string }).comment, 'looks fine');
      const status = (await fleet.api.get<HostStatusReport>('/api/v1/hosts/csb0/status')).body;
      assert.equal(status.state, 'up_to_date', JSON.stringify(status));
      assert.equal(status.verified?.deploymentId, mine.deploymentId);
      assert.equal(status.running?.storePath, await current('csb0'));
    });

    it('refuses to change a policy the config file owns', async () => {
      const refused = await policy('csb0', 'auto');
      assert.equal(refused.status, 409);
      assert.equal(
        (refused.body as unknown as { error: { code: string } }).error.code,
        'policy_locked',
      );
    });

    it('rolls a revision through the waves in order, holding the next wave through the soak', async () => {
      assert.equal((await policy('gpc0', 'auto')).status, 200);
      // hsb1 graduates once the guinea pig is on auto (its criteria: after gpc0, 0 days).
      assert.equal((await policy('hsb1', 'auto', true)).status, 200);
      await setVersion('gpc0', '1');
      await setVersion('hsb1', '1');
      const revisionId = await pushAndRelease('gpc0 + hsb1: 1', ['gpc0', 'hsb1']);
      const [gpc0] = await deploymentsOf('gpc0');
      const hsb1Waiting = await JsonClient.until(async () => {
        const [d] = await deploymentsOf('hsb1');
        return d?.revisionId === undefined ? d : d;
      }, 'hsb1 deployment');
      assert.ok(gpc0 && hsb1Waiting);
      const gpc0Done = await fleet.waitForDeployment(gpc0.id, 90_000);
      assert.equal(gpc0Done.status, 'succeeded', JSON.stringify(gpc0Done));
      const [hsb1] = await deploymentsOf('hsb1');
      const hsb1Done = await fleet.waitForDeployment(hsb1!.id, 90_000);
      assert.equal(hsb1Done.status, 'succeeded', JSON.stringify(hsb1Done));
      const soakEnd = Date.parse(gpc0Done.finishedAt ?? '') + 3000;
      assert.ok(
        Date.parse(hsb1Done.startedAt ?? '') >= soakEnd,
        'hsb1 started only after the canary soaked',
      );
      assert.ok(
        hsb1Done.log.some((l) => l.line.includes('wave canary')),
        'the hold was explained',
      );
      const rollout = (
        await fleet.api.get<{ waves: { name: string; state: string }[] }>(
          `/api/v1/rollouts/${revisionId}`,
        )
      ).body;
      assert.deepEqual(
        rollout.waves.map((w) => [w.name, w.state]),
        [
          ['canary', 'done'],
          ['home', 'done'],
        ],
      );
    });

    it('shows graduation progress: hsb1 needs gpc0 on auto first', async () => {
      const list = (await fleet.api.get<GraduationList>('/api/v1/graduation')).body.hosts;
      const hsb1 = list.find((h) => h.host === 'hsb1');
      assert.deepEqual(
        hsb1?.after.map((a) => [a.host, a.requiredDays]),
        [['gpc0', null]],
      );
      assert.equal(hsb1?.policy, 'auto');
    });

    it('a rollback in the canary halts the revision, demotes the host and quarantines the release', async () => {
      await setVersion('gpc0', '2-broken', { exitCode: 2 });
      await setVersion('hsb1', '2');
      const revisionId = await pushAndRelease('broken canary', ['gpc0', 'hsb1']);
      const [gpc0] = await deploymentsOf('gpc0');
      const gpc0Done = await fleet.waitForDeployment(gpc0!.id, 90_000);
      assert.equal(gpc0Done.status, 'rolled_back', JSON.stringify(gpc0Done));

      // The next wave is held (not dropped): resuming the rollout would let it go on.
      const hsb1Deployment = await JsonClient.until(
        async () => {
          const d = (await deploymentsOf('hsb1')).find((x) => x.revisionId === revisionId);
          return d?.status === 'approved' && /halted/.test(d.holdReason ?? '') ? d : undefined;
        },
        'the halted wave to be held',
        30_000,
      );
      assert.match(hsb1Deployment.holdReason ?? '', /rollout resume/);
      const policies = (await fleet.api.get<{ policies: HostPolicy[] }>('/api/v1/policies')).body
        .policies;
      assert.equal(
        policies.find((p) => p.host === 'gpc0')?.policy,
        'manual',
        'the canary was demoted',
      );
      const demotions = (
        await fleet.api.get<AuditList>('/api/v1/audit?host=gpc0&kind=host.demoted')
      ).body.entries;
      assert.equal(demotions.length, 1);
      const rolledBack = (await fleet.api.get<Release>(`/api/v1/releases/${gpc0Done.releaseId}`))
        .body;
      assert.equal(rolledBack.status, 'quarantined', 'listed as quarantined, not ready');

      // The rolled-back release is quarantined: auto never takes it, and a human needs a flag.
      const refused = await fleet.api.post<{ error: { code: string } }>('/api/v1/approvals', {
        decision: 'approve',
        releaseId: gpc0Done.releaseId,
      });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'rollout_halted');
      const resumed = await fleet.api.post(`/api/v1/rollouts/${revisionId}/resume`, {
        reason: 'gpc0 is being looked at; hsb1 may go on',
      });
      assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
      const quarantined = await fleet.api.post<{ error: { code: string } }>('/api/v1/approvals', {
        decision: 'approve',
        releaseId: gpc0Done.releaseId,
      });
      assert.equal(quarantined.body.error.code, 'approval_not_allowed');
      const explicit = await fleet.api.post<DecisionResult>('/api/v1/approvals', {
        decision: 'approve',
        releaseId: gpc0Done.releaseId,
        force: true,
        reason: 'trying once more by hand',
      });
      assert.equal(explicit.status, 200, JSON.stringify(explicit.body));
      assert.match(explicit.body.decided[0]?.notes.join(' ') ?? '', /quarantined/);
      await fleet.waitForDeployment(explicit.body.decided[0]!.deploymentId, 90_000);

      // Every receiver heard about it, signed; a receiver that is down never held anything up.
      const kinds = await JsonClient.until(
        async () => {
          const seen = received.map((r) => r.kind);
          return seen.includes('deployment.rolled_back') && seen.includes('host.demoted')
            ? seen
            : undefined;
        },
        'the webhook deliveries',
        60_000,
      );
      assert.ok(kinds.includes('approval.pending'));
      for (const delivery of received) {
        const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(delivery.body).digest('hex')}`;
        assert.equal(delivery.signature, expected, 'each delivery is signed with the secret');
      }
    });

    it('approves in bulk and needs a flag for a superseded release', async () => {
      await setVersion('csb0', '2');
      const first = await pushAndRelease('csb0: 2', ['csb0']);
      await setVersion('csb0', '3');
      await pushAndRelease('csb0: 3', ['csb0']);
      const releases = (await fleet.api.get<ReleaseList>('/api/v1/releases?host=csb0')).body
        .releases;
      const superseded = releases.find((r) => r.revisionId === first);
      assert.equal(superseded?.status, 'superseded');
      const refused = await fleet.api.post<{ error: { code: string } }>('/api/v1/approvals', {
        decision: 'approve',
        releaseId: superseded?.id,
      });
      assert.equal(refused.body.error.code, 'approval_not_allowed');
      const pending = (
        await fleet.api.get<PendingApprovalList>('/api/v1/approvals')
      ).body.approvals.filter((p) => p.host === 'csb0');
      assert.equal(pending.length, 1, 'only the newest release waits');
      const bulk = await fleet.api.post<DecisionResult>('/api/v1/approvals', {
        decision: 'reject',
        revisionId: pending[0]?.revisionId,
        hosts: ['csb0'],
        comment: 'not today',
      });
      assert.deepEqual(
        bulk.body.decided.map((d) => [d.host, d.status]),
        [['csb0', 'rejected']],
      );
    });

    it('pins a host after a manual rollback, and auto waits until the pin is lifted', async () => {
      assert.equal((await policy('hsb1', 'auto')).status, 200);
      const rollback = await fleet.api.post<DeploymentDecision>('/api/v1/hosts/hsb1/rollback', {});
      assert.equal(rollback.status, 201, JSON.stringify(rollback.body));
      await fleet.waitForDeployment(rollback.body.deployment.id, 90_000);
      const pinned = (
        await fleet.api.get<{ policies: HostPolicy[] }>('/api/v1/policies')
      ).body.policies.find((p) => p.host === 'hsb1');
      assert.equal(pinned?.pinned, true);

      await setVersion('hsb1', '3');
      await pushAndRelease('hsb1: 3', ['hsb1']);
      const waiting = (
        await fleet.api.get<PendingApprovalList>('/api/v1/approvals')
      ).body.approvals.find((p) => p.host === 'hsb1');
      assert.ok(waiting, 'a pinned auto host waits for a human');
      const unpinned = await fleet.api.request<HostPolicy>('DELETE', '/api/v1/hosts/hsb1/pin');
      assert.equal(unpinned.body.pinned, false);
    });

    it('keeps an auto deployment out of a closed deploy window unless a human overrides it', async () => {
      assert.equal((await policy('win1', 'auto')).status, 200);
      const before = await current('win1');
      await setVersion('win1', '1');
      await pushAndRelease('win1: 1', ['win1']);
      const [held] = await deploymentsOf('win1');
      assert.ok(held);
      await JsonClient.until(async () => {
        const body = (
          await fleet.api.get<Deployment & { log: { line: string }[] }>(
            `/api/v1/deployments/${held.id}`,
          )
        ).body;
        return body.log.some((l) => l.line.includes('outside the deploy window'))
          ? true
          : undefined;
      }, 'the window hold');
      assert.equal(
        (await fleet.api.get<Deployment>(`/api/v1/deployments/${held.id}`)).body.status,
        'approved',
      );
      assert.equal(await current('win1'), before);
    });
  },
);
