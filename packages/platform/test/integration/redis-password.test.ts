/**
 * REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD (issue 27.12) against real servers: a redis-server
 * with `requirepass` and a Sentinel with a `requirepass` of its own, both started (and stopped)
 * by this test on free ports, from the locally installed binaries.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type Redis from 'ioredis';
import { createLogger, createRedis, loadConfig, redisReady, redisTarget } from '@payments/platform';
import { eventually } from '@payments/testkit';

const DATA_PASSWORD = 'data-n0de-pass';
const SENTINEL_PASSWORD = 'sentinel-0wn-pass';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** PING through a client made as the services make theirs; the error text when refused. */
async function ping(env: Record<string, string>): Promise<string> {
  const redis: Redis = createRedis(redisTarget(loadConfig(env)));
  let lastError = '';
  redis.on('error', (error: Error) => (lastError = error.message));
  try {
    await redisReady(redis, 3000);
    return await redis.ping();
  } catch (error) {
    return `refused: ${(error as Error).message} ${lastError}`;
  } finally {
    redis.disconnect();
  }
}

describe('Redis with passwords (real redis-server and redis-sentinel)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redis-auth-'));
  const children: ChildProcess[] = [];
  let dataPort: number;
  let sentinelPort: number;

  beforeAll(async () => {
    dataPort = await freePort();
    sentinelPort = await freePort();
    children.push(
      spawn(
        'redis-server',
        ['--port', String(dataPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'].concat([
          '--requirepass',
          DATA_PASSWORD,
          '--dir',
          dir,
        ]),
        { stdio: 'ignore' },
      ),
    );
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `requirepass ${SENTINEL_PASSWORD}`,
        `sentinel monitor mymaster 127.0.0.1 ${dataPort} 1`,
        `sentinel auth-pass mymaster ${DATA_PASSWORD}`,
        '',
      ].join('\n'),
    );
    children.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
    await eventually('redis-server answers', async () =>
      (await ping({ REDIS_URL: `redis://127.0.0.1:${dataPort}/0`, REDIS_PASSWORD: DATA_PASSWORD })) === 'PONG'
        ? true
        : undefined,
    );
  });

  afterAll(() => {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a single Redis: refused without REDIS_PASSWORD, served with it', async () => {
    const url = `redis://127.0.0.1:${dataPort}/0`;
    expect(await ping({ REDIS_URL: url })).toMatch(/refused: .*NOAUTH/);
    expect(await ping({ REDIS_URL: url, REDIS_PASSWORD: 'wrong' })).toMatch(/refused: .*WRONGPASS/);
    expect(await ping({ REDIS_URL: url, REDIS_PASSWORD: DATA_PASSWORD })).toBe('PONG');
  });

  it('Sentinels: each password where it belongs, both needed', async () => {
    const sentinels = { REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'mymaster' };
    await eventually(
      'the Sentinel serves the primary',
      async () =>
        (await ping({
          ...sentinels,
          REDIS_PASSWORD: DATA_PASSWORD,
          REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
        })) === 'PONG' || undefined,
    );
    // Without the Sentinels' password no primary is named; without the data nodes' it refuses AUTH.
    expect(await ping({ ...sentinels, REDIS_PASSWORD: DATA_PASSWORD })).toMatch(/refused/);
    expect(await ping({ ...sentinels, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD })).toMatch(
      /refused: .*NOAUTH/,
    );
    // The data nodes' password is not the Sentinels': each is used only where it belongs.
    expect(
      await ping({ ...sentinels, REDIS_PASSWORD: SENTINEL_PASSWORD, REDIS_SENTINEL_PASSWORD: DATA_PASSWORD }),
    ).toMatch(/refused/);
  });

  it('never logs either password', () => {
    let written = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const log = createLogger('redis-auth', 'info', sink);
    const config = loadConfig({
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_PASSWORD: DATA_PASSWORD,
      REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
    });
    log.info({ config, target: redisTarget(config) }, 'configuration');
    expect(written).toContain('REDIS_PASSWORD');
    expect(written).not.toContain(DATA_PASSWORD);
    expect(written).not.toContain(SENTINEL_PASSWORD);
  });
});
