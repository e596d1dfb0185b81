import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { CSRF_HEADER, type LiveEvent, type Metrics } from '@flotilla/protocol';
import { testDatabases, type EmptyDatabase } from '@flotilla/controller/testing';
import { EventStreamClient } from '@flotilla/sandbox';
import { ADMIN_PASSWORD, ServiceFleet } from './service-fixture.js';

// The live event stream over real HTTP on loopback (a stream cannot be read through
// `inject`), with the service tier's manual clock driving the coalescing and keepalives.

/** Waits for `condition` (polled), failing after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const METRICS: Metrics = {
  uptimeSeconds: 5,
  load: [0.5, 0.4, 0.3],
  memory: { totalBytes: 100, availableBytes: 60 },
  disks: [],
};

for (const engine of testDatabases()) {
  describe(`live events (${engine.name})`, { timeout: 120_000 }, () => {
    let database: EmptyDatabase;
    let fleet: ServiceFleet;
    let url: string;
    let admin: string;
    let viewer: string;
    const open: EventStreamClient[] = [];

    before(async () => {
      database = await engine.create();
      fleet = await ServiceFleet.start(database);
      admin = await fleet.adminToken();
      viewer = (await fleet.userWithToken('vera', 'viewer')).token;
      url = await fleet.controller.app.listen({ host: '127.0.0.1', port: 0 });
    });
    let stopped = false;
    after(async () => {
      if (!stopped) await fleet?.stop();
      await database?.remove();
    });

    const live = () => fleet.services.live;
    const subscribe = async (headers: Record<string, string>) => {
      const before = live().listenerCount;
      const stream = await EventStreamClient.open(`${url}/api/v1/events`, headers);
      open.push(stream);
      if (stream.status === 200) {
        await stream.next((e) => e.type === 'ready', 'ready');
        await until(() => live().listenerCount === before + 1, 'the subscription');
      }
      return stream;
    };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    // Closing a stream from the client's side leaves no listener behind.
    afterEach(async () => {
      for (const stream of open.splice(0)) stream.close();
      await until(() => live().listenerCount === 0, 'every subscriber gone');
    });

    it('refuses a caller without valid credentials with 401 and streams nothing', async () => {
      const attempts: Record<string, string>[] = [
        {},
        bearer('flt_not-a-token'),
        { cookie: 'flotilla_session=x' },
      ];
      for (const headers of attempts) {
        const stream = await EventStreamClient.open(`${url}/api/v1/events`, headers);
        assert.equal(stream.status, 401);
        const body = JSON.parse(stream.body ?? 'null') as { error: { code: string } };
        assert.equal(body.error.code, 'unauthorized');
        assert.equal(live().listenerCount, 0, 'nobody subscribed');
      }
    });

    it('lets a viewer subscribe: retry, then ready with the controller id, then keepalives', async () => {
      const stream = await subscribe(bearer(viewer));
      assert.equal(stream.retry, 2000);
      const [first] = stream.events;
      assert.deepEqual(first?.event, {
        type: 'ready',
        controllerId: live().controllerId,
        at: fleet.clock.now().toISOString(),
      });
      assert.match(first?.id ?? '', /^[1-9][0-9]*$/);
      assert.deepEqual(stream.comments, []);
      fleet.clock.advance(25_000);
      await until(() => stream.comments.length === 1, 'a keepalive');
      assert.deepEqual(stream.comments, ['keepalive']);
      assert.equal(stream.events.length, 1, 'nothing else on an idle fleet');
      stream.close();
      await until(() => live().listenerCount === 0, 'the closed stream unsubscribed');
    });

    it('names every host changed within a second in one hosts.changed', async () => {
      const stream = await subscribe(bearer(admin));
      // Registered, connected and reporting facts, three hosts in the same second.
      for (const name of ['web2', 'db1', 'web1']) await fleet.addHost(name);
      assert.deepEqual(stream.all('hosts.changed'), [], 'held for the rest of the second');
      fleet.clock.advance(1000);
      const changed = await stream.next((e) => e.type === 'hosts.changed', 'hosts.changed');
      assert.deepEqual(changed.event, { type: 'hosts.changed', names: ['db1', 'web1', 'web2'] });

      fleet.services.presence.heartbeat('web2', METRICS);
      await fleet.agent('web1').report();
      fleet.services.presence.heartbeat('web2', METRICS);
      fleet.clock.advance(1000);
      const next = await stream.next((e) => e.type === 'hosts.changed', 'hosts.changed');
      assert.deepEqual(next.event, { type: 'hosts.changed', names: ['web1', 'web2'] });
      assert.equal(stream.all('hosts.changed').length, 2, 'one event per second');
    });

    it('streams a deployment as it moves, its stored log lines in order, and the approvals inbox', async () => {
      const stream = await subscribe(bearer(admin));
      const revision = await fleet.commit({ web1: 'web1-1' });
      const asked = await stream.next(
        (e) => e.type === 'deployment.changed' && e.host === 'web1',
        'the new deployment',
      );
      assert.ok(asked.event.type === 'deployment.changed');
      assert.equal(asked.event.status, 'awaiting_approval');
      const id = asked.event.id;
      await stream.next((e) => e.type === 'approvals.changed', 'approvals.changed (asked)');

      const decided = await fleet.services.approvals.decide(
        { decision: 'approve', deploymentId: id, allowSuperseded: false, force: false },
        'ada',
      );
      assert.equal(decided.decided[0]?.status, 'activating');
      await stream.next((e) => e.type === 'approvals.changed', 'approvals.changed (decided)');
      const at = fleet.clock.now().toISOString();
      for (const batch of [['fetching closure', 'copying 3 paths'], ['activating']]) {
        await fleet.services.runner.onLog('web1', {
          type: 'deploy.log',
          deploymentId: id,
          lines: batch.map((line) => ({ at, stream: 'stdout' as const, line })),
        });
      }
      await fleet.agent('web1').complete(id);
      await stream.next(
        (e) => e.type === 'deployment.changed' && e.id === id && e.status === 'succeeded',
        'succeeded',
      );

      const story = stream.events
        .map((e) => e.event)
        .flatMap((e): string[] => {
          if (e.type === 'deployment.changed' && e.id === id) return [`status ${e.status}`];
          if (e.type === 'deployment.log' && e.deploymentId === id) return [`log ${e.line}`];
          return [];
        });
      const statuses = story.filter((s) => s.startsWith('status '));
      assert.deepEqual(statuses, [
        'status awaiting_approval',
        'status approved',
        'status queued',
        'status activating',
        'status confirming',
        'status succeeded',
      ]);
      const position = (entry: string) => {
        const index = story.indexOf(entry);
        assert.ok(index >= 0, `${entry} was streamed`);
        return index;
      };
      assert.ok(position('status activating') < position('log fetching closure'));
      assert.ok(position('log fetching closure') < position('log copying 3 paths'));
      assert.ok(position('log activating') < position('status confirming'));

      // Every stored line was streamed, with the same number, time, stream and text.
      const stored = await fleet.services.store.deployments.readLog(id, 0, 1000);
      const streamed = stream
        .all('deployment.log')
        .filter((e) => e.deploymentId === id)
        .map(({ seq, at: time, stream: s, line }) => ({ seq, at: time, stream: s, line }));
      assert.deepEqual(streamed, stored);
      assert.deepEqual(
        streamed.map((l) => l.seq),
        stored.map((_, i) => i + 1),
      );
      assert.ok(
        stream.all('rollout.changed').some((e) => e.id === revision),
        'its rollout changed',
      );
      assert.ok(stream.all('releases.changed').some((e) => e.revision === revision));
    });

    it('streams to a browser session, and ends the stream at the next keepalive after logout', async () => {
      const login = await fetch(`${url}/api/v1/auth/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      });
      assert.equal(login.status, 201);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      const stream = await subscribe({ cookie });
      fleet.services.live.publish({ type: 'drafts.changed' });
      await stream.next((e) => e.type === 'drafts.changed', 'drafts.changed');

      const out = await fetch(`${url}/api/v1/auth/session`, {
        method: 'DELETE',
        headers: { cookie, [CSRF_HEADER]: csrfToken },
      });
      assert.equal(out.status, 200);
      fleet.clock.advance(25_000);
      await stream.end();
      assert.deepEqual(stream.comments, [], 'no keepalive for a session that ended');
      await until(() => live().listenerCount === 0, 'the subscription gone');
    });

    it('cuts off a client that stops reading once 1,000 events wait for it, and unsubscribes it', async () => {
      const port = new URL(url).port;
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      socket.write(
        `GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${admin}\r\n\r\n`,
      );
      socket.pause();
      await until(() => live().listenerCount === 1, 'the slow subscriber');
      let closed = false;
      socket.on('close', () => (closed = true));

      // Lines as long as an agent may send, with time between batches to send them: the
      // socket's buffers fill, then the queue.
      const line = 'x'.repeat(16_384);
      const at = fleet.clock.now().toISOString();
      let published = 0;
      while (live().listenerCount > 0 && published < 50_000) {
        if (published % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
        published += 1;
        const event: LiveEvent = {
          type: 'deployment.log',
          deploymentId: 'd-slow',
          seq: published,
          at,
          stream: 'stdout',
          line,
        };
        live().publish(event);
      }
      assert.equal(live().listenerCount, 0, 'the slow subscriber was cut off');
      assert.ok(published > 1000, `cut off after ${published} events, not before 1,000 queued`);

      let received = 0;
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.resume();
      await until(() => closed, 'the connection to close');
      assert.ok(received < published * line.length, 'the client never got everything');

      // A well-behaved subscriber meanwhile is not affected.
      const stream = await subscribe(bearer(viewer));
      live().publish({ type: 'repository.changed' });
      await stream.next((e) => e.type === 'repository.changed', 'repository.changed');
    });

    it('stops at once with aborted streams, idle keep-alive connections and ones that never sent a request', async () => {
      // Streams aborted by their clients (fetch opens a spare connection for each), one still open.
      for (let i = 0; i < 3; i += 1) {
        (await subscribe(bearer(viewer))).close();
        await until(() => live().listenerCount === 0, 'the aborted stream unsubscribed');
      }
      await subscribe(bearer(viewer));
      const port = Number(new URL(url).port);
      const raw = async (request: string) => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        await once(socket, 'connect');
        if (request !== '') socket.write(request);
        return socket;
      };
      // Connected and silent (a browser's preconnect), half a request, and an answered
      // request on a kept-alive connection.
      const silent = await raw('');
      const half = await raw(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
      const idle = await raw(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      await once(idle, 'data');
      const sockets = [silent, half, idle];

      const started = Date.now();
      stopped = true;
      // Before, Node waited for the silent connections' headers timeout (60 s) or longer.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('the stop took over 10 s')), 10_000);
        timer.unref();
      });
      await Promise.race([fleet.stop(), late]).finally(() => clearTimeout(timer));
      assert.ok(Date.now() - started < 10_000);
      await until(() => sockets.every((s) => s.destroyed || s.readableEnded), 'sockets closed');
    });
  });
}
