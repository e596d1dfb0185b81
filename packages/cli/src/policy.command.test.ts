import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  policyRoutes,
  runCli,
  startTestController,
  type TestController,
} from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');

describe('flotilla policy, pin, unpin and graduation', () => {
  let controller: TestController;
  const cli = (...argv: string[]) => runCli(controller, argv, now);

  before(async () => {
    controller = await startTestController(policyRoutes());
  });
  after(() => controller.close());

  it('lists every policy, locked and pinned ones marked', async () => {
    const { code, stdout } = await cli('policy');
    assert.equal(code, 0);
    assert.match(stdout, /^db1\s+monitor\s+config \(locked\)\s+canary\s+12 d ago\s+no$/m);
    assert.match(stdout, /^web1\s+manual\s+default\s+canary\s+12 d ago\s+yes: kernel bisect$/m);
  });

  it('shows one host, and says when there is no such host', async () => {
    const one = await cli('policy', 'web1');
    assert.match(one.stdout, /^Pinned:\s+yes: kernel bisect$/m);
    const json = await cli('policy', 'web1', '--json');
    assert.equal((JSON.parse(json.stdout) as { host: string }).host, 'web1');
    const ghost = await cli('policy', 'ghost');
    assert.equal(ghost.code, 1);
    assert.equal(ghost.stderr, 'error: no host "ghost" (host_not_found)');
  });

  it('sets a policy with a reason', async () => {
    const { code, stdout } = await cli('policy', 'web1', 'auto', '--reason', 'stable for weeks');
    assert.equal(code, 0);
    const request = controller.requests.at(-1);
    assert.equal(request?.method, 'PUT');
    assert.equal(request?.path, '/api/v1/hosts/web1/policy');
    assert.deepEqual(request?.body, { policy: 'auto', reason: 'stable for weeks', force: false });
    assert.equal(stdout, 'web1: policy auto (releases deploy once built)');
  });

  it('promotes before graduation only with --force and a reason', async () => {
    const usage = await cli('policy', 'web1', 'auto', '--force');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--force needs a --reason/);
    const { code } = await cli('policy', 'web1', 'auto', '--force', '--reason', 'guinea pig');
    assert.equal(code, 0);
    assert.deepEqual(controller.requests.at(-1)?.body, {
      policy: 'auto',
      reason: 'guinea pig',
      force: true,
    });
  });

  it('reports a locked policy with its code', async () => {
    const { code, stderr } = await cli('policy', 'db1', 'auto');
    assert.equal(code, 1);
    assert.equal(stderr, "error: db1's policy is set in the config file (policy_locked)");
  });

  it('pins with a reason and unpins', async () => {
    const pin = await cli('pin', 'web1', '--reason', 'kernel bisect');
    assert.equal(pin.code, 0);
    assert.deepEqual(controller.requests.at(-1)?.body, { reason: 'kernel bisect' });
    assert.match(pin.stdout, /^web1 pinned \(kernel bisect\): auto is paused/);
    const unpin = await cli('unpin', 'web1');
    assert.equal(controller.requests.at(-1)?.method, 'DELETE');
    assert.equal(
      unpin.stdout,
      'web1 unpinned; policy auto applies again (releases deploy once built)',
    );
  });

  it('shows graduation with the command for ready hosts', async () => {
    const { code, stdout } = await cli('graduation');
    assert.equal(code, 0);
    assert.match(stdout, /^web1\s+manual\s+12\s+7\s+-\s+yes\s+-$/m);
    assert.match(stdout, /^ {2}flotilla policy web1 auto$/m);
  });
});
