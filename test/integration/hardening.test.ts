import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditList, ErrorBody } from '@flotilla/protocol';
import {
  agentGatewayUrl,
  enrollIdentity,
  JsonClient,
  newAgentIdentity,
  ProtocolAgent,
  type AgentIdentity,
} from '@flotilla/sandbox';
import WebSocket from 'ws';
import { FleetFixture } from './fleet-fixture.js';

const SYSTEM = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-raw1';

/** Facts as an agent sends them, with `overrides`. */
function facts(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hostname: 'raw1',
    os: 'linux',
    kernel: '6.6.30',
    osRelease: null,
    machineId: null,
    bootId: null,
    system: { current: SYSTEM, booted: SYSTEM, bootDefault: SYSTEM },
    nixosVersion: null,
    configurationRevision: null,
    generations: [],
    rebootRequired: false,
    failedUnits: null,
    metrics: {
      uptimeSeconds: 1,
      load: [0, 0, 0],
      memory: { totalBytes: 1, availableBytes: 1 },
      disks: [],
    },
    collectedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** Opens a WebSocket to the gateway; resolves with the HTTP status of a refusal, or 101. */
function upgradeStatus(
  url: string,
  keep: WebSocket[] = [],
): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => {
      keep.push(socket);
      resolve({ status: 101 });
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve({
        status: response.statusCode ?? 0,
        ...(response.headers['retry-after'] ? { retryAfter: response.headers['retry-after'] } : {}),
      });
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

describe('the controller against forged agents and guessed keys', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;
  let raw1: AgentIdentity;
  let url: string;

  before(async () => {
    fleet = await FleetFixture.start('hardening', {
      config: () => ({
        limits: {
          hostFailures: {
            maxFailures: 3,
            windowSeconds: 60,
            lockoutSeconds: 2,
            maxLockoutSeconds: 4,
          },
          agentConnectionsPerAddress: 3,
        },
      }),
    });
    raw1 = newAgentIdentity('raw1');
    const enrolled = await enrollIdentity(fleet.controller.url, raw1, await fleet.register('raw1'));
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
    url = agentGatewayUrl(fleet.controller.url);
  });

  after(async () => {
    await fleet?.stop();
  });

  it('keeps its state private: directory 0700, database and signing key 0600', async () => {
    const state = fleet.controller.stateDir;
    const mode = async (path: string) => (await stat(join(state, path))).mode & 0o777;
    assert.equal(await mode('.'), 0o700);
    for (const file of [
      'flotilla.db',
      'flotilla.db-wal',
      'flotilla.db-shm',
      'cache/signing-key.sec',
    ]) {
      assert.equal(await mode(file), 0o600, file);
    }
    assert.equal(await mode('cache'), 0o700);
  });

  it('stores no facts that fail the protocol: no path outside the store, no megabyte strings', async () => {
    const agent = await ProtocolAgent.connectAs(fleet.controller.url, raw1);
    try {
      const shadow = {
        number: 1,
        path: '../../../../etc/shadow',
        date: new Date().toISOString(),
        current: false,
      };
      for (const forged of [
        facts({ generations: [shadow] }),
        facts({ system: { current: '/etc', booted: null, bootDefault: null } }),
        facts({ kernel: 'k'.repeat(1000) }),
        facts({ hostname: 'raw1\u001b[2Jowned' }),
      ]) {
        const from = agent.received.length;
        agent.socket.send(JSON.stringify({ type: 'facts', facts: forged }));
        assert.equal((await agent.nextError(from)).code, 'invalid_message');
      }
      const from = agent.received.length;
      agent.socket.send(
        JSON.stringify({ type: 'facts', facts: facts({ kernel: 'k'.repeat(1024 * 1024) }) }),
      );
      assert.equal((await agent.nextError(from)).code, 'message_too_large');
      const host = await fleet.host('raw1');
      assert.equal(host.facts, null, 'nothing was stored');

      agent.socket.send(JSON.stringify({ type: 'facts', facts: facts() }));
      await fleet.waitForHost('raw1', (h) => h.facts?.system.current === SYSTEM, 10_000);
    } finally {
      agent.socket.close();
    }
  });

  it('writes no audit entry for a reboot result nobody asked for', async () => {
    const agent = await ProtocolAgent.connectAs(fleet.controller.url, raw1);
    try {
      for (let i = 0; i < 3; i++) {
        const from = agent.received.length;
        agent.socket.send(
          JSON.stringify({
            type: 'reboot.result',
            requestId: `rb-forged-${i}`,
            ok: true,
            error: null,
          }),
        );
        assert.equal((await agent.nextError(from)).code, 'reboot_not_requested');
      }
      const audit = await fleet.api.get<AuditList>('/api/v1/audit?host=raw1');
      assert.deepEqual(
        audit.body.entries.filter((e) => e.kind.startsWith('host.reboot')),
        [],
      );
    } finally {
      agent.socket.close();
    }
  });

  it('caps agent connections per address', async () => {
    const open: WebSocket[] = [];
    try {
      for (let i = 0; i < 3; i++) assert.equal((await upgradeStatus(url, open)).status, 101);
      const over = await upgradeStatus(url, open);
      assert.equal(over.status, 429);
      assert.ok(over.retryAfter);
    } finally {
      for (const socket of open) socket.terminate();
    }
    // Closed connections free their places.
    await JsonClient.until(
      async () => {
        const keep: WebSocket[] = [];
        const { status } = await upgradeStatus(url, keep);
        keep.forEach((socket) => socket.terminate());
        return status === 101 ? true : undefined;
      },
      'a place to free up',
      10_000,
    );
  });

  it('locks out an address that signs with keys it does not hold, at the gateway and the cache', async () => {
    // A key never enrolled, claiming raw1: each refused hello counts against the address.
    const impostor = newAgentIdentity('raw1');
    const forge = async (): Promise<string> => {
      const agent = await ProtocolAgent.connect(fleet.controller.url);
      await agent.hello(impostor);
      const code = (await agent.nextError(0)).code;
      await agent.closed();
      return code;
    };
    for (let i = 0; i < 4; i++) assert.equal(await forge(), 'agent_not_enrolled');
    const locked = await upgradeStatus(url);
    assert.equal(locked.status, 429, 'even the real agent waits');
    assert.equal(locked.retryAfter, '2');
    const cache = await fetch(`${fleet.controller.url}/cache/nix-cache-info`, {
      headers: { authorization: 'Bearer fltc_guess' },
    });
    assert.equal(cache.status, 429, 'the binary cache shares the hosts’ lockout');
    assert.equal(((await cache.json()) as { error: ErrorBody }).error.code, 'rate_limited');
    const agent = await JsonClient.until(
      async () => ProtocolAgent.connectAs(fleet.controller.url, raw1).catch(() => undefined),
      'the lockout to end',
      10_000,
    );
    agent.socket.close();
    const log = fleet.controller.process.lines.join('\n');
    assert.match(
      log,
      /agent authentication failed.*"remote":"127\.0\.0\.1"|"remote":"127\.0\.0\.1".*agent authentication failed/,
    );
  });
});

describe(
  'an agent started through the sandbox (as the demo starts them)',
  { timeout: 300_000 },
  () => {
    let fleet: FleetFixture;

    before(async () => {
      fleet = await FleetFixture.start('sandbox-reboot');
    });

    after(async () => {
      await fleet?.stop();
    });

    it('reboots only its sandbox: the marker changes, the machine does not', async () => {
      const machineBoot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
      const agent = await fleet.addAgent('demo1');
      const before = (await fleet.host('demo1')).facts?.bootId;
      assert.ok(before);
      assert.notEqual(before, machineBoot, 'the host has a boot of its own');
      const answer = await fleet.api.post<{ requestId: string }>('/api/v1/hosts/demo1/reboot', {
        confirm: 'demo1',
      });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      const rebooted = await fleet.waitForHost('demo1', (h) => h.facts?.bootId !== before, 30_000);
      assert.notEqual(rebooted.facts?.bootId, machineBoot);
      const marker = (await readFile(agent.paths.rebootMarker, 'utf8')).trim().split('\n');
      assert.equal(marker.length, 1, 'one simulated reboot');
      assert.equal((await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim(), machineBoot);
      const audit = await JsonClient.until(
        async () => {
          const list = await fleet.api.get<AuditList>(
            '/api/v1/audit?host=demo1&kind=host.rebooted',
          );
          return list.body.entries.length > 0 ? list.body.entries : undefined;
        },
        'the reboot result',
        30_000,
      );
      assert.deepEqual(audit[0]?.data, { requestId: answer.body.requestId, error: null });
    });
  },
);
