import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  IDS,
  policyRoutes,
  runCli,
  startTestController,
  type TestController,
} from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');

describe('flotilla approvals, approve and reject', () => {
  let controller: TestController;
  const cli = (...argv: string[]) => runCli(controller, argv, now);

  before(async () => {
    controller = await startTestController(policyRoutes());
  });
  after(() => controller.close());

  it('lists what waits with what it will change, a rollback marked', async () => {
    const { code, stdout } = await cli('approvals');
    assert.equal(code, 0);
    assert.match(
      stdout,
      /^dmwy8t0001\s+web1\s+canary\s+01234567 Bump nixpkgs\s+\S+\s+1 h\s+\+1 −1 ~3 pkgs, \+12\.4 MiB; restart 2 units; reboot$/m,
    );
    assert.match(
      stdout,
      /^dmwy8t0002\s+web2\s+canary\s+01234567 Bump nixpkgs\s+\S+\s+1 h\s+no plan: prefetch off\s+ROLLBACK$/m,
    );
  });

  it("shows a deployment's plan in full, and as JSON", async () => {
    const { code, stdout } = await cli('deployment', 'plan', 'dmwy8t0001');
    assert.equal(code, 0);
    assert.match(stdout, /^Plan of deployment dmwy8t0001 on web1: ready$/m);
    assert.match(stdout, /^ {2}restart\s+nginx\.service, sshd\.service$/m);
    const json = await cli('deployment', 'plan', 'dmwy8t0001', '--json');
    assert.equal(json.code, 0);
    assert.equal((JSON.parse(json.stdout) as { state: string }).state, 'ready');
    const missing = await cli('deployment', 'plan', 'nope');
    assert.equal(missing.code, 1);
  });

  it('approves a revision in bulk for some hosts, with every flag sent', async () => {
    const { code, stdout } = await cli(
      'approve',
      IDS.revision,
      '--hosts',
      'web1,web2',
      '--comment',
      'weekly',
      '--force',
      '--reason',
      'security fix',
    );
    assert.equal(code, 0);
    assert.deepEqual(controller.requests.at(-1)?.body, {
      decision: 'approve',
      revisionId: IDS.revision,
      hosts: ['web1', 'web2'],
      comment: 'weekly',
      allowSuperseded: false,
      force: true,
      reason: 'security fix',
    });
    assert.deepEqual(stdout.split('\n'), [
      `approved 2 deployments (revision ${IDS.revision}):`,
      '  d-web1  web1  queued',
      '  d-web2  web2  queued',
      '      NOTE: this is a rollback: the host runs a newer release',
    ]);
  });

  it('rejects a release by id, and a wave of a revision', async () => {
    const release = await cli('reject', IDS.release, '--comment', 'broken');
    assert.equal(release.code, 0);
    assert.deepEqual(controller.requests.at(-1)?.body, {
      decision: 'reject',
      releaseId: IDS.release,
      comment: 'broken',
      allowSuperseded: false,
      force: false,
    });
    assert.match(release.stdout, /^ {2}d-web1\s+web1\s+rejected$/m);
    await cli('reject', IDS.revision, '--wave', 'canary');
    const body = controller.requests.at(-1)?.body as Record<string, unknown>;
    assert.equal(body.wave, 'canary');
  });

  it('refuses --force without a reason before asking the controller', async () => {
    const count = controller.requests.length;
    const { code, stderr } = await cli('approve', IDS.revision, '--force');
    assert.equal(code, 2);
    assert.match(stderr, /--force needs a --reason/);
    assert.equal(controller.requests.length, count);
  });

  it("prints the controller's refusal with its code, as JSON too", async () => {
    const human = await cli('approve', 'rv0none');
    assert.equal(human.code, 1);
    assert.equal(human.stderr, 'error: nothing of rv0none waits (nothing_to_approve)');
    const json = await cli('approve', 'rv0none', '--json');
    assert.deepEqual(JSON.parse(json.stderr), {
      error: { code: 'nothing_to_approve', message: 'nothing of rv0none waits' },
    });
  });

  it('refuses a target it cannot read without asking the controller', async () => {
    const count = controller.requests.length;
    const { code, stderr } = await cli('approve', 'web1');
    assert.equal(code, 2);
    assert.match(stderr, /TARGET must be a deployment id/);
    assert.match(stderr, /usage: flotilla approve TARGET/);
    assert.equal(controller.requests.length, count);
  });

  it('prints the decision as JSON with --json', async () => {
    const { stdout } = await cli('--json', 'approve', 'dmwy8t0001');
    const parsed = JSON.parse(stdout) as { decided: { deploymentId: string; status: string }[] };
    assert.deepEqual(parsed.decided, [
      { deploymentId: 'dmwy8t0001', host: 'web1', status: 'queued', holdReason: null, notes: [] },
    ]);
  });
});
