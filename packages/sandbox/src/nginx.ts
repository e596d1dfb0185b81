import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from './process.js';

/** A real nginx on loopback, as the reverse proxy in front of a controller. */
export interface NginxHandle {
  /** Where nginx listens, e.g. `http://127.0.0.1:41234` (`https://` when it terminates TLS). */
  url: string;
  port: number;
  /** The CA its certificate is signed by, when it terminates TLS. */
  caFile?: string;
  stop(): Promise<void>;
}

/** The sandbox's test-only CA and its certificate for 127.0.0.1 and localhost. */
const TLS_DIR = fileURLToPath(new URL('../tls/', import.meta.url));

/**
 * The proxy directives of a plain nginx (`$host`, the usual forwarded headers), or the ones
 * that make nginx behave like Traefik in front of the controller: TLS terminated here, the
 * Host header passed as the client sent it (with its port), `X-Forwarded-For`, `-Proto`,
 * `-Host`, `-Port` and `X-Real-Ip` as Traefik sets them, and no read timeout that would cut
 * the agents' WebSocket or the event stream. Response buffering stays nginx's default (on):
 * the controller's streams say `X-Accel-Buffering: no` themselves.
 */
function proxyDirectives(traefik: boolean): string {
  if (!traefik) {
    return `      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;`;
  }
  return `      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_set_header X-Real-Ip $remote_addr;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      client_max_body_size 0;`;
}

/** Where Debian's nginx package puts the binary. */
function nginxBinary(): string {
  for (const path of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(path)) return path;
  throw new Error(
    'nginx is not installed: run `npm test`, which installs it, or apt-get install nginx',
  );
}

/**
 * Starts nginx in `dir` (its config, pid, logs and temp files all there; the package's own
 * service and config are never used), proxying everything to `upstream` the way a typical
 * deployment does: `proxy_pass` without a URI, so the request target goes on as the client
 * sent it, with the usual forwarded headers and WebSocket upgrades.
 */
export async function startNginx(options: {
  dir: string;
  upstream: string;
  /** Terminate TLS and set the headers Traefik sets (see {@link proxyDirectives}). */
  likeTraefik?: boolean;
}): Promise<NginxHandle> {
  const traefik = options.likeTraefik === true;
  await mkdir(join(options.dir, 'temp'), { recursive: true });
  const port = await freePort();
  const upstream = new URL(options.upstream);
  const config = `
daemon off;
master_process on;
worker_processes 1;
user root;
pid ${join(options.dir, 'nginx.pid')};
error_log stderr notice;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${join(options.dir, 'temp', 'body')};
  proxy_temp_path ${join(options.dir, 'temp', 'proxy')};
  fastcgi_temp_path ${join(options.dir, 'temp', 'fastcgi')};
  uwsgi_temp_path ${join(options.dir, 'temp', 'uwsgi')};
  scgi_temp_path ${join(options.dir, 'temp', 'scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port}${traefik ? ' ssl' : ''};${
      traefik
        ? `
    ssl_certificate ${join(TLS_DIR, 'server.pem')};
    ssl_certificate_key ${join(TLS_DIR, 'server.key')};`
        : ''
    }
    location / {
      proxy_pass http://${upstream.host};
      proxy_http_version 1.1;
${proxyDirectives(traefik)}
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }
  }
}
`;
  const file = join(options.dir, 'nginx.conf');
  await writeFile(file, config);
  const proc = new ManagedProcess(nginxBinary(), ['-p', options.dir, '-c', file], {
    label: 'nginx',
    logFile: join(options.dir, 'nginx.log'),
  });
  const url = `${traefik ? 'https' : 'http'}://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (!proc.running || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`nginx did not start on ${url}:\n${proc.lines.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    port,
    ...(traefik ? { caFile: join(TLS_DIR, 'ca.pem') } : {}),
    stop: async () => void (await proc.stop()),
  };
}

/** A port free at this moment on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** The answer to a raw HTTP/1.1 request. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends one HTTP/1.1 request with exactly the request target given (absolute form, `//`,
 * percent-encodings, `;`), which `fetch` would normalize away.
 */
export function rawRequest(
  url: string,
  request: {
    method: string;
    target: string;
    headers?: Record<string, string>;
    body?: string;
    /** The local address to send from (another loopback address, such as 127.0.0.2). */
    from?: string;
    /**
     * Declare a body of this many bytes but send only the headers: a server must refuse an
     * oversized body by its declared length. (Sending it anyway races the server's close:
     * unread bytes make its kernel reset the connection, which can drop the answer.)
     */
    declaredLength?: number;
  },
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const body = request.body ?? '';
  const headers: Record<string, string> = {
    host: `${hostname}:${port}`,
    connection: 'close',
    ...(body !== '' ? { 'content-type': 'application/json' } : {}),
    'content-length': String(request.declaredLength ?? Buffer.byteLength(body)),
    ...request.headers,
  };
  const text =
    `${request.method} ${request.target} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    `\r\n${request.declaredLength === undefined ? body : ''}`;
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${request.target}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server may answer and close before the whole body is sent (413): the answer counts.
    socket.once('error', (error) => {
      if (chunks.length === 0) reject(error);
    });
    socket.once('close', () => {
      try {
        resolve(parseAnswer(Buffer.concat(chunks)));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.connect(
      {
        port: Number(port),
        host: hostname,
        ...(request.from ? { localAddress: request.from } : {}),
      },
      () => socket.write(text),
    );
  });
}

function parseAnswer(bytes: Buffer): RawAnswer {
  const split = bytes.indexOf('\r\n\r\n');
  if (split < 0)
    throw new Error(`not an HTTP answer: ${JSON.stringify(bytes.toString('utf8', 0, 200))}`);
  const [statusLine = '', ...lines] = bytes.toString('latin1', 0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const index = line.indexOf(':');
    if (index > 0)
      headers[line.slice(0, index).trim().toLowerCase()] = line.slice(index + 1).trim();
  }
  let body = bytes.subarray(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status, headers, body: body.toString('utf8') };
}

function unchunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(bytes.toString('latin1', at, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
