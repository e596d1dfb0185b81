import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  DecisionResult,
  DeploymentPlan,
  PendingApproval,
  PendingApprovalList,
  ReleaseList,
  Revision,
} from '@flotilla/protocol';
import {
  buildHost,
  GitFlakeRepo,
  JsonClient,
  run,
  SANDBOX_NIX_CONFIG,
  signStorePath,
  writeHost,
  writeSandboxFlake,
  type SandboxHostSpec,
} from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

// What a deployment will change, end to end: a real controller builds a new revision, the
// real agents (each with a Nix store of its own, so whatever they run they had to fetch)
// prefetch their waiting deployment from its cache and answer with the closure difference
// and what dry-activate says; approving then starts at once, with no second download.
// alpha prefetches; beta's controller config turns it off; gamma's own agent config does.

const HOSTS = ['alpha', 'beta', 'gamma'] as const;

/** What every host ran before Flotilla. */
function before0(name: string, stamp: number): SandboxHostSpec {
  return {
    name,
    version: `${stamp}-0`,
    kernel: '6.6.1',
    packages: {
      hello: { version: '2.10', kib: 20 },
      curl: { version: '8.5.0', kib: 40 },
      openssl: { version: '3.0.13', kib: 200 },
    },
    units: {
      'nginx.service': { revision: '1', onChange: 'reload' },
      'sshd.service': { revision: '1', onChange: 'restart' },
      'backup.service': { revision: '1' },
      'old-cron.service': { revision: '1' },
    },
  };
}

/** The release: one package newer, one new, one gone; units changed, added, removed; a new kernel. */
function release1(name: string, stamp: number): SandboxHostSpec {
  return {
    name,
    version: `${stamp}-1`,
    kernel: '6.6.2',
    packages: {
      hello: { version: '2.12', kib: 40 },
      nginx: { version: '1.24.0', kib: 60 },
      openssl: { version: '3.0.13', kib: 200 },
    },
    units: {
      'nginx.service': { revision: '2', onChange: 'reload' },
      'sshd.service': { revision: '2', onChange: 'restart' },
      'backup.service': { revision: '1' },
      'metrics.service': { revision: '1' },
    },
  };
}

describe('what a deployment will change, prepared by real agents', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;
  let repo: GitFlakeRepo;
  const stamp = Date.now();
  const storeOf = (host: string) => join(fleet.dir, 'stores', host);
  const nixOf = (host: string) => ({
    NIX_CONFIG: `${SANDBOX_NIX_CONFIG}\nstore = local?root=${storeOf(host)}`,
  });
  /** Whether a path is valid in a host's own store. */
  const inStore = async (host: string, path: string) =>
    (await run('nix-store', ['--check-validity', path], { ...process.env, ...nixOf(host) }))
      .code === 0;
  const approvals = async () =>
    new Map(
      (await fleet.api.get<PendingApprovalList>('/api/v1/approvals')).body.approvals.map((a) => [
        a.host,
        a,
      ]),
    );

  before(async () => {
    fleet = await FleetFixture.start('plans', {
      config: async (dir) => {
        repo = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(
          repo.work,
          HOSTS.map((name) => before0(name, stamp)),
        );
        await repo.commit('fleet');
        await repo.push();
        return {
          repository: { url: repo.bare, pollIntervalSeconds: 3600 },
          deployments: { confirmTimeoutSeconds: 30 },
          hosts: { beta: { prefetch: false } },
        };
      },
    });
    // Each host already runs its version 0, in a store of its own.
    const initial = join(fleet.dir, 'initial');
    await writeSandboxFlake(
      initial,
      HOSTS.map((name) => before0(name, stamp)),
    );
    for (const name of HOSTS) {
      const system = await buildHost(`path:${initial}`, name);
      await signStorePath(system, fleet.signingKeyFile);
      await mkdir(storeOf(name), { recursive: true });
      const copied = await run('nix', [
        '--extra-experimental-features',
        'nix-command',
        'copy',
        '--to',
        `local?root=${storeOf(name)}`,
        '--option',
        'trusted-public-keys',
        fleet.cacheKey,
        system,
      ]);
      assert.equal(copied.code, 0, copied.stderr);
      await fleet.addAgent(name, {
        initialSystem: system,
        env: nixOf(name),
        ...(name === 'gamma' ? { extraArgs: ['--prefetch', 'off'] } : {}),
      });
    }
  });

  after(async () => {
    await fleet?.stop();
  });

  it('a new revision waits for approval, and each agent that may has prepared it', async (t) => {
    for (const name of HOSTS) await writeHost(repo.work, release1(name, stamp));
    const sha = await repo.commit('all: release 1');
    await repo.push();
    const pushedAt = Date.now();
    const sync = await fleet.api.post<{ newRevisions: Revision[] }>('/api/v1/repository/sync', {});
    assert.ok(sync.body.newRevisions[0], 'the sync recorded the commit');
    await JsonClient.until(
      async () => {
        const { releases } = (await fleet.api.get<ReleaseList>('/api/v1/releases?limit=50')).body;
        const ready = HOSTS.every((h) =>
          releases.some((r) => r.host === h && r.sha === sha && r.status === 'ready'),
        );
        return ready ? true : undefined;
      },
      'releases of release 1',
      120_000,
    );
    const alpha = await JsonClient.until(
      async () => {
        const plan = (await approvals()).get('alpha')?.plan;
        return plan?.state === 'ready' || plan?.state === 'failed' ? plan : undefined;
      },
      "alpha's plan",
      120_000,
    );
    t.diagnostic(`push to alpha's plan ready: ${Date.now() - pushedAt} ms`);
    assert.equal(alpha.state, 'ready', JSON.stringify(alpha));
    const plan = alpha.plan;
    assert.ok(plan);
    t.diagnostic(`alpha's prefetch: ${JSON.stringify(plan.timings)}`);
    assert.equal(plan.fetched, true, 'the closure came from the cache');
    assert.equal(await inStore('alpha', plan.storePath), true, "it is in alpha's own store");

    const closure = plan.closure;
    assert.ok(closure);
    assert.deepEqual(
      closure.added.map((p) => `${p.name} ${p.to.join()}`),
      ['nginx 1.24.0'],
    );
    assert.deepEqual(
      closure.removed.map((p) => `${p.name} ${p.from.join()}`),
      ['curl 8.5.0'],
    );
    assert.deepEqual(
      closure.changed.map((p) => `${p.name} ${p.from.join()} → ${p.to.join()}`),
      [
        'hello 2.10 → 2.12',
        'initrd-linux 6.6.1 → 6.6.2',
        'linux 6.6.1 → 6.6.2',
        `nixos-system-alpha ${stamp}-0 → ${stamp}-1`,
      ],
    );
    // hello +20 KiB, nginx +60 KiB, curl −40 KiB, and a few bytes elsewhere.
    assert.ok(
      closure.sizeDelta !== null && closure.sizeDelta > 39 * 1024 && closure.sizeDelta < 44 * 1024,
      `size change ${closure.sizeDelta}`,
    );
    assert.deepEqual(plan.activation, {
      stop: ['old-cron.service'],
      start: ['metrics.service'],
      restart: ['sshd.service'],
      reload: ['nginx.service'],
      skip: [],
      restartSystemd: false,
      other: ['setting up /etc of alpha (dry run)'],
      exitCode: 0,
    });
    assert.equal(plan.reboot.required, true);
    assert.deepEqual(plan.reboot.changed, ['kernel', 'initrd', 'kernel-modules']);

    const waiting = await approvals();
    const beta = waiting.get('beta')?.plan;
    assert.equal(beta?.state, 'unavailable');
    assert.equal(beta.code, 'prefetch_disabled');
    assert.match(beta.reason ?? '', /controller's config/);
    const gamma = await JsonClient.until(async () => {
      const plan = (await approvals()).get('gamma')?.plan;
      return plan?.state === 'unavailable' ? plan : undefined;
    }, "gamma's answer");
    assert.equal(gamma.code, 'prefetch_disabled');
    assert.match(gamma.reason ?? '', /agent config turns prefetching off/);
    for (const host of ['beta', 'gamma']) {
      const path = waiting.get(host)?.storePath ?? '';
      assert.equal(await inStore(host, path), false, `${host} fetched nothing ahead`);
    }
  });

  it('the same plan is in the deployment and at its own route', async () => {
    const alpha = (await approvals()).get('alpha');
    assert.ok(alpha);
    const own = await fleet.api.get<DeploymentPlan>(
      `/api/v1/deployments/${alpha.deploymentId}/plan`,
    );
    assert.equal(own.status, 200);
    assert.deepEqual(own.body, alpha.plan);
    const deployment = await fleet.api.get<{ plan: DeploymentPlan }>(
      `/api/v1/deployments/${alpha.deploymentId}`,
    );
    assert.deepEqual(deployment.body.plan, alpha.plan);
  });

  it('approving starts at once where the closure was prefetched, with no second download', async (t) => {
    const waiting = await approvals();
    const timings: Record<string, number> = {};
    const approve = async (approval: PendingApproval) => {
      const at = Date.now();
      const decided = await fleet.api.post<DecisionResult>('/api/v1/approvals', {
        decision: 'approve',
        deploymentId: approval.deploymentId,
      });
      assert.equal(decided.status, 200, JSON.stringify(decided.body));
      const done = await fleet.waitForDeployment(approval.deploymentId, 120_000);
      timings[approval.host] = Date.parse(done.finishedAt ?? '') - at;
      return done;
    };
    const alpha = waiting.get('alpha');
    const beta = waiting.get('beta');
    assert.ok(alpha && beta);
    const alphaDone = await approve(alpha);
    const betaDone = await approve(beta);
    t.diagnostic(`approval to succeeded: ${JSON.stringify(timings)} (ms)`);
    assert.equal(alphaDone.status, 'succeeded', JSON.stringify(alphaDone));
    assert.equal(betaDone.status, 'succeeded', JSON.stringify(betaDone));
    const alphaLog = alphaDone.log.map((l) => l.line);
    // Ready without asking Nix again: the plan's root keeps it and its signature was checked.
    assert.ok(
      alphaLog.includes(
        `${alpha.storePath} was prepared for this deployment: in the store, kept, and signed by a trusted key`,
      ),
      alphaLog.join('\n'),
    );
    assert.ok(!alphaLog.some((l) => l.startsWith('fetching ')), 'no second download');
    const betaLog = betaDone.log.map((l) => l.line);
    assert.ok(
      betaLog.some((l) => l.startsWith(`fetching ${beta.storePath}`)),
      'beta fetched when it was approved',
    );
  });
});
