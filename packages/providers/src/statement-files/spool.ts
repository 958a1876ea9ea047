/**
 * A statement as downloaded, spooled to a temporary file of its own while its SHA-256 is taken (and
 * any check of the provider's, tapped on the same bytes), so a statement of any size is held on
 * disk, never whole in memory; read back as streams as often as the run needs, and removed once
 * the run is over (or at once, when its fetch fails).
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { RawStatement } from '@payments/core';
import { fileSource, type ByteSource } from './bytes';

export class Spool implements RawStatement, ByteSource {
  private removed = false;
  private readonly file: ByteSource;

  constructor(
    readonly path: string,
    readonly byteLength: number,
    readonly sha256: string,
  ) {
    this.file = fileSource(path, byteLength);
  }

  /** The bytes from `start` to `end` (exclusive; default: all), streamed from the file. */
  open(start = 0, end = this.byteLength): Readable {
    return this.file.open(start, end);
  }

  /** `length` bytes at `position` (fewer at the end of the file), read at once. */
  read(position: number, length: number): Promise<Buffer> {
    return this.file.read(position, length);
  }

  /** Removes the file (once; again is a no-op). */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await rm(this.path, { force: true });
  }
}

/** Writes a spool chunk by chunk (backpressure respected), hashing as it goes. */
export class SpoolWriter {
  private readonly hash = createHash('sha256');
  private readonly file;
  private length = 0;
  private readonly failed: Promise<never>;

  constructor(
    readonly path: string,
    private readonly tap: (chunk: Buffer) => void = () => {},
  ) {
    this.file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    this.failed = new Promise<never>((_, reject) => this.file.once('error', reject));
    this.failed.catch(() => {});
  }

  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.tap(chunk);
    this.length += chunk.length;
    if (!this.file.write(chunk)) await Promise.race([once(this.file, 'drain'), this.failed]);
  }

  async finish(): Promise<Spool> {
    this.file.end();
    await Promise.race([once(this.file, 'finish'), this.failed]);
    return new Spool(this.path, this.length, this.hash.digest('hex'));
  }

  /** The download failed: the file is removed. */
  async abandon(): Promise<void> {
    this.file.destroy();
    await rm(this.path, { force: true });
  }
}

/** A fresh spool file's path for one provider's statement of a day, in the system's temporary directory. */
export function spoolPath(provider: string, date: string): string {
  return join(tmpdir(), `statement-${provider}-${date}-${randomUUID()}`);
}

/**
 * A stream of bytes (a download's body) spooled whole, each chunk also given to `tap`; removed
 * again when reading the stream fails. The bytes are copied into the spool as they come.
 */
export async function spoolStream(
  provider: string,
  date: string,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  tap?: (chunk: Buffer) => void,
): Promise<Spool> {
  const writer = new SpoolWriter(spoolPath(provider, date), tap);
  try {
    for await (const chunk of source)
      await writer.write(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
      );
    return await writer.finish();
  } catch (error) {
    await writer.abandon();
    throw error;
  }
}

/** Runs `check` over a spool; when it throws (a wrong hash, an unreadable file), the spool is removed first. */
export async function removedOnFailure<T>(spool: Spool, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    await spool.remove();
    throw error;
  }
}
