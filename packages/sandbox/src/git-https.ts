import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TLS_DIR = fileURLToPath(new URL('../tls/', import.meta.url));

/**
 * A certificate authority and a server certificate for 127.0.0.1 and localhost, made for
 * tests only (valid for a century, its key in this package). Nothing outside a test may
 * trust `caFile`.
 */
export const TEST_TLS = {
  caFile: join(TLS_DIR, 'ca.pem'),
  certFile: join(TLS_DIR, 'server.pem'),
  keyFile: join(TLS_DIR, 'server.key'),
} as const;

/**
 * Writes a git config under `home` that trusts {@link TEST_TLS}'s authority, for a process
 * started with that HOME (the controller reads the user's git config like any git user).
 */
export async function writeTestGitConfig(home: string): Promise<void> {
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.gitconfig'), `[http]\n\tsslCAInfo = ${TEST_TLS.caFile}\n`);
}

export interface GitHttpsServerOptions {
  /** Directory the served bare repositories live in (`<root>/<name>.git`). */
  root: string;
  /** When set, every request must carry it as GitHub takes tokens: Basic `x-access-token:<token>`. */
  token?: string;
  /** Refuses pushes (403), as GitHub does for a token without write access. */
  readOnly?: boolean;
}

/**
 * Git's smart HTTP protocol over TLS on 127.0.0.1, the way GitHub serves a repository:
 * `git http-backend` behind an https server with the test certificate. Records the
 * Authorization header of every request.
 */
export class GitHttpsServer {
  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    /** The Authorization header of every request so far, in order. */
    readonly authorizations: readonly (string | undefined)[],
    /** Every request so far: whether it was part of a push, and its Authorization header. */
    readonly requests: readonly { push: boolean; authorization: string | undefined }[],
  ) {}

  static async start(options: GitHttpsServerOptions): Promise<GitHttpsServer> {
    const authorizations: (string | undefined)[] = [];
    const requests: { push: boolean; authorization: string | undefined }[] = [];
    const server = createServer(
      { cert: readFileSync(TEST_TLS.certFile), key: readFileSync(TEST_TLS.keyFile) },
      (request, response) => {
        const { authorization } = request.headers;
        authorizations.push(authorization);
        const url = new URL(request.url ?? '/', 'https://127.0.0.1');
        const push =
          url.pathname.endsWith('/git-receive-pack') ||
          url.searchParams.get('service') === 'git-receive-pack';
        requests.push({ push, authorization });
        if (options.token !== undefined && !authorized(request, options.token)) {
          response.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' });
          response.end();
          return;
        }
        if (push && options.readOnly === true) {
          response.writeHead(403, { 'content-type': 'text/plain' });
          response.end('Permission to owner/flake.git denied to x-access-token.\n');
          return;
        }
        serveGit(options.root, request, response);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new GitHttpsServer(server, `https://127.0.0.1:${port}`, authorizations, requests);
  }

  /** The https URL of the bare repository at `<root>/<name>`. */
  url(name: string): string {
    return `${this.baseUrl}/${name}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function authorized(request: IncomingMessage, token: string): boolean {
  const expected = `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
  return request.headers.authorization === expected;
}

/** Runs `git http-backend` as a CGI program for one request. */
function serveGit(root: string, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'https://127.0.0.1');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    REQUEST_METHOD: request.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    CONTENT_TYPE: request.headers['content-type'] ?? '',
    REMOTE_USER: 'x-access-token',
    REMOTE_ADDR: request.socket.remoteAddress ?? '',
    ...(request.headers['content-encoding']
      ? { HTTP_CONTENT_ENCODING: String(request.headers['content-encoding']) }
      : {}),
    ...(request.headers['git-protocol']
      ? { GIT_PROTOCOL: String(request.headers['git-protocol']) }
      : {}),
  };
  const backend = spawn('git', ['http-backend'], { env, cwd: dirname(root) });
  request.pipe(backend.stdin);
  let buffered = Buffer.alloc(0);
  let headersDone = false;
  backend.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      response.write(chunk);
      return;
    }
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of buffered.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
      else response.setHeader(name, value);
    }
    response.writeHead(status);
    response.write(buffered.subarray(end + 4));
  });
  backend.on('close', () => {
    if (!headersDone) response.writeHead(500);
    response.end();
  });
  backend.on('error', () => {
    if (!response.headersSent) response.writeHead(500);
    response.end();
  });
}

/**
 * A Nix HTTP binary cache that takes uploads (GET, HEAD and PUT of its files, kept in
 * memory) over TLS on 127.0.0.1, behind HTTP Basic credentials: what `cache.pushTo` points
 * at in tests. `onRequest` runs for every request before it is answered.
 */
export class UploadCacheServer {
  readonly files = new Map<string, Buffer>();
  readonly authorizations: (string | undefined)[] = [];

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(options: {
    login: string;
    password: string;
    onRequest?: (request: IncomingMessage) => void;
  }): Promise<UploadCacheServer> {
    const expected = `Basic ${Buffer.from(`${options.login}:${options.password}`).toString('base64')}`;
    const started: { cache?: UploadCacheServer } = {};
    const server = createServer(
      { cert: readFileSync(TEST_TLS.certFile), key: readFileSync(TEST_TLS.keyFile) },
      (request, response) => {
        const cache = started.cache;
        if (!cache) return void response.writeHead(503).end();
        cache.authorizations.push(request.headers.authorization);
        options.onRequest?.(request);
        if (request.headers.authorization !== expected) {
          response.writeHead(401, { 'www-authenticate': 'Basic realm="cache"' });
          response.end();
          return;
        }
        const path = new URL(request.url ?? '/', 'https://127.0.0.1').pathname;
        if (request.method === 'PUT') {
          const chunks: Buffer[] = [];
          request.on('data', (chunk: Buffer) => chunks.push(chunk));
          request.on('end', () => {
            cache.files.set(path, Buffer.concat(chunks));
            response.writeHead(200).end();
          });
          return;
        }
        const file = cache.files.get(path);
        if (file === undefined) return void response.writeHead(404).end();
        response.writeHead(200, { 'content-length': file.length });
        response.end(request.method === 'HEAD' ? undefined : file);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    started.cache = new UploadCacheServer(server, `https://127.0.0.1:${port}`);
    return started.cache;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
