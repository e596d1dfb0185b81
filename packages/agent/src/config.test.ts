import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, type ConfigResult, type ConfigSources } from './config.js';

function sources(
  argv: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): ConfigSources {
  return {
    argv,
    env,
    readTextFile: (path) => {
      const content = files[path];
      return content === undefined
        ? Promise.reject(new Error(`ENOENT: no such file, open '${path}'`))
        : Promise.resolve(content);
    },
    hostname: () => 'Web-1.example.org',
    version: '9.9.9',
  };
}

function expectConfig(result: ConfigResult) {
  assert.equal(result.kind, 'config', JSON.stringify(result));
  if (result.kind !== 'config') throw new Error('unreachable');
  return result.config;
}

const KEY = 'flotilla-ctl-1:dQMazEW7OQfpD355sb5asrOVwPQpeh4xHJ+DgDncQyo=';
const required = [
  '--controller-url',
  'ws://127.0.0.1:8080/api/v1/agent/ws',
  '--trusted-public-key',
  KEY,
];
const tokenFile = {};

describe('loadConfig', () => {
  it('makes a macOS agent monitor-only, on a Mac or reporting as one for a test', async () => {
    const mac = {
      ...sources(required, { HOME: '/Users/markus', USER: 'markus' }),
      platform: 'darwin',
    };
    const refused = await loadConfig(mac);
    assert.equal(refused.kind, 'invalid');
    assert.match(JSON.stringify(refused), /a macOS agent only reports.*--mode monitor/);
    const config = expectConfig(
      await loadConfig({ ...mac, argv: [...required, '--mode', 'monitor'] }),
    );
    assert.equal(config.os, 'darwin');
    assert.deepEqual(config.homeManagerProfiles, [
      '/Users/markus/.local/state/nix/profiles/home-manager',
      '/nix/var/nix/profiles/per-user/markus/home-manager',
    ]);
    const simulated = expectConfig(
      await loadConfig(
        sources([...required, '--mode', 'monitor', '--darwin-commands-dir', '/tmp/mac-bin']),
      ),
    );
    assert.equal(simulated.os, 'darwin');
    assert.equal(simulated.darwinCommandsDir, '/tmp/mac-bin');
    assert.equal(expectConfig(await loadConfig(sources(required))).os, 'linux');
  });

  it('applies defaults; nothing is trusted but what the config says', async () => {
    const config = expectConfig(await loadConfig(sources(required, {}, tokenFile)));
    assert.equal(config.controllerUrl, 'ws://127.0.0.1:8080/api/v1/agent/ws');
    assert.deepEqual(config.trustedPublicKeys, [KEY]);
    assert.deepEqual(config.healthChecks, []);
    assert.deepEqual(config.tls, { ca: null, caFile: null, pin: null });
    assert.equal(config.enrollmentTokenFile, null);
    assert.equal(config.enrollmentToken, null);
    assert.equal(config.host, 'web-1');
    assert.equal(config.mode, 'managed');
    assert.equal(config.stateDir, '/var/lib/flotilla-agent');
    assert.equal(config.profile, '/nix/var/nix/profiles/system');
    assert.equal(config.currentSystemLink, '/run/current-system');
    assert.equal(config.bootedSystemLink, '/run/booted-system');
    assert.deepEqual(config.disks, ['/', '/nix']);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.reconnectMaxSeconds, 60);
    assert.equal(config.activation, 'auto');
    assert.equal(config.rebootCommand, null);
    assert.equal(config.bootIdFile, '/proc/sys/kernel/random/boot_id');
    assert.equal(config.hostnameFile, '/proc/sys/kernel/hostname');
    assert.equal(config.machineIdFile, '/etc/machine-id');
    assert.equal(config.prefetch, true, 'prefetching is on by default');
  });

  it('turns prefetching off from the file (a boolean or on/off) or a flag, which wins', async () => {
    const load = (argv: string[], file: object) =>
      loadConfig(
        sources(
          [...required, ...argv, '--config', '/c.json'],
          {},
          {
            '/c.json': JSON.stringify(file),
          },
        ),
      );
    assert.equal(expectConfig(await load([], { prefetch: false })).prefetch, false);
    assert.equal(expectConfig(await load([], { prefetch: 'off' })).prefetch, false);
    assert.equal(
      expectConfig(await load(['--prefetch', 'on'], { prefetch: false })).prefetch,
      true,
    );
    assert.equal(expectConfig(await load(['--prefetch', 'off'], {})).prefetch, false);
    const bad = await load(['--prefetch', 'maybe'], {});
    assert.match(
      bad.kind === 'invalid' ? bad.errors.join('\n') : '',
      /prefetch "maybe" must be "on" or "off"/,
    );
  });

  it('reads where the hostname and machine id come from, flags over the file', async () => {
    const file = JSON.stringify({
      hostnameFile: '/file/hostname',
      machineIdFile: '/file/machine-id',
    });
    const files = { ...tokenFile, '/c.json': file };
    const fromFile = expectConfig(
      await loadConfig(sources([...required, '--config', '/c.json'], {}, files)),
    );
    assert.equal(fromFile.hostnameFile, '/file/hostname');
    assert.equal(fromFile.machineIdFile, '/file/machine-id');
    const fromFlags = expectConfig(
      await loadConfig(
        sources(
          [
            ...required,
            '--config',
            '/c.json',
            '--hostname-file',
            '/sandbox/hsb1/etc/hostname',
            '--machine-id-file=relative/machine-id',
          ],
          {},
          files,
        ),
      ),
    );
    assert.equal(fromFlags.hostnameFile, '/sandbox/hsb1/etc/hostname');
    // Relative paths are resolved once, from the working directory at start.
    assert.equal(fromFlags.machineIdFile, resolve('relative/machine-id'));
    const missing = await loadConfig(sources([...required, '--hostname-file'], {}, tokenFile));
    const errors = missing.kind === 'invalid' ? missing.errors.join('\n') : '';
    assert.match(errors, /option --hostname-file needs a value \(PATH\)/);
    const mistyped = await loadConfig(
      sources(
        [...required, '--config', '/c.json'],
        {},
        { ...tokenFile, '/c.json': '{"machineIdFile": 7}' },
      ),
    );
    assert.match(
      mistyped.kind === 'invalid' ? mistyped.errors.join('\n') : '',
      /at "machineIdFile"/,
    );
  });

  it('reads the activation mode, the reboot command and the boot id file', async () => {
    const file = JSON.stringify({ activation: 'systemd-run', bootIdFile: '/file/boot_id' });
    const flags = ['--activation', 'detached', '--reboot-command', '/sandbox/reboot  --now'];
    const config = expectConfig(
      await loadConfig(
        sources(
          [...required, ...flags, '--config', '/c.json'],
          {},
          { ...tokenFile, '/c.json': file },
        ),
      ),
    );
    assert.equal(config.activation, 'detached');
    assert.deepEqual(config.rebootCommand, ['/sandbox/reboot', '--now']);
    assert.equal(config.bootIdFile, '/file/boot_id');
    const bad = await loadConfig(
      sources([...required, '--activation', 'nohup', '--reboot-command', ' '], {}, tokenFile),
    );
    const errors = bad.kind === 'invalid' ? bad.errors.join('\n') : '';
    assert.match(errors, /activation "nohup" must be one of auto, systemd-run, detached/);
    assert.match(errors, /reboot command must not be empty/);
  });

  it('lets flags override the environment, which overrides the file', async () => {
    const file = JSON.stringify({ host: 'from-file', mode: 'monitor', stateDir: '/file-state' });
    const env = { FLOTILLA_HOST: 'from-env', FLOTILLA_AGENT_CONFIG: '/c.json' };
    const config = expectConfig(
      await loadConfig(
        sources([...required, '--host=from-flag', '--disk', '/', '--disk', '/data'], env, {
          ...tokenFile,
          '/c.json': file,
        }),
      ),
    );
    assert.equal(config.host, 'from-flag');
    assert.equal(config.mode, 'monitor');
    assert.equal(config.stateDir, '/file-state');
    assert.deepEqual(config.disks, ['/', '/data']);
  });

  it('takes the enrollment token from the environment and keeps it out of child environments', async () => {
    const env = {
      FLOTILLA_CONTROLLER_URL: 'wss://ctl/api/v1/agent/ws',
      FLOTILLA_AGENT_ENROLLMENT_TOKEN: ' flte_env-token\n',
      FLOTILLA_TRUSTED_PUBLIC_KEYS: `${KEY} other-1:${'A'.repeat(43)}=`,
      PATH: '/bin',
    };
    const config = expectConfig(await loadConfig(sources([], env)));
    assert.equal(config.enrollmentToken, 'flte_env-token');
    assert.deepEqual(config.trustedPublicKeys, [KEY, `other-1:${'A'.repeat(43)}=`]);
    assert.equal(config.childEnv.PATH, '/bin');
    assert.equal(config.childEnv.FLOTILLA_AGENT_ENROLLMENT_TOKEN, undefined);
  });

  it('requires TLS to a controller on another machine, and allows plain ws only to this one', async () => {
    for (const url of [
      'ws://127.0.0.1:8080/api/v1/agent/ws',
      'ws://127.1.2.3/x',
      'ws://localhost:8080/x',
      'ws://[::1]:8080/x',
      'wss://fleet.example.org/api/v1/agent/ws',
    ]) {
      expectConfig(
        await loadConfig(sources(['--controller-url', url, '--trusted-public-key', KEY])),
      );
    }
    for (const url of [
      'ws://fleet.example.org/api/v1/agent/ws',
      'ws://10.0.0.5:8080/x',
      'ws://169.254.213.1:8080/x',
      'ws://127.0.0.1.evil.test/x',
    ]) {
      const result = await loadConfig(
        sources(['--controller-url', url, '--trusted-public-key', KEY]),
      );
      const errors = result.kind === 'invalid' ? result.errors.join('\n') : '';
      assert.match(errors, /must use wss:\/\/ \(TLS\)/, url);
    }
  });

  it('reads the trust a host pins: CA file, certificate pin, keys and health checks (file only)', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const pin = `sha256//${'B'.repeat(43)}=`;
    const file = JSON.stringify({
      controllerUrl: 'wss://fleet.example.org/api/v1/agent/ws',
      caFile: '/etc/flotilla/ca.pem',
      certificatePin: pin,
      trustedPublicKeys: [KEY],
      enrollmentTokenFile: '/run/secrets/enroll',
      healthChecks: [
        { kind: 'unit', unit: 'sshd.service' },
        { kind: 'command', argv: ['/run/check', '--quick'], timeoutSeconds: 3 },
      ],
    });
    const config = expectConfig(
      await loadConfig(
        sources(['--config', '/c.json'], {}, { '/c.json': file, '/etc/flotilla/ca.pem': pem }),
      ),
    );
    assert.deepEqual(config.tls, { ca: pem, caFile: '/etc/flotilla/ca.pem', pin });
    assert.equal(config.enrollmentTokenFile, '/run/secrets/enroll');
    assert.deepEqual(config.healthChecks, [
      { kind: 'unit', unit: 'sshd.service', timeoutSeconds: 10 },
      { kind: 'command', argv: ['/run/check', '--quick'], timeoutSeconds: 3 },
    ]);

    const bad = await loadConfig(
      sources(
        [
          '--controller-url',
          'wss://fleet.example.org/x',
          '--trusted-public-key',
          'not-a-key',
          '--certificate-pin',
          'md5//x',
          '--ca-file',
          '/missing.pem',
        ],
        {},
        {},
      ),
    );
    const errors = bad.kind === 'invalid' ? bad.errors.join('\n') : '';
    assert.match(errors, /trusted public key "not-a-key" must be NAME:KEY/);
    assert.match(errors, /certificate pin "md5\/\/x" must be sha256\/\//);
  });

  it('needs trusted keys on a managed host, not on a monitor-only one', async () => {
    const url = ['--controller-url', 'ws://127.0.0.1:8080/x'];
    const managed = await loadConfig(sources(url));
    assert.match(
      managed.kind === 'invalid' ? managed.errors.join('\n') : '',
      /a managed host needs the key closures are signed with/,
    );
    expectConfig(await loadConfig(sources([...url, '--mode', 'monitor'])));
  });

  it('refuses the retired static token settings and says what replaced them', async () => {
    for (const [argv, env] of [
      [['--token-file', '/tok'], {}],
      [[], { FLOTILLA_AGENT_TOKEN: 'flta_x' }],
      [[], { FLOTILLA_AGENT_TOKEN_FILE: '/tok' }],
    ] as const) {
      const result = await loadConfig(sources([...required, ...argv], env));
      assert.match(
        result.kind === 'invalid' ? result.errors.join('\n') : '',
        /static agent tokens are retired.*--enrollment-token-file/,
      );
    }
  });

  it('lists every problem at once', async () => {
    const result = await loadConfig(
      sources(
        ['--controller-url', 'http://ctl', '--host', 'Bad Host', '--mode', 'boss', '--bogus'],
        { FLOTILLA_LOG_LEVEL: 'loud' },
      ),
    );
    assert.equal(result.kind, 'invalid');
    const errors = result.kind === 'invalid' ? result.errors.join('\n') : '';
    for (const expected of [
      /unknown option --bogus/,
      /must start with wss:\/\//,
      /host "Bad Host"/,
      /mode "boss"/,
      /log level "loud"/,
    ]) {
      assert.match(errors, expected);
    }
  });

  it('reports a missing controller URL, an unreadable CA file and a bad number', async () => {
    const result = await loadConfig(
      sources([
        '--mode',
        'monitor',
        '--ca-file',
        '/missing',
        '--reconnect-max-seconds',
        'soon',
        '--disk',
      ]),
    );
    const errors = result.kind === 'invalid' ? result.errors : [];
    assert.equal(errors.length, 3, errors.join('\n'));
    assert.match(errors.join('\n'), /controller URL is required/);
    assert.match(errors.join('\n'), /"soon" must be a positive number/);
    assert.match(errors.join('\n'), /--disk needs a value/);
    const unreadable = await loadConfig(sources([...required, '--ca-file', '/missing']));
    assert.match(
      unreadable.kind === 'invalid' ? unreadable.errors.join('\n') : '',
      /CA file \/missing cannot be read/,
    );
  });

  it('rejects unknown and mistyped keys in the config file', async () => {
    const files = { ...tokenFile, '/c.json': '{"controllerUrl": 1, "hots": "x"}' };
    const result = await loadConfig(sources(['--config', '/c.json'], {}, files));
    const errors = result.kind === 'invalid' ? result.errors.join('\n') : '';
    assert.match(errors, /at "controllerUrl"/);
    assert.match(errors, /hots/);
  });

  it('answers --help and --version without validating anything', async () => {
    const help = await loadConfig(sources(['--help', '--bogus']));
    assert.equal(help.kind, 'help');
    assert.match(help.kind === 'help' ? help.text : '', /--controller-url URL/);
    assert.match(help.kind === 'help' ? help.text : '', /--hostname-file PATH/);
    assert.match(help.kind === 'help' ? help.text : '', /--machine-id-file PATH/);
    const version = await loadConfig(sources(['--version']));
    assert.equal(version.kind === 'version' && version.text, 'flotilla-agent 9.9.9\n');
  });
});
