import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readJsonFile, systemClock } from '@flotilla/runtime';
import { ChildProcessRunner } from '@flotilla/runtime';
import { isProcessAlive, type ProcessIdentity } from '../process-identity.js';
import { StoppedError } from '../stop-signal.js';
import type { ActivationHandle } from './activator.js';
import { DetachedActivator, type DetachedActivatorOptions } from './detached-activator.js';

/**
 * Real processes: the runner script (activation-runner.sh under /bin/sh), a shell
 * `switch-to-configuration` that behaves like a sandboxed one, and signals. Only systemd is
 * out of reach here (mode detached).
 */
describe('DetachedActivator', () => {
  let dir = '';
  let link = '';
  let activator: DetachedActivator;
  /** A detached activator in the test's folder, with real processes and `overrides`. */
  const activatorWith = (overrides: Partial<DetachedActivatorOptions>) =>
    new DetachedActivator({
      mode: 'detached',
      dir: join(dir, 'activations'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      currentSystemLink: link,
      profile: join(dir, 'profiles', 'system'),
      runner: new ChildProcessRunner(),
      clock: systemClock,
      ...overrides,
    });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-activator-'));
    link = join(dir, 'run', 'current-system');
    activator = activatorWith({
      pollMs: 20,
      // On a loaded machine even a shell can take a while to start and claim its pid file.
      // The test of a runner that never starts backdates its start instead.
      claimGraceMs: 10_000,
    });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A system whose activation prints `lines` lines `delay` s apart, switches the link and exits `code`. */
  async function system(name: string, lines: number, delay: number, code: number): Promise<string> {
    const path = join(dir, name);
    await mkdir(join(path, 'bin'), { recursive: true });
    const script = `#!/bin/sh
echo "session $(cut -d' ' -f6 /proc/$$/stat) bootloader=$NIXOS_INSTALL_BOOTLOADER profile=$FLOTILLA_PROFILE"
i=0
while [ "$i" -lt ${lines} ]; do i=$((i + 1)); echo "line $i"; sleep ${delay}; done
mkdir -p "$(dirname "$FLOTILLA_CURRENT_SYSTEM_LINK")"
ln -sfn "${path}" "$FLOTILLA_CURRENT_SYSTEM_LINK"
echo "failing on purpose" >&2
exit ${code}
`;
    await writeFile(join(path, 'bin', 'switch-to-configuration'), script);
    await chmod(join(path, 'bin', 'switch-to-configuration'), 0o755);
    return path;
  }

  async function follow(
    handle: ActivationHandle,
    offset = 0,
    signal = new AbortController().signal,
  ) {
    const lines: string[] = [];
    let last = offset;
    const outcome = await activator.follow(handle, {
      offset,
      startedAt: Date.now(),
      signal,
      onLines: (more, next) => {
        lines.push(...more);
        last = next;
        return Promise.resolve();
      },
    });
    return { outcome, lines, offset: last };
  }

  it('runs switch-to-configuration in a session of its own and reports its exit code', async () => {
    const path = await system('sys-a', 3, 0, 2);
    const handle = activator.plan({
      deploymentId: 'd/1',
      step: 'activate',
      attempt: 1,
      storePath: path,
      action: 'test',
    });
    assert.deepEqual(handle.command, [`${path}/bin/switch-to-configuration`, 'test']);
    await activator.start(handle);
    const { outcome, lines } = await follow(handle);
    assert.deepEqual(outcome, { exitCode: 2, signal: null, spawnError: null, lost: null });
    const ownSession = readFileSyncField(process.pid, 6);
    assert.match(lines[0] ?? '', /^session (\d+) bootloader=0 profile=.*profiles\/system$/);
    assert.notEqual(lines[0]?.split(' ')[1], ownSession, 'not in the agent’s session');
    assert.deepEqual(lines.slice(1), ['line 1', 'line 2', 'line 3', 'failing on purpose']);
    assert.equal(await readlink(link), path);
  });

  it('learns of the end from the folder at once, not from its fallback timer', async () => {
    // Were the follower to wait for this timer, the test would time out.
    const watching = activatorWith({ pollMs: 600_000 });
    const path = await system('sys-w', 2, 0.1, 0);
    const handle = watching.plan({
      deploymentId: 'dw',
      step: 'activate',
      attempt: 1,
      storePath: path,
      action: 'test',
    });
    await watching.start(handle);
    const lines: string[] = [];
    const outcome = await watching.follow(handle, {
      offset: 0,
      startedAt: Date.now(),
      signal: AbortSignal.timeout(60_000),
      onLines: (more) => {
        lines.push(...more);
        return Promise.resolve();
      },
    });
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(lines.slice(1), ['line 1', 'line 2', 'failing on purpose']);
  });

  it('outlives an agent that stops following; a new follower continues at the saved offset', async () => {
    const path = await system('sys-b', 6, 0.2, 0);
    const handle = activator.plan({
      deploymentId: 'd2',
      step: 'activate',
      attempt: 1,
      storePath: path,
      action: 'switch',
    });
    await activator.start(handle);
    const stop = new AbortController();
    let saved = 0;
    const seen: string[] = [];
    await assert.rejects(
      activator.follow(handle, {
        offset: 0,
        startedAt: Date.now(),
        signal: stop.signal,
        onLines: (lines, offset) => {
          seen.push(...lines);
          saved = offset;
          // The agent stops following once the activation is under way (lines 0.2 s apart).
          if (seen.length >= 2) stop.abort();
          return Promise.resolve();
        },
      }),
      StoppedError,
    );
    assert.ok(seen.length >= 2 && seen.length < 7, `some lines before stopping: ${seen.join('|')}`);
    const rest = await follow(handle, saved);
    assert.equal(rest.outcome.exitCode, 0);
    assert.deepEqual(
      [...seen, ...rest.lines].slice(1),
      ['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6', 'failing on purpose'],
      'every line exactly once',
    );
  });

  it('waits for an orphaned activation whose runner was killed, then reports the outcome lost', async () => {
    const path = await system('sys-c', 3, 0.3, 0);
    const handle = activator.plan({
      deploymentId: 'd3',
      step: 'rollback',
      attempt: 2,
      storePath: path,
      action: 'test',
    });
    assert.equal(handle.name, 'rollback-2');
    await activator.start(handle);
    // The runner is killed once its activation runs (its first line is in the log): killed
    // between claiming the pid file and spawning, it would leave no activation to wait for.
    const deadline = Date.now() + 10_000;
    let pid: number | undefined;
    while (
      pid === undefined ||
      !(await readFile(handle.logFile, 'utf8').catch(() => '')).startsWith('session ')
    ) {
      assert.ok(Date.now() < deadline, 'the activation did not start within 10 s');
      // The runner writes its pid file in place: it may be read empty or cut short.
      pid = ((await readJsonFile(handle.pidFile)) as { pid?: number } | undefined)?.pid;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const claim = JSON.parse(await readFile(handle.pidFile, 'utf8')) as ProcessIdentity;
    assert.equal(await isProcessAlive(claim), true, 'the claim names the running runner');
    process.kill(pid, 'SIGKILL');
    const { outcome, lines } = await follow(handle);
    assert.equal(outcome.lost, 'the activation runner ended without recording an exit code');
    assert.equal(lines.at(-1), 'failing on purpose', 'the activation itself ran to its end');
    assert.equal(await readlink(link), path);
  });

  it('marks an activation that never started abandoned, so a late runner cannot start it', async () => {
    const path = await system('sys-d', 0, 0, 0);
    const handle = activator.plan({
      deploymentId: 'd4',
      step: 'commit',
      attempt: 1,
      storePath: path,
      action: 'boot',
    });
    await mkdir(join(dir, 'activations', Buffer.from('d4').toString('base64url')), {
      recursive: true,
    });
    const outcome = await activator.follow(handle, {
      offset: 0,
      startedAt: Date.now() - 60_000,
      signal: new AbortController().signal,
      onLines: () => Promise.resolve(),
    });
    assert.equal(outcome.lost, 'the activation runner never started');
    const runner = fileURLToPath(new URL('../../src/activation-runner.sh', import.meta.url));
    const late = spawnSync('/bin/sh', [
      runner,
      handle.pidFile,
      handle.resultFile,
      ...handle.command,
    ]);
    assert.equal(late.status, 3);
    assert.equal(await readFile(handle.resultFile, 'utf8').catch(() => null), null);
    await activator.discard('d4');
    assert.deepEqual(
      await readdir(join(dir, 'activations')).then((names) => names.includes('ZDQ')),
      false,
    );
  });

  it('records the identity it claims with, a killing signal, and a program that cannot start', async () => {
    const killed = join(dir, 'sys-k');
    await mkdir(join(killed, 'bin'), { recursive: true });
    await writeFile(join(killed, 'bin', 'switch-to-configuration'), '#!/bin/sh\nkill -TERM $$\n');
    await chmod(join(killed, 'bin', 'switch-to-configuration'), 0o755);
    const missing = join(dir, 'sys-"missing\\');
    const outcomes = [];
    for (const [id, path] of [
      ['dk', killed],
      ['dm', missing],
    ] as const) {
      const handle = activator.plan({
        deploymentId: id,
        step: 'activate',
        attempt: 1,
        storePath: path,
        action: 'test',
      });
      await activator.start(handle);
      outcomes.push((await follow(handle)).outcome);
      const claim = JSON.parse(await readFile(handle.pidFile, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(claim), ['pid', 'startTime', 'bootId']);
      assert.match(String(claim.startTime), /^\d+$/);
      assert.equal(
        claim.bootId,
        (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim(),
      );
    }
    assert.deepEqual(outcomes[0], {
      exitCode: null,
      signal: 'SIGTERM',
      spawnError: null,
      lost: null,
    });
    assert.deepEqual(outcomes[1], {
      exitCode: null,
      signal: null,
      spawnError: `${missing}/bin/switch-to-configuration: not found`,
      lost: null,
    });
  });

  it('gives up on a runner killed between creating its pid file and writing it, which started nothing', async () => {
    // A shell whose files may not grow: the runner's open of its pid file succeeds, its
    // write kills it (SIGXFSZ), as a kill at that moment would.
    const shell = join(dir, 'no-writes.sh');
    await writeFile(shell, '#!/bin/sh\nulimit -f 0\nexec /bin/sh "$@"\n');
    await chmod(shell, 0o755);
    const limited = activatorWith({ pollMs: 20, shell });
    const path = await system('sys-x', 0, 0, 0);
    const handle = limited.plan({
      deploymentId: 'dx',
      step: 'activate',
      attempt: 1,
      storePath: path,
      action: 'test',
    });
    await limited.start(handle);
    const deadline = Date.now() + 10_000;
    while ((await readFile(handle.pidFile, 'utf8').catch(() => null)) === null) {
      assert.ok(Date.now() < deadline, 'the runner did not create its pid file within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Followed (as by a restarted agent) once the claim grace is long over.
    const outcome = await limited.follow(handle, {
      offset: 0,
      startedAt: Date.now() - 60_000,
      signal: AbortSignal.timeout(30_000),
      onLines: () => Promise.resolve(),
    });
    assert.equal(outcome.lost, 'the activation runner never started');
    assert.equal(await readFile(handle.pidFile, 'utf8'), '');
    assert.equal(await readFile(handle.logFile, 'utf8'), '', 'the activation never ran');
  });

  it('waits for pid and result files still being written by a live runner, past the claim grace', async () => {
    const handle = activator.plan({
      deploymentId: 'dp',
      step: 'activate',
      attempt: 1,
      storePath: join(dir, 'sys-p'),
      action: 'test',
    });
    await mkdir(dirname(handle.pidFile), { recursive: true });
    // A runner stand-in, found by its arguments, that has created its pid file and begun
    // its result but writes the rest only when told to ($3 appears).
    await writeFile(handle.pidFile, '');
    await writeFile(handle.resultFile, '{"exitCode":0,');
    const go = join(dir, 'dp-go');
    const standIn = spawn(
      '/bin/sh',
      [
        '-c',
        `while [ ! -e "$3" ]; do sleep 0.02; done
printf '{"pid":%s,"startTime":null,"bootId":null}\\n' "$$" >>"$1"
printf '"signal":null,"spawnError":null,"lost":null}\\n' >>"$2"`,
        'runner-stand-in',
        handle.pidFile,
        handle.resultFile,
        go,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => standIn.on('exit', resolve));
    const follow = (signal: AbortSignal) =>
      activator.follow(handle, {
        offset: 0,
        startedAt: Date.now() - 60_000,
        signal,
        onLines: () => Promise.resolve(),
      });
    try {
      // Neither file parses: were either taken for final, the follower would end at its first look.
      await assert.rejects(follow(AbortSignal.timeout(300)), StoppedError);
      await writeFile(go, '');
      const outcome = await follow(AbortSignal.timeout(30_000));
      assert.deepEqual(outcome, { exitCode: 0, signal: null, spawnError: null, lost: null });
    } finally {
      standIn.kill('SIGKILL');
      await exited;
    }
  });

  it('calls a result its runner left cut short unreadable once the runner is gone', async () => {
    const handle = activator.plan({
      deploymentId: 'dc',
      step: 'activate',
      attempt: 1,
      storePath: join(dir, 'sys-c'),
      action: 'test',
    });
    await mkdir(dirname(handle.pidFile), { recursive: true });
    const standIn = spawnSync('/bin/sh', [
      '-c',
      `printf '{"pid":%s,"startTime":null,"bootId":null}\\n' "$$" >"$1"
printf '{"exitCode":0,' >"$2"`,
      'runner-stand-in',
      handle.pidFile,
      handle.resultFile,
    ]);
    assert.equal(standIn.status, 0);
    const { outcome } = await follow(handle);
    assert.equal(outcome.lost, 'unreadable result file');
  });
});

function readFileSyncField(pid: number, field: number): string {
  const stat = spawnSync('cat', [`/proc/${pid}/stat`]).stdout.toString();
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[field - 3] ?? '';
}
