/**
 * The entries of a zip archive (Alipay's bill is one) in a file or a Buffer, each read as a stream:
 * the central directory names them (read from the archive's end), each entry's data is inflated
 * as it is read from its place and its CRC-32 checked at its end. Stored (0) and deflated (8)
 * entries only, as the bill uses; no zip64.
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import { INFLATED_CHUNK_BYTES, type ByteSource } from './bytes';

export type { ByteSource } from './bytes';

export interface ZipEntry {
  name: string;
  /** The entry's bytes, inflated as read; errors at the end if its CRC-32 or length is not the directory's. */
  open(): Readable;
}

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

export class ZipFormatError extends Error {}
/** An entry's bytes are not the ones its directory's CRC-32 (or length) was made over. */
export class ZipChecksumError extends ZipFormatError {}

export async function zipEntries(source: ByteSource): Promise<ZipEntry[]> {
  // The end-of-directory record is in the last 22 + 65535 (comment) bytes.
  const tailAt = Math.max(0, source.byteLength - 22 - 0xffff);
  const tail = await source.read(tailAt, source.byteLength - tailAt);
  let endAt = -1;
  for (let at = tail.length - 22; at >= 0; at -= 1)
    if (tail.readUInt32LE(at) === END_OF_DIRECTORY) {
      endAt = at;
      break;
    }
  if (endAt < 0) throw new ZipFormatError('not a zip archive (no end of central directory: truncated?)');
  const count = tail.readUInt16LE(endAt + 10);
  const directorySize = tail.readUInt32LE(endAt + 12);
  const directoryAt = tail.readUInt32LE(endAt + 16);
  if (directoryAt + directorySize > tailAt + endAt)
    throw new ZipFormatError('central directory outside the archive');
  const directory = await source.read(directoryAt, directorySize);
  let at = 0;
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== DIRECTORY_ENTRY)
      throw new ZipFormatError('damaged central directory');
    const flags = directory.readUInt16LE(at + 8);
    const method = directory.readUInt16LE(at + 10);
    const crc = directory.readUInt32LE(at + 16);
    const compressedSize = directory.readUInt32LE(at + 20);
    const size = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const localAt = directory.readUInt32LE(at + 42);
    const rawName = directory.subarray(at + 46, at + 46 + nameLength);
    // Bit 11: the name is UTF-8; otherwise it is in the archiver's code page (GBK for Alipay's bills).
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'gbk').decode(rawName);
    at += 46 + nameLength + extraLength + commentLength;
    if (method !== 0 && method !== 8) throw new ZipFormatError(`${name}: compression method ${method}`);
    const local = await source.read(localAt, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_HEADER)
      throw new ZipFormatError(`${name}: no local header`);
    const dataAt = localAt + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataAt + compressedSize > source.byteLength)
      throw new ZipFormatError(`${name}: data past the archive's end`);
    entries.push({
      name,
      open: () => {
        // pipeline, not pipe: an inflate error must reach the reader (pipe would leave it waiting).
        const check = checked(name, crc, size);
        const data = source.open(dataAt, dataAt + compressedSize);
        const ignore = () => {};
        return method === 8
          ? pipeline(data, createInflateRaw({ chunkSize: INFLATED_CHUNK_BYTES }), check, ignore)
          : pipeline(data, check, ignore);
      },
    });
  }
  return entries;
}

/** Passes the bytes through, failing at the end when their CRC-32 or length differs from the directory's. */
function checked(name: string, expectedCrc: number, expectedSize: number): Transform {
  let crc = 0;
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(
        crc === expectedCrc && size === expectedSize
          ? null
          : new ZipChecksumError(`${name}: CRC-32 or length differs from the archive's directory`),
      );
    },
  });
}
