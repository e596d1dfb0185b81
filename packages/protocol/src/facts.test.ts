import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Facts } from './facts.js';
import { parseAgentMessage } from './messages.js';

const SYSTEM = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1';

function facts(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hostname: 'hsb1',
    os: 'linux',
    kernel: '6.6.30',
    osRelease: { id: 'nixos', name: 'NixOS', versionId: '24.05', prettyName: 'NixOS 24.05' },
    machineId: '0123456789abcdef0123456789abcdef',
    bootId: 'b1',
    system: { current: SYSTEM, booted: SYSTEM, bootDefault: SYSTEM },
    nixosVersion: '24.05',
    configurationRevision: null,
    generations: [{ number: 3, path: SYSTEM, date: '2026-03-01T10:00:00.000Z', current: true }],
    rebootRequired: false,
    failedUnits: [],
    metrics: {
      uptimeSeconds: 1,
      load: [0, 0, 0],
      memory: { totalBytes: 1, availableBytes: 1 },
      disks: [],
    },
    collectedAt: '2026-03-01T10:00:00.000Z',
    ...overrides,
  };
}

describe('Facts', () => {
  it('takes what a NixOS host reports', () => {
    assert.equal(Facts.safeParse(facts()).success, true);
    assert.equal(
      Facts.safeParse(facts({ system: { current: null, booted: null, bootDefault: null } }))
        .success,
      true,
    );
  });

  it('takes nothing but store paths as systems and generations', () => {
    for (const path of [
      '../../../../etc/shadow',
      '/nix/store/../../etc/shadow',
      '/etc/shadow',
      '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-x/../../etc',
      '--option builders x',
      `${SYSTEM}\n`,
    ]) {
      const generation = { number: 1, path, date: '2026-03-01T10:00:00.000Z', current: false };
      assert.equal(Facts.safeParse(facts({ generations: [generation] })).success, false, path);
      const system = { current: path, booted: SYSTEM, bootDefault: SYSTEM };
      assert.equal(Facts.safeParse(facts({ system })).success, false, path);
    }
  });

  it('caps strings and takes plain text only', () => {
    assert.equal(Facts.safeParse(facts({ kernel: 'x'.repeat(1024 * 1024) })).success, false);
    assert.equal(Facts.safeParse(facts({ kernel: 'x'.repeat(256) })).success, true);
    for (const hostname of [
      'hsb1\u001b[2J',
      'hsb1\nfake-line',
      'gpc0\u202eevil',
      'x'.repeat(254),
    ]) {
      assert.equal(Facts.safeParse(facts({ hostname })).success, false, JSON.stringify(hostname));
    }
    assert.equal(Facts.safeParse(facts({ hostname: 'hsb1.lan — home server' })).success, true);
    assert.equal(Facts.safeParse(facts({ failedUnits: ['a\u0000b'] })).success, false);
  });

  it('is checked where an agent message is read', () => {
    const result = parseAgentMessage(
      JSON.stringify({
        type: 'facts',
        facts: facts({
          generations: [
            {
              number: 1,
              path: '../../../../etc/shadow',
              date: '2026-03-01T10:00:00.000Z',
              current: false,
            },
          ],
        }),
      }),
    );
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.error.code, 'invalid_message');
    const forged = parseAgentMessage(
      JSON.stringify({
        type: 'deploy.result',
        deploymentId: 'd1',
        outcome: 'succeeded',
        exitCode: 0,
        error: null,
        currentSystem: '/etc/shadow',
      }),
    );
    assert.equal(forged.ok, false);
  });
});
