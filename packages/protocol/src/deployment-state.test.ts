import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canTransition,
  CANCELLABLE_DEPLOYMENT_STATUSES,
  DEPLOYMENT_TRANSITIONS,
  DeploymentStatus,
  FINAL_DEPLOYMENT_STATUSES,
  IN_FLIGHT_DEPLOYMENT_STATUSES,
  OPEN_DEPLOYMENT_STATUSES,
  WAITING_DEPLOYMENT_STATUSES,
} from './deployment-state.js';

describe('the deployment state machine', () => {
  it('declares every status, and only final statuses go nowhere', () => {
    assert.deepEqual(
      Object.keys(DEPLOYMENT_TRANSITIONS).sort(),
      [...DeploymentStatus.options].sort(),
    );
    assert.deepEqual([...FINAL_DEPLOYMENT_STATUSES].sort(), [
      'cancelled',
      'expired',
      'failed',
      'rejected',
      'rolled_back',
      'succeeded',
      'superseded',
    ]);
    assert.deepEqual(
      [...OPEN_DEPLOYMENT_STATUSES].sort(),
      DeploymentStatus.options.filter((s) => !FINAL_DEPLOYMENT_STATUSES.has(s)).sort(),
    );
  });

  it('reaches every status from awaiting_approval, and every open status can end', () => {
    const seen = new Set<DeploymentStatus>(['awaiting_approval']);
    const queue: DeploymentStatus[] = ['awaiting_approval'];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const to of DEPLOYMENT_TRANSITIONS[next]) {
        if (!seen.has(to)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    assert.deepEqual([...seen].sort(), [...DeploymentStatus.options].sort());
    for (const status of OPEN_DEPLOYMENT_STATUSES) {
      assert.ok(
        DEPLOYMENT_TRANSITIONS[status].some((to) => FINAL_DEPLOYMENT_STATUSES.has(to)),
        `${status} can end`,
      );
    }
  });

  it('never skips approval and never un-sends or un-ends a deployment', () => {
    assert.equal(canTransition('awaiting_approval', 'queued'), false, 'approval comes first');
    assert.equal(canTransition('awaiting_approval', 'activating'), false);
    assert.equal(canTransition('approved', 'activating'), false, 'the gates queue it first');
    assert.equal(canTransition('activating', 'approved'), false);
    assert.equal(canTransition('activating', 'cancelled'), false, 'the agent owns a sent one');
    for (const final of FINAL_DEPLOYMENT_STATUSES)
      for (const to of DeploymentStatus.options) assert.equal(canTransition(final, to), false);
  });

  it('waits and flies in separate sets, and cancels only what was not sent', () => {
    assert.deepEqual(
      WAITING_DEPLOYMENT_STATUSES.filter((s) => IN_FLIGHT_DEPLOYMENT_STATUSES.includes(s)),
      [],
    );
    for (const status of CANCELLABLE_DEPLOYMENT_STATUSES)
      assert.ok(canTransition(status, 'cancelled'), `${status} → cancelled`);
  });
});
