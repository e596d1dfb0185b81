import assert from 'node:assert/strict';
import type { NotificationList } from '@flotilla/protocol';
import { after, before, describe, it } from 'node:test';
import {
  runCli,
  sampleNotification,
  startTestController,
  type TestController,
} from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');

describe('flotilla notifications', () => {
  let controller: TestController;
  const cli = (...argv: string[]) => runCli(controller, argv, now);

  before(async () => {
    controller = await startTestController({
      'GET /api/v1/notifications': () => ({
        json: {
          notifications: [
            sampleNotification({
              deliveries: [
                ...sampleNotification().deliveries,
                {
                  receiver: 'ntfy:0',
                  status: 'pending',
                  attempts: 1,
                  nextAttemptAt: '2025-01-01T12:03:10.000Z',
                  lastError: 'HTTP 502',
                  deliveredAt: null,
                },
              ],
            }),
          ],
        } satisfies NotificationList,
      }),
    });
  });
  after(() => controller.close());

  it('lists notifications with each delivery, with the admin token', async () => {
    const { code, stdout } = await cli('notifications');
    assert.equal(code, 0);
    const request = controller.requests.at(-1);
    assert.equal(request?.authorization, 'Bearer admin');
    assert.equal(request?.query.toString(), '');
    assert.deepEqual(
      stdout.split('\n').map((line) => line.replace(/ +/g, ' ')),
      [
        'TIME KIND HOST SUMMARY RECEIVER DELIVERY',
        '2025-01-01 11:58:00Z deployment.failed web1 deployment dmwy8t0002 on web1 failed: activation_… webhook:0 delivered 1 m 59 s ago',
        ' ntfy:0 retrying: 1 try failed (HTTP 502); next in 3 m 10 s',
        '',
        '1 notification; deliveries: 1 delivered, 1 pending',
      ],
    );
  });

  it('passes --limit and prints the validated answer with --json', async () => {
    const { code, stdout } = await cli('notifications', '--limit', '5', '--json');
    assert.equal(code, 0);
    assert.equal(controller.requests.at(-1)?.query.toString(), 'limit=5');
    const list = JSON.parse(stdout) as NotificationList;
    assert.deepEqual(
      list.notifications[0]?.deliveries.map((d) => d.status),
      ['delivered', 'pending'],
    );
  });

  it('refuses a limit out of range before connecting', async () => {
    const count = controller.requests.length;
    const { code, stderr } = await cli('notifications', '--limit', '501');
    assert.equal(code, 2);
    assert.match(stderr, /--limit must be a whole number from 1 to 500/);
    assert.equal(controller.requests.length, count);
  });
});
