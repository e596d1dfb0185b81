import { run } from './nix.js';

/**
 * A network namespace joined to the test's own namespace by a veth pair: a sandboxed host
 * whose link the test can take down and bring back. Needs root and iproute2. Only the
 * addresses given here are used, on the pair's own /30, created and removed by the test.
 */
export class NetworkNamespace {
  private constructor(
    readonly name: string,
    /** The end in the test's namespace. */
    readonly hostInterface: string,
    readonly hostAddress: string,
    readonly namespaceAddress: string,
  ) {}

  /** True when this process may create namespaces (root with `ip` available). */
  static async available(): Promise<boolean> {
    if (process.getuid?.() !== 0) return false;
    try {
      return (await run('ip', ['netns', 'list'])).code === 0;
    } catch {
      return false;
    }
  }

  /**
   * Creates namespace `name` with a veth pair; `index` (0–255) picks the /30 in
   * 169.254.213.0/24 (link-local, never routed) so parallel runs do not collide.
   */
  static async create(name: string, index: number): Promise<NetworkNamespace> {
    const base = (index % 64) * 4;
    const ns = new NetworkNamespace(
      name,
      `vflt${index}h`,
      `169.254.213.${base + 1}`,
      `169.254.213.${base + 2}`,
    );
    const inside = `vflt${index}a`;
    await ns.destroy();
    await ip(['netns', 'add', name]);
    await ip(['link', 'add', ns.hostInterface, 'type', 'veth', 'peer', 'name', inside]);
    await ip(['link', 'set', inside, 'netns', name]);
    await ip(['addr', 'add', `${ns.hostAddress}/30`, 'dev', ns.hostInterface]);
    await ip(['link', 'set', ns.hostInterface, 'up']);
    await ip([
      'netns',
      'exec',
      name,
      'ip',
      'addr',
      'add',
      `${ns.namespaceAddress}/30`,
      'dev',
      inside,
    ]);
    await ip(['netns', 'exec', name, 'ip', 'link', 'set', inside, 'up']);
    await ip(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** The command prefix that runs a program inside the namespace. */
  get execPrefix(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  /** Cuts the link: packets stop, with no reset sent to either side (like a pulled cable). */
  async linkDown(): Promise<void> {
    await ip(['link', 'set', this.hostInterface, 'down']);
  }

  async linkUp(): Promise<void> {
    await ip(['link', 'set', this.hostInterface, 'up']);
  }

  /** Removes the namespace and the pair (deleting one end deletes both); idempotent. */
  async destroy(): Promise<void> {
    await run('ip', ['link', 'delete', this.hostInterface]);
    await run('ip', ['netns', 'delete', this.name]);
  }
}

async function ip(args: readonly string[]): Promise<void> {
  const result = await run('ip', args);
  if (result.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
}
