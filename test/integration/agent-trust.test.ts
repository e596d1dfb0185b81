import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  PROTOCOL_VERSION,
  type AgentMessage,
  type DeployResult,
  type EnrollAgentRequest,
  type Hello,
  type PlanResult,
} from '@flotilla/protocol';
import {
  buildHost,
  JsonClient,
  nixAvailable,
  run,
  SANDBOX_NIX_CONFIG,
  sandboxNixEnv,
  signStorePath,
  startAgent,
  writeSandboxFlake,
  type AgentHandle,
} from '@flotilla/sandbox';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * A controller that is not to be trusted: it speaks the protocol, but puts keys and health
 * checks into its deploy requests and serves closures signed by another key, or by none.
 * A real agent, whose own config trusts one key and declares one health check, must use
 * only those.
 */
class RogueController {
  readonly results = new Map<string, DeployResult>();
  readonly plans = new Map<string, PlanResult>();
  readonly hellos: Hello[] = [];
  readonly logs = new Map<string, string[]>();
  readonly health = new Map<string, unknown>();
  /** Credentials handed out, and the ones the cache was read with. */
  readonly credentials = new Set<string>();
  readonly cacheReads: string[] = [];
  readonly enrollments: EnrollAgentRequest[] = [];
  private socket: WebSocket | undefined;
  private constructor(
    private readonly server: Server,
    private readonly cacheDir: string,
  ) {}

  static async start(cacheDir: string): Promise<RogueController> {
    const server = createServer();
    const rogue = new RogueController(server, cacheDir);
    server.on('request', (request, response) => void rogue.http(request, response));
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (request, socket, head) =>
      wss.handleUpgrade(request, socket, head, (ws) => rogue.connected(ws)),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return rogue;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get online(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  deploy(request: Record<string, unknown>): void {
    this.socket?.send(JSON.stringify({ type: 'deploy.request', ...request }));
  }

  /** Asks the agent to prepare a "deployment" (prefetch and plan). */
  plan(request: Record<string, unknown>): void {
    this.socket?.send(JSON.stringify({ type: 'plan.request', ...request }));
  }

  async close(): Promise<void> {
    this.socket?.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private connected(ws: WebSocket): void {
    this.socket = ws;
    const nonce = randomBytes(32).toString('base64url');
    ws.send(JSON.stringify({ type: 'challenge', protocolVersion: PROTOCOL_VERSION, nonce }));
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as AgentMessage;
      switch (message.type) {
        case 'hello':
          this.hellos.push(message);
          return this.send(ws, {
            type: 'welcome',
            protocolVersion: PROTOCOL_VERSION,
            controllerVersion: '0.1.0',
            heartbeatIntervalSeconds: 30,
          });
        case 'deploy.log':
          this.logs.set(message.deploymentId, [
            ...(this.logs.get(message.deploymentId) ?? []),
            ...message.lines.map((l) => l.line),
          ]);
          return;
        case 'deploy.confirm_request':
          this.health.set(message.deploymentId, message.health);
          return this.send(ws, { type: 'deploy.confirm', deploymentId: message.deploymentId });
        case 'plan.result':
          this.plans.set(message.deploymentId, message);
          return;
        case 'deploy.result':
          this.results.set(message.deploymentId, message);
          return this.send(ws, { type: 'deploy.result.ack', deploymentId: message.deploymentId });
        case 'cache.credential_request': {
          const token = `fltc_rogue-${randomBytes(8).toString('hex')}`;
          this.credentials.add(token);
          const expiresAt = new Date(Date.now() + 600_000).toISOString();
          return this.send(ws, {
            type: 'cache.credential',
            requestId: message.requestId,
            token,
            expiresAt,
          });
        }
        case 'deploy.progress':
        case 'error':
        case 'facts':
        case 'heartbeat':
        case 'reboot.result':
          return;
      }
    });
  }

  private send(ws: WebSocket, message: object): void {
    ws.send(JSON.stringify(message));
  }

  private async http(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (request.method === 'POST' && path === '/api/v1/agent/enroll') {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as EnrollAgentRequest;
      this.enrollments.push(body);
      const digest = createHash('sha256').update(Buffer.from(body.publicKey, 'base64url'));
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          host: body.host,
          mode: 'managed',
          keyFingerprint: `SHA256:${digest.digest('base64').replace(/=+$/, '')}`,
          enrolledAt: new Date().toISOString(),
          replacedKeyFingerprint: null,
        }),
      );
      return;
    }
    const match = /^\/cache\/(.+)$/.exec(path);
    const basic = /^Basic (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const password = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':')[1] : '';
    if (!match?.[1] || !this.credentials.has(password ?? '')) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="rogue"' });
      response.end();
      return;
    }
    this.cacheReads.push(password ?? '');
    try {
      const file = await readFile(join(this.cacheDir, match[1].replace(/\.\./g, '')));
      response.writeHead(200);
      response.end(file);
    } catch {
      response.writeHead(404);
      response.end();
    }
  }
}

async function nix(args: string[]): Promise<string> {
  const result = await run('nix', ['--extra-experimental-features', 'nix-command', ...args]);
  if (result.code !== 0) throw new Error(`nix ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('an agent trusts only its own config', { timeout: 300_000 }, () => {
  let dir: string;
  let rogue: RogueController;
  let agent: AgentHandle;
  const paths = { trusted: '', otherKey: '', contentAddressed: '' };
  let trustedKey = '';
  let otherKey = '';
  let root = '';

  before(async () => {
    if (!(await nixAvailable())) throw new Error('nix is not installed');
    dir = await mkdtemp(join(tmpdir(), 'flotilla-trust-'));
    root = join(dir, 'host');
    // The key the host trusts, and another one (the rogue's).
    for (const name of ['trusted', 'other']) {
      const secret = await nix(['key', 'generate-secret', '--key-name', `${name}-1`]);
      await writeFile(join(dir, `${name}.sec`), secret, { mode: 0o600 });
    }
    const publicOf = async (name: string) => {
      const result = await run('sh', [
        '-c',
        `nix --extra-experimental-features nix-command key convert-secret-to-public < "$1"`,
        'sh',
        join(dir, `${name}.sec`),
      ]);
      return result.stdout.trim();
    };
    trustedKey = await publicOf('trusted');
    otherKey = await publicOf('other');

    const stamp = `${Date.now()}-${randomBytes(3).toString('hex')}`;
    const flake = join(dir, 'flake');
    await writeSandboxFlake(flake, [{ name: 'trusty', version: `${stamp}-ok` }]);
    paths.trusted = await buildHost(`path:${flake}`, 'trusty');
    await signStorePath(paths.trusted, join(dir, 'trusted.sec'));
    await writeSandboxFlake(flake, [{ name: 'trusty', version: `${stamp}-other` }]);
    paths.otherKey = await buildHost(`path:${flake}`, 'trusty');
    await signStorePath(paths.otherKey, join(dir, 'other.sec'));
    // A content-addressed "system" nobody signed: its activation would leave a marker.
    const tree = join(dir, 'ca-system');
    await mkdir(join(tree, 'bin'), { recursive: true });
    const script = join(tree, 'bin', 'switch-to-configuration');
    await writeFile(
      script,
      '#!/bin/sh\ntouch "$(dirname "$FLOTILLA_CURRENT_SYSTEM_LINK")/ca-system-activated"\n',
    );
    await chmod(script, 0o755);
    await writeFile(join(tree, 'nixos-version'), stamp);
    paths.contentAddressed = await nix([
      'eval',
      '--raw',
      '--impure',
      '--expr',
      `builtins.path { path = ${tree}; name = "nixos-system-trusty-ca-${stamp}"; }`,
    ]);
    const info = JSON.parse(await nix(['path-info', '--json', paths.contentAddressed])) as {
      ca?: string;
      signatures?: string[];
    }[];
    assert.match(info[0]?.ca ?? '', /^fixed:r:sha256:/, 'content-addressed');
    assert.equal(info[0]?.signatures, undefined, 'unsigned');

    const cacheDir = join(dir, 'cache');
    await nix(['copy', '--to', `file://${cacheDir}`, ...Object.values(paths)]);
    rogue = await RogueController.start(cacheDir);
    // The agent's Nix has a store of its own: whatever it runs, it had to fetch.
    agent = await startAgent({
      host: 'trusty',
      controllerUrl: rogue.url,
      enrollmentToken: 'flte_whatever-the-rogue-accepts',
      trustedPublicKeys: [trustedKey],
      healthChecks: [
        {
          kind: 'command',
          argv: ['/usr/bin/touch', join(root, 'own-check-ran')],
          timeoutSeconds: 10,
        },
      ],
      root,
      env: { NIX_CONFIG: `${SANDBOX_NIX_CONFIG}\nstore = local?root=${join(dir, 'agent-store')}` },
    });
    await JsonClient.until(async () => (rogue.online ? true : undefined), 'the agent to connect');
  });

  after(async () => {
    await agent?.process.stop();
    await rogue?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Sends a deploy request with the rogue's extras and waits for its result. */
  async function deploy(id: string, storePath: string, cacheUrl = `${rogue.url}/cache`) {
    rogue.deploy({
      deploymentId: id,
      storePath,
      action: 'switch',
      confirmTimeoutSeconds: 30,
      cache: { url: cacheUrl, publicKeys: [otherKey] },
      healthChecks: [
        { kind: 'command', argv: ['/usr/bin/touch', join(root, 'controller-check-ran')] },
      ],
    });
    return JsonClient.until(async () => rogue.results.get(id), `the result of ${id}`, 60_000);
  }

  it('enrolled with a key it made, its private key never sent', () => {
    assert.equal(rogue.enrollments.length, 1);
    const enrollment = rogue.enrollments[0];
    assert.equal(enrollment?.host, 'trusty');
    assert.match(enrollment?.publicKey ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(Object.keys(enrollment ?? {}).sort(), ['host', 'publicKey', 'token']);
  });

  it('refuses a closure signed by a key it does not trust, whatever the request says', async () => {
    const result = await deploy('d-other-key', paths.otherKey);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.error?.code, 'untrusted_closure', JSON.stringify(result));
    assert.match(result.error?.message ?? '', /lacks a valid signature|not signed by any/);
    assert.equal(await exists(agent.paths.currentSystemLink), false, 'nothing was activated');
    assert.equal(await exists(join(root, 'controller-check-ran')), false);
  });

  it('refuses an unsigned content-addressed path that Nix itself lets through', async () => {
    const result = await deploy('d-ca', paths.contentAddressed);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.error?.code, 'untrusted_closure', JSON.stringify(result));
    assert.match(result.error?.message ?? '', /carries no signature/);
    // Nix copied it (content-addressed paths need no signature there); the agent refused it.
    assert.ok(
      (rogue.logs.get('d-ca') ?? []).some((line) =>
        line.includes(`fetched ${paths.contentAddressed}`),
      ),
      (rogue.logs.get('d-ca') ?? []).join('\n'),
    );
    assert.equal(await exists(join(root, 'run', 'ca-system-activated')), false, 'never activated');
    assert.equal(await exists(agent.paths.currentSystemLink), false);
  });

  it('prepares no plan of a closure its keys did not sign, and never runs its dry activation', async () => {
    assert.deepEqual(rogue.hellos[0]?.features, ['plan'], 'it announced that it prepares plans');
    for (const [id, storePath] of [
      ['p-ca', paths.contentAddressed],
      ['p-other-key', paths.otherKey],
    ] as const) {
      rogue.plan({
        deploymentId: id,
        storePath,
        action: 'switch',
        cache: { url: `${rogue.url}/cache`, publicKeys: [otherKey] },
      });
      const answer = await JsonClient.until(async () => rogue.plans.get(id), `plan ${id}`, 60_000);
      assert.equal(answer.plan, null);
      assert.equal(answer.error?.code, 'untrusted_closure', JSON.stringify(answer));
    }
    assert.equal(await exists(join(root, 'run', 'ca-system-activated')), false, 'nothing ran');
    assert.equal(await exists(agent.paths.currentSystemLink), false);
  });

  it('fetches only from its own controller, with the credential it asked for', async () => {
    const elsewhere = await deploy('d-elsewhere', paths.trusted, 'http://127.0.0.2:1/cache');
    assert.equal(elsewhere.error?.code, 'fetch_failed');
    assert.match(elsewhere.error?.message ?? '', /not on the controller's origin/);
    assert.ok(rogue.cacheReads.length > 0, 'the cache was read');
    assert.ok(
      rogue.cacheReads.every((credential) => rogue.credentials.has(credential)),
      'only with credentials it was given',
    );
  });

  it('deploys what its own key signed, running its own health checks and not the controller’s', async () => {
    const result = await deploy('d-trusted', paths.trusted);
    assert.equal(result.outcome, 'succeeded', JSON.stringify(result));
    assert.equal(result.currentSystem, paths.trusted);
    assert.equal(await exists(join(root, 'own-check-ran')), true, 'its own check ran');
    assert.equal(
      await exists(join(root, 'controller-check-ran')),
      false,
      "the controller's did not",
    );
    const health = rogue.health.get('d-trusted') as { name: string; ok: boolean }[];
    assert.deepEqual(
      health.map((h) => [h.name, h.ok]),
      [[`command /usr/bin/touch ${join(root, 'own-check-ran')}`, true]],
    );
    assert.ok(
      (rogue.logs.get('d-trusted') ?? []).includes(`${paths.trusted} is signed by a trusted key`),
    );
  });

  it('keeps no credential on disk after a fetch', async () => {
    const stateFiles = await readFile(join(root, 'agent', 'identity', 'enrollment.json'), 'utf8');
    assert.ok(!stateFiles.includes('fltc_'));
    const leftovers = (
      await run('find', [agent.paths.stateDir, '-name', 'netrc*'], sandboxNixEnv())
    ).stdout.trim();
    assert.equal(leftovers, '');
  });
});
