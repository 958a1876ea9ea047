/**
 * The bench's floor (issue 20): the least a gateway can do for one application with the same
 * guards, to measure ours against in the same run. `FLOOR_ROLE=gateway`: a fastify route that
 * takes the order's Redis lock, writes the pay order, attempt and an outbox row in one
 * transaction, calls the provider stub once over a keep-alive connection, writes the pay URL and
 * a second outbox row in another, and releases the lock. `FLOOR_ROLE=stub`: the provider, one
 * JSON answer per call. Never part of the product: `scripts/bench.ts` starts both as processes.
 * Its outbox rows are written as already sent, so the services' relays (running beside it in the
 * bench) never publish them: the floor pays the insert, as a gateway does, and nothing after.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import Fastify from 'fastify';
import Redis from 'ioredis';
import { createPool } from 'mysql2/promise';

const port = Number(process.env.FLOOR_PORT ?? 0);

async function stub(): Promise<void> {
  const app = Fastify({ logger: false });
  app.post('/trades', async (request) => ({
    channelOrderNo: (request.body as { channelOrderNo: string }).channelOrderNo,
    payUrl: `http://stub.invalid/pay/${(request.body as { channelOrderNo: string }).channelOrderNo}`,
    status: 'WAITING',
  }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.listen({ port, host: '127.0.0.1' });
}

const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

async function gateway(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
    ...(process.env.REDIS_PASSWORD ? { password: process.env.REDIS_PASSWORD } : {}),
  });
  const url = new URL(process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/payments');
  const pool = createPool({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    connectionLimit: 16,
    timezone: 'Z',
  });
  // As the gateway's pools (UTC_SESSION_SQL in @payments/platform, which the floor does not import):
  // its NOW(3) and our Dates in one time zone, whatever the server's.
  pool.on('connection', (connection) => connection.query("SET time_zone = '+00:00'"));
  const stubUrl = new URL('/trades', process.env.FLOOR_STUB_URL);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const callStub = (body: string) =>
    new Promise<string>((resolve, reject) => {
      const request = http.request(
        stubUrl,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
      request.end(body);
    });

  const app = Fastify({ logger: false });
  app.post('/v1/payments', async (request, reply) => {
    const body = request.body as {
      merchantOrderNo: string;
      amount: number;
      currency: string;
      channel: string;
      subject: string;
    };
    const lock = `floor:lock:${body.merchantOrderNo}`;
    const token = randomBytes(16).toString('hex');
    if ((await redis.set(lock, token, 'PX', 15_000, 'NX')) !== 'OK')
      return reply.code(409).send({ error: 'locked' });
    try {
      const payOrderNo = `po_${randomBytes(10).toString('hex')}`;
      const channelOrderNo = `co_${randomBytes(10).toString('hex')}`;
      const expireAt = new Date(Date.now() + 15 * 60_000);
      const connection = await pool.getConnection();
      let attemptId: number;
      try {
        await connection.beginTransaction();
        const [order] = (await connection.query(
          `INSERT INTO pay_order (pay_order_no, merchant_order_no, amount, currency, subject, status, expire_at, version)
           VALUES (?, ?, ?, ?, ?, 'PAYING', ?, 1)`,
          [payOrderNo, body.merchantOrderNo, body.amount, body.currency, body.subject, expireAt],
        )) as [{ insertId: number }, unknown];
        const [attempt] = (await connection.query(
          `INSERT INTO channel_order (channel_order_no, pay_order_id, merchant_order_no, channel, amount, currency, status,
             inflight_key, expire_at, next_poll_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, 'PAYING', ?, ?, ?, NOW(3))`,
          [
            channelOrderNo,
            order.insertId,
            body.merchantOrderNo,
            body.channel,
            body.amount,
            body.currency,
            `${order.insertId}:${body.channel}`,
            expireAt,
            expireAt,
          ],
        )) as [{ insertId: number }, unknown];
        attemptId = attempt.insertId;
        await connection.query(
          'INSERT INTO outbox (event_id, event_type, payload, sent_at) VALUES (?, ?, ?, NOW(3))',
          [randomUUID(), 'floor.created', JSON.stringify({ channelOrderNo })],
        );
        await connection.commit();
        const answer = JSON.parse(
          await callStub(JSON.stringify({ channelOrderNo, amount: body.amount })),
        ) as { payUrl: string };
        await connection.beginTransaction();
        await connection.query(
          "UPDATE channel_order SET pay_url = ?, pay_action_type = 'redirect' WHERE id = ?",
          [answer.payUrl, attemptId],
        );
        await connection.query(
          'INSERT INTO outbox (event_id, event_type, payload, sent_at) VALUES (?, ?, ?, NOW(3))',
          [randomUUID(), 'floor.payable', JSON.stringify({ channelOrderNo })],
        );
        await connection.commit();
        return reply.code(201).send({ payOrderNo, attempt: { channelOrderNo, payUrl: answer.payUrl } });
      } catch (error) {
        await connection.rollback().catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    } finally {
      await redis.eval(RELEASE, 1, lock, token);
    }
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.listen({ port, host: '127.0.0.1' });
}

(process.env.FLOOR_ROLE === 'stub' ? stub() : gateway()).catch((error: unknown) => {
  process.stderr.write(`floor failed: ${String(error)}\n`);
  process.exit(1);
});
