import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ManagedProcess } from '@flotilla/sandbox';

/** An nginx of our own: own config, prefix, pid file and logs; never the system service. */
export interface StaticServer {
  url: string;
  /** The master's pid; its workers are its children. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Installs nginx with apt-get when it is missing and this is a root Debian machine. */
export function ensureNginx(): void {
  if (spawnSync('nginx', ['-v'], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error('nginx is missing: apt-get install nginx');
  console.log('installing nginx (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', 'nginx'], { stdio: 'inherit', env }).status;
  if (install() === 0) return;
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (install() !== 0) throw new Error('apt-get install nginx failed');
}

async function freePort(): Promise<number> {
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

/**
 * Serves `root` as static files on 127.0.0.1 with a typical production setup (sendfile,
 * one worker per core, no access log), in the foreground as our child process.
 */
export async function startNginx(root: string, dir: string): Promise<StaticServer> {
  await mkdir(join(dir, 'temp'), { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  // Workers run as the invoking user: the cache directory is private to the controller's
  // user (mode 0700, it holds the signing key), and as root nginx would switch to nobody.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const temp = (name: string) => join(dir, 'temp', name);
  await writeFile(
    conf,
    `daemon off;
${user}worker_processes auto;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  types { text/x-nix-narinfo narinfo; application/x-nix-nar nar zst xz; }
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`,
  );
  // -e: the startup error log, so nginx never opens the system's /var/log/nginx.
  const proc = new ManagedProcess('nginx', ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf], {
    label: 'nginx',
    logFile: join(dir, 'nginx.out'),
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`${url}/nix-cache-info`);
      break;
    } catch (error) {
      if (!proc.running || Date.now() > deadline) {
        await proc.stop();
        throw new Error(`nginx did not start: ${String(error)}\n${proc.lines.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { url, pid: proc.pid, stop: async () => void (await proc.stop()) };
}
