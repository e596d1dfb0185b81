// Flotilla's flake and modules, checked without nixpkgs: every .nix file of the repository
// parses; each module evaluates with nixpkgs' lib (vendored in nix/vendor/nixpkgs-lib)
// against typed declarations of the options it sets (nix/tests/stubs), so an undeclared
// option, a wrong type or a failed assertion fails here; the generated units, launchd jobs
// and config files say what they must; and the example fleet's controller and agent configs
// pass the programs' own config loaders. Runs in the unit tier (real Nix evaluation, no
// builds, nothing written to the store).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig as loadAgentConfig } from '@flotilla/agent';
import { loadConfig as loadControllerConfig } from '@flotilla/controller';

const root = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');
const example = join(root, 'examples', 'nine-host-fleet');
const CREDENTIALS = '/run/credentials/flotilla-controller.service/';
const KEY = 'thymis.barta.cm-1:REPLACEwithTheKeyThatFlotillaCachePrints000=';
const NIX_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  NIX_CONFIG: 'experimental-features = nix-command flakes\nsubstituters =\nsandbox = false',
};

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-nix-'));
  dirs.push(dir);
  return dir;
}

interface NixResult {
  code: number;
  stdout: string;
  stderr: string;
}

function nix(program: string, args: string[]): Promise<NixResult> {
  return new Promise((resolve) => {
    execFile(
      program,
      args,
      { cwd: root, env: NIX_ENV, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A Nix string literal for `text`. */
function str(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${')}"`;
}

/** A Nix path for an absolute file name. */
function path(file: string): string {
  return `(/. + ${str(file)})`;
}

/** Evaluates `body` with `evaluate` bound to the stub harness (nix/tests/eval.nix). */
function expression(body: string, flakeDir = root): string {
  return (
    `let evaluate = args: import ${path(join(root, 'nix/tests/eval.nix'))} ` +
    `(args // { flakeDir = ${path(flakeDir)}; }); ` +
    `lib = import ${path(join(root, 'nix/vendor/nixpkgs-lib/lib'))}; in ${body}`
  );
}

async function evaluate<T>(body: string, flakeDir = root): Promise<T> {
  const result = await nix('nix-instantiate', [
    '--eval',
    '--strict',
    '--json',
    '-E',
    expression(body, flakeDir),
  ]);
  assert.equal(result.code, 0, `evaluation failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

async function evaluationError(body: string, flakeDir = root): Promise<string> {
  const result = await nix('nix-instantiate', [
    '--eval',
    '--strict',
    '--json',
    '-E',
    expression(body, flakeDir),
  ]);
  assert.notEqual(result.code, 0, `evaluation succeeded but should have failed: ${result.stdout}`);
  return result.stderr;
}

function nixFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (['node_modules', 'dist', '.git', '.demo', '.test-state', '.cache'].includes(entry))
      continue;
    const file = join(dir, entry);
    if (statSync(file).isDirectory()) out.push(...nixFiles(file));
    else if (entry.endsWith('.nix')) out.push(file);
  }
  return out;
}

interface Unit {
  path: string[];
  environment: Record<string, string | null>;
  restartIfChanged: boolean;
  unitConfig: Record<string, unknown>;
  serviceConfig: Record<string, unknown>;
  wantedBy: string[];
}

interface NixosHost {
  agent: Unit;
  agentConfig: string;
  controller?: Unit;
  controllerConfig?: string;
  nix: {
    settings: Record<string, unknown>;
    buildMachines: Record<string, unknown>[];
    distributedBuilds: boolean;
  };
  traefik: { http: { routers: Record<string, Record<string, unknown>>; services: unknown } };
  users: Record<string, Record<string, unknown>>;
  firewall: number[];
}

/** A NixOS host of the example: its Flotilla modules as flake.nix gives them. */
function exampleHost(name: string, extra: string[] = []): string {
  const modules = [
    path(join(example, 'flotilla/agent.nix')),
    `{ networking.hostName = ${str(name)}; }`,
    ...extra,
  ];
  if (name === 'csb1') modules.push(path(join(example, 'flotilla/controller.nix')));
  if (name === 'gpc0') modules.push(path(join(example, 'flotilla/builder.nix')));
  return (
    `let c = (evaluate { platform = "nixos"; modules = [ ${modules.join(' ')} ]; }).config; in {` +
    ' agent = c.systemd.services.flotilla-agent;' +
    ' agentConfig = c.services.flotilla.agent.configFile.text;' +
    ' nix = { inherit (c.nix) settings buildMachines distributedBuilds; };' +
    ' traefik = c.services.traefik.dynamicConfigOptions;' +
    ' users = c.users.users; firewall = c.networking.firewall.allowedTCPPorts;' +
    ' } // lib.optionalAttrs c.services.flotilla.controller.enable {' +
    ' controller = c.systemd.services.flotilla-controller;' +
    ' controllerConfig = c.services.flotilla.controller.configFile.text; }'
  );
}

/** Words that would mean a secret's value sits in a unit, not a path to it. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|KEY/i;

function assertNoSecretsIn(unit: Unit): void {
  for (const name of Object.keys(unit.environment)) {
    assert.doesNotMatch(name, SECRET_NAME, `environment variable ${name} in a unit`);
  }
  assert.doesNotMatch(String(unit.serviceConfig.ExecStart), /token|secret|password/i);
  for (const key of ['Environment', 'EnvironmentFile']) {
    assert.equal(unit.serviceConfig[key], undefined, `${key} in a unit`);
  }
}

/** Every `…File` value in a config, at any depth. */
function fileSettings(value: unknown, at = ''): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => fileSettings(v, `${at}.${i}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    /File$/.test(key) && typeof v === 'string'
      ? [[`${at}.${key}`, v] as [string, string]]
      : fileSettings(v, `${at}.${key}`),
  );
}

describe('Nix flake and modules', { concurrency: true }, () => {
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('parses every .nix file of the repository', async () => {
    const files = nixFiles(root);
    assert.ok(files.some((f) => f.endsWith('/flake.nix')));
    assert.ok(files.some((f) => f.includes('examples/nine-host-fleet/')));
    const result = await nix('nix-instantiate', ['--parse', ...files]);
    assert.equal(
      result.code,
      0,
      `${result.stderr}\n(files: ${files.map((f) => relative(root, f)).join(', ')})`,
    );
  });

  it('builds the controller, agent and CLI packages for four systems, each with its executable', async () => {
    const packages = await evaluate<
      Record<string, Record<string, { name: string; script: string }>>
    >(
      'let p = (evaluate { platform = "nixos"; }).packages; in ' +
        'lib.mapAttrs (_: ps: lib.mapAttrs (_: d: { inherit (d) name script; }) ps) p',
    );
    assert.deepEqual(Object.keys(packages).sort(), [
      'aarch64-darwin',
      'aarch64-linux',
      'x86_64-darwin',
      'x86_64-linux',
    ]);
    for (const [system, byName] of Object.entries(packages)) {
      assert.deepEqual(
        Object.keys(byName).sort(),
        ['agent', 'cli', 'controller', 'default'],
        system,
      );
      assert.match(byName.controller!.script, /\$out\/bin\/flotilla-controller /);
      assert.match(byName.agent!.script, /\$out\/bin\/flotilla-agent /);
      // The launcher passes the Node.js flags the bundle names (dist/agent/node-flags).
      assert.match(byName.agent!.script, /flags="\$\(cat \$out\/lib\/agent\/node-flags\) "/);
      assert.match(byName.cli!.script, /\$out\/bin\/flotilla /);
      assert.equal(byName.default!.name, byName.cli!.name);
    }
  });

  it("runs the example's agents as self-update-safe root services with their config in one file", async () => {
    const names = ['csb0', 'hsb0', 'hsb1', 'hsb8', 'gpc0'];
    const hosts = await evaluate<Record<string, NixosHost>>(
      `{ ${names.map((name) => `${name} = ${exampleHost(name)};`).join(' ')} }`,
    );
    for (const name of names) {
      const host = hosts[name]!;
      const { agent } = host;
      const configFile = /--config (\/nix\/store\/[a-z0-9]+-flotilla-agent\.json)$/.exec(
        String(agent.serviceConfig.ExecStart),
      );
      assert.ok(configFile, `ExecStart: ${String(agent.serviceConfig.ExecStart)}`);
      assert.match(
        String(agent.serviceConfig.ExecStart),
        /^\/nix\/store\/[a-z0-9]+-flotilla-agent-[^/ ]+\/bin\/flotilla-agent --config /,
      );
      assert.equal(agent.serviceConfig.User, 'root');
      assert.equal(agent.serviceConfig.Restart, 'always');
      assert.equal(agent.serviceConfig.KillMode, 'process');
      assert.equal(agent.restartIfChanged, false);
      assert.equal(agent.unitConfig['X-StopOnRemoval'], false);
      assert.deepEqual(agent.wantedBy, ['multi-user.target']);
      assert.ok(
        agent.path.some((p) => /-nix-[0-9.]+$/.test(p)),
        'nix on the path',
      );
      assert.ok(
        agent.path.some((p) => /-util-linux-[0-9.]+$/.test(p)),
        "util-linux's flock on the path (Nix's profile lock)",
      );
      assertNoSecretsIn(agent);

      const config = JSON.parse(host.agentConfig) as Record<string, unknown>;
      assert.equal(config.host, name);
      assert.equal(config.mode, 'managed');
      assert.equal(config.enrollmentTokenFile, '/var/lib/flotilla-agent/enrollment-token');
      // The agent's own loader takes the file as it is (unknown keys would be errors).
      const loaded = await loadAgentConfig({
        argv: ['--config', 'agent.json'],
        env: {},
        readTextFile: () => Promise.resolve(host.agentConfig),
        hostname: () => 'elsewhere',
        version: 'test',
      });
      assert.equal(loaded.kind, 'config', JSON.stringify(loaded));
      if (loaded.kind === 'config') {
        assert.equal(loaded.config.host, name);
        assert.deepEqual(loaded.config.trustedPublicKeys, [KEY]);
        assert.equal(loaded.config.controllerUrl, 'wss://thymis.barta.cm/api/v1/agent/ws');
        assert.deepEqual(loaded.config.healthChecks, [
          { kind: 'unit', unit: 'sshd.service', timeoutSeconds: 10 },
        ]);
      }
    }
    // gpc0 is also the builder csb1's Nix daemon logs in to.
    assert.deepEqual(hosts.gpc0!.nix.settings['trusted-users'], ['root', 'nix-builder']);
  });

  it('runs the example controller on csb1 with its secrets as credentials, Nix settings, builders and Traefik', async () => {
    const host = await evaluate<NixosHost>(exampleHost('csb1'));
    const controller = host.controller!;
    assert.match(
      String(controller.serviceConfig.ExecStart),
      /^\/nix\/store\/[a-z0-9]+-flotilla-controller-[^/ ]+\/bin\/flotilla-controller --config \/nix\/store\/[a-z0-9]+-flotilla-controller\.json$/,
    );
    assert.equal(controller.serviceConfig.User, 'flotilla');
    assert.equal(controller.serviceConfig.StateDirectory, 'flotilla');
    // The code cache the bundled controller starts from (CACHE_DIRECTORY), its user's only.
    assert.equal(controller.serviceConfig.CacheDirectory, 'flotilla-controller');
    assert.equal(controller.serviceConfig.CacheDirectoryMode, '0700');
    assert.equal(controller.serviceConfig.Restart, 'on-failure');
    assertNoSecretsIn(controller);
    assert.equal(host.users.flotilla?.isSystemUser, true);
    assert.deepEqual(host.firewall, [], 'behind Traefik, nothing is opened');

    // Secrets: files outside the store, handed over as credentials and named by their path
    // under /run/credentials in the (world-readable) config file.
    assert.deepEqual((controller.serviceConfig.LoadCredential as string[]).sort(), [
      'repository-token:/run/secrets/flotilla/github-token',
      'webhook-secret:/run/secrets/flotilla/github-webhook-secret',
    ]);
    const config = JSON.parse(host.controllerConfig!) as Record<string, unknown>;
    const files = fileSettings(config);
    assert.deepEqual(files.map(([key]) => key).sort(), [
      '.repository.tokenFile',
      '.repository.webhookSecretFile',
    ]);
    for (const [key, file] of files) assert.ok(file.startsWith(CREDENTIALS), `${key}: ${file}`);
    assert.equal(config.publicUrl, 'https://thymis.barta.cm');
    assert.deepEqual(config.trustedProxies, ['127.0.0.1', '::1']);
    assert.deepEqual(config.builds, {
      concurrency: 1,
      remoteOnly: true,
      buildersUseSubstitutes: true,
    });

    assert.deepEqual(host.nix.settings['trusted-users'], ['root', 'flotilla']);
    assert.deepEqual(host.nix.settings['experimental-features'], ['nix-command', 'flakes']);
    assert.equal(host.nix.distributedBuilds, true);
    assert.deepEqual(
      host.nix.buildMachines.map((m) => [m.hostName, m.sshUser, m.sshKey, m.protocol]),
      [['gpc0', 'nix-builder', '/root/.ssh/nix-builder', 'ssh-ng']],
    );

    const { routers, services } = host.traefik.http;
    assert.equal(routers.flotilla?.rule, 'Host(`thymis.barta.cm`)');
    assert.deepEqual(routers.flotilla?.tls, { certResolver: 'letsencrypt' });
    assert.match(String(routers['flotilla-agents']?.rule), /PathPrefix\(`\/api\/v1\/agent\/`\)/);
    assert.deepEqual(routers['flotilla-agents']?.entryPoints, ['websecure']);
    assert.deepEqual(services, {
      flotilla: {
        loadBalancer: { passHostHeader: true, servers: [{ url: 'http://127.0.0.1:8080' }] },
      },
    });
    // csb1's own agent also checks the controller and the proxy after each activation.
    assert.equal(
      (JSON.parse(host.agentConfig) as { healthChecks: unknown[] }).healthChecks.length,
      3,
    );
  });

  it("passes the controller's builders settings through and offers no ssh file the daemon would ignore", async () => {
    const { unit, text, offered } = await evaluate<{ unit: Unit; text: string; offered: string[] }>(
      '(let c = (evaluate { platform = "nixos"; modules = [ { services.flotilla.controller = { ' +
        'enable = true; builds = { builders = "ssh-ng://nix-builder@gpc0 x86_64-linux - 8"; ' +
        'buildersUseSubstitutes = false; }; ' +
        '}; } ]; }).config; in { unit = c.systemd.services.flotilla-controller; ' +
        'text = c.services.flotilla.controller.configFile.text; ' +
        'offered = builtins.attrNames c.services.flotilla.controller.builds; })',
    );
    assertNoSecretsIn(unit);
    // Builds run through the Nix daemon, which makes the ssh connection as root.
    for (const name of ['sshKeyFile', 'sshKnownHostsFile', 'sshConfigFile'])
      assert.ok(!offered.includes(name), `${name} is not an option`);
    const dir = tempDir();
    const file = join(dir, 'controller.json');
    writeFileSync(file, text.replaceAll(CREDENTIALS, `${dir}/`));
    const config = loadControllerConfig(['--config', file], {});
    assert.deepEqual(
      { builders: config.builds.builders, useSubstitutes: config.builds.buildersUseSubstitutes },
      { builders: 'ssh-ng://nix-builder@gpc0 x86_64-linux - 8', useSubstitutes: false },
    );
  });

  it("writes phase 1 and phase 2 of the example's policy in the controller's own config format", async () => {
    const phases = await evaluate<Record<string, string>>(
      `{ ${[1, 2]
        .map(
          (phase) =>
            `phase${phase} = (evaluate { platform = "nixos"; modules = [ ` +
            `${path(join(example, 'flotilla/controller.nix'))} { networking.hostName = "csb1"; ` +
            `services.flotilla.controller.settings = lib.mkForce (import ${path(join(example, `fleet/phase-${phase}.nix`))}); } ]; })` +
            `.config.services.flotilla.controller.configFile.text;`,
        )
        .join(' ')} }`,
    );
    const dir = tempDir();
    // The credentials systemd would hand over, as files of the test.
    writeFileSync(join(dir, 'repository-token'), 'github_pat_example_0123456789\n');
    writeFileSync(join(dir, 'webhook-secret'), 'an-example-webhook-secret-0123456789\n');
    const load = (text: string) => {
      const file = join(dir, 'controller.json');
      writeFileSync(file, text.replaceAll(CREDENTIALS, `${dir}/`));
      return loadControllerConfig(['--config', file], {});
    };

    const phase1 = load(phases.phase1!);
    const policies = Object.fromEntries(
      Object.entries(phase1.hosts).map(([h, s]) => [h, s.policy]),
    );
    assert.deepEqual(policies, {
      csb1: 'manual',
      csb0: 'manual',
      hsb0: 'manual',
      hsb1: 'manual',
      hsb8: 'manual',
      gpc0: 'manual',
      imac0: 'monitor',
      'mba-imac-work': 'monitor',
      'mba-mbp-work': 'monitor',
    });
    assert.deepEqual(phase1.rollout.waves, []);
    assert.equal(phase1.secrets.webhookSecret, 'an-example-webhook-secret-0123456789');
    assert.equal(phase1.repository?.url, 'https://github.com/OWNER/nixcfg.git');

    const phase2 = load(phases.phase2!);
    assert.deepEqual(
      phase2.rollout.waves.map((w) => [w.name, w.hosts, w.graduation ?? null]),
      [
        ['guinea-pig', ['gpc0'], { stableDays: 7, after: [] }],
        ['main', ['hsb1', 'hsb8', 'csb1'], { after: [{ host: 'gpc0', stableDays: 14 }] }],
        ['critical', ['hsb0', 'csb0'], null],
      ],
    );
    assert.equal(phase2.hosts.gpc0, undefined, 'gpc0 may graduate: its policy is not locked');
    assert.equal(phase2.hosts.hsb0?.policy, 'manual');
    assert.equal(phase2.hosts.csb0?.policy, 'manual');
  });

  it('runs the Macs as home-manager launchd agents in monitor mode, and a Linux home as a user service', async () => {
    const macs: [string, string, string][] = [
      ['markus', 'imac0', 'x86_64-darwin'],
      ['mba', 'mba-imac-work', 'aarch64-darwin'],
      ['mba', 'mba-mbp-work', 'aarch64-darwin'],
    ];
    const home = (user: string, host: string, system: string) =>
      `(let c = (evaluate { platform = "home-manager"; system = ${str(system)}; modules = [ ` +
      `${path(join(example, 'flotilla/mac.nix'))} { services.flotilla.agent.host = ${str(host)}; ` +
      `home.username = ${str(user)}; home.homeDirectory = ${str(system.endsWith('darwin') ? `/Users/${user}` : `/home/${user}`)}; } ]; }).config; in ` +
      '{ launchd = c.launchd.agents; systemd = c.systemd.user.services; config = c.services.flotilla.agent.configFile.text; })';
    const result = await evaluate<
      Record<
        string,
        {
          launchd: Record<string, { enable: boolean; config: Record<string, unknown> }>;
          systemd: Record<string, Record<string, Record<string, unknown>>>;
          config: string;
        }
      >
    >(
      `{ ${macs.map(([u, h, s]) => `${str(h)} = ${home(u, h, s)};`).join(' ')} linux = ${home('markus', 'laptop', 'x86_64-linux')}; }`,
    );
    for (const [user, host] of macs) {
      const { launchd, systemd, config } = result[host]!;
      const job = launchd['flotilla-agent']!;
      assert.equal(job.enable, true);
      const args = job.config.ProgramArguments as string[];
      assert.match(args[0]!, /^\/nix\/store\/[a-z0-9]+-flotilla-agent-[^/]+\/bin\/flotilla-agent$/);
      assert.equal(args[1], '--config');
      assert.equal(job.config.KeepAlive, true);
      assert.equal(job.config.RunAtLoad, true);
      // Only where the tools are: no secret in the job's environment.
      assert.deepEqual(Object.keys(job.config.EnvironmentVariables as object), ['PATH']);
      assert.match(
        (job.config.EnvironmentVariables as { PATH: string }).PATH,
        new RegExp(`^/Users/${user}/\\.nix-profile/bin:.*:/nix/var/nix/profiles/default/bin:`),
      );
      assert.deepEqual(systemd, {});
      const settings = JSON.parse(config) as Record<string, unknown>;
      assert.equal(settings.mode, 'monitor');
      assert.equal(settings.host, host);
      assert.equal(settings.stateDir, `/Users/${user}/.local/state/flotilla-agent`);
      assert.equal(
        settings.enrollmentTokenFile,
        `/Users/${user}/.config/flotilla/enrollment-token`,
      );
      const loaded = await loadAgentConfig({
        argv: ['--config', 'agent.json'],
        env: {},
        readTextFile: () => Promise.resolve(config),
        hostname: () => 'elsewhere',
        version: 'test',
      });
      assert.equal(
        loaded.kind === 'config' && loaded.config.mode,
        'monitor',
        JSON.stringify(loaded),
      );
    }
    const linux = result.linux!;
    assert.deepEqual(linux.launchd, {});
    const service = linux.systemd['flotilla-agent']!;
    assert.match(
      String(service.Service!.ExecStart),
      /\/bin\/flotilla-agent --config \/nix\/store\//,
    );
    assert.equal(service.Service!.Restart, 'always');
    assert.deepEqual(
      (service.Service!.Environment as string[]).map((entry) => entry.split('=')[0]),
      ['PATH'],
    );
    assert.deepEqual(service.Install!.WantedBy, ['default.target']);
  });

  it('runs a nix-darwin agent as a launchd daemon in monitor mode', async () => {
    const result = await evaluate<{ daemon: Record<string, unknown>; config: string }>(
      'let c = (evaluate { platform = "darwin"; system = "aarch64-darwin"; modules = [ { ' +
        'networking.hostName = "mba-mbp-work"; services.flotilla.agent = { enable = true; ' +
        'controllerUrl = "wss://thymis.barta.cm/api/v1/agent/ws"; ' +
        'enrollmentTokenFile = "/var/lib/flotilla-agent/enrollment-token"; }; } ]; }).config; in ' +
        '{ daemon = c.launchd.daemons.flotilla-agent.serviceConfig; config = c.services.flotilla.agent.configFile.text; }',
    );
    const args = result.daemon.ProgramArguments as string[];
    assert.match(
      args.join(' '),
      /\/bin\/flotilla-agent --config \/nix\/store\/[a-z0-9]+-flotilla-agent\.json$/,
    );
    assert.equal(result.daemon.KeepAlive, true);
    assert.equal(result.daemon.UserName, null, 'a daemon of root');
    assert.deepEqual(Object.keys(result.daemon.EnvironmentVariables as object), ['PATH']);
    const settings = JSON.parse(result.config) as Record<string, unknown>;
    assert.equal(settings.mode, 'monitor');
    assert.equal(settings.host, 'mba-mbp-work');
  });

  it('refuses a secret in the store, a managed host without a key and a module with a typo', async () => {
    const agent = (settings: string) =>
      '(evaluate { platform = "nixos"; modules = [ { services.flotilla.agent = { enable = true; ' +
      `controllerUrl = "wss://fleet.example.org/api/v1/agent/ws"; ${settings} }; } ]; })` +
      '.config.systemd.services.flotilla-agent.serviceConfig.ExecStart';
    assert.match(
      await evaluationError(
        agent(`trustedPublicKeys = [ ${str(KEY)} ]; enrollmentTokenFile = "/nix/store/abc-token";`),
      ),
      /outside the Nix store/,
    );
    assert.match(
      await evaluationError(
        '(evaluate { platform = "nixos"; modules = [ { services.flotilla.controller = { enable = true; ' +
          'repository.webhookSecretFile = ./secret; }; } ]; }).config.systemd.services.flotilla-controller.serviceConfig',
      ),
      /outside the Nix store/,
    );
    assert.match(await evaluationError(agent('')), /a managed host needs the key/);

    // The same module with one misspelt option, from a copy of the flake.
    const copy = tempDir();
    cpSync(join(root, 'flake.nix'), join(copy, 'flake.nix'));
    cpSync(join(root, 'nix'), join(copy, 'nix'), {
      recursive: true,
      filter: (src) => !src.includes('/nix/vendor'),
    });
    const module = join(copy, 'nix/modules/agent-nixos.nix');
    const text = readFileSync(module, 'utf8');
    assert.ok(text.includes('restartIfChanged = false;'));
    writeFileSync(module, text.replace('restartIfChanged = false;', 'restartIfChange = false;'));
    assert.match(
      await evaluationError(agent(`trustedPublicKeys = [ ${str(KEY)} ];`), copy),
      /restartIfChange' does not exist/,
    );
  });
});
