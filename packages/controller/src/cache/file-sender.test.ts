import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sendFile } from './file-sender.js';

describe('sendFile', () => {
  let dir: string;
  let file: string;
  const content = randomBytes(1024 * 1024 + 12345);
  let server: Server;
  let url: string;
  const handles: FileHandle[] = [];
  const finished: Promise<void>[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-send-'));
    file = join(dir, 'blob');
    await writeFile(file, content);
    server = createServer((request, response) => {
      finished.push(
        (async () => {
          const handle = await open(file, 'r');
          handles.push(handle);
          // ?size= claims a size larger than the file, to exercise the short-file path.
          const size = Number(
            new URL(request.url ?? '/', 'http://x').searchParams.get('size') ?? content.length,
          );
          response.writeHead(200, { 'content-length': size });
          await sendFile(handle, size, response, { chunkBytes: 64 * 1024, buffers: 3 });
        })(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const download = (path = ''): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      get(`${url}${path}`, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(Buffer.concat(chunks)));
        response.on('error', reject);
      }).on('error', reject);
    });

  it('sends the whole file to several clients at once, byte for byte, and closes it', async () => {
    const bodies = await Promise.all(Array.from({ length: 6 }, () => download()));
    for (const body of bodies) assert.ok(body.equals(content));
    await Promise.all(finished);
    for (const handle of handles) assert.equal(handle.fd, -1, 'file closed');
  });

  it('cuts the response short instead of sending wrong bytes when the file is shorter', async () => {
    await assert.rejects(
      download(`?size=${content.length + 10}`),
      /aborted|socket hang up|ECONNRESET/,
    );
    await Promise.all(finished);
    assert.equal(handles.at(-1)?.fd, -1);
  });

  it('stops reading and closes the file when the client goes away', async () => {
    await new Promise<void>((resolve, reject) => {
      const request = get(url, (response) => {
        response.once('data', () => {
          request.destroy();
          resolve();
        });
      });
      request.on('error', () => undefined);
      setTimeout(() => reject(new Error('no data')), 5000).unref();
    });
    await Promise.all(finished);
    assert.equal(handles.at(-1)?.fd, -1);
  });
});
