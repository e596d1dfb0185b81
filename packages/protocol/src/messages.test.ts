import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentAuthPayload } from './identity.js';
import { parseAgentMessage, parseControllerMessage } from './messages.js';
import { compareVersions, PROTOCOL_VERSION } from './version.js';

const hello = {
  type: 'hello',
  protocolVersion: PROTOCOL_VERSION,
  host: 'hsb1',
  os: 'linux',
  mode: 'managed',
  agentVersion: '0.1.0',
};

describe('parseAgentMessage', () => {
  it('accepts a valid hello', () => {
    const result = parseAgentMessage(JSON.stringify(hello));
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.message.type, 'hello');
  });

  it('rejects text that is not JSON with malformed_message', () => {
    const result = parseAgentMessage('{"type": "hello"');
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.error.code, 'malformed_message');
  });

  it('rejects a message without a type with invalid_message', () => {
    const result = parseAgentMessage('[1,2,3]');
    assert.equal(!result.ok && result.error.code, 'invalid_message');
  });

  it('rejects an unknown type with unknown_message_type and names it', () => {
    const result = parseAgentMessage(JSON.stringify({ type: 'launch.missiles' }));
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.error.code, 'unknown_message_type');
    assert.equal(!result.ok && result.type, 'launch.missiles');
  });

  it('rejects a controller-only type sent by an agent', () => {
    const result = parseAgentMessage(JSON.stringify({ type: 'deploy.request' }));
    assert.equal(!result.ok && result.error.code, 'unknown_message_type');
  });

  it('rejects wrong field types with invalid_message naming the field', () => {
    const result = parseAgentMessage(JSON.stringify({ ...hello, os: 'windows' }));
    assert.equal(!result.ok && result.error.code, 'invalid_message');
    assert.match(!result.ok ? result.error.message : '', /os/);
  });

  it('rejects an oversized frame before parsing it', () => {
    const big = JSON.stringify({ type: 'heartbeat', seq: 1, pad: 'x'.repeat(2000) });
    const result = parseAgentMessage(big, 1000);
    assert.equal(!result.ok && result.error.code, 'message_too_large');
  });

  it('rejects a host name that is not a DNS label', () => {
    const result = parseAgentMessage(JSON.stringify({ ...hello, host: 'Bad Host' }));
    assert.equal(!result.ok && result.error.code, 'invalid_message');
  });
});

describe('parseControllerMessage', () => {
  const request = {
    type: 'deploy.request',
    deploymentId: 'd1',
    storePath: '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1',
    action: 'switch',
    cache: null,
  };

  it('accepts a deploy request for a store path', () => {
    assert.equal(parseControllerMessage(JSON.stringify(request)).ok, true);
  });

  it('refuses a deploy request for a path outside the store', () => {
    const result = parseControllerMessage(JSON.stringify({ ...request, storePath: '/etc/passwd' }));
    assert.equal(!result.ok && result.error.code, 'invalid_message');
  });

  it('refuses a deploy or plan request for a derivation, which Nix would build', () => {
    const drv = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1.drv';
    for (const type of ['deploy.request', 'plan.request']) {
      assert.equal(parseControllerMessage(JSON.stringify({ ...request, type })).ok, true, type);
      const result = parseControllerMessage(JSON.stringify({ ...request, type, storePath: drv }));
      assert.equal(!result.ok && result.error.code, 'invalid_message', type);
    }
  });

  it('refuses an unknown activation action', () => {
    const result = parseControllerMessage(JSON.stringify({ ...request, action: 'reboot-now' }));
    assert.equal(!result.ok && result.error.code, 'invalid_message');
  });
});

describe('compareVersions', () => {
  it('orders numerically, not lexically', () => {
    assert.ok(compareVersions('0.10.0', '0.9.9') > 0);
    assert.ok(compareVersions('0.1.0', '0.1.1') < 0);
    assert.equal(compareVersions('1.0', '1.0.0'), 0);
    assert.equal(compareVersions('1.2.0-rc1', '1.2.0'), 0);
  });
});

describe('agent identity messages', () => {
  const nonce = 'n'.repeat(43);

  it('opens a connection with a challenge and answers it in the hello', () => {
    const challenge = parseControllerMessage(
      JSON.stringify({ type: 'challenge', protocolVersion: PROTOCOL_VERSION, nonce }),
    );
    assert.equal(challenge.ok, true);
    const signed = parseAgentMessage(
      JSON.stringify({
        ...hello,
        auth: { keyId: `SHA256:${'a'.repeat(43)}`, signature: 's'.repeat(86) },
      }),
    );
    assert.equal(
      signed.ok && signed.message.type === 'hello' && signed.message.auth?.keyId,
      `SHA256:${'a'.repeat(43)}`,
    );
    const bad = parseAgentMessage(
      JSON.stringify({ ...hello, auth: { keyId: 'x', signature: 'y' } }),
    );
    assert.equal(!bad.ok && bad.error.code, 'invalid_message');
    const short = parseControllerMessage(
      JSON.stringify({ type: 'challenge', protocolVersion: 2, nonce: 'x' }),
    );
    assert.equal(!short.ok && short.error.code, 'invalid_message');
  });

  it('signs a payload that binds the host, the controller origin, the version and the challenge', () => {
    const base = { host: 'hsb1', origin: 'https://fleet.example.org', protocolVersion: 2, nonce };
    const payload = agentAuthPayload(base);
    assert.equal(payload, `flotilla-agent-auth\n2\nhsb1\nhttps://fleet.example.org\n${nonce}`);
    for (const change of [
      { host: 'gpc0' },
      { origin: 'https://evil.example' },
      { protocolVersion: 3 },
      { nonce: 'm'.repeat(43) },
    ]) {
      assert.notEqual(agentAuthPayload({ ...base, ...change }), payload);
    }
  });

  it('drops keys and health checks from a deploy request: it carries no trust', () => {
    const parsed = parseControllerMessage(
      JSON.stringify({
        type: 'deploy.request',
        deploymentId: 'd1',
        storePath: '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1',
        action: 'switch',
        cache: { url: 'https://fleet.example.org/cache', publicKeys: ['evil-1:AAAA'] },
        healthChecks: [{ kind: 'command', argv: ['/bin/sh', '-c', 'id'] }],
      }),
    );
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.message, {
      type: 'deploy.request',
      deploymentId: 'd1',
      storePath: '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1',
      action: 'switch',
      cache: { url: 'https://fleet.example.org/cache' },
      confirmTimeoutSeconds: 90,
    });
  });

  it('carries short-lived cache credentials both ways', () => {
    assert.ok(
      parseAgentMessage(JSON.stringify({ type: 'cache.credential_request', requestId: 'r1' })).ok,
    );
    assert.ok(
      parseControllerMessage(
        JSON.stringify({
          type: 'cache.credential',
          requestId: 'r1',
          token: 'fltc_x',
          expiresAt: '2026-03-01T10:10:00.000Z',
        }),
      ).ok,
    );
  });

  it('carries plan requests and their answers: a plan, or an error, never both', () => {
    const storePath = '/nix/store/0c2a7wq2mrhhvs6f8p8ryzfqmdj3b5x9-nixos-system-hsb1';
    const request = {
      type: 'plan.request',
      deploymentId: 'd1',
      storePath,
      action: 'switch',
      cache: { url: 'https://fleet.example.org/cache' },
    };
    assert.ok(parseControllerMessage(JSON.stringify(request)).ok);
    const plan = {
      storePath,
      currentSystem: null,
      closure: null,
      activation: {
        stop: [],
        start: ['metrics.service'],
        restart: [],
        reload: [],
        skip: [],
        restartSystemd: false,
        other: [],
        exitCode: 0,
      },
      reboot: { required: null, changed: [], bootedSystem: null },
      fetched: true,
      timings: { fetchMs: 10, diffMs: 0, dryActivateMs: 5, totalMs: 20 },
      preparedAt: '2026-03-01T10:00:00.000Z',
    };
    const error = { code: 'fetch_failed', message: 'nix copy failed' };
    const answer = (body: object) =>
      parseAgentMessage(
        JSON.stringify({ type: 'plan.result', deploymentId: 'd1', storePath, ...body }),
      );
    assert.ok(answer({ plan, error: null }).ok);
    assert.ok(answer({ plan: null, error }).ok);
    const both = answer({ plan, error });
    assert.equal(!both.ok && both.error.code, 'invalid_message');
    const neither = answer({ plan: null, error: null });
    assert.equal(!neither.ok && neither.error.code, 'invalid_message');
  });

  it("takes a hello with features and one without (an older agent's)", () => {
    const withFeatures = parseAgentMessage(JSON.stringify({ ...hello, features: ['plan'] }));
    assert.ok(withFeatures.ok && withFeatures.message.type === 'hello');
    assert.deepEqual(
      withFeatures.ok && withFeatures.message.type === 'hello' && withFeatures.message.features,
      ['plan'],
    );
    const older = parseAgentMessage(JSON.stringify(hello));
    assert.equal(older.ok && older.message.type === 'hello' && older.message.features, undefined);
  });
});
