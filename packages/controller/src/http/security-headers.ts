import type { FastifyInstance } from 'fastify';

/**
 * The content security policy of everything the controller serves, the single-page UI at
 * `/` included: scripts, styles and everything else only from the controller itself, no
 * inline script, no plugins, never framed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * HSTS for a year; sent when the controller's public URL is https, and on answers to
 * requests that came over https (a trusted proxy's `X-Forwarded-Proto`: Fastify's
 * `request.protocol` believes it only from `trustedProxies`).
 */
const HSTS = 'max-age=31536000';

/**
 * The headers every answer carries. `Cache-Control: no-store` is the default for
 * everything (API answers carry tokens and fleet state; none is meant for a shared cache);
 * a route that may be cached says so itself (the binary cache's `private`).
 */
export function securityHeaders(options: { https: boolean }): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    ...(options.https ? { 'strict-transport-security': HSTS } : {}),
  };
}

/**
 * Adds {@link securityHeaders} and `Cache-Control: no-store` to every answer. They are set
 * on the raw response when the request arrives, so answers written past Fastify (the NAR
 * and log streams) carry them too; a route's own `Cache-Control` replaces the default.
 */
export function installSecurityHeaders(app: FastifyInstance, options: { https: boolean }): void {
  const headers = { ...securityHeaders(options), 'cache-control': 'no-store' };
  const overHttps = { ...securityHeaders({ https: true }), 'cache-control': 'no-store' };
  app.addHook('onRequest', async (request, reply) => {
    const chosen = request.protocol === 'https' ? overHttps : headers;
    for (const [name, value] of Object.entries(chosen)) reply.raw.setHeader(name, value);
  });
}
