import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { run } from './nix.js';

/** A TLS-terminating proxy in front of a plain-HTTP controller, as production puts one. */
export interface TlsProxy {
  /** `https://HOST:PORT` of the proxy. */
  url: string;
  /** The proxy's self-signed certificate (PEM), to trust as an agent's `--ca-file`. */
  caFile: string;
  /** `sha256//<base64>` of the certificate's public key, for `--certificate-pin`. */
  pin: string;
  close(): Promise<void>;
}

/**
 * Starts a TLS proxy on `host` (port 0: any free one) that forwards every connection to
 * `target()` (asked per connection, so the target may start after the proxy). Its
 * certificate is made with `openssl` for that one IP address and is valid for a day.
 */
export async function startTlsProxy(options: {
  host: string;
  dir: string;
  target: () => { host: string; port: number };
}): Promise<TlsProxy> {
  await mkdir(options.dir, { recursive: true });
  const keyFile = join(options.dir, 'proxy-key.pem');
  const caFile = join(options.dir, 'proxy-cert.pem');
  const made = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=flotilla-test-proxy',
    '-addext',
    `subjectAltName=IP:${options.host}`,
    '-keyout',
    keyFile,
    '-out',
    caFile,
  ]);
  if (made.code !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
  const cert = await readFile(caFile, 'utf8');
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  const pin = `sha256//${createHash('sha256').update(spki).digest('base64')}`;
  const sockets = new Set<Socket | TLSSocket>();
  const server: Server = createServer({ key: await readFile(keyFile), cert }, (client) => {
    const target = options.target();
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://${options.host}:${port}`,
    caFile,
    pin,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
