import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess } from './process.js';
import { nixSystem } from './flake.js';
import { accepts, freePort } from './nginx.js';

/** Where Debian's openssh-server puts the daemon (it must be started by absolute path). */
const SSHD = '/usr/sbin/sshd';

/**
 * A real sshd on loopback as a Nix remote builder: its own host key, config, pid and log
 * under `dir`, one authorized key made here, no PAM, no passwords; the machine's own sshd
 * and /etc/ssh are never used. Its remote program runs Nix on a store of its own
 * (`builderStore`, a chroot store under `dir`), so what it built is there and nowhere
 * else until the client copies it back; building in a chroot store takes Nix's build
 * sandbox, given the machine's /bin and /usr for the test systems' `/bin/sh` builders.
 */
export class SshBuilder {
  private process: ManagedProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** The ssh client's private key (authorized on this builder). */
  get clientKeyFile(): string {
    return join(this.dir, 'client-key');
  }
  /** known_hosts naming this builder's host key at `[127.0.0.1]:port`. */
  get knownHostsFile(): string {
    return join(this.dir, 'known_hosts');
  }
  /** An ssh_config giving the host alias `flotilla-builder` this builder's address and port. */
  get sshConfigFile(): string {
    return join(this.dir, 'ssh_config');
  }
  /** The root of the builder's own Nix store (`<root>/nix/store`). */
  get builderStore(): string {
    return join(this.dir, 'builder-store');
  }
  /** Nix `builders` line for this builder (`ssh://`, Nix's `nix-store --serve` protocol). */
  get buildersSpec(): string {
    return `ssh://root@flotilla-builder?remote-program=${join(this.dir, 'remote-nix-store')} ${nixSystem()} - 1 1`;
  }
  /** The remote program's invocations, one line each (`--serve --write`). */
  async sessions(): Promise<string[]> {
    const path = join(this.dir, 'sessions.log');
    return existsSync(path) ? (await readFile(path, 'utf8')).split('\n').filter(Boolean) : [];
  }
  /** sshd's own log lines (logins, sessions). */
  get log(): string[] {
    return this.process?.lines ?? [];
  }

  static async create(dir: string): Promise<SshBuilder> {
    if (!existsSync(SSHD)) {
      throw new Error(
        'sshd is not installed: run `npm test`, which installs it, or apt-get install openssh-server',
      );
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const builder = new SshBuilder(dir, await freePort());
    await keygen(join(dir, 'host-key'));
    await keygen(builder.clientKeyFile);
    await writeFile(join(dir, 'authorized_keys'), await readFile(`${builder.clientKeyFile}.pub`));
    const hostKey = (await readFile(join(dir, 'host-key.pub'), 'utf8')).trim().split(' ');
    await writeFile(
      builder.knownHostsFile,
      `[127.0.0.1]:${builder.port} ${hostKey[0]} ${hostKey[1]}\n`,
    );
    await writeFile(
      builder.sshConfigFile,
      `Host flotilla-builder\n  HostName 127.0.0.1\n  Port ${builder.port}\n  User root\n`,
    );
    await writeFile(
      join(dir, 'sshd_config'),
      [
        `ListenAddress 127.0.0.1:${builder.port}`,
        `HostKey ${join(dir, 'host-key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        // The test's temp dir is not root-owned all the way up.
        'StrictModes no',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    // The remote program: note the session, then Nix's `--serve` on the builder's own store.
    const remote = join(dir, 'remote-nix-store');
    await writeFile(
      remote,
      `#!/bin/sh
echo "$$ nix-store $*" >> ${join(dir, 'sessions.log')}
export NIX_CONFIG='experimental-features = nix-command
sandbox = true
extra-sandbox-paths = /bin /usr /lib /lib64 /etc
substituters ='
exec nix-store --store ${builder.builderStore} "$@"
`,
    );
    await chmod(remote, 0o755);
    return builder;
  }

  /** Starts sshd (again, on the same port); resolves once it accepts connections. */
  async start(): Promise<void> {
    // sshd's privilege separation directory, as the package's service would create it.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const proc = new ManagedProcess(SSHD, ['-D', '-e', '-f', join(this.dir, 'sshd_config')], {
      label: 'sshd',
      logFile: join(this.dir, 'sshd.log'),
    });
    this.process = proc;
    const deadline = Date.now() + 15_000;
    while (!(await accepts(this.port))) {
      if (!proc.running || Date.now() > deadline) {
        await proc.stop();
        throw new Error(`sshd did not start on port ${this.port}:\n${proc.lines.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops sshd (the builder is "down"); its files stay for {@link start}. */
  async stop(): Promise<void> {
    await this.process?.stop();
  }
}

function keygen(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], {
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`ssh-keygen exited with ${code}`)),
    );
  });
}
