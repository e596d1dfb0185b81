import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PlanRequest, PlanResult } from '@flotilla/protocol';
import { ChildProcessRunner, Logger, ManualClock, systemClock } from '@flotilla/runtime';
import { NixStore } from '../deploy/nix-store.js';
import { FactsCollector } from '../facts/facts-collector.js';
import { nodeHostSources } from '../facts/host-sources.js';
import { PlanPreparer } from './plan-preparer.js';
import { NixPlanTools } from './plan-tools.js';

// Real Nix, on tiny systems built here (no nixpkgs, no network): a system closure with a
// few packages, a kernel and initrd of its own and a switch-to-configuration that answers
// dry-activate with NixOS's sentences. Each run builds fresh paths (a nonce), so a path
// signed by an earlier run never counts as signed in this one.

const runner = new ChildProcessRunner();
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/root',
  NIX_CONFIG: 'experimental-features = nix-command\nsandbox = false\nsubstituters =',
  // Must never reach the dry activation.
  FLOTILLA_TEST_SECRET: 'do-not-pass-on',
};

interface SystemSpec {
  version: string;
  kernel: string;
  packages: Record<string, { version: string; kib: number }>;
  /** Lines its dry-activate prints on stderr; `fail` makes it exit 1. */
  dryActivate: string[] | 'fail';
}

function nixString(value: string): string {
  return JSON.stringify(value).replace(/\$\{/g, '\\${');
}

function systemExpression(nonce: string, spec: SystemSpec): string {
  const script =
    spec.dryActivate === 'fail'
      ? '#!/bin/sh\necho "error: cannot read the new configuration" >&2\nexit 1\n'
      : [
          '#!/bin/sh',
          '[ "$1" = dry-activate ] || exit 1',
          'echo "HOME=${HOME:-unset} SECRET=${FLOTILLA_TEST_SECRET:-unset}"',
          ...spec.dryActivate.map((line) => `echo ${JSON.stringify(line)} >&2`),
          '',
        ].join('\n');
  const packages = Object.entries(spec.packages).map(
    ([name, p]) => `(pkg ${nixString(`${name}-${p.version}`)} ${p.kib})`,
  );
  return `
let
  system = builtins.currentSystem;
  nonce = ${nixString(nonce)};
  pkg = name: kib: derivation {
    inherit name system nonce;
    builder = "/bin/sh";
    args = [ "-c" "/bin/mkdir -p $out && /usr/bin/head -c \${toString (kib * 1024)} /dev/zero > $out/file" ];
  };
  kernel = derivation {
    name = "linux-${spec.kernel}";
    inherit system nonce;
    builder = "/bin/sh";
    args = [ "-c" "/bin/mkdir -p $out/lib/modules && echo ${spec.kernel} > $out/bzImage && echo ${spec.kernel} > $out/initrd" ];
  };
  stc = builtins.toFile "switch-to-configuration" ${nixString(script)};
in derivation {
  name = "nixos-system-t-${spec.version}";
  inherit system nonce;
  builder = "/bin/sh";
  args = [ "-c" "/bin/mkdir -p $out/bin && /bin/cp \${stc} $out/bin/switch-to-configuration && /bin/chmod +x $out/bin/switch-to-configuration && echo \${builtins.concatStringsSep " " [ ${packages.join(' ')} ]} > $out/packages && /bin/ln -s \${kernel}/bzImage $out/kernel && /bin/ln -s \${kernel}/initrd $out/initrd && /bin/ln -s \${kernel}/lib/modules $out/kernel-modules" ];
}`;
}

async function run(command: string, args: string[]): Promise<string> {
  const result = await runner.run(command, args, { env, captureStdout: true });
  if (result.exitCode !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.stderrTail.join('\n')}`);
  }
  return result.stdout.trim();
}

function build(nonce: string, spec: SystemSpec): Promise<string> {
  return run('nix-build', ['--no-out-link', '-E', systemExpression(nonce, spec)]);
}

const BEFORE: SystemSpec = {
  version: '1',
  kernel: '6.6.1',
  packages: { hello: { version: '2.10', kib: 20 }, curl: { version: '8.5.0', kib: 40 } },
  dryActivate: [],
};
const AFTER: SystemSpec = {
  version: '2',
  kernel: '6.6.2',
  packages: { hello: { version: '2.12', kib: 40 }, nginx: { version: '1.24.0', kib: 60 } },
  dryActivate: [
    'would stop the following units: old-cron.service',
    'would activate the configuration...',
    'would reload the following units: nginx.service',
    'would restart the following units: sshd.service',
    'would start the following units: metrics.service',
  ],
};

describe('PlanPreparer (real Nix)', { timeout: 120_000 }, () => {
  let dir: string;
  let nonce: string;
  let current: string;
  let next: string;
  let unsigned: string;
  let broken: string;
  let sameKernel: string;
  let trustedKey: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-plan-'));
    nonce = randomUUID();
    current = await build(nonce, BEFORE);
    next = await build(nonce, AFTER);
    unsigned = await build(nonce, { ...AFTER, version: '2-unsigned' });
    broken = await build(nonce, { ...AFTER, version: '2-broken', dryActivate: 'fail' });
    sameKernel = await build(nonce, { ...AFTER, version: '2-same-kernel', kernel: '6.6.1' });
    const secretKey = join(dir, 'secret-key');
    await writeFile(
      secretKey,
      await run('nix', ['key', 'generate-secret', '--key-name', 'plan-test-1']),
    );
    const converted = await runner.run('nix', ['key', 'convert-secret-to-public'], {
      env,
      captureStdout: true,
      input: await readFile(secretKey, 'utf8'),
    });
    trustedKey = converted.stdout.trim();
    for (const path of [next, broken, sameKernel]) {
      await run('nix', ['store', 'sign', '--key-file', secretKey, path]);
    }
    await mkdir(join(dir, 'run'), { recursive: true });
    await symlink(current, join(dir, 'run', 'current-system'));
    await symlink(current, join(dir, 'run', 'booted-system'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function preparer(
    options: { enabled?: boolean; active?: string | null; clock?: ManualClock } = {},
  ) {
    const sent: PlanResult[] = [];
    const paths = {
      currentSystemLink: join(dir, 'run', 'current-system'),
      bootedSystemLink: join(dir, 'run', 'booted-system'),
      profile: join(dir, 'profiles', 'system'),
    };
    const store = new NixStore({
      runner,
      env,
      stateDir: join(dir, 'state'),
      controllerUrl: 'ws://127.0.0.1:1/api/v1/agent/ws',
      trustedPublicKeys: [trustedKey],
      caFile: null,
      credential: () => Promise.reject(new Error('no controller here')),
    });
    const facts = new FactsCollector({
      sources: nodeHostSources(runner, env),
      os: 'linux',
      disks: [],
      ...paths,
      bootIdFile: join(dir, 'boot_id'),
      hostnameFile: join(dir, 'hostname'),
      machineIdFile: join(dir, 'machine-id'),
      systemd: false,
      clock: systemClock,
    });
    const plans = new PlanPreparer({
      enabled: options.enabled ?? true,
      store,
      tools: new NixPlanTools({
        runner,
        env,
        currentSystemLink: paths.currentSystemLink,
        profile: paths.profile,
      }),
      host: facts,
      profile: paths.profile,
      gcRoot: join(dir, 'state', 'gcroots', 'plan'),
      activeDeploymentId: () => options.active ?? null,
      send: (message) => sent.push(message) > 0,
      clock: options.clock ?? systemClock,
      logger: new Logger({ level: 'error' }),
    });
    return { plans, sent };
  }

  const request = (storePath: string, extra: Partial<PlanRequest> = {}): PlanRequest => ({
    type: 'plan.request',
    deploymentId: 'd-1',
    storePath,
    action: 'switch',
    cache: null,
    ...extra,
  });

  it('tells the closure difference, the units activation touches and the reboot a new kernel needs', async () => {
    const { plans } = preparer();
    const result = await plans.prepare(request(next));
    assert.equal(result.error, null);
    const plan = result.plan;
    assert.ok(plan);
    assert.equal(plan.currentSystem, current);
    assert.equal(plan.fetched, false, 'it was in the store already');
    assert.equal(plan.timings.fetchMs, 0);
    assert.deepEqual(
      plan.closure?.changed.map((p) => [p.name, p.from, p.to]),
      [
        ['hello', ['2.10'], ['2.12']],
        ['linux', ['6.6.1'], ['6.6.2']],
        ['nixos-system-t', ['1'], ['2']],
      ],
    );
    assert.deepEqual(
      plan.closure?.added.map((p) => p.name),
      ['nginx'],
    );
    assert.deepEqual(
      plan.closure?.removed.map((p) => p.name),
      ['curl'],
    );
    // hello +20 KiB, nginx +60 KiB, curl −40 KiB, plus a few bytes of the systems.
    const delta = plan.closure?.sizeDelta ?? 0;
    assert.ok(delta > 39 * 1024 && delta < 42 * 1024, `size change ${delta}`);
    assert.ok((plan.closure?.closureSize ?? 0) > 100 * 1024, 'hello 40 KiB and nginx 60 KiB');
    assert.deepEqual(plan.activation, {
      stop: ['old-cron.service'],
      start: ['metrics.service'],
      restart: ['sshd.service'],
      reload: ['nginx.service'],
      skip: [],
      restartSystemd: false,
      // The dry activation ran with a minimal environment: no HOME, none of the agent's.
      other: ['HOME=unset SECRET=unset'],
      exitCode: 0,
    });
    assert.deepEqual(plan.reboot, {
      required: true,
      changed: ['kernel', 'initrd', 'kernel-modules'],
      bootedSystem: current,
    });
    assert.equal(
      await readlink(join(dir, 'state', 'gcroots', 'plan')),
      next,
      'the prepared closure is kept from garbage collection',
    );
  });

  it('needs no reboot when the kernel stays, and runs no dry activation for `boot`', async () => {
    const { plans } = preparer();
    const same = await plans.prepare(request(sameKernel));
    assert.deepEqual(same.plan?.reboot, { required: false, changed: [], bootedSystem: current });
    const boot = await plans.prepare(request(next, { action: 'boot' }));
    assert.equal(boot.plan?.activation, null);
    assert.equal(boot.plan?.timings.dryActivateMs, null);
  });

  it('refuses a system no trusted key signed, before running anything of it', async () => {
    const { plans } = preparer();
    const result = await plans.prepare(request(unsigned));
    assert.equal(result.plan, null);
    assert.equal(result.error?.code, 'untrusted_closure');
    assert.match(result.error?.message ?? '', /not signed by any of this host's trusted keys/);
  });

  it('says dry_activate_failed when the dry activation fails', async () => {
    const { plans } = preparer();
    const result = await plans.prepare(request(broken));
    assert.equal(result.error?.code, 'dry_activate_failed');
    assert.match(
      result.error?.message ?? '',
      /exited with code 1: error: cannot read the new configuration/,
    );
  });

  it('says fetch_failed for a closure it does not have and cannot fetch', async () => {
    const { plans } = preparer();
    const missing = `/nix/store/${'0'.repeat(32)}-nixos-system-missing`;
    const result = await plans.prepare(request(missing));
    assert.equal(result.error?.code, 'fetch_failed');
    assert.match(result.error?.message ?? '', /not in the store and no binary cache was given/);
  });

  it('prepares nothing when its config turns prefetching off, or when the deployment runs', async () => {
    const off = await preparer({ enabled: false }).plans.prepare(request(next));
    assert.equal(off.error?.code, 'prefetch_disabled');
    const running = await preparer({ active: 'd-1' }).plans.prepare(request(next));
    assert.equal(running.error?.code, 'deployment_started');
  });

  it('answers each request once, preparing one deployment at a time', async () => {
    const { plans, sent } = preparer();
    plans.handle(request(next));
    plans.handle(request(next));
    plans.handle(request(sameKernel, { deploymentId: 'd-2' }));
    await plans.idle();
    assert.deepEqual(
      sent.map((m) => [m.deploymentId, m.plan?.storePath]),
      [
        ['d-1', next],
        ['d-2', sameKernel],
      ],
    );
  });
});
