import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
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
  });

  it('reports an unreadable config file', () => {
    assert.throws(
      () => loadConfig(['--config', '/nonexistent/flotilla.json'], {}),
      (error: unknown) => error instanceof ConfigError && /nonexistent/.test(error.message),
    );
  });
});
