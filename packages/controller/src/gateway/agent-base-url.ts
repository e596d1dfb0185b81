import type { IncomingHttpHeaders } from 'node:http';

/** `host[:port]`, a bracketed IPv6 address with an optional port, nothing else. */
const HOST_HEADER = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

/**
 * The http(s) base URL an agent reached the controller at, from its WebSocket upgrade
 * request: the Host header, and https when a TLS-terminating proxy says so in
 * X-Forwarded-Proto (the controller itself speaks plain HTTP). Both headers come from the
 * agent and only shape the cache URL sent back to that same agent, which fetches only from
 * the origin it dialled; a malformed Host gives null.
 */
export function agentBaseUrl(headers: IncomingHttpHeaders): string | null {
  const host = headers.host;
  if (host === undefined || !HOST_HEADER.test(host)) return null;
  const forwarded = headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  const scheme = proto?.toLowerCase() === 'https' ? 'https' : 'http';
  return `${scheme}://${host.toLowerCase()}`;
}

/**
 * The http(s) origins an agent may have dialled to reach this controller, one of which its
 * signed challenge must name: the Host header's host with either scheme (a proxy that
 * terminates TLS may not say X-Forwarded-Proto; the host and port are what bind a signature
 * to this controller), and the configured public URL's.
 */
export function agentOrigins(
  headers: IncomingHttpHeaders,
  publicUrl: string | undefined,
): string[] {
  const origins = new Set<string>();
  const base = agentBaseUrl(headers);
  if (base !== null) {
    // The scheme the headers suggest first: most agents signed that one, so it is checked first.
    const url = new URL(base);
    origins.add(url.origin);
    url.protocol = url.protocol === 'https:' ? 'http:' : 'https:';
    origins.add(url.origin);
  }
  if (publicUrl !== undefined) origins.add(new URL(publicUrl).origin);
  return [...origins];
}
