import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  approvalNote,
  commitLabel,
  renderApprovalTable,
  renderDecision,
} from './approvals.view.js';
import { TimeFormat } from './format.js';
import { IDS, sampleApproval } from './test-controller.js';

const time = new TimeFormat('UTC', new Date('2025-01-01T12:00:00.000Z'));

describe('renderApprovalTable', () => {
  it('says when nothing waits', () => {
    assert.equal(renderApprovalTable({ approvals: [] }, time), 'nothing waits for approval');
  });

  it('lists each waiting deployment with its commit, system, wait and notes', () => {
    const text = renderApprovalTable(
      {
        approvals: [
          sampleApproval(),
          sampleApproval({
            deploymentId: 'dmwy8t0002',
            host: 'web2',
            wave: null,
            sha: null,
            commitMessage: null,
            createdAt: '2025-01-01T11:58:30.000Z',
            isRollback: true,
            quarantined: true,
          }),
        ],
      },
      time,
    );
    const lines = text.split('\n');
    assert.match(
      lines[0] ?? '',
      /^DEPLOYMENT\s+HOST\s+WAVE\s+COMMIT\s+SYSTEM\s+WAITING\s+CHANGES\s+NOTE$/,
    );
    assert.match(
      lines[1] ?? '',
      /^dmwy8t0001\s+web1\s+canary\s+01234567 Bump nixpkgs\s+01234567…-nixos-system-web1-25\.05\s+1 h\s+-$/,
    );
    assert.match(
      lines[2] ?? '',
      /^dmwy8t0002\s+web2\s+-\s+-\s+\S+\s+1 m 30 s\s+-\s+ROLLBACK, QUARANTINED$/,
    );
    assert.match(text, /^ROLLBACK: the host runs a newer release/m);
    assert.match(text, /^QUARANTINED: .*--force --reason/m);
  });

  it('labels notes and commits', () => {
    assert.equal(approvalNote(sampleApproval()), '');
    assert.equal(approvalNote(sampleApproval({ isRollback: true })), 'ROLLBACK');
    assert.equal(commitLabel(null, null), '-');
    assert.equal(commitLabel(IDS.sha, null), '01234567');
    assert.equal(commitLabel(IDS.sha, `${'x'.repeat(60)}\nbody`), `01234567 ${'x'.repeat(39)}…`);
  });
});

describe('renderDecision', () => {
  it('prints each decided deployment with its status, notes set apart under it', () => {
    const text = renderDecision(
      {
        decided: [
          { deploymentId: 'd1', host: 'web1', status: 'queued', holdReason: null, notes: [] },
          {
            deploymentId: 'd22',
            host: 'web2',
            status: 'queued',
            holdReason: null,
            notes: ['this is a rollback: the host runs a newer release', 'window overridden'],
          },
        ],
      },
      'approve',
      { kind: 'revision', id: IDS.revision },
    );
    assert.deepEqual(text.split('\n'), [
      `approved 2 deployments (revision ${IDS.revision}):`,
      '  d1   web1  queued',
      '  d22  web2  queued',
      '      NOTE: this is a rollback: the host runs a newer release',
      '      NOTE: window overridden',
    ]);
  });

  it('speaks of one rejected deployment, or of none', () => {
    const one = renderDecision(
      {
        decided: [
          { deploymentId: 'd1', host: 'web1', status: 'rejected', holdReason: null, notes: [] },
        ],
      },
      'reject',
      { kind: 'deployment', id: 'd1' },
    );
    assert.equal(one, 'rejected 1 deployment (deployment d1):\n  d1  web1  rejected');
    const none = renderDecision({ decided: [] }, 'reject', { kind: 'release', id: IDS.release });
    assert.equal(none, `nothing rejected (release ${IDS.release})`);
  });
});
