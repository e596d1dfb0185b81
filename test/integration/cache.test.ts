import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  CacheInfo,
  CreateHostResponse,
  Deployment,
  DeploymentDecision,
  EnrollmentToken,
} from '@flotilla/protocol';
import {
  buildHost,
  buildRandomBlob,
  enrollIdentity,
  JsonClient,
  newAgentIdentity,
  ProtocolAgent,
  SANDBOX_NIX_CONFIG,
  startAgent,
  startController,
  TEST_TLS,
  UploadCacheServer,
  writeSandboxFlake,
  type AgentHandle,
  type ControllerHandle,
} from '@flotilla/sandbox';
import { CachePublishing, copyFromCache } from './cache-fixture.js';
import { decisionAnswer } from './fleet-fixture.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Command lines (from /proc) of every process on this machine that contain `secret`. */
function commandLinesContaining(secret: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (line.includes(secret)) found.push(line);
    } catch {
      // The process ended meanwhile.
    }
  }
  return found;
}

describe('the controller binary cache, with real Nix and real HTTP', { timeout: 300_000 }, () => {
  let dir: string;
  let controller: ControllerHandle;
  let api: JsonClient;
  let publishing: CachePublishing;
  let agent: AgentHandle | undefined;
  /** Each host's short-lived cache credential, asked for over its own agent connection. */
  const tokens: Record<string, string> = {};
  const connections: ProtocolAgent[] = [];
  let info: CacheInfo;
  let cacheUrl: string;
  let storePath: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-cache-'));
    controller = await startController({ stateDir: join(dir, 'controller') });
    api = new JsonClient(controller.url, controller.adminToken);
    for (const name of ['h1', 'h2']) {
      const created = await api.post<CreateHostResponse>('/api/v1/hosts', {
        name,
        mode: 'managed',
      });
      assert.equal(created.status, 201);
      const identity = newAgentIdentity(name);
      const enrolled = await enrollIdentity(
        controller.url,
        identity,
        created.body.enrollment.token,
      );
      assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
      const connection = await ProtocolAgent.connect(controller.url);
      connections.push(connection);
      await connection.hello(identity);
      await connection.next('welcome');
      connection.socket.send(JSON.stringify({ type: 'cache.credential_request', requestId: name }));
      const credential = await connection.next('cache.credential');
      assert.equal(credential.requestId, name);
      assert.ok(Date.parse(credential.expiresAt) - Date.now() <= 10 * 60_000, 'minutes, not days');
      tokens[name] = credential.token;
    }
    info = (await api.get<CacheInfo>('/api/v1/cache')).body;
    cacheUrl = `${controller.url}${info.path}`;
    // A version no other run used: the release is a path this cache has never seen.
    const flake = join(dir, 'flake');
    await writeSandboxFlake(flake, [
      { name: 'h1', version: `cache-${randomBytes(4).toString('hex')}` },
    ]);
    storePath = await buildHost(`path:${flake}`, 'h1');
    publishing = await CachePublishing.open(controller.stateDir);
    await publishing.publishRelease('h1', storePath);
  });

  after(async () => {
    for (const connection of connections) connection.socket.terminate();
    await agent?.process.stop();
    await publishing?.close();
    await controller?.process.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh, empty store root and scratch directory for one fetch. */
  async function emptyStore(label: string): Promise<{ root: string; scratch: string }> {
    const root = join(dir, 'stores', label);
    const scratch = join(dir, 'scratch', label);
    await mkdir(scratch, { recursive: true });
    return { root, scratch };
  }

  const inStore = (root: string, path: string) => join(root, 'nix', 'store', basename(path));

  it('shows the signing key the controller created, kept private on disk', async () => {
    assert.equal(info.publicKey, publishing.publicKey);
    assert.match(info.publicKey, /^flotilla-[A-Za-z0-9_-]+-1:[A-Za-z0-9+/]{43}=$/);
    assert.equal(info.pushTo, null);
    const secret = await stat(join(controller.stateDir, 'cache', 'signing-key.sec'));
    assert.equal(secret.mode & 0o777, 0o600);
  });

  it("lets a host with its own cache credential and the controller's key fetch its release", async () => {
    const target = await emptyStore('h1-ok');
    const result = await copyFromCache({
      cacheUrl,
      publicKey: info.publicKey,
      token: tokens.h1,
      storePath,
      ...target,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await stat(inStore(target.root, storePath))).isDirectory());
  });

  it('is idempotent: publishing the release again changes nothing', async () => {
    const count = async () =>
      (
        await publishing.db
          .selectFrom('release_paths')
          .select('store_hash')
          .where('host_name', '=', 'h1')
          .execute()
      ).length;
    const before = await count();
    const releaseId = (
      await publishing.db
        .selectFrom('releases')
        .select('id')
        .where('store_path', '=', storePath)
        .executeTakeFirstOrThrow()
    ).id;
    await publishing.publisher.publish({ releaseId, hostName: 'h1', storePath });
    assert.equal(await count(), before);
  });

  it('pushes to cache.pushTo with its credentials in a netrc file, never on a command line', async () => {
    const password = `s3cret-${randomBytes(6).toString('hex')}`;
    const seenInCommandLines: string[] = [];
    // While Nix talks to the cache, no process on this machine may show the password in
    // its arguments (what `ps` shows every user).
    const server = await UploadCacheServer.start({
      login: 'fleet',
      password,
      onRequest: () => seenInCommandLines.push(...commandLinesContaining(password)),
    });
    try {
      const releaseId = (
        await publishing.db
          .selectFrom('releases')
          .select('id')
          .where('store_path', '=', storePath)
          .executeTakeFirstOrThrow()
      ).id;
      const pushTo = `https://fleet:${password}@${server.baseUrl.replace('https://', '')}/`;
      const publisher = publishing.withPushTo(pushTo, { NIX_SSL_CERT_FILE: TEST_TLS.caFile });
      await publisher.publish({ releaseId, hostName: 'h1', storePath });
      const hash = basename(storePath).slice(0, 32);
      const narinfo = server.files.get(`/${hash}.narinfo`)?.toString('utf8') ?? '';
      assert.match(narinfo, new RegExp(`StorePath: ${storePath}`), 'the closure was pushed');
      assert.match(narinfo, /^Sig: /m, 'signed');
      const basic = `Basic ${Buffer.from(`fleet:${password}`).toString('base64')}`;
      assert.ok(server.authorizations.includes(basic), 'Nix authenticated from the netrc file');
      assert.ok(server.authorizations.length > 0);
      assert.deepEqual(seenInCommandLines, [], 'the password was on no command line');
      const leftovers = (await readdir(tmpdir())).filter((f) => f.startsWith('flotilla-push-'));
      assert.deepEqual(leftovers, [], 'the netrc file is gone');
    } finally {
      await server.close();
    }
  });

  it('reports a failed push as cache_unavailable without the credentials in the URL', async () => {
    const releaseId = (
      await publishing.db
        .selectFrom('releases')
        .select('id')
        .where('store_path', '=', storePath)
        .executeTakeFirstOrThrow()
    ).id;
    // Nothing listens on port 1: the push fails after the local cache was written.
    const publisher = publishing.withPushTo(
      'http://fleet:s3cret-pw@127.0.0.1:1/cache?token=t0ken-x',
    );
    await assert.rejects(
      publisher.publish({ releaseId, hostName: 'h1', storePath }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'cache_unavailable');
        assert.match(
          error.message,
          /pushing to http:\/\/\*\*\*@127\.0\.0\.1:1\/cache\?token=\*\*\*/,
        );
        assert.ok(!/s3cret-pw|t0ken-x/.test(error.message), error.message);
        return true;
      },
    );
  });

  it('refuses a closure signed with a key the client does not trust', async () => {
    const target = await emptyStore('wrong-key');
    const otherKey = `${info.publicKey.split(':')[0]}:${randomBytes(32).toString('base64')}`;
    const result = await copyFromCache({
      cacheUrl,
      publicKey: otherKey,
      token: tokens.h1,
      storePath,
      ...target,
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /lacks a valid signature|not signed by any of the keys/);
    await assert.rejects(stat(inStore(target.root, storePath)));
  });

  it("refuses a client without a credential, and host h2's credential for h1's closure", async () => {
    const anonymous = await emptyStore('anonymous');
    const none = await copyFromCache({
      cacheUrl,
      publicKey: info.publicKey,
      storePath,
      ...anonymous,
    });
    assert.notEqual(none.code, 0);
    // Nix reads a 401 on nix-cache-info this way.
    assert.match(none.stderr, /does not appear to be a binary cache/);
    await assert.rejects(stat(inStore(anonymous.root, storePath)));

    const other = await emptyStore('h2');
    const h2 = await copyFromCache({
      cacheUrl,
      publicKey: info.publicKey,
      token: tokens.h2,
      storePath,
      ...other,
    });
    assert.notEqual(h2.code, 0);
    // To h2 the path does not exist (404), exactly as a path no host has.
    assert.match(h2.stderr, /no substituter that can build it/);
    await assert.rejects(stat(inStore(other.root, storePath)));
  });

  it('answers the protocol over HTTP: 401 with a challenge, 404 for other hosts, strict names', async () => {
    const hash = basename(storePath).slice(0, 32);
    const get = (path: string, token?: string, method = 'GET') =>
      fetch(`${cacheUrl}${path}`, {
        method,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });

    const anonymous = await get('/nix-cache-info');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Basic realm="flotilla"');
    assert.equal(
      ((await anonymous.json()) as { error: { code: string } }).error.code,
      'unauthorized',
    );
    assert.equal((await get('/nix-cache-info', 'flta_not-a-token')).status, 401);

    const cacheInfo = await get('/nix-cache-info', tokens.h1);
    assert.equal(await cacheInfo.text(), 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n');

    const narinfo = await get(`/${hash}.narinfo`, tokens.h1);
    assert.equal(narinfo.status, 200);
    assert.equal(narinfo.headers.get('content-type'), 'text/x-nix-narinfo');
    const narUrl = /^URL: (.+)$/m.exec(await narinfo.text())?.[1];
    assert.ok(narUrl?.startsWith('nar/'));

    // Another host gets "not found" for paths that exist: it must not learn what h1 runs.
    assert.equal((await get(`/${hash}.narinfo`, tokens.h2)).status, 404);
    assert.equal((await get(`/${narUrl}`, tokens.h2)).status, 404);
    const head = await get(`/${narUrl}`, tokens.h1, 'HEAD');
    assert.equal(head.status, 200);
    const narSize = (await stat(join(publishing.storeDir, narUrl ?? ''))).size;
    assert.equal(Number(head.headers.get('content-length')), narSize);

    assert.equal((await get('/NOT-A-HASH.narinfo', tokens.h1)).status, 400);
    assert.equal((await get('/nar/..%2F..%2Fflotilla.db', tokens.h1)).status, 404);
    assert.equal((await get('/nar/%2E%2E/signing-key.sec', tokens.h1)).status, 404);
    assert.equal((await get('/../cache/signing-key.sec', tokens.h1)).status, 404);
  });

  it('streams one NAR to many clients at once, byte for byte', async () => {
    const blob = await buildRandomBlob(
      `cache-test-blob-${randomBytes(3).toString('hex')}`,
      8 * 1024 * 1024,
    );
    await publishing.publishRelease('h1', blob);
    const hash = basename(blob).slice(0, 32);
    const narinfo = await readFile(join(publishing.storeDir, `${hash}.narinfo`), 'utf8');
    const narFile = /^URL: nar\/(.+)$/m.exec(narinfo)?.[1] ?? '';
    const expected = sha256(await readFile(join(publishing.storeDir, 'nar', narFile)));

    const downloads = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const response = await fetch(`${cacheUrl}/nar/${narFile}`, {
          headers: { authorization: `Basic ${Buffer.from(`any:${tokens.h1}`).toString('base64')}` },
        });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), 'application/x-nix-nar');
        const body = Buffer.from(await response.arrayBuffer());
        assert.equal(Number(response.headers.get('content-length')), body.length);
        return sha256(body);
      }),
    );
    assert.deepEqual(new Set(downloads), new Set([expected]));
  });

  it('gives deploy requests the cache, and the agent fetches with a credential it asked for into its empty store', async () => {
    const root = join(dir, 'hosts', 'h1');
    const store = join(dir, 'stores', 'agent-h1');
    // A real agent for h1, enrolled with a fresh token (it replaces the test's key for h1).
    const enrollment = await api.post<EnrollmentToken>('/api/v1/hosts/h1/enrollment', {});
    assert.equal(enrollment.status, 201);
    // The agent's Nix works on a store of its own, so the release must come from the cache.
    agent = await startAgent({
      host: 'h1',
      controllerUrl: controller.url,
      enrollmentToken: enrollment.body.token,
      trustedPublicKeys: [info.publicKey],
      root,
      env: { NIX_CONFIG: `${SANDBOX_NIX_CONFIG}\nstore = local?root=${store}` },
    });
    await JsonClient.until(
      async () =>
        (await api.get<{ status: string }>('/api/v1/hosts/h1')).body.status === 'online'
          ? true
          : undefined,
      'h1 to come online',
    );
    const created = decisionAnswer(
      await api.post<DeploymentDecision>('/api/v1/deployments', { host: 'h1', storePath }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const done = await JsonClient.until(
      async () => {
        const d = await api.get<Deployment & { log: { line: string }[] }>(
          `/api/v1/deployments/${created.body.id}`,
        );
        return ['succeeded', 'failed'].includes(d.body.status) ? d.body : undefined;
      },
      'the deployment to finish',
      60_000,
    );
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.ok(done.log.some((l) => l.line === `fetching ${storePath} from ${cacheUrl}`));
    assert.ok((await stat(inStore(store, storePath))).isDirectory());
    assert.equal(await realpath(agent.paths.currentSystemLink), storePath);
    const leftovers = (await readdir(agent.paths.stateDir)).filter((f) => f.startsWith('netrc'));
    assert.deepEqual(
      leftovers,
      [],
      'the netrc file with the credential is removed after the fetch',
    );
    assert.ok(done.log.some((l) => l.line === `${storePath} is signed by a trusted key`));
    // The test's own key for h1 was replaced: its credential stopped working with it.
    const stale = await fetch(`${cacheUrl}/nix-cache-info`, {
      headers: { authorization: `Bearer ${tokens.h1}` },
    });
    assert.equal(stale.status, 401);
  });
});
