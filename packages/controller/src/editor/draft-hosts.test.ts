import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareHosts, hostsAllowCommit, hostsSummary } from './draft-hosts.js';

const drv = (name: string) => `/nix/store/${'a'.repeat(32)}-nixos-system-${name}.drv`;

describe('compareHosts', () => {
  const head = {
    nixos: { alpha: drv('alpha-1'), beta: drv('beta-1'), gone: drv('gone-1') },
    hostErrors: { broken: 'error: broken at the head' },
  };

  it('tells unchanged, rebuilt, added, removed and failing hosts apart', () => {
    const hosts = compareHosts(head, {
      nixos: { alpha: drv('alpha-1'), beta: drv('beta-2'), fresh: drv('fresh-1') },
      hostErrors: { broken: 'error: still broken', gamma: 'error: x' },
      hostErrorDetails: {
        gamma: {
          message: 'syntax error, unexpected }',
          location: { file: 'hosts/gamma.nix', line: 4, column: 1 },
        },
      },
    });
    const byHost = Object.fromEntries(hosts.map((h) => [h.host, h]));
    assert.deepEqual(
      hosts.map((h) => [h.host, h.status]),
      [
        ['alpha', 'unchanged'],
        ['beta', 'rebuild'],
        ['broken', 'error'],
        ['fresh', 'added'],
        ['gamma', 'error'],
        ['gone', 'removed'],
      ],
    );
    assert.equal(byHost.beta?.headDrvPath, drv('beta-1'));
    assert.equal(byHost.beta?.draftDrvPath, drv('beta-2'));
    assert.deepEqual(byHost.gamma?.error?.location, {
      file: 'hosts/gamma.nix',
      line: 4,
      column: 1,
    });
    assert.equal(byHost.gamma?.failsAtHead, false);
    assert.equal(byHost.broken?.failsAtHead, true);
    assert.equal(
      byHost.broken?.error?.message,
      'still broken',
      'read from the text without details',
    );
    assert.equal(hostsAllowCommit(hosts), false, 'gamma fails only with the draft');
    assert.equal(
      hostsSummary(hosts),
      'rebuilds 2 of 6 hosts; 2 errors (broken, gamma); removes gone',
    );
  });

  it('does not hold up a commit for a host that fails at the head already', () => {
    const hosts = compareHosts(head, {
      nixos: { alpha: drv('alpha-2'), beta: drv('beta-1'), gone: drv('gone-1') },
      hostErrors: { broken: 'error: still broken' },
    });
    assert.equal(hostsAllowCommit(hosts), true);
    assert.equal(hostsSummary(hosts), 'rebuilds 1 of 4 hosts; 1 error (broken)');
  });

  it('counts every host as rebuilt when the head’s flake did not evaluate', () => {
    const hosts = compareHosts(null, { nixos: { alpha: drv('alpha-1') }, hostErrors: {} });
    assert.deepEqual(
      hosts.map((h) => [h.host, h.status, h.headDrvPath]),
      [['alpha', 'rebuild', null]],
    );
  });
});
