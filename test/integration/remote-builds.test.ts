import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Build, BuildList, ReleaseList } from '@flotilla/protocol';
import { GitFlakeRepo, JsonClient, SshBuilder, writeSandboxFlake } from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

// The controller builds nothing itself (`remoteOnly`, Nix's `--max-jobs 0`): every build goes
// over ssh to a real sshd on loopback, whose Nix builds on a store of its own. A builder
// that is down fails the build at once with an error that says so, and a retry once it is
// back builds there.

describe('remote builds over ssh, with local builds off', { timeout: 240_000 }, () => {
  let fleet: FleetFixture;
  let builder: SshBuilder;
  const stamp = Date.now();

  const builds = async () =>
    (await fleet.api.get<BuildList>('/api/v1/builds?host=gpc0')).body.builds;
  const finished = (id: string) =>
    JsonClient.until(
      async () => {
        const build = (await fleet.api.get<Build>(`/api/v1/builds/${id}`)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(build.status) ? build : undefined;
      },
      `build ${id} to end`,
      120_000,
    );

  before(async () => {
    fleet = await FleetFixture.start('remote-builds', {
      config: async (dir) => {
        builder = await SshBuilder.create(join(dir, 'builder'));
        const repo = await GitFlakeRepo.create(join(dir, 'github'));
        await writeSandboxFlake(repo.work, [{ name: 'gpc0', version: `r${stamp}` }]);
        await repo.commit('gpc0');
        await repo.push();
        return {
          repository: { url: repo.bare, pollIntervalSeconds: 3600 },
          builds: {
            timeoutSeconds: 120,
            builders: builder.buildersSpec,
            remoteOnly: true,
            buildersUseSubstitutes: false,
            sshKeyFile: builder.clientKeyFile,
            sshKnownHostsFile: builder.knownHostsFile,
            sshConfigFile: builder.sshConfigFile,
          },
        };
      },
    });
  });

  after(async () => {
    await builder?.stop();
    await fleet?.stop();
  });

  it('fails at once with the builder named while it is down, and builds there once it is back', async () => {
    // sshd is not started yet: the first build finds no builder.
    const first = await JsonClient.until(async () => (await builds())[0], 'a build of gpc0');
    const failed = await finished(first.id);
    assert.equal(failed.status, 'failed');
    assert.match(
      failed.errorSummary ?? '',
      /^remote builder unreachable: 'ssh:\/\/root@flotilla-builder.*Connection refused/,
    );
    assert.equal(await builder.sessions().then((s) => s.length), 0);

    await builder.start();
    const retry = await fleet.api.post<Build>(`/api/v1/builds/${first.id}/retry`, {});
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    const built = await finished(retry.body.id);
    assert.equal(built.status, 'succeeded', built.errorSummary ?? '');
    const outPath = built.outPath ?? '';
    // Built there: the output is in the builder's own store, and came in over an ssh session
    // authenticated with the test's key.
    assert.ok(existsSync(join(builder.builderStore, 'nix', 'store', basename(outPath))), outPath);
    assert.ok((await builder.sessions()).some((line) => / nix-store --serve --write$/.test(line)));
    assert.ok(
      builder.log.some((line) => /Accepted publickey for root from 127\.0\.0\.1/.test(line)),
    );
    const log = await fleet.api.get<{ lines: { line: string }[] }>(
      `/api/v1/builds/${built.id}/log`,
    );
    assert.ok(
      log.body.lines.some((l) => l.line.includes("on 'ssh://root@flotilla-builder")),
      'Nix says where it built',
    );
    const releases = await JsonClient.until(async () => {
      const list = (await fleet.api.get<ReleaseList>('/api/v1/releases?host=gpc0')).body.releases;
      return list.length > 0 ? list : undefined;
    }, 'a release of gpc0');
    assert.equal(releases[0]?.storePath, outPath);
  });
});
