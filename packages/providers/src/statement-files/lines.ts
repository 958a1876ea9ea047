/**
 * A statement file read line by line from a stream of chunks: one line's bytes at a time (the
 * `\r\n` or `\n` dropped), so a file of a million lines is never held as lines.
 */
import { Readable } from 'node:stream';

export async function* splitLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    let start = 0;
    let end = chunk.indexOf(0x0a);
    if (end === -1) {
      rest = Buffer.concat([rest, chunk]);
      continue;
    }
    // Only the line begun in the chunk before is joined; the rest are views of this chunk.
    yield withoutCarriageReturn(
      rest.length > 0 ? Buffer.concat([rest, chunk.subarray(0, end)]) : chunk.subarray(0, end),
    );
    for (start = end + 1, end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
      yield withoutCarriageReturn(chunk.subarray(start, end));
      start = end + 1;
    }
    // Copied: a subarray would keep the whole chunk alive.
    rest = Buffer.from(chunk.subarray(start));
  }
  if (rest.length > 0) yield withoutCarriageReturn(rest);
}

function withoutCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
}

/** A Buffer as a stream of 64 KiB chunks, so a pipeline over it works as over a download. */
export function chunksOf(raw: Buffer, size = 64 * 1024): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= raw.length) return void this.push(null);
      this.push(raw.subarray(offset, offset + size));
      offset += size;
    },
  });
}
