import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Deployment } from '@flotilla/protocol';
import {
  buildHost,
  JsonClient,
  NetworkNamespace,
  startTlsProxy,
  writeHost,
  writeSandboxFlake,
  type TlsProxy,
} from '@flotilla/sandbox';
import { FleetFixture } from './fleet-fixture.js';

const CONFIRM_TIMEOUT_SECONDS = 10;

/**
 * The classic disaster: the new system cuts the host off, so nobody can tell it to roll
 * back. The agent runs in its own network namespace, joined to the controller by a veth
 * pair; the test takes the link down while the new system activates. The controller is on
 * another "machine" here, so the agent reaches it over TLS only (a proxy in front of it, as
 * in production), trusting the proxy's certificate by its CA file and a pin.
 */
describe(
  'magic rollback: a host that cannot reach the controller reverts by itself',
  { timeout: 300_000 },
  () => {
    let fleet: FleetFixture | undefined;
    let ns: NetworkNamespace | undefined;
    let proxy: TlsProxy | undefined;
    let proxyDir: string | undefined;

    before(async () => {
      if (!(await NetworkNamespace.available())) {
        throw new Error('network namespaces are not available (needs root and iproute2)');
      }
      ns = await NetworkNamespace.create(`flt-cut-${process.pid}`, process.pid % 64);
      const address = ns.hostAddress;
      proxy = await startTlsProxy({
        host: address,
        dir: (proxyDir = await mkdtemp(join(tmpdir(), 'flotilla-network-cut-tls-'))),
        target: () => ({ host: address, port: Number(new URL(fleet?.controller.url ?? '').port) }),
      });
      const publicUrl = proxy.url;
      fleet = await FleetFixture.start('network-cut', {
        listen: `${address}:0`,
        config: () => ({
          publicUrl,
          deployments: { confirmTimeoutSeconds: CONFIRM_TIMEOUT_SECONDS },
        }),
      });
    });

    after(async () => {
      await fleet?.stop();
      await proxy?.close();
      await ns?.destroy();
      if (proxyDir) await rm(proxyDir, { recursive: true, force: true });
    });

    it('rolls back within the confirm timeout with the link down, and reports it once the link is back', async () => {
      const f = fleet!;
      const flake = join(f.dir, 'flake');
      const stamp = Date.now();
      await writeSandboxFlake(flake, [{ name: 'far', version: `${stamp}-0` }]);
      const initial = await buildHost(`path:${flake}`, 'far');
      await f.addAgent('far', {
        initialSystem: initial,
        commandPrefix: ns!.execPrefix,
        gatewayUrl: `${proxy!.url.replace(/^https/, 'wss')}/api/v1/agent/ws`,
        extraArgs: ['--ca-file', proxy!.caFile, '--certificate-pin', proxy!.pin],
      });
      const paths = f.agents.get('far')!.paths;

      await writeHost(flake, { name: 'far', version: `${stamp}-1`, activationSeconds: 3 });
      const next = await buildHost(`path:${flake}`, 'far');
      const created = await f.deploy({
        host: 'far',
        storePath: next,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await JsonClient.until(async () => {
        const body = (
          await f.api.get<Deployment & { log: { line: string }[] }>(
            `/api/v1/deployments/${created.body.id}`,
          )
        ).body;
        return body.log.some((l) => l.line.includes('activating far: 1 of 3 s')) ? true : undefined;
      }, 'the activation to start');

      await ns!.linkDown();
      const cutAt = Date.now();
      // The new system comes up; with no controller to confirm it, the host must go back on its own.
      await JsonClient.until(
        async () => ((await realpath(paths.currentSystemLink)) === next ? true : undefined),
        'the new system to be activated',
        20_000,
      );
      await JsonClient.until(
        async () => ((await realpath(paths.currentSystemLink)) === initial ? true : undefined),
        'the host to roll itself back',
        (CONFIRM_TIMEOUT_SECONDS + 20) * 1000,
      );
      const seconds = (Date.now() - cutAt) / 1000;
      assert.ok(seconds < CONFIRM_TIMEOUT_SECONDS + 15, `rolled back ${seconds} s after the cut`);
      assert.equal(await realpath(paths.profile), initial, 'the boot default never moved');
      const during = (await f.api.get<Deployment>(`/api/v1/deployments/${created.body.id}`)).body;
      assert.ok(
        ['activating', 'confirming'].includes(during.status),
        'the controller has not heard yet',
      );

      await ns!.linkUp();
      const done = await f.waitForDeployment(created.body.id, 90_000);
      assert.equal(done.status, 'rolled_back', JSON.stringify(done));
      assert.match(done.errorMessage ?? '', /confirm/i);
      assert.equal(done.resultSystem, initial);
    });
  },
);
