/**
 * A statement is never held whole (issue 29.4): a sandbox statement of about 192 MiB, served as a
 * stream, is fetched, read line by line and its raw bytes read again (as a run's first pass and its
 * store do) in a child process whose peak RSS may grow by 64 MiB at most: a statement held in a
 * Buffer (or its lines in an array) would add its whole size. The spool is gone once disposed of.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

const LINES = 200_000;
/** Each line about 1 KiB: the file is large while its lines stay few enough to parse quickly. */
const PAD = 'x'.repeat(880);
const BUDGET_MIB = 64;

function* statementChunks(): Generator<string> {
  let batch = '';
  for (let i = 0; i < LINES; i += 1) {
    batch += `{"type":"payment","tradeNo":"sbx_mem_${i}_${PAD}","channelOrderNo":"co_mem_${i}","amount":100,"currency":"CNY","fee":1,"at":"2026-11-30T12:00:00.000Z"}\n`;
    if (batch.length >= 256 * 1024) {
      yield batch;
      batch = '';
    }
  }
  yield `${batch}${JSON.stringify({ type: 'summary', date: '2026-11-30', lines: LINES, totals: { CNY: { payments: LINES * 100, refunds: 0, fees: LINES } } })}\n`;
}

describe('a statement is streamed, never held whole', () => {
  let server: Server;
  let url: string;
  let sha256: string;
  let size = 0;

  beforeAll(async () => {
    const hash = createHash('sha256');
    for (const chunk of statementChunks()) {
      hash.update(chunk);
      size += Buffer.byteLength(chunk);
    }
    sha256 = hash.digest('hex');
    server = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-statement-sha256': sha256 });
      const chunks = statementChunks();
      const more = () => {
        for (let next = chunks.next(); !next.done; next = chunks.next())
          if (!response.write(next.value)) return void response.once('drain', more);
        response.end();
      };
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it(`fetches, reads and re-reads a ${LINES}-line statement (~192 MiB) within ${BUDGET_MIB} MiB more peak RSS`, async () => {
    expect(size).toBeGreaterThan(3 * BUDGET_MIB * 1048576);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--max-semi-space-size=8',
        '--max-old-space-size=256',
        '-r',
        'tsx/cjs',
        join(__dirname, 'statement-memory-child.ts'),
        url,
      ],
      { timeout: 120_000, maxBuffer: 1 << 20 },
    );
    const result = JSON.parse(stdout.trim()) as {
      before: number;
      peak: number;
      lines: number;
      bytes: number;
      spool: string;
      summary: { lines: number };
    };
    expect(result).toMatchObject({ lines: LINES, bytes: size, summary: { lines: LINES } });
    expect(result.peak - result.before).toBeLessThan(BUDGET_MIB);
    expect(existsSync(result.spool)).toBe(false);
  }, 180_000);
});
