import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { testDatabases } from '../testing/test-databases.js';
import type { Db } from './database.js';
import { DeploymentRepository } from './deployment.repository.js';
import { HostRepository } from './host.repository.js';
import { PlanRepository } from './plan.repository.js';

const T0 = '2025-03-01T10:00:00.000Z';
const T1 = '2025-03-01T10:05:00.000Z';

/** Host alpha with deployments d1 (waiting) and d2 (queued), and the plans repository. */
async function repositories(db: Db) {
  await new HostRepository(db).insert({
    name: 'alpha',
    mode: 'managed',
    os: 'linux',
    createdAt: T0,
  });
  const deployments = new DeploymentRepository(db);
  for (const id of ['d1', 'd2']) {
    await deployments.insert({
      id,
      host_name: 'alpha',
      store_path: `/nix/store/${id}-system`,
      action: 'switch',
      // One waiting and one in-flight deployment per host at most.
      status: id === 'd1' ? 'awaiting_approval' : 'queued',
      phase: null,
      actor: 'pipeline',
      created_at: T0,
      started_at: null,
      finished_at: null,
      exit_code: null,
      error_code: null,
      error_message: null,
      result_system: null,
      release_id: null,
      revision_id: null,
      approved_by: null,
      approved_at: null,
      approval_comment: null,
      hold_reason: null,
      force_reason: null,
    });
  }
  const plans = new PlanRepository(db);
  const pending = (deploymentId: string) =>
    plans.insertIfAbsent({
      deploymentId,
      host: 'alpha',
      storePath: `/nix/store/${deploymentId}-system`,
      state: 'pending',
      code: null,
      reason: 'not asked yet',
      at: T0,
    });
  return { plans, pending };
}

for (const engine of testDatabases()) {
  describe(`activation plans on ${engine.name}`, { concurrency: true }, () => {
    it('records one plan per deployment, counts the requests and reads several at once', () =>
      engine.withDatabase(async (db) => {
        const { plans, pending } = await repositories(db);
        assert.equal(await pending('d1'), true);
        assert.equal(await pending('d1'), false, 'a second insert keeps the first');
        assert.equal(await pending('d2'), true);
        await plans.asked('d1', T1);
        await plans.asked('d1', T1);
        const row = await plans.find('d1');
        assert.equal(row?.attempts, 2);
        assert.equal(row.requested_at, T1);
        assert.equal(row.state, 'pending');
        const both = await plans.forDeployments(['d1', 'd2', 'd3']);
        assert.deepEqual([...both.keys()].sort(), ['d1', 'd2']);
        assert.equal((await plans.forDeployments([])).size, 0);
      }));

    it('changes a plan only in the states, and only unasked, when told so', () =>
      engine.withDatabase(async (db) => {
        const { plans, pending } = await repositories(db);
        await pending('d1');
        await pending('d2');
        await plans.asked('d2', T1);
        const started = {
          state: 'unavailable' as const,
          code: 'deployment_started',
          updated_at: T1,
        };
        assert.equal(
          await plans.update('d1', started, { states: ['pending'], unasked: true }),
          true,
        );
        assert.equal(
          await plans.update('d2', started, { states: ['pending'], unasked: true }),
          false,
          'its agent was asked: the answer may still come',
        );
        const ready = {
          state: 'ready' as const,
          plan_json: '{}',
          base_system: '/nix/store/x-a',
          updated_at: T1,
        };
        assert.equal(await plans.update('d2', ready), true);
        assert.equal(
          await plans.update(
            'd2',
            { state: 'unavailable', updated_at: T1 },
            { states: ['pending'] },
          ),
          false,
          'a ready plan is not taken back',
        );
        assert.equal((await plans.find('d2'))?.state, 'ready');
        assert.equal((await plans.find('d1'))?.code, 'deployment_started');
      }));

    it('goes with its deployment', () =>
      engine.withDatabase(async (db) => {
        const { plans, pending } = await repositories(db);
        await pending('d1');
        await sql`delete from deployments where id = 'd1'`.execute(db);
        assert.equal(await plans.find('d1'), undefined);
      }));
  });
}
