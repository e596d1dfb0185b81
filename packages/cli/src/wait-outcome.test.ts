import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RevisionHostStatus, RevisionPipelineStatus } from '@flotilla/protocol';
import { decideWait, usefulErrorLines } from './wait-outcome.js';

function host(name: string, fields: Partial<RevisionHostStatus> = {}): RevisionHostStatus {
  return {
    host: name,
    mode: 'managed',
    evaluation: 'ok',
    error: null,
    drvPath: `/nix/store/${name}.drv`,
    changed: true,
    build: { id: `b-${name}`, status: 'succeeded', errorSummary: null, notRebuilt: false },
    release: { id: `r-${name}`, status: 'ready' },
    deployment: null,
    ...fields,
  };
}

function status(
  hosts: RevisionHostStatus[],
  fields: Partial<RevisionPipelineStatus['revision']> = {},
): RevisionPipelineStatus {
  return {
    revision: {
      id: 'rv1',
      sha: 'a'.repeat(40),
      ref: 'refs/heads/main',
      kind: 'branch',
      subject: 'bump',
      status: 'evaluated',
      discoveredAt: '2026-01-01T00:00:00.000Z',
      evaluatedAt: '2026-01-01T00:00:01.000Z',
      baseRevisionId: null,
      ...fields,
    },
    error: null,
    hosts,
  };
}

describe('decideWait', () => {
  it('waits while the commit is unknown or still evaluating', () => {
    assert.equal(decideWait(null, 'built').state, 'pending');
    assert.equal(decideWait(status([], { status: 'evaluating' }), 'built').state, 'pending');
  });

  it('fails the whole commit when the flake did not evaluate, with file:line', () => {
    const failed = status([], { status: 'failed' });
    failed.error = {
      message: 'syntax error, unexpected end of file',
      location: { file: 'flake.nix', line: 9, column: 1 },
    };
    const outcome = decideWait(failed, 'built');
    assert.equal(outcome.state, 'evaluation_failed');
    assert.deepEqual(outcome.error, {
      message: 'syntax error, unexpected end of file',
      location: 'flake.nix:9:1',
    });
  });

  it("ends at once on one host's evaluation error, even while others build", () => {
    const outcome = decideWait(
      status([
        host('alpha', {
          build: { id: 'b1', status: 'running', errorSummary: null, notRebuilt: false },
          release: null,
        }),
        host('gamma', {
          evaluation: 'failed',
          drvPath: null,
          build: null,
          release: null,
          error: {
            message: "syntax error, unexpected '}'",
            location: { file: 'hosts/gamma.nix', line: 4, column: 1 },
          },
        }),
      ]),
      'built',
    );
    assert.equal(outcome.state, 'evaluation_failed');
    const gamma = outcome.hosts.find((h) => h.host === 'gamma');
    assert.equal(gamma?.error?.location, 'hosts/gamma.nix:4:1');
    assert.equal(outcome.hosts.find((h) => h.host === 'alpha')?.state, 'pending');
  });

  it('counts a branch system as built once its release left publishing', () => {
    const publishing = host('alpha', { release: { id: 'r1', status: 'publishing' } });
    assert.equal(decideWait(status([publishing]), 'built').state, 'pending');
    assert.equal(decideWait(status([host('alpha')]), 'built').state, 'reached');
    const unchanged = host('beta', { changed: false, build: null, release: null });
    assert.equal(decideWait(status([unchanged]), 'built').state, 'reached');
  });

  it('reports a failed or not-rebuilt build with its error', () => {
    const failed = host('alpha', {
      release: null,
      build: {
        id: 'b9',
        status: 'failed',
        errorSummary: 'error: builder failed',
        notRebuilt: true,
      },
    });
    const outcome = decideWait(status([failed]), 'built');
    assert.equal(outcome.state, 'build_failed');
    assert.equal(outcome.hosts[0]?.stage, 'not rebuilt: failed before');
    assert.equal(outcome.hosts[0]?.error?.buildId, 'b9');
  });

  it('follows deployments of changed managed hosts only, past each stage', () => {
    const deployment = (
      s: 'awaiting_approval' | 'queued' | 'confirming' | 'succeeded' | 'rejected',
    ) => ({
      id: 'd1',
      status: s,
      errorCode: null,
      errorMessage: s === 'rejected' ? 'not now' : null,
    });
    const monitor = host('mac', { mode: 'monitor' });
    const unchanged = host('beta', { changed: false });
    const at = (s: Parameters<typeof deployment>[0]) =>
      status([host('alpha', { deployment: deployment(s) }), monitor, unchanged]);
    assert.deepEqual(
      decideWait(at('queued'), 'approved').hosts.map((h) => h.host),
      ['alpha'],
    );
    assert.equal(decideWait(at('awaiting_approval'), 'approved').state, 'pending');
    assert.equal(decideWait(at('queued'), 'approved').state, 'reached');
    assert.equal(decideWait(at('queued'), 'deployed').state, 'pending');
    assert.equal(decideWait(at('confirming'), 'deployed').state, 'reached');
    assert.equal(decideWait(at('confirming'), 'verified').state, 'pending');
    assert.equal(decideWait(at('succeeded'), 'verified').state, 'reached');
    const rejected = decideWait(at('rejected'), 'deployed');
    assert.equal(rejected.state, 'deployment_failed');
    assert.equal(rejected.hosts[0]?.error?.message, 'not now');
  });

  it('refuses waits that cannot end', () => {
    assert.throws(() => decideWait(status([host('alpha')]), 'built', ['nope']), /nope/);
    assert.throws(
      () => decideWait(status([host('alpha')], { kind: 'preview' }), 'deployed'),
      /preview is never deployed/,
    );
  });
});

describe('usefulErrorLines', () => {
  it('starts at the first error line and drops blank lines', () => {
    const text = 'building foo\n\nerror: builder for x failed\n  last 3 log lines:\n\n  > boom\n';
    assert.deepEqual(usefulErrorLines(text), [
      'error: builder for x failed',
      '  last 3 log lines:',
      '  > boom',
    ]);
  });
});
