import { crc32, deflateRawSync } from 'node:zlib';
import { splitLines } from './lines';
import { bufferSource } from './bytes';
import { ZipChecksumError, zipEntries, ZipFormatError } from './zip';

/** A one-entry archive, deflated, its name UTF-8-flagged. */
function archive(name: string, content: Buffer, options: { crc?: number; data?: Buffer } = {}): Buffer {
  const data = options.data ?? deflateRawSync(content);
  const nameBytes = Buffer.from(name, 'utf8');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(0x800, 6);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(options.crc ?? crc32(content), 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const entry = Buffer.alloc(46);
  entry.writeUInt32LE(0x02014b50, 0);
  entry.writeUInt16LE(0x800, 8);
  entry.writeUInt16LE(8, 10);
  entry.writeUInt32LE(options.crc ?? crc32(content), 16);
  entry.writeUInt32LE(data.length, 20);
  entry.writeUInt32LE(content.length, 24);
  entry.writeUInt16LE(nameBytes.length, 28);
  entry.writeUInt32LE(0, 42);
  const directory = Buffer.concat([entry, nameBytes]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(30 + nameBytes.length + data.length, 16);
  return Buffer.concat([local, nameBytes, data, directory, end]);
}

const read = async (zip: Buffer) => {
  const lines: string[] = [];
  for await (const line of splitLines((await zipEntries(bufferSource(zip)))[0]!.open()))
    lines.push(line.toString('utf8'));
  return lines;
};

describe('zip entries, streamed', () => {
  const content = Buffer.from(Array.from({ length: 5000 }, (_, index) => `line ${index}`).join('\r\n'));

  it('inflates an entry line by line, CR LF dropped', async () => {
    const zip = archive('业务明细.csv', content);
    expect((await zipEntries(bufferSource(zip))).map((entry) => entry.name)).toEqual(['业务明细.csv']);
    const lines = await read(zip);
    expect(lines).toHaveLength(5000);
    expect(lines[4999]).toBe('line 4999');
  });

  it('an archive cut short has no directory', async () => {
    const zip = archive('a.csv', content);
    await expect(zipEntries(bufferSource(zip.subarray(0, zip.length - 40)))).rejects.toThrow(ZipFormatError);
  });

  it('bytes that are not the CRC-32 fail at the entry end', async () => {
    await expect(read(archive('a.csv', content, { crc: (crc32(content) ^ 1) >>> 0 }))).rejects.toBeInstanceOf(
      ZipChecksumError,
    );
  });

  it('a damaged deflate stream fails the reader (never leaves it waiting)', async () => {
    const data = deflateRawSync(content);
    data.fill(0xff, 10, 40);
    await expect(read(archive('a.csv', content, { data }))).rejects.toThrow();
  });
});
