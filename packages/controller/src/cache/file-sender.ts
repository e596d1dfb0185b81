import { read } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

export interface SendFileOptions {
  /** Bytes per read and write. */
  chunkBytes?: number;
  /** Buffers in flight: one is read into while the others are being written. */
  buffers?: number;
}

/**
 * Streams the first `size` bytes of an open file as the body of `response` (whose headers,
 * with Content-Length, are already written), then closes the file. Never rejects: a read
 * error or a short file destroys the response, so the client sees a truncated body rather
 * than wrong bytes.
 *
 * Why not `createReadStream().pipe()`: a read stream allocates a new buffer per chunk, and
 * the garbage they leave doubled the controller's CPU per byte in `npm run bench:cache`.
 * Here a few buffers are reused; a buffer is read into again only after the socket has
 * taken all of its previous contents (the write callback), which also bounds memory per
 * download to `buffers × chunkBytes` whatever the client's speed.
 */
export async function sendFile(
  handle: FileHandle,
  size: number,
  response: ServerResponse,
  options: SendFileOptions = {},
): Promise<void> {
  const chunkBytes = Math.max(1, Math.min(options.chunkBytes ?? 512 * 1024, size));
  const buffers = Array.from({ length: options.buffers ?? 2 }, () =>
    Buffer.allocUnsafe(chunkBytes),
  );
  const writes: Promise<void>[] = buffers.map(() => Promise.resolve());
  let closed = false;
  let onClose = (): void => {};
  const whenClosed = new Promise<void>((resolve) => {
    onClose = () => {
      closed = true;
      resolve();
    };
  });
  response.once('close', onClose);
  try {
    let position = 0;
    for (let index = 0; position < size; index = (index + 1) % buffers.length) {
      await Promise.race([writes[index], whenClosed]);
      const buffer = buffers[index];
      if (closed || buffer === undefined) return;
      const length = await readAt(
        handle.fd,
        buffer,
        Math.min(chunkBytes, size - position),
        position,
      );
      if (length === 0) throw new Error(`file ended at byte ${position} of ${size}`);
      position += length;
      const written = write(response, buffer.subarray(0, length));
      // Awaited on the next turn of this buffer; until then a failure must not count as unhandled.
      written.catch(() => undefined);
      writes[index] = written;
    }
    await Promise.race([Promise.all(writes), whenClosed]);
    if (!closed) response.end();
  } catch (error) {
    response.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    response.off('close', onClose);
    await handle.close().catch(() => undefined);
  }
}

/** One positional read with the callback API (less overhead per call than FileHandle.read). */
function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, length, position, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    );
  });
}

/** Resolves once the socket has taken the data (the buffer may then be reused). */
function write(response: ServerResponse, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    response.write(data, (error) => (error ? reject(error) : resolve()));
  });
}
