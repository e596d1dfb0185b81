import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderDeploymentDetail } from './deployments.view.js';
import { TimeFormat } from './format.js';
import { IDS, sampleDeployment } from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');
const utc = new TimeFormat('UTC', now);
const vienna = new TimeFormat('Europe/Vienna', now);

describe('renderDeploymentDetail', () => {
  it('shows the revision, the approver with the comment, and why it still waits', () => {
    const text = renderDeploymentDetail(
      sampleDeployment({
        status: 'approved',
        revisionId: IDS.revision,
        approvedBy: 'ada',
        approvalComment: 'weekly update',
        holdReason: 'wave canary is soaking until 2025-01-01T12:30:00.000Z',
      }),
      vienna,
    );
    assert.match(text, new RegExp(`^Revision:\\s+${IDS.revision}$`, 'm'));
    assert.match(text, /^Approved by:\s+ada: weekly update$/m);
    assert.match(text, /^Waiting for:\s+wave canary is soaking until 2025-01-01 13:30:00\+01:00$/m);
  });

  it('leaves those lines out for a deployment by hand', () => {
    const text = renderDeploymentDetail(sampleDeployment(), utc);
    assert.ok(!/Revision|Approved by|Waiting for/.test(text));
  });
});
