/** A statement's raw bytes as its readers take them: read at random places, or streamed from one to another. */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { chunksOf } from './lines';

/** Bytes per read of a file: large enough that a read is cheap, small enough to hold a few. */
const READ_BYTES = 256 * 1024;

/**
 * Bytes per chunk out of a decompressor (gunzip, inflate): fewer, larger chunks than zlib's 16 KiB
 * default, since a statement of a million lines is hundreds of MiB unpacked and every chunk costs
 * its line splitting a copy of the line it cuts.
 */
export const INFLATED_CHUNK_BYTES = 128 * 1024;

/** Bytes read at random places (a spooled file, or a Buffer in a test). */
export interface ByteSource {
  readonly byteLength: number;
  /** `length` bytes at `position` (fewer at the end). */
  read(position: number, length: number): Promise<Buffer>;
  /** The bytes from `start` to `end` (exclusive), streamed. */
  open(start: number, end: number): Readable;
}

/** A Buffer as a ByteSource. */
export function bufferSource(bytes: Buffer): ByteSource {
  return {
    byteLength: bytes.length,
    read: async (position, length) => bytes.subarray(position, position + length),
    open: (start, end) => chunksOf(bytes.subarray(start, end)),
  };
}

/** A file of `byteLength` bytes as a ByteSource, read where asked, never held. */
export function fileSource(path: string, byteLength: number): ByteSource {
  return {
    byteLength,
    async read(position, length) {
      const handle = await open(path, 'r');
      try {
        const bytes = Buffer.alloc(Math.max(0, Math.min(length, byteLength - position)));
        let read = 0;
        while (read < bytes.length) {
          const { bytesRead } = await handle.read(bytes, read, bytes.length - read, position + read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        return bytes.subarray(0, read);
      } finally {
        await handle.close();
      }
    },
    open: (start, end) =>
      end <= start
        ? Readable.from([])
        : createReadStream(path, { start, end: end - 1, highWaterMark: READ_BYTES }),
  };
}
