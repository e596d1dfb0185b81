import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDecisionTarget, targetFields } from './decision-target.js';
import { UsageError } from './errors.js';

describe('parseDecisionTarget', () => {
  it('tells deployments, releases and revisions apart by prefix', () => {
    assert.deepEqual(parseDecisionTarget('dmwy8t0001'), { kind: 'deployment', id: 'dmwy8t0001' });
    assert.deepEqual(parseDecisionTarget('rmwy8sihi3adf1e'), {
      kind: 'release',
      id: 'rmwy8sihi3adf1e',
    });
    assert.deepEqual(parseDecisionTarget('rvmwy8in5bf48d3d'), {
      kind: 'revision',
      id: 'rvmwy8in5bf48d3d',
    });
    // A release whose clock starts with a digit is still a release.
    assert.equal(parseDecisionTarget('r0abc').kind, 'release');
  });

  it('refuses anything else before a request is made', () => {
    for (const target of ['', 'x1', 'r', 'd', 'rv', 'R1abc', '/nix/store/abc', 'r-1']) {
      assert.throws(() => parseDecisionTarget(target), UsageError, target);
    }
  });

  it('names the matching request field', () => {
    assert.deepEqual(targetFields({ kind: 'deployment', id: 'd1' }), { deploymentId: 'd1' });
    assert.deepEqual(targetFields({ kind: 'release', id: 'r1' }), { releaseId: 'r1' });
    assert.deepEqual(targetFields({ kind: 'revision', id: 'rv1' }), { revisionId: 'rv1' });
  });
});
