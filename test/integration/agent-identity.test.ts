import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Db } from '@flotilla/controller';
import type { EnrollmentToken, ErrorBody, RevokeHostResponse } from '@flotilla/protocol';
import {
  enrollIdentity,
  JsonClient,
  newAgentIdentity,
  ProtocolAgent,
  signChallenge,
  startAgent,
  type AgentIdentity,
} from '@flotilla/sandbox';
import { sql } from 'kysely';
import { FleetFixture } from './fleet-fixture.js';

/**
 * Agents are who they say: real controller and agent processes, the controller's own
 * SQLite database read alongside to see what changed (and what did not).
 */
describe('agent identities: enrollment, challenges, revocation', { timeout: 300_000 }, () => {
  let fleet: FleetFixture;
  let db: Db;

  before(async () => {
    fleet = await FleetFixture.start('identity');
    db = (await openDatabase({ url: join(fleet.controller.stateDir, 'flotilla.db') })).db;
  });

  after(async () => {
    await db?.destroy();
    await fleet?.stop();
  });

  /** Everything enrollment can change, to tell that a refusal changed nothing. */
  async function identityRows(): Promise<unknown> {
    const keys = await sql`select * from agent_keys order by id`.execute(db);
    const tokens = await sql`select * from enrollment_tokens order by token_hash`.execute(db);
    const events = await sql`select count(*) as n from events`.execute(db);
    const hosts = await sql`select name, last_connected_at from hosts order by name`.execute(db);
    return { keys: keys.rows, tokens: tokens.rows, events: events.rows, hosts: hosts.rows };
  }

  /**
   * Waits until the controller wrote what it keeps of a host's connection (written in
   * batches, a moment after the connect), so snapshots compare only what a test changes.
   */
  async function presenceWritten(host: string): Promise<void> {
    const live = await fleet.host(host);
    await JsonClient.until(async () => {
      const row = await db
        .selectFrom('hosts')
        .select('last_connected_at')
        .where('name', '=', host)
        .executeTakeFirst();
      return row?.last_connected_at === live.connectedAt ? true : undefined;
    }, `the connection of ${host} to be written`);
  }

  /** The identity of a real agent's key file, to act as that host from this process. */
  async function agentIdentityOf(host: string): Promise<AgentIdentity> {
    const pem = await readFile(
      join(fleet.dir, 'hosts', host, 'agent', 'identity', 'agent-key.pem'),
    );
    const privateKey = createPrivateKey(pem);
    const publicKey = createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '';
    const digest = createHash('sha256')
      .update(Buffer.from(publicKey, 'base64url'))
      .digest('base64');
    return { host, publicKey, fingerprint: `SHA256:${digest.replace(/=+$/, '')}`, privateKey };
  }

  async function enrolledIdentity(host: string): Promise<AgentIdentity> {
    const identity = newAgentIdentity(host);
    const token = await fleet.register(host);
    const answer = await enrollIdentity(fleet.controller.url, identity, token);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return identity;
  }

  it('enrolls an agent with its one-time token: the controller keeps only the public key', async () => {
    const agent = await fleet.addAgent('alpha');
    await agent.process.waitForLine(/"msg":"enrolled with the controller"/);
    const key = await agentIdentityOf('alpha');
    const keyFile = join(agent.paths.identityDir, 'agent-key.pem');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600, 'the private key is private');

    const rows = await db
      .selectFrom('agent_keys')
      .selectAll()
      .where('host_name', '=', 'alpha')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.public_key, r.fingerprint, r.revoked_at]),
      [[key.publicKey, key.fingerprint, null]],
    );
    const token = await db
      .selectFrom('enrollment_tokens')
      .selectAll()
      .where('host_name', '=', 'alpha')
      .executeTakeFirstOrThrow();
    assert.equal(token.key_id, rows[0]?.id, 'the token is used up by that key');
    assert.notEqual(token.used_at, null);
    assert.notEqual(token.token_hash, fleet.tokens.get('alpha'), 'only its hash is stored');
    const dump = JSON.stringify(await identityRows());
    assert.ok(!dump.includes('PRIVATE'), 'no private key material in the database');
    assert.ok(!dump.includes(fleet.tokens.get('alpha') ?? '-'), 'no enrollment token either');

    const host = await fleet.host('alpha');
    assert.equal(host.status, 'online');
    assert.equal(host.identity?.status, 'enrolled');
    assert.equal(host.identity?.keyFingerprint, key.fingerprint);

    // Restarted with the same (used) token configured: it proves its key, no new enrollment.
    await agent.process.stop();
    const again = await fleet.launchAgent('alpha');
    await fleet.waitForHost(
      'alpha',
      (h) => h.status === 'online' && h.connectedAt !== host.connectedAt,
    );
    assert.equal(
      again.process.lines.filter((line) => line.includes('enrolled with the controller')).length,
      0,
    );
    const keys = await db
      .selectFrom('agent_keys')
      .select('id')
      .where('host_name', '=', 'alpha')
      .execute();
    assert.equal(keys.length, 1);
  });

  it('refuses a replayed, reused, expired, foreign or unknown token with its code and changes nothing', async () => {
    await presenceWritten('alpha');
    const before = await identityRows();
    const enroll = (token: string, host: string) =>
      enrollIdentity(fleet.controller.url, newAgentIdentity(host), token, host);

    const replayed = await enroll(fleet.tokens.get('alpha') ?? '', 'alpha');
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.error.code, 'enrollment_token_used');
    const unknown = await enroll('flte_made-up-token', 'alpha');
    assert.equal(unknown.body.error.code, 'enrollment_token_invalid');
    assert.deepEqual(await identityRows(), before);

    const gammaToken = await fleet.register('gamma');
    const afterRegistration = await identityRows();
    const foreign = await enroll(gammaToken, 'alpha');
    assert.equal(foreign.status, 401);
    assert.equal(foreign.body.error.code, 'enrollment_token_invalid', "another host's token");
    // Expired: its expiry moved into the past, as time would.
    await sql`update enrollment_tokens set expires_at = ${new Date(Date.now() - 60_000).toISOString()}
      where host_name = 'gamma'`.execute(db);
    const expiredRows = await identityRows();
    const expired = await enroll(gammaToken, 'gamma');
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.code, 'enrollment_token_expired');
    assert.deepEqual(await identityRows(), expiredRows);
    assert.notDeepEqual(expiredRows, afterRegistration, 'only the expiry moved');

    // A real agent with that token says why and stops with exit code 2 (no restart loop).
    const agent = await startAgent({
      host: 'gamma',
      controllerUrl: fleet.controller.url,
      enrollmentToken: gammaToken,
      trustedPublicKeys: [fleet.cacheKey],
      root: join(fleet.dir, 'hosts', 'gamma'),
    });
    assert.equal(await agent.process.exited, 2);
    assert.ok(
      agent.process.lines.some((line) => line.includes('enrollment_token_expired')),
      agent.process.lines.join('\n'),
    );
    assert.deepEqual(await identityRows(), expiredRows);
    assert.equal((await fleet.host('gamma')).identity?.status, 'pending');
  });

  it("refuses a forged signature and host A's key saying hello as host B, logging the address", async () => {
    const beta = await enrolledIdentity('beta');
    const before = await identityRows();

    // beta's key id, but the signature is another key's.
    const forger = newAgentIdentity('beta');
    const forged = await ProtocolAgent.connect(fleet.controller.url);
    const nonce = await forged.challenge();
    const signature = signChallenge(forger, { nonce, origin: forged.origin }).signature;
    await forged.hello(null, { host: 'beta', auth: { keyId: beta.fingerprint, signature } });
    assert.equal((await forged.nextError(0)).code, 'invalid_signature');
    assert.equal(await forged.closed(), 4004);

    // A signature of another connection's challenge, replayed.
    const first = await ProtocolAgent.connect(fleet.controller.url);
    const stolen = signChallenge(beta, { nonce: await first.challenge(), origin: first.origin });
    first.socket.close();
    const replay = await ProtocolAgent.connect(fleet.controller.url);
    await replay.hello(null, { host: 'beta', auth: stolen });
    assert.equal((await replay.nextError(0)).code, 'invalid_signature');

    // The real agent's key of alpha, properly signing a hello as beta.
    const alpha = await agentIdentityOf('alpha');
    const impostor = await ProtocolAgent.connect(fleet.controller.url);
    await impostor.hello(alpha, { host: 'beta' });
    assert.equal((await impostor.nextError(0)).code, 'host_mismatch');
    assert.equal(await impostor.closed(), 4003);

    assert.equal((await fleet.host('beta')).status, 'never_seen', 'beta never came online');
    assert.deepEqual(await identityRows(), before);
    const refusals = fleet.controller.process.lines
      .filter((line) => line.includes('agent authentication failed'))
      .map((line) => JSON.parse(line) as { code: string; remote: string; claimedHost: string });
    assert.deepEqual(
      refusals.map((r) => [r.code, r.claimedHost]),
      [
        ['invalid_signature', 'beta'],
        ['invalid_signature', 'beta'],
        ['host_mismatch', 'beta'],
      ],
    );
    assert.ok(
      refusals.every((r) => /127\.0\.0\.1/.test(r.remote)),
      JSON.stringify(refusals),
    );

    // beta's own key works.
    const honest = await ProtocolAgent.connectAs(fleet.controller.url, beta);
    await fleet.waitForHost('beta', (h) => h.status === 'online');
    honest.socket.close();
  });

  it('cuts a revoked agent off at once and keeps it out until it enrolls again', async () => {
    const agent = fleet.agents.get('alpha');
    assert.ok(agent);
    await fleet.waitForHost('alpha', (h) => h.status === 'online');
    const oldKey = await agentIdentityOf('alpha');
    const mark = agent.process.lines.length;

    const revoked = await fleet.api.post<RevokeHostResponse>('/api/v1/hosts/alpha/revoke', {
      reason: 'test',
    });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.disconnected, true);
    assert.equal(revoked.body.keyFingerprint, oldKey.fingerprint);
    // Offline in the same moment: the answer came after the cut.
    assert.equal((await fleet.host('alpha')).status, 'offline');
    const row = await db
      .selectFrom('agent_keys')
      .selectAll()
      .where('fingerprint', '=', oldKey.fingerprint)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.revoked_at, null);
    assert.equal(row.revoke_reason, 'test');

    // It dials again and is refused: its key is no longer enrolled.
    await agent.process.waitForLine(
      (line) => agent.process.lines.indexOf(line) >= mark && line.includes('agent_not_enrolled'),
      20_000,
    );
    assert.equal((await fleet.host('alpha')).status, 'offline');
    assert.equal((await fleet.host('alpha')).identity?.status, 'revoked');
    // The same key from here fares no better.
    const retry = await ProtocolAgent.connect(fleet.controller.url);
    await retry.hello(oldKey);
    assert.equal((await retry.nextError(0)).code, 'agent_not_enrolled');

    // A new token brings it back, with a new key.
    await agent.process.stop();
    const renewal = await fleet.api.post<EnrollmentToken>('/api/v1/hosts/alpha/enrollment', {
      expiresInSeconds: 600,
    });
    assert.equal(renewal.status, 201);
    fleet.tokens.set('alpha', renewal.body.token);
    await fleet.launchAgent('alpha');
    const back = await fleet.waitForHost('alpha', (h) => h.status === 'online');
    const newKey = await agentIdentityOf('alpha');
    assert.notEqual(newKey.fingerprint, oldKey.fingerprint);
    assert.equal(back.identity?.keyFingerprint, newKey.fingerprint);
    const keys = await db
      .selectFrom('agent_keys')
      .select(['fingerprint', 'revoked_at'])
      .where('host_name', '=', 'alpha')
      .orderBy('enrolled_at')
      .execute();
    assert.deepEqual(
      keys.map((k) => [k.fingerprint, k.revoked_at === null]),
      [
        [oldKey.fingerprint, false],
        [newKey.fingerprint, true],
      ],
    );
  });

  it("ends a revoked host's cache credentials, and a host reads only its own releases", async () => {
    const delta = await enrolledIdentity('delta');
    const connection = await ProtocolAgent.connectAs(fleet.controller.url, delta);
    const credential = await connection.cacheCredential();
    const cache = (credentialToken: string) =>
      fetch(`${fleet.controller.url}/cache/nix-cache-info`, {
        headers: {
          authorization: `Basic ${Buffer.from(`any:${credentialToken}`).toString('base64')}`,
        },
      });
    assert.equal((await cache(credential)).status, 200);
    // delta has no release: any narinfo is "not found" to it, as a path of another host is.
    const narinfo = await fetch(`${fleet.controller.url}/cache/${'0'.repeat(32)}.narinfo`, {
      headers: { authorization: `Bearer ${credential}` },
    });
    assert.equal(narinfo.status, 404);

    const revoked = await fleet.api.post<RevokeHostResponse>('/api/v1/hosts/delta/revoke', {});
    assert.equal(revoked.body.disconnected, true);
    assert.equal(await connection.closed(), 4011);
    const refused = await cache(credential);
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: ErrorBody }).error.code, 'unauthorized');
    const admin = new JsonClient(fleet.controller.url, fleet.controller.adminToken);
    const audit = await admin.get<{ entries: { kind: string; host: string | null }[] }>(
      '/api/v1/audit?host=delta',
    );
    assert.ok(
      audit.body.entries.some((entry) => entry.kind === 'host.revoked'),
      JSON.stringify(audit.body),
    );
  });
});
