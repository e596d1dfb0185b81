import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EnrollAgentRequest, EnrollAgentResponse } from '@flotilla/protocol';
import { Logger } from '@flotilla/runtime';
import {
  ensureEnrolled,
  identityPaths,
  NotEnrolled,
  type EnrollmentOptions,
} from './agent-identity.js';
import { AgentKey, keyFingerprint } from './agent-key.js';
import { EnrollmentRefused } from './enrollment-client.js';

const quiet = new Logger({ level: 'error', output: { write: () => true } });

/** A controller stand-in: accepts each token once, remembers what it enrolled. */
class Enroller {
  requests: EnrollAgentRequest[] = [];
  used = new Set<string>();
  failures = 0;
  enroll = (request: EnrollAgentRequest): Promise<EnrollAgentResponse> => {
    this.requests.push(request);
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('connect ECONNREFUSED'));
    }
    if (this.used.has(request.token)) {
      return Promise.reject(new EnrollmentRefused('enrollment_token_used', 'used', 401));
    }
    if (!request.token.startsWith('flte_')) {
      return Promise.reject(new EnrollmentRefused('enrollment_token_invalid', 'unknown', 401));
    }
    this.used.add(request.token);
    return Promise.resolve({
      host: request.host,
      mode: 'managed',
      keyFingerprint: keyFingerprint(request.publicKey),
      enrolledAt: '2026-03-01T10:00:00.000Z',
      replacedKeyFingerprint: null,
    });
  };
}

describe('AgentKey', () => {
  it('signs with Ed25519, survives a round trip through PEM and names itself like OpenSSH', () => {
    const key = AgentKey.generate();
    const again = AgentKey.fromPem(key.toPem());
    assert.equal(again.publicKey, key.publicKey);
    assert.match(key.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(Buffer.from(key.publicKey, 'base64url').length, 32);
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: key.publicKey },
      format: 'jwk',
    });
    const signature = Buffer.from(again.sign('payload'), 'base64url');
    assert.equal(verify(null, Buffer.from('payload'), publicKey, signature), true);
    assert.equal(verify(null, Buffer.from('other'), publicKey, signature), false);
  });
});

describe('ensureEnrolled', () => {
  let dir: string;
  let count = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-identity-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function options(enroller: Enroller, extra: Partial<EnrollmentOptions> = {}): EnrollmentOptions {
    return {
      stateDir: join(dir, String(++count)),
      host: 'hsb1',
      controllerUrl: 'wss://fleet.example/api/v1/agent/ws',
      enrollmentToken: null,
      enrollmentTokenFile: null,
      enroll: enroller.enroll,
      logger: quiet,
      retry: { baseMs: 1, capMs: 2 },
      ...extra,
    };
  }

  it('makes a key, enrolls its public half once and keeps the private key 0600', async () => {
    const enroller = new Enroller();
    const first = options(enroller, { enrollmentToken: 'flte_one' });
    const key = await ensureEnrolled(first);
    assert.equal(enroller.requests.length, 1);
    assert.deepEqual(enroller.requests[0], {
      token: 'flte_one',
      host: 'hsb1',
      publicKey: key.publicKey,
    });
    const paths = identityPaths(first.stateDir);
    assert.equal((await stat(paths.key)).mode & 0o777, 0o600);
    assert.equal((await stat(paths.dir)).mode & 0o777, 0o700);
    assert.deepEqual((await readdir(paths.dir)).sort(), ['agent-key.pem', 'enrollment.json']);
    const record = await readFile(paths.record, 'utf8');
    assert.ok(!record.includes('flte_one'), 'the token itself is never written');
    assert.ok(!record.includes('PRIVATE KEY'));

    // Restarted with the same (now used) token: the key, and no second enrollment.
    const again = await ensureEnrolled({ ...first });
    assert.equal(again.fingerprint, key.fingerprint);
    assert.equal(enroller.requests.length, 1);
    // The token file deleted after enrolling: still the key.
    const without = await ensureEnrolled({ ...first, enrollmentToken: null });
    assert.equal(without.fingerprint, key.fingerprint);
  });

  it('enrolls again with a new key when given a new token', async () => {
    const enroller = new Enroller();
    const first = options(enroller, { enrollmentToken: 'flte_one' });
    const old = await ensureEnrolled(first);
    const renewed = await ensureEnrolled({ ...first, enrollmentToken: 'flte_two' });
    assert.notEqual(renewed.fingerprint, old.fingerprint);
    assert.equal(enroller.requests[1]?.publicKey, renewed.publicKey);
    const kept = await ensureEnrolled({ ...first, enrollmentToken: null });
    assert.equal(kept.fingerprint, renewed.fingerprint);
  });

  it('keeps its enrolled key when a token it has not used is refused', async () => {
    const enroller = new Enroller();
    const first = options(enroller, { enrollmentToken: 'flte_one' });
    const key = await ensureEnrolled(first);
    const stale = await ensureEnrolled({ ...first, enrollmentToken: 'not-a-valid-token' });
    assert.equal(stale.fingerprint, key.fingerprint);
    assert.equal(enroller.requests.length, 2, 'it tried');
    const paths = identityPaths(first.stateDir);
    assert.deepEqual((await readdir(paths.dir)).sort(), ['agent-key.pem', 'enrollment.json']);
  });

  it('reads the token from a file, and says what to do without one', async () => {
    const enroller = new Enroller();
    const file = join(dir, 'token-file');
    await writeFile(file, 'flte_from-file\n');
    const key = await ensureEnrolled(options(enroller, { enrollmentTokenFile: file }));
    assert.equal(enroller.requests[0]?.token, 'flte_from-file');
    assert.equal(enroller.requests[0]?.publicKey, key.publicKey);
    await assert.rejects(
      ensureEnrolled(options(enroller, { enrollmentTokenFile: join(dir, 'missing') })),
      (error: Error) =>
        error instanceof NotEnrolled && /flotilla host enroll hsb1/.test(error.message),
    );
  });

  it('retries an unreachable controller and gives up on a refusal with the code', async () => {
    const enroller = new Enroller();
    enroller.failures = 2;
    await ensureEnrolled(options(enroller, { enrollmentToken: 'flte_retry' }));
    assert.equal(enroller.requests.length, 3);
    await assert.rejects(
      ensureEnrolled(options(enroller, { enrollmentToken: 'bogus' })),
      (error: Error) =>
        error instanceof NotEnrolled && /enrollment_token_invalid/.test(error.message),
    );
  });

  it('keeps the key of an attempt whose answer was lost, and uses it once the token reads as used', async () => {
    const enroller = new Enroller();
    const lost = options(enroller, { enrollmentToken: 'flte_lost' });
    // The controller enrolls the key, but the agent dies before it reads the answer.
    const crashing = {
      ...lost,
      enroll: async (request: EnrollAgentRequest) => {
        await enroller.enroll(request);
        throw new Error('socket hang up');
      },
    };
    const aborted = ensureEnrolled({ ...crashing, retry: { baseMs: 60_000, capMs: 60_000 } });
    void aborted.catch(() => undefined);
    const paths = identityPaths(lost.stateDir);
    const deadline = Date.now() + 3000;
    while (enroller.requests.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const pending = AgentKey.fromPem(await readFile(paths.pendingKey, 'utf8'));
    // A restarted agent: the token is used now, by the very key it kept.
    const key = await ensureEnrolled(lost);
    assert.equal(key.fingerprint, pending.fingerprint);
    assert.equal(enroller.requests.at(-1)?.publicKey, pending.publicKey);
    assert.deepEqual((await readdir(paths.dir)).sort(), ['agent-key.pem', 'enrollment.json']);
  });
});
