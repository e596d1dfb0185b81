import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  IDS,
  policyRoutes,
  runCli,
  sampleHostStatus,
  startTestController,
  type TestController,
} from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');

describe('flotilla waves, rollout, status and audit', () => {
  let controller: TestController;
  const cli = (...argv: string[]) => runCli(controller, argv, now);

  before(async () => {
    controller = await startTestController({
      ...policyRoutes(),
      'GET /api/v1/hosts/web2/status': () => ({
        json: sampleHostStatus({
          host: 'web2',
          state: 'failed',
          summary: 'the last deployment d2 failed: activation_failed; runs release r1',
          verified: null,
        }),
      }),
    });
  });
  after(() => controller.close());

  it('lists the waves', async () => {
    const { code, stdout } = await cli('waves');
    assert.equal(code, 0);
    assert.deepEqual(stdout.split('\n'), ['WAVE    SOAK  HOSTS', 'canary  30 m  web1']);
  });

  it('shows a halted rollout with the reason first', async () => {
    const { code, stdout } = await cli('rollout', IDS.revision);
    assert.equal(code, 0);
    assert.equal(stdout.split('\n')[0], 'HALTED: deployment dmwy8t0002 on web2 failed');
    assert.match(stdout, /^ {2}db1\s+-\s+unchanged \(this revision does not change it\)$/m);
  });

  it('tells one story for a verified and for a failed host', async () => {
    const good = await cli('status', 'web1');
    assert.equal(good.code, 0);
    assert.equal(good.stdout.split('\n')[0], `web1: ${sampleHostStatus().summary}`);
    const bad = await cli('status', 'web2');
    assert.match(
      bad.stdout,
      /^web2: the last deployment d2 failed: activation_failed; runs release r1$/m,
    );
    assert.match(bad.stdout, /^ {2}verified\s+no$/m);
    const json = await cli('status', 'web1', '--json');
    assert.deepEqual(JSON.parse(json.stdout), sampleHostStatus());
  });

  it('resumes a halted rollout only with a reason', async () => {
    const usage = await cli('rollout', 'resume', IDS.revision);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--reason is required/);
    const { code, stdout } = await cli('rollout', 'resume', IDS.revision, '--reason', 'fixed');
    assert.equal(code, 0);
    assert.match(stdout, /^resumed\.$/m);
    assert.deepEqual(controller.requests.at(-1)?.body, { reason: 'fixed' });
  });

  it('reads the audit log with filters and offers the next page', async () => {
    const argv = ['audit', '--host', 'web1', '--kind', 'policy.set', '--limit', '1'];
    const { code, stdout } = await runCli(controller, argv, now, { TZ: 'Europe/Vienna' });
    assert.equal(code, 0);
    assert.equal(controller.requests.at(-1)?.query.toString(), 'host=web1&kind=policy.set&limit=1');
    assert.match(
      stdout,
      /^2025-01-01 12:00:00\+01:00\s+admin\s+policy\.set\s+web1\s+manual → auto; reason: stable for weeks$/m,
    );
    assert.match(
      stdout,
      /older entries: flotilla audit --host web1 --kind policy\.set --limit 1 --before 42$/,
    );
    await cli('audit', '--before', '42');
    assert.equal(controller.requests.at(-1)?.query.toString(), 'before=42');
  });

  it('shows times in UTC with --utc or FLOTILLA_UTC=1, whatever TZ says', async () => {
    const vienna = { TZ: 'Europe/Vienna' };
    const flag = await runCli(controller, ['audit', '--utc'], now, vienna);
    assert.match(flag.stdout, /^2025-01-01 11:00:00Z\s+admin/m);
    const env = await runCli(controller, ['audit'], now, { ...vienna, FLOTILLA_UTC: '1' });
    assert.equal(env.stdout, flag.stdout);
    const off = await runCli(controller, ['audit'], now, { ...vienna, FLOTILLA_UTC: '0' });
    assert.match(off.stdout, /^2025-01-01 12:00:00\+01:00\s+admin/m);
  });

  it('refuses a FLOTILLA_UTC it cannot read', async () => {
    const { code, stderr } = await runCli(controller, ['audit'], now, { FLOTILLA_UTC: 'maybe' });
    assert.equal(code, 1);
    assert.equal(stderr, 'error: FLOTILLA_UTC must be 1 or 0 (got "maybe") (invalid_setting)');
  });

  it('refuses a bad audit limit before connecting', async () => {
    const count = controller.requests.length;
    const { code, stderr } = await cli('audit', '--limit', '0');
    assert.equal(code, 2);
    assert.match(stderr, /--limit must be a whole number from 1 to 1000/);
    assert.equal(controller.requests.length, count);
  });
});
