import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NotificationDelivery } from '@flotilla/protocol';
import { TimeFormat } from './format.js';
import {
  deliveryCountsLine,
  deliveryLabel,
  renderNotificationTable,
} from './notifications.view.js';
import { sampleNotification } from './test-controller.js';

const now = new Date('2025-01-01T12:00:00.000Z');
const utc = new TimeFormat('UTC', now);

function delivery(overrides: Partial<NotificationDelivery> = {}): NotificationDelivery {
  return {
    receiver: 'webhook:0',
    status: 'delivered',
    attempts: 1,
    nextAttemptAt: null,
    lastError: null,
    deliveredAt: '2025-01-01T11:59:30.000Z',
    ...overrides,
  };
}

describe('deliveryLabel', () => {
  it('says when it was delivered, and after how many tries', () => {
    assert.equal(deliveryLabel(delivery(), utc), 'delivered 30 s ago');
    assert.equal(
      deliveryLabel(delivery({ attempts: 3 }), utc),
      'delivered 30 s ago (after 3 tries)',
    );
  });

  it('says why a delivery is retried and when the next try is due', () => {
    const retrying = delivery({
      status: 'pending',
      attempts: 2,
      deliveredAt: null,
      lastError: 'HTTP 503',
      nextAttemptAt: '2025-01-01T12:00:42.000Z',
    });
    assert.equal(deliveryLabel(retrying, utc), 'retrying: 2 tries failed (HTTP 503); next in 42 s');
    const fresh = delivery({ status: 'pending', attempts: 0, deliveredAt: null });
    assert.equal(deliveryLabel(fresh, utc), 'pending');
  });

  it('says why a delivery was given up', () => {
    const failed = delivery({
      status: 'failed',
      attempts: 1,
      deliveredAt: null,
      lastError: 'ECONNREFUSED',
    });
    assert.equal(deliveryLabel(failed, utc), 'failed after 1 try: ECONNREFUSED');
  });
});

describe('renderNotificationTable', () => {
  it('shows one row per receiver under the notification, aligned, with counts', () => {
    const list = {
      notifications: [
        sampleNotification({
          deliveries: [
            delivery(),
            delivery({
              receiver: 'ntfy:0',
              status: 'failed',
              attempts: 10,
              deliveredAt: null,
              lastError: 'HTTP 404',
            }),
          ],
        }),
        sampleNotification({
          id: 'n2',
          kind: 'host.offline',
          at: '2025-01-01T10:00:00.000Z',
          host: 'db1',
          summary: 'db1 has been offline since 2025-01-01T09:30:00.000Z',
          deliveries: [],
        }),
      ],
    };
    const text = renderNotificationTable(list, new TimeFormat('Europe/Vienna', now));
    assert.deepEqual(text.split('\n'), [
      'TIME                       KIND               HOST  SUMMARY                                             RECEIVER   DELIVERY',
      '2025-01-01 12:58:00+01:00  deployment.failed  web1  deployment dmwy8t0002 on web1 failed: activation_…  webhook:0  delivered 30 s ago',
      '                                                                                                        ntfy:0     failed after 10 tries: HTTP 404',
      '2025-01-01 11:00:00+01:00  host.offline       db1   db1 has been offline since 2025-01-01 10:30:00+01…  -          no receiver subscribed',
      '',
      '2 notifications; deliveries: 1 delivered, 1 failed',
    ]);
  });

  it('says when there is nothing', () => {
    assert.equal(renderNotificationTable({ notifications: [] }, utc), 'no notifications');
    const one = { notifications: [sampleNotification({ deliveries: [] })] };
    assert.equal(deliveryCountsLine(one), '1 notification');
  });
});
