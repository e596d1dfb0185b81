import { open } from 'node:fs/promises';
import { isErrorCode } from '@flotilla/runtime';
import { MAX_LINE_LENGTH } from '@flotilla/runtime';

/** Lines read from a growing log file, and the byte offset just after them. */
export interface TailChunk {
  lines: string[];
  offset: number;
}

/** Most bytes read per call, so one huge burst of output is forwarded in pieces. */
const MAX_READ_BYTES = 1024 * 1024;
/** A partial line this long (bytes) is forwarded without waiting for its newline. */
const FORCE_FLUSH_BYTES = 64 * 1024;

/**
 * Reads the complete lines written to `file` after `offset`. A partial last line stays
 * unread (its offset is not passed) until its newline arrives, so the offset stored in the
 * journal always falls on a line boundary; `final` reads everything, for when the writer
 * has ended. A missing file reads as empty.
 */
export async function readLogLines(
  file: string,
  offset: number,
  final: boolean,
): Promise<TailChunk> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return { lines: [], offset };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size <= offset) return { lines: [], offset: Math.min(offset, size) };
    const length = Math.min(size - offset, MAX_READ_BYTES);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    const atEnd = offset + bytesRead >= size;
    return splitCompleteLines(buffer.subarray(0, bytesRead), offset, final && atEnd);
  } finally {
    await handle.close();
  }
}

/**
 * Splits bytes read at `offset` into lines: only up to the last newline unless `final`
 * (or a partial line has grown past {@link FORCE_FLUSH_BYTES}); a trailing "\r" is
 * dropped and over-long lines are cut to the protocol's line limit.
 */
export function splitCompleteLines(bytes: Buffer, offset: number, final: boolean): TailChunk {
  let end = bytes.lastIndexOf(0x0a) + 1;
  if (final) end = bytes.length;
  else if (end === 0 && bytes.length >= FORCE_FLUSH_BYTES) end = utf8Boundary(bytes, bytes.length);
  if (end === 0) return { lines: [], offset };
  const text = bytes.subarray(0, end).toString('utf8');
  const parts = text.split('\n');
  if (text.endsWith('\n')) parts.pop();
  const lines: string[] = [];
  for (const part of parts) {
    const line = part.endsWith('\r') ? part.slice(0, -1) : part;
    for (let start = 0; start < line.length || start === 0; start += MAX_LINE_LENGTH) {
      lines.push(line.slice(start, start + MAX_LINE_LENGTH));
    }
  }
  return { lines, offset: offset + end };
}

/** `end`, or less so that the bytes before it do not end in the middle of a UTF-8 character. */
function utf8Boundary(bytes: Buffer, end: number): number {
  for (let back = 1; back <= 4 && end - back >= 0; back++) {
    const byte = bytes[end - back] ?? 0;
    // Continuation bytes look like 0b10xxxxxx; the lead byte tells the character's length.
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return back < length ? end - back : end;
  }
  return end;
}
