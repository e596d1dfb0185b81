import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeploymentPlan, PendingApproval } from '@flotilla/protocol';
import { testDatabases, type EmptyDatabase } from '@flotilla/controller/testing';
import { ServiceFleet, storePath } from './service-fixture.js';

// Activation plans on the service tier: each waiting deployment's agent is asked to
// prepare it, its answer is stored and shown with the approval and the deployment, missing
// and failed ones are asked for again after a reconnect, and none of it changes a decision.

const CONFIG = {
  // hsb0's link is metered: the controller never asks its agent to fetch ahead.
  hosts: { hsb0: { prefetch: false } },
  deployments: { queueExpirySeconds: 3600 },
};

for (const engine of testDatabases()) {
  describe(`activation plans (${engine.name})`, { timeout: 120_000 }, () => {
    let database: EmptyDatabase;
    let fleet: ServiceFleet;
    let viewer: string;

    before(async () => {
      database = await engine.create();
      fleet = await ServiceFleet.start(database, { config: CONFIG });
      await fleet.addHost('gpc0');
      await fleet.addHost('hsb1');
      await fleet.addHost('hsb0');
      // An agent from before plans: it announces no features.
      await fleet.addHost('csb0', { features: [] });
      viewer = (await fleet.userWithToken('vera', 'viewer')).token;
    });
    after(async () => {
      await fleet?.stop();
      await database?.remove();
    });

    const approvals = async (): Promise<Map<string, PendingApproval>> => {
      const list = await fleet.services.approvals.pending();
      return new Map(list.approvals.map((a) => [a.host, a]));
    };
    const planOf = async (host: string): Promise<DeploymentPlan> => {
      const approval = (await approvals()).get(host);
      assert.ok(approval?.plan, `${host} waits with a plan`);
      return approval.plan;
    };
    const get = (url: string) =>
      fleet.controller.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${viewer}` },
      });

    it('asks the agent of every waiting host that may prepare it, and says why not elsewhere', async () => {
      await fleet.commit({
        gpc0: 'gpc0-1',
        hsb1: 'hsb1-1',
        hsb0: 'hsb0-1',
        csb0: 'csb0-1',
      });
      const waiting = await approvals();
      assert.deepEqual([...waiting.keys()].sort(), ['csb0', 'gpc0', 'hsb0', 'hsb1']);

      const gpc0 = waiting.get('gpc0');
      const [request] = fleet.agent('gpc0').planRequests();
      assert.deepEqual(request, {
        type: 'plan.request',
        deploymentId: gpc0?.deploymentId,
        storePath: gpc0?.storePath,
        action: 'switch',
        cache: null,
      });
      assert.equal(gpc0?.plan?.state, 'pending');
      assert.equal(gpc0?.plan?.reason, 'the agent is preparing it');
      assert.ok(gpc0?.plan?.requestedAt);

      assert.equal(fleet.agent('hsb0').planRequests().length, 0, 'prefetch is off for hsb0');
      assert.equal(waiting.get('hsb0')?.plan?.state, 'unavailable');
      assert.equal(waiting.get('hsb0')?.plan?.code, 'prefetch_disabled');
      assert.equal(fleet.agent('csb0').planRequests().length, 0, 'csb0 would not understand');
      assert.equal(waiting.get('csb0')?.plan?.state, 'unavailable');
      assert.equal(waiting.get('csb0')?.plan?.code, 'agent_unsupported');
      assert.match(waiting.get('csb0')?.plan?.reason ?? '', /does not prepare plans; upgrade it/);
    });

    it("stores the agent's plan and shows it with the approval, the deployment and its own route", async () => {
      const gpc0 = (await approvals()).get('gpc0');
      assert.ok(gpc0);
      await fleet.agent('gpc0').answerPlan(gpc0.deploymentId);
      const plan = await planOf('gpc0');
      assert.equal(plan.state, 'ready');
      assert.equal(plan.code, null);
      assert.deepEqual(plan.plan?.closure?.changed, [
        { name: 'hello', from: ['2.10'], to: ['2.12'], sizeDelta: 20_480 },
      ]);
      assert.deepEqual(plan.plan?.activation?.restart, ['sshd.service']);
      assert.equal(plan.plan?.currentSystem, fleet.agent('gpc0').current);

      const route = await get(`/api/v1/deployments/${gpc0.deploymentId}/plan`);
      assert.equal(route.statusCode, 200);
      assert.deepEqual(route.json(), plan);
      const deployment = await get(`/api/v1/deployments/${gpc0.deploymentId}`);
      assert.deepEqual(deployment.json<{ plan: DeploymentPlan }>().plan, plan);
      const listed = await get('/api/v1/approvals');
      const fromApi = listed
        .json<{ approvals: PendingApproval[] }>()
        .approvals.find((a) => a.host === 'gpc0');
      assert.deepEqual(fromApi?.plan, plan);
      assert.equal((await get('/api/v1/deployments/nope/plan')).statusCode, 404);
    });

    it('keeps a failure with its code, and asks again after reconnects, three times in all', async () => {
      const hsb1 = (await approvals()).get('hsb1');
      assert.ok(hsb1);
      const agent = fleet.agent('hsb1');
      await agent.answerPlan(hsb1.deploymentId, {
        code: 'fetch_failed',
        message: 'nix copy from http://fleet/cache exited with code 1: HTTP error 503',
      });
      let plan = await planOf('hsb1');
      assert.equal(plan.state, 'failed');
      assert.equal(plan.code, 'fetch_failed');
      assert.match(plan.reason ?? '', /HTTP error 503/);
      await agent.report();
      assert.equal(agent.planRequests().length, 1, 'not again on the same connection');

      for (const attempt of [2, 3]) {
        await agent.reconnect();
        assert.equal(agent.planRequests().length, attempt, `asked again (attempt ${attempt})`);
        assert.equal((await planOf('hsb1')).state, 'pending');
        await agent.answerPlan(hsb1.deploymentId, { code: 'fetch_failed', message: 'still down' });
      }
      await agent.reconnect();
      assert.equal(agent.planRequests().length, 3, 'three attempts in all');
      plan = await planOf('hsb1');
      assert.equal(plan.state, 'failed');
    });

    it('asks again after a reconnect when no answer came, and never for an untrusted closure', async () => {
      const revision = await fleet.commit({ gpc0: 'gpc0-2' });
      const gpc0 = (await approvals()).get('gpc0');
      assert.ok(gpc0);
      const agent = fleet.agent('gpc0');
      const asked = agent.planRequests().filter((r) => r.deploymentId === gpc0.deploymentId);
      assert.equal(asked.length, 1, `the new release of ${revision} was asked for`);
      // The connection drops before the agent answers.
      await agent.reconnect();
      assert.equal(
        agent.planRequests().filter((r) => r.deploymentId === gpc0.deploymentId).length,
        2,
        'asked again on the new connection',
      );
      await agent.answerPlan(gpc0.deploymentId, {
        code: 'untrusted_closure',
        message: 'not signed by any of this host’s trusted keys',
      });
      await agent.reconnect();
      assert.equal(
        agent.planRequests().filter((r) => r.deploymentId === gpc0.deploymentId).length,
        2,
        'an untrusted closure stays untrusted',
      );
      assert.equal((await planOf('gpc0')).code, 'untrusted_closure');
    });

    it('asks again once the host runs another system than the plan was made against', async () => {
      await fleet.commit({ gpc0: 'gpc0-3' });
      const gpc0 = (await approvals()).get('gpc0');
      assert.ok(gpc0);
      const agent = fleet.agent('gpc0');
      await agent.answerPlan(gpc0.deploymentId);
      const before = await planOf('gpc0');
      assert.equal(before.plan?.currentSystem, agent.current);
      const count = () =>
        agent.planRequests().filter((r) => r.deploymentId === gpc0.deploymentId).length;
      await agent.report();
      assert.equal(count(), 1, 'the same system: the plan holds');

      // Someone switched the host by hand: the plan compared with a system it no longer runs.
      agent.current = storePath('gpc0-by-hand');
      await agent.report();
      assert.equal(count(), 2, 'asked again');
      await agent.answerPlan(gpc0.deploymentId);
      assert.equal((await planOf('gpc0')).plan?.currentSystem, storePath('gpc0-by-hand'));
      await agent.report();
      assert.equal(count(), 2);
    });

    it('never holds up or changes a decision: approving starts the deployment whatever the plan says', async () => {
      await fleet.commit({ hsb1: 'hsb1-2' });
      const hsb1 = (await approvals()).get('hsb1');
      assert.ok(hsb1);
      assert.equal(hsb1.plan?.state, 'pending', 'its agent has not answered');
      const decided = await fleet.services.approvals.decide(
        {
          decision: 'approve',
          deploymentId: hsb1.deploymentId,
          allowSuperseded: false,
          force: false,
        },
        'ada',
      );
      assert.equal(decided.decided[0]?.status, 'activating', 'sent to the agent at once');
      // The answer still comes, and is kept.
      await fleet.agent('hsb1').answerPlan(hsb1.deploymentId);
      const plan = await fleet.services.deployments.plan(hsb1.deploymentId);
      assert.equal(plan.state, 'ready');
      await fleet.agent('hsb1').complete(hsb1.deploymentId);
    });

    it('prepares an approved deployment the gates hold, and not one that starts at once', async () => {
      const agent = fleet.agent('hsb1');
      const first = await fleet.services.commands.deploy(
        { host: 'hsb1', storePath: storePath('hsb1-first'), action: 'switch', force: false },
        'ada',
      );
      assert.equal(first.deployment.status, 'activating', 'it started at once');
      const startedAt = await fleet.services.deployments.plan(first.deployment.id);
      assert.equal(startedAt.code, 'deployment_started');
      const second = await fleet.services.commands.deploy(
        { host: 'hsb1', storePath: storePath('hsb1-second'), action: 'switch', force: false },
        'ada',
      );
      assert.equal(second.deployment.status, 'approved');
      assert.match(second.deployment.holdReason ?? '', /another deployment/);
      await fleet.services.plans.idle();
      const asked = agent.planRequests().map((r) => r.deploymentId);
      assert.ok(asked.includes(second.deployment.id), 'the held one is prepared');
      assert.ok(!asked.includes(first.deployment.id), 'the one that started is not');
      await agent.answerPlan(second.deployment.id);
      await agent.complete(first.deployment.id);
      await fleet.services.rollout.tick();
      await agent.complete(second.deployment.id);
      assert.equal((await fleet.services.deployments.plan(second.deployment.id)).state, 'ready');
    });

    it('marks the plan of a deployment that ended or started before its agent was asked', async () => {
      const agent = fleet.agent('gpc0');
      fleet.services.presence.disconnected('gpc0', agent, 'test');
      await fleet.commit({ gpc0: 'gpc0-4' });
      const offline = (await approvals()).get('gpc0');
      assert.ok(offline);
      assert.equal(offline.plan?.state, 'pending');
      assert.match(offline.plan?.reason ?? '', /offline; its agent is asked once it connects/);

      await fleet.services.approvals.decide(
        {
          decision: 'reject',
          deploymentId: offline.deploymentId,
          allowSuperseded: false,
          force: false,
        },
        'ada',
      );
      const rejected = await fleet.services.deployments.plan(offline.deploymentId);
      assert.equal(rejected.state, 'unavailable');
      assert.equal(rejected.code, 'deployment_ended');

      const deployed = await fleet.services.commands.deploy(
        { host: 'gpc0', storePath: storePath('gpc0-manual'), action: 'switch', force: false },
        'ada',
      );
      assert.equal(deployed.deployment.status, 'queued', 'for the offline host');
      const started = await fleet.services.deployments.plan(deployed.deployment.id);
      assert.equal(started.state, 'unavailable');
      assert.equal(started.code, 'deployment_started');
      await agent.reconnect();
      assert.equal(
        agent.planRequests().filter((r) => r.deploymentId === deployed.deployment.id).length,
        0,
        'a running deployment is not prepared',
      );
      await agent.complete(deployed.deployment.id);
    });

    it('takes an agent refusing plan requests for an agent that cannot prepare them', async () => {
      await fleet.commit({ gpc0: 'gpc0-5' });
      const gpc0 = (await approvals()).get('gpc0');
      assert.ok(gpc0);
      assert.equal(gpc0.plan?.state, 'pending');
      await fleet.services.plans.onRequestRefused('gpc0', 'unknown message type "plan.request"');
      const plan = await planOf('gpc0');
      assert.equal(plan.state, 'unavailable');
      assert.equal(plan.code, 'agent_unsupported');
    });
  });
}
