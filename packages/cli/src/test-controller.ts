// Test support, not shipped behaviour: a controller stand-in on a real local HTTP server, so
// the client's fetch, headers and parsing are exercised for real. Only the answers are canned.
import type { Deployment, Host, LogLine } from '@flotilla/protocol';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the stub received. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: unknown;
}

/** What a route answers: a status and a JSON body, or raw text for non-JSON answers. */
export type StubAnswer = { status?: number; json?: unknown; text?: string };

/** Routes keyed by `METHOD /path` (no query string). */
export type StubRoutes = Record<string, (request: RecordedRequest) => StubAnswer>;

/** A running stub; `close` stops it. */
export interface TestController {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a stub controller on 127.0.0.1 with a free port. Unknown routes answer 404 not_found. */
export async function startTestController(routes: StubRoutes): Promise<TestController> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const request: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        authorization: req.headers.authorization,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      };
      requests.push(request);
      const route = routes[`${request.method} ${request.path}`];
      const answer: StubAnswer = route
        ? route(request)
        : {
            status: 404,
            json: { error: { code: 'not_found', message: `no route ${request.path}` } },
          };
      const isJson = answer.text === undefined;
      res.writeHead(answer.status ?? 200, {
        'content-type': isJson ? 'application/json' : 'text/html',
      });
      res.end(isJson ? JSON.stringify(answer.json) : answer.text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A store path with a valid hash, for fixtures. */
export const STORE_PATH = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-web1-25.05';

/** A host as the controller would send it; fields can be overridden. */
export function sampleHost(overrides: Partial<Host> = {}): Host {
  return {
    name: 'web1',
    mode: 'managed',
    os: 'linux',
    status: 'online',
    agentVersion: '0.1.0',
    agentOutdated: false,
    protocolVersion: 1,
    connectedAt: '2025-01-01T11:00:00.000Z',
    lastSeenAt: '2025-01-01T11:59:48.000Z',
    facts: null,
    factsAt: null,
    metrics: null,
    createdAt: '2024-12-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A deployment as the controller would send it; fields can be overridden. */
export function sampleDeployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 'dep-1',
    host: 'web1',
    storePath: STORE_PATH,
    action: 'switch',
    status: 'queued',
    phase: null,
    actor: 'admin',
    createdAt: '2025-01-01T11:59:00.000Z',
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    errorCode: null,
    errorMessage: null,
    resultSystem: null,
    releaseId: null,
    kind: 'deploy',
    previousSystem: null,
    rebootRequired: false,
    ...overrides,
  };
}

/** A stdout log line with sequence number `seq`. */
export function logLine(seq: number, line: string): LogLine {
  return { seq, at: '2025-01-01T12:00:00.000Z', stream: 'stdout', line };
}
