import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { NotificationList, NotificationPayload } from '@flotilla/protocol';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { openDatabase, type Db } from '../storage/database.js';
import { up as createNotificationTables } from '../storage/migrations/0005_notifications.js';
import { NotificationRepository } from '../storage/notification.repository.js';
import { NotificationDeliveryWorker, retryDelayMs } from './delivery.worker.js';
import type { NtfyReceiver, Receiver, WebhookReceiver } from './notifications.config.js';
import { NotificationService, type NotificationEvent } from './notification.service.js';
import { createNotifications } from './notifications.composition.js';
import { ManualClock } from '@flotilla/runtime';

interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (request: ReceivedRequest, response: ServerResponse) => void;

/** A real HTTP receiver on 127.0.0.1 that records what it was sent. */
async function startReceiver(handler: Handler) {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      handler(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    base: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves once `condition` holds; polls briefly and fails loudly instead of hanging. */
async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never happened: ${what}`);
}

const webhook = (url: string, more: Partial<WebhookReceiver> = {}): WebhookReceiver => ({
  type: 'webhook',
  name: 'webhook:0',
  url,
  secret: 'hook-secret-value',
  events: null,
  ...more,
});

const ntfy = (url: string, more: Partial<NtfyReceiver> = {}): NtfyReceiver => ({
  type: 'ntfy',
  name: 'ntfy:0',
  url,
  token: 'tk_ntfy_token_value',
  events: null,
  ...more,
});

describe('notifications (real SQLite, real HTTP receivers)', () => {
  let dir: string;
  let db: Db;
  let repository: NotificationRepository;
  let clock: ManualClock;
  const logger = pino({ level: 'silent' });
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-notifications-'));
    db = (await openDatabase({ url: join(dir, 'test.db') })).db;
    // Until 0005 is registered with the migrations, create its tables here.
    const tables = await db.introspection.getTables();
    if (!tables.some((t) => t.name === 'notifications')) {
      await createNotificationTables(db as unknown as Kysely<unknown>, 'sqlite');
    }
    repository = new NotificationRepository(db);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await db.deleteFrom('notification_deliveries').execute();
    await db.deleteFrom('notifications').execute();
  });

  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  function setUp(receivers: Receiver[], workerOptions: { requestTimeoutMs?: number } = {}) {
    clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
    const worker = new NotificationDeliveryWorker({
      repository,
      receivers,
      clock,
      logger,
      random: () => 0,
      ...workerOptions,
    });
    cleanups.push(() => worker.stop());
    const service = new NotificationService({
      repository,
      receivers,
      clock,
      logger,
      onQueued: () => worker.wake(),
    });
    return { worker, service };
  }

  /** The API view of everything stored, checked against the protocol schema. */
  async function listAll() {
    const service = new NotificationService({ repository, receivers: [], clock, logger });
    return NotificationList.parse(await service.list(100));
  }

  async function onlyDelivery() {
    const { notifications } = await listAll();
    assert.equal(notifications.length, 1);
    const delivery = notifications[0]?.deliveries[0];
    assert.ok(delivery);
    return delivery;
  }

  it('POSTs a signed JSON body to a webhook', async () => {
    const secret = 'hook-secret-value';
    const receiver = await startReceiver((request, response) => {
      const expected = Buffer.from(
        `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`,
      );
      const given = Buffer.from(String(request.headers['x-flotilla-signature-256']));
      const valid = given.length === expected.length && timingSafeEqual(given, expected);
      response.writeHead(valid ? 204 : 401).end();
    });
    cleanups.push(receiver.close);
    const { worker, service } = setUp([webhook(`${receiver.base}/hooks/flotilla`)]);

    const id = await service.notify({
      kind: 'deployment.failed',
      host: 'gpc0',
      summary: 'deployment d1 on gpc0 failed: activation_failed',
      data: { deploymentId: 'd1' },
    });
    await worker.runDue();

    assert.equal(receiver.received.length, 1);
    const [request] = receiver.received;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/hooks/flotilla');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers['x-flotilla-event'], 'deployment.failed');
    assert.match(String(request?.headers['user-agent']), /^flotilla\/\d+\.\d+\.\d+/);
    assert.deepEqual(NotificationPayload.parse(JSON.parse(request?.body ?? '')), {
      id,
      kind: 'deployment.failed',
      at: '2026-03-01T10:00:00.000Z',
      host: 'gpc0',
      summary: 'deployment d1 on gpc0 failed: activation_failed',
      data: { deploymentId: 'd1' },
    });
    const delivery = await onlyDelivery();
    assert.deepEqual(delivery, {
      receiver: 'webhook:0',
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: null,
      lastError: null,
      deliveredAt: '2026-03-01T10:00:00.000Z',
    });
  });

  it('publishes to ntfy with the summary as body and title, tags, priority, token', async () => {
    const receiver = await startReceiver((_request, response) => response.writeHead(200).end('{}'));
    cleanups.push(receiver.close);
    const { worker, service } = setUp([ntfy(`${receiver.base}/fleet-alerts`)]);

    await service.notify({
      kind: 'deployment.rolled_back',
      host: 'hsb1',
      summary: 'hsb1 rolled back to generation 41: health check failed',
    });
    await worker.runDue();

    const [request] = receiver.received;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/fleet-alerts');
    assert.equal(request?.body, 'hsb1 rolled back to generation 41: health check failed');
    assert.equal(request?.headers.title, 'Deployment rolled back: hsb1');
    assert.equal(request?.headers.tags, 'rewind,deployment.rolled_back');
    assert.equal(request?.headers.priority, 'high');
    assert.equal(request?.headers.authorization, 'Bearer tk_ntfy_token_value');
    assert.equal((await onlyDelivery()).status, 'delivered');
  });

  it('gives ordinary notifications a default priority and sends no token when none is set', async () => {
    const receiver = await startReceiver((_request, response) => response.writeHead(200).end());
    cleanups.push(receiver.close);
    const { worker, service } = setUp([ntfy(`${receiver.base}/fleet`, { token: null })]);
    await service.notify({ kind: 'approval.pending', host: null, summary: '3 hosts wait' });
    await worker.runDue();
    const [request] = receiver.received;
    assert.equal(request?.headers.title, 'Approval pending');
    assert.equal(request?.headers.priority, 'default');
    assert.equal(request?.headers.authorization, undefined);
  });

  it('retries a receiver answering 500 with exponential backoff, then delivers', async () => {
    let failuresLeft = 2;
    const receiver = await startReceiver((_request, response) => {
      if (failuresLeft-- > 0) response.writeHead(500).end('database is locked');
      else response.writeHead(200).end();
    });
    cleanups.push(receiver.close);
    const { worker, service } = setUp([webhook(`${receiver.base}/hook`)]);
    const start = clock.ms;

    await service.notify({ kind: 'host.demoted', host: 'gpc0', summary: 'gpc0 demoted' });
    await worker.runDue();
    let delivery = await onlyDelivery();
    assert.equal(delivery.status, 'pending');
    assert.equal(delivery.attempts, 1);
    assert.equal(delivery.lastError, 'HTTP 500: database is locked');
    assert.equal(delivery.nextAttemptAt, new Date(start + 5_000).toISOString());

    // Not due yet: nothing is sent.
    clock.ms = start + 4_999;
    await worker.runDue();
    assert.equal(receiver.received.length, 1);

    clock.ms = start + 5_000;
    await worker.runDue();
    delivery = await onlyDelivery();
    assert.equal(receiver.received.length, 2);
    assert.equal(delivery.attempts, 2);
    assert.equal(delivery.nextAttemptAt, new Date(start + 15_000).toISOString());

    clock.ms = start + 15_000;
    await worker.runDue();
    delivery = await onlyDelivery();
    assert.equal(receiver.received.length, 3);
    assert.equal(delivery.status, 'delivered');
    assert.equal(delivery.attempts, 3);
    assert.equal(delivery.lastError, null);
    assert.equal(delivery.deliveredAt, new Date(start + 15_000).toISOString());
  });

  it('gives a delivery up as failed after the last attempt', async () => {
    const receiver = await startReceiver((_request, response) => response.writeHead(503).end());
    cleanups.push(receiver.close);
    clock = new ManualClock(0);
    const receivers = [webhook(`${receiver.base}/hook`)];
    const worker = new NotificationDeliveryWorker({
      repository,
      receivers,
      clock,
      logger,
      maxAttempts: 2,
      random: () => 0,
    });
    const service = new NotificationService({ repository, receivers, clock, logger });
    await service.notify({ kind: 'host.offline', host: 'csb1', summary: 'csb1 offline' });
    await worker.runDue();
    clock.ms += 60_000;
    await worker.runDue();
    assert.deepEqual(await onlyDelivery(), {
      receiver: 'webhook:0',
      status: 'failed',
      attempts: 2,
      nextAttemptAt: null,
      lastError: 'HTTP 503',
      deliveredAt: null,
    });
    clock.ms += 86_400_000;
    await worker.runDue();
    assert.equal(receiver.received.length, 2);
  });

  // The timeout only turns a hang (the bug) into a failure; nothing is measured.
  it('never makes notify() wait for a receiver that hangs', { timeout: 20_000 }, async () => {
    let answered = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived: () => void = () => undefined;
    const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
    const receiver = await startReceiver((_request, response) => {
      arrived();
      void released.then(() => {
        answered = true;
        response.writeHead(200).end();
      });
    });
    cleanups.push(receiver.close);
    // Wired as the controller wires it, so the test covers the real wake-up path.
    clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
    const { worker, service } = createNotifications({
      db,
      receivers: [webhook(`${receiver.base}/slow`)],
      offlineAfterMinutes: 10,
      hosts: { page: async () => [] },
      presence: { get: () => undefined },
      clock,
      logger,
    });
    cleanups.push(() => worker.stop());
    worker.start();

    const first = await service.notify({ kind: 'approval.pending', summary: 'one waits' });
    await firstArrived;
    // The receiver holds the first delivery open; raising another must not wait for it.
    const second = await service.notify({ kind: 'approval.pending', summary: 'two wait' });
    assert.equal(answered, false, 'notify() resolved only after the receiver answered');
    assert.ok(first !== null && second !== null);
    const stored = await listAll();
    assert.deepEqual(stored.notifications.map((n) => n.id).sort(), [first, second].sort());

    release();
    await eventually(async () => {
      const { notifications } = await listAll();
      return notifications.every((n) => n.deliveries.every((d) => d.status === 'delivered'));
    }, 'both notifications delivered once the receiver answers');
    assert.equal(answered, true);
  });

  it('gives up an attempt after the request timeout and keeps it for a retry', async () => {
    const receiver = await startReceiver(() => undefined); // never answers
    cleanups.push(receiver.close);
    const { worker, service } = setUp([webhook(`${receiver.base}/hook`)], {
      requestTimeoutMs: 50,
    });
    await service.notify({ kind: 'host.offline', host: 'csb1', summary: 'csb1 offline' });
    await worker.runDue();
    const delivery = await onlyDelivery();
    assert.equal(delivery.status, 'pending');
    assert.equal(delivery.lastError, 'timed out after 50 ms');
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const receiver = await startReceiver((_request, response) => {
      void released.then(() => response.writeHead(200).end());
    });
    cleanups.push(receiver.close);
    clock = new ManualClock(0);
    const receivers = [webhook(`${receiver.base}/hook`)];
    const worker = new NotificationDeliveryWorker({
      repository,
      receivers,
      clock,
      logger,
      concurrency: 2,
    });
    const service = new NotificationService({ repository, receivers, clock, logger });
    for (const n of [1, 2, 3]) await service.notify({ kind: 'host.offline', summary: `#${n}` });

    const firstTwo = worker.runDue();
    await eventually(async () => receiver.received.length === 2, 'two requests arrive');
    await worker.runDue(); // every slot is taken: starts nothing
    assert.equal(receiver.received.length, 2);
    release();
    await firstTwo;
    await worker.runDue();
    assert.equal(receiver.received.length, 3);
  });

  it('sends each receiver only the kinds it subscribed to', async () => {
    const receiver = await startReceiver((_request, response) => response.writeHead(200).end());
    cleanups.push(receiver.close);
    const { worker, service } = setUp([
      webhook(`${receiver.base}/all`, { name: 'webhook:0' }),
      webhook(`${receiver.base}/failures`, { name: 'webhook:1', events: ['deployment.failed'] }),
    ]);
    await service.notify({
      kind: 'graduation.eligible',
      host: 'gpc0',
      summary: 'gpc0 may graduate',
    });
    await service.notify({ kind: 'deployment.failed', host: 'gpc0', summary: 'failed' });
    await worker.runDue();

    assert.deepEqual(receiver.received.map((r) => r.url).sort(), ['/all', '/all', '/failures']);
    const { notifications } = await listAll();
    const byKind = Object.fromEntries(
      notifications.map((n) => [n.kind, n.deliveries.map((d) => d.receiver)]),
    );
    assert.deepEqual(byKind, {
      'graduation.eligible': ['webhook:0'],
      'deployment.failed': ['webhook:0', 'webhook:1'],
    });
  });

  it('never stores a secret, a token or a receiver URL in last_error', async () => {
    const hookPath = '/hooks/T0KEN-IN-PATH-1234';
    const receiver = await startReceiver((request, response) => {
      // A badly behaved receiver that echoes everything it got back in its error.
      const signed = request.headers['x-flotilla-signature-256'] !== undefined;
      const auth = request.headers.authorization ?? '';
      response
        .writeHead(400)
        .end(`rejected ${request.url} auth=${auth} ${signed ? 'hook-secret-value' : ''}`);
    });
    cleanups.push(receiver.close);
    const closed = await startReceiver(() => undefined);
    await closed.close(); // nothing listens on this port any more
    const { worker, service } = setUp([
      webhook(`${receiver.base}${hookPath}`, { name: 'webhook:0' }),
      ntfy(`${receiver.base}/topic-x`, { name: 'ntfy:0' }),
      webhook(`${closed.base}${hookPath}`, { name: 'webhook:1' }),
    ]);
    await service.notify({ kind: 'deployment.failed', host: 'gpc0', summary: 'failed' });
    await worker.runDue();

    const rows = await db.selectFrom('notification_deliveries').selectAll().execute();
    assert.equal(rows.length, 3);
    for (const row of rows) {
      const error = row.last_error ?? '';
      assert.notEqual(error, '');
      for (const secret of [
        'hook-secret-value',
        'tk_ntfy_token_value',
        'T0KEN-IN-PATH',
        '127.0.0.1',
      ]) {
        assert.ok(!error.includes(secret), `${row.receiver}: "${error}" contains ${secret}`);
      }
    }
    const byReceiver = Object.fromEntries(rows.map((r) => [r.receiver, r.last_error]));
    assert.equal(byReceiver['webhook:1'], 'network error: ECONNREFUSED');
    assert.match(byReceiver['ntfy:0'] ?? '', /^HTTP 400: rejected \*\*\* auth=Bearer \*\*\*/);
  });

  it('drops a notification of an unknown kind instead of storing it', async () => {
    const { service } = setUp([]);
    const event = { kind: 'deployment.expired', summary: 'x' } as unknown as NotificationEvent;
    assert.equal(await service.notify(event), null);
    assert.deepEqual((await listAll()).notifications, []);
  });

  it('lists the newest notifications first, limited', async () => {
    const { service } = setUp([]);
    for (const summary of ['first', 'second', 'third']) {
      await service.notify({ kind: 'approval.pending', summary });
      clock.ms += 1_000;
    }
    const { notifications } = NotificationList.parse(await service.list(2));
    assert.deepEqual(
      notifications.map((n) => [n.summary, n.deliveries.length]),
      [
        ['third', 0],
        ['second', 0],
      ],
    );
  });
});

describe('retryDelayMs', () => {
  const options = { baseMs: 5_000, maxMs: 3_600_000 };
  it('doubles from 5 s and stops at 1 h', () => {
    const delays = [1, 2, 3, 4, 10, 11].map((n) =>
      retryDelayMs(n, { ...options, random: () => 0 }),
    );
    assert.deepEqual(delays, [5_000, 10_000, 20_000, 40_000, 2_560_000, 3_600_000]);
  });

  it('takes off up to half at random', () => {
    assert.equal(retryDelayMs(2, { ...options, random: () => 0.999_999 }), 5_000);
    assert.equal(retryDelayMs(2, { ...options, random: () => 0.5 }), 7_500);
  });
});
