/**
 * The entries of a zip archive held in a Buffer (Alipay's bill is one), each read as a stream:
 * the central directory names them, each entry's data is inflated as it is read and its CRC-32
 * checked at its end. Stored (0) and deflated (8) entries only, as the bill uses; no zip64.
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import { chunksOf } from './lines';

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

export function zipEntries(archive: Buffer): ZipEntry[] {
  // The end-of-directory record is in the last 22 + 65535 (comment) bytes.
  let end = -1;
  for (let at = archive.length - 22; at >= Math.max(0, archive.length - 22 - 0xffff); at -= 1)
    if (archive.readUInt32LE(at) === END_OF_DIRECTORY) {
      end = at;
      break;
    }
  if (end < 0) throw new ZipFormatError('not a zip archive (no end of central directory: truncated?)');
  const count = archive.readUInt16LE(end + 10);
  const directorySize = archive.readUInt32LE(end + 12);
  let at = archive.readUInt32LE(end + 16);
  if (at + directorySize > end) throw new ZipFormatError('central directory outside the archive');
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    if (archive.readUInt32LE(at) !== DIRECTORY_ENTRY) throw new ZipFormatError('damaged central directory');
    const flags = archive.readUInt16LE(at + 8);
    const method = archive.readUInt16LE(at + 10);
    const crc = archive.readUInt32LE(at + 16);
    const compressedSize = archive.readUInt32LE(at + 20);
    const size = archive.readUInt32LE(at + 24);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const localAt = archive.readUInt32LE(at + 42);
    const rawName = archive.subarray(at + 46, at + 46 + nameLength);
    // Bit 11: the name is UTF-8; otherwise it is in the archiver's code page (GBK for Alipay's bills).
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'gbk').decode(rawName);
    at += 46 + nameLength + extraLength + commentLength;
    if (method !== 0 && method !== 8) throw new ZipFormatError(`${name}: compression method ${method}`);
    if (archive.readUInt32LE(localAt) !== LOCAL_HEADER) throw new ZipFormatError(`${name}: no local header`);
    const dataAt = localAt + 30 + archive.readUInt16LE(localAt + 26) + archive.readUInt16LE(localAt + 28);
    if (dataAt + compressedSize > archive.length)
      throw new ZipFormatError(`${name}: data past the archive's end`);
    const data = archive.subarray(dataAt, dataAt + compressedSize);
    entries.push({
      name,
      open: () => {
        // pipeline, not pipe: an inflate error must reach the reader (pipe would leave it waiting).
        const check = checked(name, crc, size);
        const ignore = () => {};
        return method === 8
          ? pipeline(chunksOf(data), createInflateRaw(), check, ignore)
          : pipeline(chunksOf(data), check, ignore);
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
