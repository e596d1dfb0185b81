import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HostStatusReport, Revision, RevisionList } from '@flotilla/protocol';
import {
  buildInstallable,
  GitFlakeRepo,
  homeAttribute,
  JsonClient,
  sandboxHostPaths,
  switchMac,
  writeHost,
  writeSandboxFlake,
  type SandboxHostSpec,
} from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

// Two Macs, each a monitor-mode agent reporting as macOS through its darwin collector (run
// on Linux with the sandbox's Mac programs, which print published output of real Macs):
// mac-hm is declared as a standalone home-manager home, mac-dw as a nix-darwin system. The
// controller evaluates both outputs at every revision, never builds them, and compares them
// with what each Mac reports it runs.

const home: SandboxHostSpec = { name: 'mac-hm', kind: 'home-manager', homeUser: 'markus' };
const darwin: SandboxHostSpec = { name: 'mac-dw', kind: 'darwin' };

describe('Macs: facts, drift and refusals', { timeout: 240_000 }, () => {
  let fleet: FleetFixture;
  let repo: GitFlakeRepo;
  const stamp = Date.now();
  const at = (spec: SandboxHostSpec, version: string) => ({
    ...spec,
    version: `${stamp}-${version}`,
  });
  const homeOutput = `homeConfigurations."${homeAttribute(home)}".activationPackage`;
  const darwinOutput = `darwinConfigurations.${darwin.name}.system`;

  /** Syncs the repository and waits until its newest branch revision is evaluated. */
  async function evaluated(sha: string): Promise<void> {
    await fleet.api.post('/api/v1/repository/sync', {});
    await JsonClient.until(
      async () => {
        const { revisions } = (await fleet.api.get<RevisionList>('/api/v1/revisions?kind=branch'))
          .body;
        const head: Revision | undefined = revisions.find((r) => r.sha === sha);
        return head?.status === 'evaluated' ? head : undefined;
      },
      `revision ${sha} to be evaluated`,
      60_000,
    );
  }

  const status = async (host: string) =>
    (await fleet.api.get<HostStatusReport>(`/api/v1/hosts/${host}/status`)).body;

  before(async () => {
    fleet = await FleetFixture.start('macos', {
      config: async (dir) => {
        repo = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(repo.work, [at(home, '1'), at(darwin, '1')]);
        return {
          repository: { url: repo.bare, pollIntervalSeconds: 3600 },
          hosts: {
            'mac-hm': { output: { kind: 'home-manager', attribute: homeAttribute(home) } },
            'mac-dw': { output: { kind: 'darwin' } },
          },
        };
      },
    });
    const first = await repo.commit('macs: version 1');
    await repo.push();
    // What each Mac built itself from that commit and switched to.
    await switchMac(
      sandboxHostPaths(join(fleet.dir, 'hosts', home.name)),
      'home-manager',
      await buildInstallable(`path:${repo.work}#${homeOutput}`),
    );
    await switchMac(
      sandboxHostPaths(join(fleet.dir, 'hosts', darwin.name)),
      'darwin',
      await buildInstallable(`path:${repo.work}#${darwinOutput}`),
    );
    await evaluated(first);
    await fleet.addAgent(home.name, { mode: 'monitor', mac: true });
    // Registered as managed by mistake: the agent says it is a Mac, and that decides.
    await fleet.addAgent(darwin.name, { mode: 'managed', agentMode: 'monitor', mac: true });
  });

  after(async () => {
    await fleet?.stop();
  });

  it('shows each Mac with macOS facts, health and an up-to-date output', async () => {
    // The agent's hello (what it runs) comes before its first facts: wait for both.
    const hm = await fleet.waitForHost(
      home.name,
      (h) => h.sync?.state === 'up_to_date' && h.os === 'darwin' && h.facts?.darwin != null,
    );
    assert.equal(hm.os, 'darwin');
    assert.equal(hm.status, 'online');
    assert.equal(hm.facts?.os, 'darwin');
    assert.equal(hm.facts?.osRelease?.prettyName, 'Mac OS X 10.15.5 (19F101)');
    assert.equal(hm.facts?.darwin?.productVersion, '10.15.5');
    assert.equal(hm.facts?.darwin?.buildVersion, '19F101');
    assert.equal(hm.facts?.darwin?.cpus, 12);
    assert.equal(hm.facts?.darwin?.memoryPressure, 'normal');
    assert.equal(hm.facts?.darwin?.nixVersion !== null, true);
    assert.equal(hm.facts?.darwin?.homeManager?.generation, 1);
    assert.equal(hm.facts?.darwin?.darwinSystem, null);
    assert.equal(hm.metrics?.memory.totalBytes, 17_179_869_184);
    assert.deepEqual(hm.sync?.output, { kind: 'home-manager', attribute: 'markus@mac-hm' });
    assert.equal(hm.sync?.declaredPath, hm.facts?.darwin?.homeManager?.path);

    const dw = await fleet.waitForHost(
      darwin.name,
      (h) => h.sync?.state === 'up_to_date' && h.os === 'darwin' && h.facts?.darwin != null,
    );
    assert.equal(dw.os, 'darwin');
    assert.match(dw.facts?.darwin?.darwinSystem?.label ?? '', /^sandbox-/);
    assert.equal(dw.sync?.declaredPath, dw.facts?.system.current);
  });

  it('refuses deployments and reboots to a Mac, registered monitor or not', async () => {
    const hm = await fleet.host(home.name);
    for (const name of [home.name, darwin.name]) {
      const deploy = await fleet.deploy({
        host: name,
        storePath: hm.facts?.darwin?.homeManager?.path,
      });
      assert.equal(deploy.status, 409, JSON.stringify(deploy.body));
      assert.equal(deploy.body.error.code, 'host_not_managed');
      const reboot = await fleet.api.post<{ error: { code: string } }>(
        `/api/v1/hosts/${name}/reboot`,
        { confirm: name },
      );
      assert.equal(reboot.status, 409, JSON.stringify(reboot.body));
      assert.equal(reboot.body.error.code, 'host_not_managed');
    }
  });

  it('tells a Mac behind by N commits from one that runs a hand-built output', async () => {
    // Someone ran `darwin-rebuild switch` on mac-dw from a dirty tree: an output no commit has.
    const dirty = join(fleet.dir, 'dirty');
    await writeSandboxFlake(dirty, [at(darwin, 'hand-edited')]);
    await switchMac(
      sandboxHostPaths(join(fleet.dir, 'hosts', darwin.name)),
      'darwin',
      await buildInstallable(`path:${dirty}#${darwinOutput}`),
    );
    // Two commits on the branch: both Macs' outputs change, then something else.
    await writeHost(repo.work, at(home, '2'));
    await writeHost(repo.work, at(darwin, '2'));
    await repo.commit('macs: version 2');
    await writeFile(join(repo.work, 'README.md'), 'the fleet\n');
    const head = await repo.commit('docs only');
    await repo.push();
    await evaluated(head);
    // The agent reports its facts again when it starts.
    await fleet.agents.get(darwin.name)?.process.stop();
    await fleet.launchAgent(darwin.name, { agentMode: 'monitor', mac: true });

    const hm = await fleet.waitForHost(home.name, (h) => h.sync?.state === 'behind');
    assert.equal(hm.sync?.behindBy, 2);
    assert.notEqual(hm.sync?.declaredPath, hm.sync?.runningPath);
    const dw = await fleet.waitForHost(darwin.name, (h) => h.sync?.state === 'drifted');
    assert.equal(dw.sync?.runningPath, dw.facts?.system.current);

    const report = await status(home.name);
    assert.equal(report.state, 'monitor');
    assert.match(report.summary, /behind by 2 commits: runs home-manager output markus@mac-hm/);
    assert.match((await status(darwin.name)).summary, /drifted: runs .*darwin-system-mac-dw/);
  });
});
