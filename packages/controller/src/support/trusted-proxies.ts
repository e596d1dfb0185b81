import { BlockList, isIP } from 'node:net';

/**
 * The reverse proxies (Traefik, nginx) whose `X-Forwarded-For` is believed: addresses or
 * CIDR ranges from the config (`trustedProxies`). From anyone else the header is ignored,
 * so a client cannot pick the address its failures are counted against or logged under.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  /** Throws for an entry that is neither an IP address nor a CIDR range. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseEntry(entry);
      if (!parsed) throw new Error(`"${entry}" is not an IP address or CIDR range`);
      if (parsed.prefix === undefined) this.list.addAddress(parsed.address, parsed.family);
      else this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.empty = entries.length === 0;
  }

  /** Whether `address` (as a socket reports it) is a trusted proxy. */
  trusts(address: string | undefined): boolean {
    if (this.empty || address === undefined) return false;
    const plain = unmapped(address);
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client's address: the socket's peer, or — while that peer is a trusted proxy —
   * the next address from the right of `X-Forwarded-For` (each proxy appends the address
   * it was reached from). What Fastify's `request.ip` gives with {@link trusts} as its
   * `trustProxy`, for requests Fastify never sees (WebSocket upgrades).
   */
  clientAddress(
    socketAddress: string | undefined,
    forwardedFor: string | string[] | undefined,
  ): string {
    let address = unmapped(socketAddress ?? '');
    if (!this.trusts(address)) return address;
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
    const hops = header
      .split(',')
      .map((hop) => hop.trim())
      .filter((hop) => hop !== '');
    while (hops.length > 0 && this.trusts(address)) {
      const next = unmapped(hops.pop() ?? '');
      if (isIP(next) === 0) break;
      address = next;
    }
    return address;
  }
}

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) as `192.0.2.1`. */
function unmapped(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

function parseEntry(
  entry: string,
): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, ...rest] = entry.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const family = version === 6 ? 'ipv6' : 'ipv4';
  if (prefixText === undefined) return { address, family };
  const prefix = Number(prefixText);
  const max = version === 6 ? 128 : 32;
  if (!/^\d+$/.test(prefixText) || prefix > max) return undefined;
  return { address, prefix, family };
}
