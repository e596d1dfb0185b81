import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingApproval } from '@flotilla/protocol';
import { groupApprovals, isUndecided } from './approval-groups.js';

function approval(
  fields: Partial<Omit<PendingApproval, 'plan'>> & { deploymentId: string; host: string },
): PendingApproval {
  return {
    status: 'awaiting_approval',
    releaseId: null,
    storePath: '/nix/store/x',
    revisionId: 'rev1',
    sha: 'aaaa',
    commitMessage: 'one',
    wave: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    approvedBy: null,
    holdReason: null,
    isRollback: false,
    quarantined: false,
    halted: false,
    haltReason: null,
    plan: null,
    ...fields,
  };
}

describe('the approvals inbox grouped by revision and wave', () => {
  it('puts each revision once, newest first, its waves in the configured order', () => {
    const groups = groupApprovals(
      [
        approval({ deploymentId: 'd1', host: 'web2', wave: 'home' }),
        approval({ deploymentId: 'd2', host: 'web1', wave: 'home' }),
        approval({ deploymentId: 'd3', host: 'gpc0', wave: 'canary' }),
        approval({ deploymentId: 'd4', host: 'solo', wave: null }),
        approval({
          deploymentId: 'd5',
          host: 'web1',
          revisionId: 'rev2',
          sha: 'bbbb',
          createdAt: '2026-01-02T00:00:00.000Z',
          halted: true,
          haltReason: 'gpc0 rolled back',
        }),
        approval({ deploymentId: 'd6', host: 'x', revisionId: null, sha: null }),
      ],
      ['canary', 'home'],
    );
    assert.deepEqual(
      groups.map((g) => g.revisionId),
      ['rev2', 'rev1', null],
    );
    const rev1 = groups[1]!;
    assert.deepEqual(
      rev1.waves.map((w) => [w.wave, w.approvals.map((a) => a.host)]),
      [
        ['canary', ['gpc0']],
        ['home', ['web1', 'web2']],
        [null, ['solo']],
      ],
    );
    assert.equal(groups[0]!.halted, true);
    assert.equal(groups[0]!.haltReason, 'gpc0 rolled back');
    assert.equal(rev1.halted, false);
  });

  it('tells waiting deployments from held ones', () => {
    assert.equal(isUndecided(approval({ deploymentId: 'a', host: 'h' })), true);
    assert.equal(
      isUndecided(approval({ deploymentId: 'a', host: 'h', status: 'approved' })),
      false,
    );
  });
});
