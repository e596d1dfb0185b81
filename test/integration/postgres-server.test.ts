import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { PostgresNotInstalledError, startPostgres } from '@flotilla/sandbox';

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('a throwaway PostgreSQL server of its own', { timeout: 120_000 }, () => {
  it('accepts connections once started and leaves nothing behind once stopped', async () => {
    const server = await startPostgres();
    const url = new URL(server.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(url.username, 'postgres');
    assert.match(server.version, /^\d+$/);
    try {
      assert.equal(await accepts(Number(url.port)), true);
      await access(server.dir);
    } finally {
      await server.stop();
    }
    assert.equal(await accepts(Number(url.port)), false, 'the server is down');
    await assert.rejects(access(server.dir), { code: 'ENOENT' }, 'its directory is removed');
    await server.stop();
  });

  it('says what to install when the server binaries are missing', async () => {
    await assert.rejects(
      startPostgres({ binDir: '/nonexistent/postgresql/bin' }),
      (error: unknown) =>
        error instanceof PostgresNotInstalledError &&
        /apt-get install postgresql/.test(error.message),
    );
  });
});
