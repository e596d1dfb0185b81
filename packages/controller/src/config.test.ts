import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { processRunner } from '@flotilla/runtime';
import { ConfigError, loadConfig } from './config.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-config-'));
  dirs.push(dir);
  return dir;
}

describe('loadConfig', () => {
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('fills defaults', () => {
    const config = loadConfig([], {});
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 8080 });
    assert.equal(config.stateDir, '/var/lib/flotilla');
    assert.equal(config.agents.heartbeatIntervalSeconds, 15);
  });

  it('lets env override the file and flags override env', () => {
    const dir = tempDir();
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ stateDir: '/from/file', listen: '0.0.0.0:1', logLevel: 'warn' }),
    );
    const config = loadConfig(['--listen', '127.0.0.1:9999'], {
      FLOTILLA_CONFIG: file,
      FLOTILLA_STATE_DIR: '/from/env',
      FLOTILLA_LISTEN: '127.0.0.1:2',
    });
    assert.equal(config.stateDir, '/from/env');
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 9999 });
    assert.equal(config.logLevel, 'warn');
  });

  it('lists every problem at once', () => {
    const dir = tempDir();
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        listen: 'nowhere',
        surprise: true,
        agents: { heartbeatIntervalSeconds: -1 },
      }),
    );
    try {
      loadConfig(['--bogus'], { FLOTILLA_CONFIG: file, FLOTILLA_LOG_LEVEL: 'loud' });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const text = error.problems.join('\n');
      assert.match(text, /bogus/);
      assert.match(text, /listen/);
      assert.match(text, /surprise/);
      assert.match(text, /logLevel/);
      assert.match(text, /heartbeatIntervalSeconds/);
      assert.ok(error.problems.length >= 4, text);
    }
  });

  it("refuses health checks in a host's settings: they moved to the agent's own config", () => {
    const dir = tempDir();
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        hosts: {
          gpc0: {
            confirmTimeoutSeconds: 120,
            healthChecks: [{ kind: 'unit', unit: 'sshd.service' }],
          },
          hsb1: { confirmTimeoutSeconds: 60 },
        },
      }),
    );
    assert.throws(
      () => loadConfig([], { FLOTILLA_CONFIG: file }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.length === 1 &&
        /hosts\.gpc0\.healthChecks: health checks moved to each agent's own config/.test(
          error.message,
        ),
    );
    writeFileSync(file, JSON.stringify({ hosts: { gpc0: { confirmTimeoutSeconds: 120 } } }));
    assert.equal(loadConfig([], { FLOTILLA_CONFIG: file }).hosts.gpc0?.confirmTimeoutSeconds, 120);
    assert.equal(
      loadConfig([], { FLOTILLA_CONFIG: file }).hosts.gpc0?.prefetch,
      true,
      'on by default',
    );
    writeFileSync(file, JSON.stringify({ hosts: { hsb0: { prefetch: false } } }));
    assert.equal(loadConfig([], { FLOTILLA_CONFIG: file }).hosts.hsb0?.prefetch, false);
  });

  it("takes the builders' ssh files as paths, refusing ones ssh options cannot carry or that are missing", () => {
    const dir = tempDir();
    const key = join(dir, 'builder-key');
    writeFileSync(key, 'key');
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ builds: { sshKeyFile: key, remoteOnly: true } }));
    assert.equal(loadConfig([], { FLOTILLA_CONFIG: file }).builds.sshKeyFile, key);
    writeFileSync(
      file,
      JSON.stringify({
        builds: { sshKeyFile: '/with space/key', sshKnownHostsFile: join(dir, 'missing') },
      }),
    );
    assert.throws(
      () => loadConfig([], { FLOTILLA_CONFIG: file }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((p) => p.startsWith('builds.sshKeyFile: must be an absolute path')),
    );
    writeFileSync(file, JSON.stringify({ builds: { sshKnownHostsFile: join(dir, 'missing') } }));
    assert.throws(
      () => loadConfig([], { FLOTILLA_CONFIG: file }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((p) => p.startsWith('builds.sshKnownHostsFile: ENOENT')),
    );
  });

  it('takes graduation prerequisites by name or with days, refusing hosts the config does not know', () => {
    const dir = tempDir();
    const file = join(dir, 'c.json');
    const waves = [
      { name: 'guinea-pig', hosts: ['gpc0'] },
      {
        name: 'main',
        hosts: ['hsb1', 'hsb8'],
        graduation: { after: [{ host: 'gpc0', stableDays: 14 }] },
      },
    ];
    writeFileSync(
      file,
      JSON.stringify({ rollout: { waves }, hosts: { hsb0: { graduation: { after: ['hsb1'] } } } }),
    );
    const config = loadConfig([], { FLOTILLA_CONFIG: file });
    assert.deepEqual(config.rollout.waves[1]?.graduation?.after, [
      { host: 'gpc0', stableDays: 14 },
    ]);
    assert.deepEqual(config.hosts.hsb0?.graduation?.after, ['hsb1']);

    waves[1]!.graduation!.after = [
      { host: 'gcp0', stableDays: 14 },
      { host: 'hsb8', stableDays: 1 },
    ];
    writeFileSync(
      file,
      JSON.stringify({ rollout: { waves }, hosts: { hsb0: { graduation: { after: ['hsb0'] } } } }),
    );
    assert.throws(
      () => loadConfig([], { FLOTILLA_CONFIG: file }),
      (error: unknown) =>
        error instanceof ConfigError &&
        assert.deepEqual(error.problems, [
          'hosts.hsb0.graduation.after.0: "hsb0" cannot wait for itself',
          'rollout.waves.1.graduation.after.0: "gcp0" is not a host of this config (name it under hosts or in a wave)',
          'rollout.waves.1.graduation.after.1: "hsb8" is in this wave: a host cannot wait for itself',
        ]) === undefined,
    );
  });

  it('reports an unreadable config file', () => {
    assert.throws(
      () => loadConfig(['--config', '/nonexistent/flotilla.json'], {}),
      (error: unknown) => error instanceof ConfigError && /nonexistent/.test(error.message),
    );
  });

  it('starts children from an allow-list: no Flotilla secret, token or cloud key reaches them', async () => {
    const secrets = {
      FLOTILLA_WEBHOOK_SECRET: 'whsec-0123456789abcdefghij',
      FLOTILLA_REPOSITORY_TOKEN: 'ghp_child_env_secret_0123',
      FLOTILLA_DATABASE_URL: 'postgres://flotilla:db-password-42@db/flotilla',
      FLOTILLA_TOKEN: 'flt_admin_secret_in_env',
      GITHUB_TOKEN: 'ghp_ambient_token_0123',
      AWS_SECRET_ACCESS_KEY: 'aws-secret-0123',
    };
    const config = loadConfig([], {
      ...secrets,
      PATH: process.env.PATH,
      HOME: '/root',
      NIX_PATH: 'nixpkgs=/x',
      LC_ALL: 'C',
    });
    assert.deepEqual(Object.keys(config.childEnv).sort(), ['HOME', 'LC_ALL', 'NIX_PATH', 'PATH']);
    // What a real child sees.
    const child = await processRunner.run('env', [], { env: config.childEnv, captureStdout: true });
    assert.equal(child.exitCode, 0);
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(!child.stdout.includes(value), `${name} reached the child`);
    }
    assert.match(child.stdout, /^NIX_PATH=nixpkgs=\/x$/m);
  });

  it('refuses a short webhook secret and repository URLs git would misread', () => {
    const dir = tempDir();
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ repository: { url: '--upload-pack=touch /tmp/pwned', branch: '-x' } }),
    );
    assert.throws(
      () => loadConfig([], { FLOTILLA_CONFIG: file, FLOTILLA_WEBHOOK_SECRET: 'short' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.problems.join('\n');
        assert.match(text, /repository\.url/);
        assert.match(text, /repository\.branch/);
        return true;
      },
    );
    writeFileSync(file, JSON.stringify({ repository: { url: 'http://git.lan/x.git' } }));
    assert.throws(
      () => loadConfig([], { FLOTILLA_CONFIG: file, FLOTILLA_WEBHOOK_SECRET: 'short' }),
      /webhook secret must be at least 20 characters/,
    );
    assert.throws(
      () => loadConfig([], { FLOTILLA_CONFIG: file, FLOTILLA_REPOSITORY_TOKEN: 'ghp_x' }),
      /only ever sent over https/,
    );
    const config = loadConfig([], {
      FLOTILLA_CONFIG: file,
      FLOTILLA_WEBHOOK_SECRET: 'a-webhook-secret-long-enough',
    });
    assert.equal(config.repository?.url, 'http://git.lan/x.git');
  });

  it('reads the database URL from databaseUrlFile, never together with databaseUrl', () => {
    const dir = tempDir();
    const file = join(dir, 'c.json');
    const urlFile = join(dir, 'database-url');
    writeFileSync(urlFile, 'postgres://flotilla:db-password-42@db/flotilla\n');
    writeFileSync(file, JSON.stringify({ databaseUrlFile: urlFile }));
    const config = loadConfig([], { FLOTILLA_CONFIG: file });
    assert.equal(config.databaseUrl, 'postgres://flotilla:db-password-42@db/flotilla');
    assert.throws(
      () => loadConfig([], { FLOTILLA_CONFIG: file, FLOTILLA_DATABASE_URL: 'sqlite:/x.db' }),
      /set databaseUrl or databaseUrlFile, not both/,
    );
    writeFileSync(file, JSON.stringify({ databaseUrlFile: join(dir, 'missing') }));
    assert.throws(() => loadConfig([], { FLOTILLA_CONFIG: file }), /databaseUrlFile: ENOENT/);
  });
});
