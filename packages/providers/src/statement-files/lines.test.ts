import { splitLines } from './lines';

async function* chunked(bytes: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    yield bytes.subarray(at, cut);
    at = cut;
  }
}

async function linesOf(bytes: Buffer, cuts: number[]): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of splitLines(chunked(bytes, cuts))) lines.push(line.toString('utf8'));
  return lines;
}

/** A deterministic generator (mulberry32): the same cuts on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('a statement file split into lines, whatever its chunks', () => {
  const text = 'header,a\r\n`1,`x\n\n`2,`y,z\r\n`3\nlast line, no newline';
  const expected = ['header,a', '`1,`x', '', '`2,`y,z', '`3', 'last line, no newline'];

  it('one chunk, a chunk per byte, and a CRLF cut between its two bytes', async () => {
    const bytes = Buffer.from(text);
    expect(await linesOf(bytes, [])).toEqual(expected);
    expect(
      await linesOf(
        bytes,
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      ),
    ).toEqual(expected);
    expect(await linesOf(bytes, [text.indexOf('\r') + 1])).toEqual(expected);
    // Empty chunks, and a chunk holding no line end at all.
    expect(await linesOf(bytes, [0, 3, 3, 5, text.length - 4])).toEqual(expected);
  });

  it('multi-byte characters cut anywhere come out whole', async () => {
    const chinese = '交易时间,商户订单号\n`2026-11-30 10:00:00,`co_1\n`合计\n';
    const bytes = Buffer.from(chinese);
    const next = random(29);
    for (let round = 0; round < 200; round += 1) {
      const cuts = [
        ...new Set(
          Array.from({ length: 1 + Math.floor(next() * 8) }, () => Math.floor(next() * bytes.length)),
        ),
      ].sort((a, b) => a - b);
      expect(await linesOf(bytes, cuts)).toEqual([
        '交易时间,商户订单号',
        '`2026-11-30 10:00:00,`co_1',
        '`合计',
      ]);
    }
  });
});
