import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@flotilla/controller';
import { parse } from 'yaml';

// examples/traefik/flotilla.yml against what test/integration/reverse-proxy.test.ts proves
// through a real proxy: the paths below pass unchanged, to the controller, over https, with
// the client's Host header and Traefik's forwarded headers, WebSocket upgrades and streams
// untouched (no buffering, compression, rewriting or login page in front).

const FILE = fileURLToPath(new URL('../../examples/traefik/flotilla.yml', import.meta.url));
const HOST = 'flotilla.example.org';

/** What people, agents, hosts' Nix and GitHub call (the reverse-proxy test calls each). */
const PROXIED_PATHS = [
  '/',
  '/api/v1/auth/session',
  '/api/v1/me',
  '/api/v1/events',
  '/api/v1/agent/enroll',
  '/api/v1/agent/ws',
  '/cache/nix-cache-info',
  '/cache/0123456789abcdfghijklmnpqrsvwxyz.narinfo',
  '/cache/nar/0123456789abcdfghijklmnpqrsvwxyz.nar.zst',
  '/api/v1/webhooks/github',
  '/healthz',
];

/** Middlewares that break a stream, a WebSocket, a path or a machine's own credentials. */
const FORBIDDEN_MIDDLEWARES = [
  'buffering',
  'compress',
  'forwardAuth',
  'basicAuth',
  'digestAuth',
  'stripPrefix',
  'stripPrefixRegex',
  'addPrefix',
  'replacePath',
  'replacePathRegex',
];

interface Router {
  rule: string;
  entryPoints?: string[];
  middlewares?: string[];
  service: string;
  priority?: number;
  tls?: { certResolver?: string };
}
interface Dynamic {
  http: {
    routers: Record<string, Router>;
    middlewares?: Record<string, Record<string, Record<string, unknown>>>;
    services: Record<
      string,
      {
        loadBalancer: {
          passHostHeader?: boolean;
          servers: { url: string }[];
          healthCheck?: { path?: string };
        };
      }
    >;
  };
}

const text = readFileSync(FILE, 'utf8');
const config = parse(text) as Dynamic;

/**
 * Whether a Traefik rule matches a request (host and path): `Host`, `Path`, `PathPrefix`,
 * `&&`, `||`, `!` and parentheses, which is all the example may use.
 */
function ruleMatches(rule: string, request: { host: string; path: string }): boolean {
  const tokens = rule.match(/&&|\|\||!|\(|\)|[A-Za-z]+\(`[^`]*`(?:\s*,\s*`[^`]*`)*\)/g) ?? [];
  if (tokens.join('').replace(/\s/g, '') !== rule.replace(/\s/g, '')) {
    throw new Error(`rule not understood: ${rule}`);
  }
  let at = 0;
  const or = (): boolean => {
    let value = and();
    while (tokens[at] === '||') {
      at++;
      value = and() || value;
    }
    return value;
  };
  const and = (): boolean => {
    let value = unary();
    while (tokens[at] === '&&') {
      at++;
      value = unary() && value;
    }
    return value;
  };
  const unary = (): boolean => {
    const token = tokens[at++] ?? '';
    if (token === '!') return !unary();
    if (token === '(') {
      const value = or();
      if (tokens[at++] !== ')') throw new Error(`unbalanced parentheses in ${rule}`);
      return value;
    }
    const [, name = '', args = ''] = /^([A-Za-z]+)\((.*)\)$/.exec(token) ?? [];
    const values = [...args.matchAll(/`([^`]*)`/g)].map((m) => m[1] ?? '');
    switch (name) {
      case 'Host':
        return values.some((v) => v.toLowerCase() === request.host);
      case 'Path':
        return values.includes(request.path);
      case 'PathPrefix':
        return values.some((v) => request.path.startsWith(v));
      default:
        throw new Error(`matcher ${name} is not expected in the example`);
    }
  };
  const result = or();
  if (at !== tokens.length) throw new Error(`trailing tokens in ${rule}`);
  return result;
}

/** The router Traefik picks on an entry point: matching ones, the highest priority (rule length by default). */
function routerFor(entryPoint: string, path: string): [string, Router] | undefined {
  return Object.entries(config.http.routers)
    .filter(([, r]) => (r.entryPoints ?? []).includes(entryPoint))
    .filter(([, r]) => ruleMatches(r.rule, { host: HOST, path }))
    .sort(([, a], [, b]) => (b.priority ?? b.rule.length) - (a.priority ?? a.rule.length))[0];
}

describe('examples/traefik/flotilla.yml', () => {
  it('names the DNS record the host name needs', () => {
    assert.match(text, /flotilla\.example\.org\.\s+\d+\s+IN\s+(A|AAAA|CNAME)\s/);
  });

  it('sends every path the controller serves to it over https, unchanged', () => {
    const controller = loadConfig([], {}).listen;
    for (const path of PROXIED_PATHS) {
      const [name, router] = routerFor('websecure', path) ?? [];
      assert.ok(router, `no https router for ${path}`);
      assert.ok(router.tls?.certResolver, `${name} terminates TLS`);
      const service = config.http.services[router.service];
      assert.ok(service, `${name}'s service ${router.service} exists`);
      assert.deepEqual(
        service.loadBalancer.servers.map((s) => s.url),
        [`http://${controller.host}:${controller.port}`],
      );
      for (const middleware of router.middlewares ?? []) {
        const kinds = Object.keys(config.http.middlewares?.[middleware] ?? {});
        assert.ok(kinds.length > 0, `middleware ${middleware} is defined`);
        for (const kind of kinds) {
          assert.ok(!FORBIDDEN_MIDDLEWARES.includes(kind), `${name} uses ${kind} on ${path}`);
        }
      }
    }
  });

  it('redirects plain http on the same name to https', () => {
    for (const path of PROXIED_PATHS) {
      const [, router] = routerFor('web', path) ?? [];
      assert.ok(router, `a router for http://${HOST}${path}`);
      const redirects = (router.middlewares ?? []).map(
        (m) => config.http.middlewares?.[m]?.redirectScheme,
      );
      assert.deepEqual(redirects, [{ scheme: 'https', permanent: true }]);
    }
  });

  it("keeps the client's Host header and Traefik's forwarded headers, and checks /healthz", () => {
    for (const [name, service] of Object.entries(config.http.services)) {
      assert.notEqual(service.loadBalancer.passHostHeader, false, `${name} passes Host`);
      assert.equal(service.loadBalancer.healthCheck?.path, '/healthz');
    }
    for (const [name, middleware] of Object.entries(config.http.middlewares ?? {})) {
      const headers = middleware.headers as { customRequestHeaders?: object } | undefined;
      for (const header of Object.keys(headers?.customRequestHeaders ?? {})) {
        assert.ok(
          !/^(x-forwarded-|x-real-ip$|host$|upgrade$|connection$)/i.test(header),
          `${name} rewrites ${header}`,
        );
      }
    }
  });

  it('reads Traefik rules as Traefik does (the checker itself)', () => {
    const rule =
      'Host(`a.example`) && (PathPrefix(`/api/`) || Path(`/healthz`)) && !Path(`/api/x`)';
    assert.equal(ruleMatches(rule, { host: 'a.example', path: '/api/v1' }), true);
    assert.equal(ruleMatches(rule, { host: 'a.example', path: '/healthz' }), true);
    assert.equal(ruleMatches(rule, { host: 'a.example', path: '/api/x' }), false);
    assert.equal(ruleMatches(rule, { host: 'b.example', path: '/api/v1' }), false);
    assert.throws(() => ruleMatches('HostRegexp(`.*`)', { host: 'a', path: '/' }), /not expected/);
  });
});
