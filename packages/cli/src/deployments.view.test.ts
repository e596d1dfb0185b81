import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderDeploymentDetail } from './deployments.view.js';
import { IDS, sampleDeployment } from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');

describe('renderDeploymentDetail', () => {
  it('shows the revision, the approver with the comment, and why it still waits', () => {
    const text = renderDeploymentDetail(
      sampleDeployment({
        status: 'approved',
        revisionId: IDS.revision,
        approvedBy: 'ada',
        approvalComment: 'weekly update',
        holdReason: 'deploy window opens at 22:00 UTC',
      }),
      now,
    );
    assert.match(text, new RegExp(`^Revision:\\s+${IDS.revision}$`, 'm'));
    assert.match(text, /^Approved by:\s+ada: weekly update$/m);
    assert.match(text, /^Waiting for:\s+deploy window opens at 22:00 UTC$/m);
  });

  it('leaves those lines out for a deployment by hand', () => {
    const text = renderDeploymentDetail(sampleDeployment(), now);
    assert.ok(!/Revision|Approved by|Waiting for/.test(text));
  });
});
