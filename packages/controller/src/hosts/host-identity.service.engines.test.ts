import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { agentAuthPayload, FlotillaError, PROTOCOL_VERSION } from '@flotilla/protocol';
import { ManualClock } from '@flotilla/runtime';
import { sql } from 'kysely';
import { pino } from 'pino';
import { EventBus } from '../events/event-bus.js';
import type { Db } from '../storage/database.js';
import { Store } from '../storage/store.js';
import { testDatabases } from '../testing/test-databases.js';
import { keyFingerprint } from './agent-signature.js';
import { HostIdentityService } from './host-identity.service.js';

const ORIGIN = 'https://fleet.example.org';

interface Key {
  publicKey: string;
  fingerprint: string;
  privateKey: KeyObject;
}

function newKey(): Key {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'jwk' }).x ?? '';
  return { publicKey: raw, fingerprint: keyFingerprint(raw), privateKey };
}

function signed(key: Key, host: string, nonce: string, origin = ORIGIN) {
  const payload = agentAuthPayload({ host, origin, protocolVersion: PROTOCOL_VERSION, nonce });
  return {
    keyId: key.fingerprint,
    signature: sign(null, Buffer.from(payload), key.privateKey).toString('base64url'),
  };
}

const nonce = () => randomBytes(32).toString('base64url');

/** What the identity tables and the audit log hold, to tell that a refusal wrote nothing. */
async function rows(db: Db): Promise<unknown> {
  const keys = await sql`select * from agent_keys order by id`.execute(db);
  const tokens = await sql`select * from enrollment_tokens order by token_hash`.execute(db);
  const events = await sql`select count(*) as n from events`.execute(db);
  return { keys: keys.rows, tokens: tokens.rows, events: events.rows };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FlotillaError, String(error));
    assert.equal(error.code, code, error.message);
    return true;
  });
}

async function fixture(db: Db) {
  const store = new Store(db);
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');
  const cutOff: string[] = [];
  const revoked: string[] = [];
  const identity = new HostIdentityService({
    store,
    clock,
    live: new EventBus({ clock, logger: pino({ level: 'silent' }) }),
    presence: {
      cutOff: (host: string) => {
        cutOff.push(host);
        return true;
      },
    },
    onKeyRevoked: (host) => revoked.push(host),
  });
  for (const name of ['hsb1', 'gpc0']) {
    await store.hosts.insert({
      name,
      mode: 'managed',
      os: 'linux',
      createdAt: clock.now().toISOString(),
    });
  }
  return { store, clock, identity, cutOff, revoked };
}

for (const engine of testDatabases()) {
  describe(`agent identities on ${engine.name}`, { concurrency: true }, () => {
    it('enrolls a key with a one-time token, stored only as its hash', () =>
      engine.withDatabase(async (db) => {
        const { identity } = await fixture(db);
        const { token, expiresAt } = await identity.issue(
          'hsb1',
          { expiresInSeconds: 3600 },
          'admin',
        );
        assert.match(token, /^flte_[A-Za-z0-9_-]{43}$/);
        assert.equal(expiresAt, '2026-03-01T11:00:00.000Z');
        const stored = JSON.stringify(await rows(db));
        assert.ok(!stored.includes(token), 'the token itself is not in the database');

        const key = newKey();
        const answer = await identity.enroll({ token, host: 'hsb1', publicKey: key.publicKey });
        assert.deepEqual(answer, {
          host: 'hsb1',
          mode: 'managed',
          keyFingerprint: key.fingerprint,
          enrolledAt: '2026-03-01T10:00:00.000Z',
          replacedKeyFingerprint: null,
        });
        const keys = await db.selectFrom('agent_keys').selectAll().execute();
        assert.deepEqual(
          keys.map((k) => [k.host_name, k.public_key, k.fingerprint, k.revoked_at]),
          [['hsb1', key.publicKey, key.fingerprint, null]],
        );
        const used = await db.selectFrom('enrollment_tokens').selectAll().executeTakeFirstOrThrow();
        assert.equal(used.used_at, '2026-03-01T10:00:00.000Z');
        assert.equal(used.key_id, keys[0]?.id);
        const events = await db
          .selectFrom('events')
          .select('kind')
          .where('host_name', '=', 'hsb1')
          .orderBy('id')
          .execute();
        assert.deepEqual(
          events.map((e) => e.kind),
          ['host.enrollment_issued', 'host.enrolled'],
        );
      }));

    it('refuses a reused, replayed, expired, superseded or foreign token with its code and writes nothing', () =>
      engine.withDatabase(async (db) => {
        const { identity, clock } = await fixture(db);
        const first = await identity.issue('hsb1', { expiresInSeconds: 3600 }, 'admin');
        const key = newKey();
        const request = { token: first.token, host: 'hsb1', publicKey: key.publicKey };
        await identity.enroll(request);

        let before = await rows(db);
        await expectCode(identity.enroll(request), 'enrollment_token_used'); // replayed as is
        await expectCode(
          identity.enroll({ ...request, publicKey: newKey().publicKey }),
          'enrollment_token_used',
        );
        await expectCode(
          identity.enroll({ ...request, token: 'flte_unknown' }),
          'enrollment_token_invalid',
        );
        assert.deepEqual(await rows(db), before);

        const other = await identity.issue('gpc0', { expiresInSeconds: 60 }, 'admin');
        before = await rows(db);
        await expectCode(
          identity.enroll({ token: other.token, host: 'hsb1', publicKey: newKey().publicKey }),
          'enrollment_token_invalid',
        );
        clock.advance(61_000);
        await expectCode(
          identity.enroll({ token: other.token, host: 'gpc0', publicKey: newKey().publicKey }),
          'enrollment_token_expired',
        );
        assert.deepEqual(await rows(db), before);

        const older = await identity.issue('gpc0', { expiresInSeconds: 3600 }, 'admin');
        await identity.issue('gpc0', { expiresInSeconds: 3600 }, 'admin');
        before = await rows(db);
        await expectCode(
          identity.enroll({ token: older.token, host: 'gpc0', publicKey: newKey().publicKey }),
          'enrollment_token_invalid',
        );
        assert.deepEqual(await rows(db), before, 'a superseded token changes nothing');
      }));

    it('refuses a key that was enrolled before, for any host', () =>
      engine.withDatabase(async (db) => {
        const { identity } = await fixture(db);
        const key = newKey();
        const a = await identity.issue('hsb1', { expiresInSeconds: 3600 }, 'admin');
        await identity.enroll({ token: a.token, host: 'hsb1', publicKey: key.publicKey });
        const b = await identity.issue('gpc0', { expiresInSeconds: 3600 }, 'admin');
        const before = await rows(db);
        await expectCode(
          identity.enroll({ token: b.token, host: 'gpc0', publicKey: key.publicKey }),
          'public_key_in_use',
        );
        assert.deepEqual(await rows(db), before);
      }));

    it('accepts only its own signature of this challenge, for its own host and this controller', () =>
      engine.withDatabase(async (db) => {
        const { identity } = await fixture(db);
        const hsb1 = newKey();
        const gpc0 = newKey();
        for (const [host, key] of [
          ['hsb1', hsb1],
          ['gpc0', gpc0],
        ] as const) {
          const { token } = await identity.issue(host, { expiresInSeconds: 3600 }, 'admin');
          await identity.enroll({ token, host, publicKey: key.publicKey });
        }
        const challenge = nonce();
        const attempt = (host: string, auth: ReturnType<typeof signed> | undefined) =>
          identity.authenticate({ host, auth, nonce: challenge, origins: [ORIGIN] });

        const ok = await attempt('hsb1', signed(hsb1, 'hsb1', challenge));
        assert.equal(ok.host.name, 'hsb1');
        assert.equal(ok.keyFingerprint, hsb1.fingerprint);
        assert.equal(identity.isCurrent(ok), true);

        // Another key's signature under hsb1's name (a forgery).
        const forged = { ...signed(gpc0, 'hsb1', challenge), keyId: hsb1.fingerprint };
        await expectCode(attempt('hsb1', forged), 'invalid_signature');
        // Replayed from another connection, another controller, or another protocol version.
        await expectCode(attempt('hsb1', signed(hsb1, 'hsb1', nonce())), 'invalid_signature');
        await expectCode(
          attempt('hsb1', signed(hsb1, 'hsb1', challenge, 'https://other.example')),
          'invalid_signature',
        );
        const oldProtocol = agentAuthPayload({
          host: 'hsb1',
          origin: ORIGIN,
          protocolVersion: PROTOCOL_VERSION - 1,
          nonce: challenge,
        });
        await expectCode(
          attempt('hsb1', {
            keyId: hsb1.fingerprint,
            signature: sign(null, Buffer.from(oldProtocol), hsb1.privateKey).toString('base64url'),
          }),
          'invalid_signature',
        );
        // hsb1's own key, honestly signing a hello as gpc0.
        await expectCode(attempt('gpc0', signed(hsb1, 'gpc0', challenge)), 'host_mismatch');
        await expectCode(
          attempt('hsb1', signed(newKey(), 'hsb1', challenge)),
          'agent_not_enrolled',
        );
        await expectCode(attempt('hsb1', undefined), 'unauthorized');
      }));

    it('revokes a key: it is refused from then on, its host is cut off and its credentials end', () =>
      engine.withDatabase(async (db) => {
        const { identity, cutOff, revoked } = await fixture(db);
        const key = newKey();
        const { token } = await identity.issue('hsb1', { expiresInSeconds: 3600 }, 'admin');
        await identity.enroll({ token, host: 'hsb1', publicKey: key.publicKey });
        const pending = await identity.issue('hsb1', { expiresInSeconds: 3600 }, 'admin');
        const challenge = nonce();
        const before = await identity.authenticate({
          host: 'hsb1',
          auth: signed(key, 'hsb1', challenge),
          nonce: challenge,
          origins: [ORIGIN],
        });

        const answer = await identity.revoke('hsb1', { reason: 'laptop stolen' }, 'admin');
        assert.deepEqual(answer, {
          host: 'hsb1',
          revokedAt: '2026-03-01T10:00:00.000Z',
          keyFingerprint: key.fingerprint,
          enrollmentTokensRevoked: 1,
          disconnected: true,
        });
        assert.deepEqual(cutOff, ['hsb1']);
        assert.deepEqual(revoked, ['hsb1']);
        assert.equal(identity.isCurrent(before), false, 'a proof checked before is stale');
        const row = await db.selectFrom('agent_keys').selectAll().executeTakeFirstOrThrow();
        assert.equal(row.revoked_by, 'admin');
        assert.equal(row.revoke_reason, 'laptop stolen');
        await expectCode(
          identity.authenticate({
            host: 'hsb1',
            auth: signed(key, 'hsb1', challenge),
            nonce: challenge,
            origins: [ORIGIN],
          }),
          'agent_not_enrolled',
        );
        await expectCode(
          identity.enroll({ token: pending.token, host: 'hsb1', publicKey: newKey().publicKey }),
          'enrollment_token_invalid',
        );
        const shown = (await identity.identities(['hsb1'])).get('hsb1');
        assert.equal(shown?.status, 'revoked');
        assert.equal(shown?.enrollmentExpiresAt, null);
      }));

    it('keeps the old key working until a re-enrollment completes, then only the new one', () =>
      engine.withDatabase(async (db) => {
        const { identity, cutOff } = await fixture(db);
        const old = newKey();
        const first = await identity.issue('hsb1', { expiresInSeconds: 3600 }, 'admin');
        assert.equal((await identity.identities(['hsb1'])).get('hsb1')?.status, 'pending');
        await identity.enroll({ token: first.token, host: 'hsb1', publicKey: old.publicKey });
        const second = await identity.issue('hsb1', { expiresInSeconds: 7200 }, 'admin');
        const check = (key: Key) => {
          const challenge = nonce();
          return identity.authenticate({
            host: 'hsb1',
            auth: signed(key, 'hsb1', challenge),
            nonce: challenge,
            origins: [ORIGIN],
          });
        };
        await check(old);
        const shown = (await identity.identities(['hsb1'])).get('hsb1');
        assert.equal(shown?.status, 'enrolled');
        assert.equal(shown?.enrollmentExpiresAt, '2026-03-01T12:00:00.000Z');
        assert.deepEqual(cutOff, []);

        const renewed = newKey();
        const answer = await identity.enroll({
          token: second.token,
          host: 'hsb1',
          publicKey: renewed.publicKey,
        });
        assert.equal(answer.replacedKeyFingerprint, old.fingerprint);
        assert.deepEqual(cutOff, ['hsb1'], "the old key's connection is cut off");
        await expectCode(check(old), 'agent_not_enrolled');
        assert.equal((await check(renewed)).keyFingerprint, renewed.fingerprint);
        const active = await db
          .selectFrom('agent_keys')
          .select('fingerprint')
          .where('revoked_at', 'is', null)
          .execute();
        assert.deepEqual(active, [{ fingerprint: renewed.fingerprint }]);
      }));
  });
}
