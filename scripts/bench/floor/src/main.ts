/**
 * The bench's floor (issue 20): the least a gateway can do for one application with the same
 * guards, to measure ours against in the same run. `FLOOR_ROLE=gateway`: a fastify route that
 * takes the order's Redis lock, writes the pay order, attempt and an outbox row in one
 * transaction, calls the provider stub once over a keep-alive connection, writes the pay URL and
 * a second outbox row in another, and releases the lock. `FLOOR_ROLE=stub`: the provider, one
 * JSON answer per call. Never part of the product: `scripts/bench.ts` starts both as processes.
 * Its outbox rows are written as already sent, so the services' relays (running beside it in the
 * bench) never publish them: the floor pays the insert, as a gateway does, and nothing after.
 * `FLOOR_ROLE=notifier` (issue 32.3): the least a delivery to the order service must do, with the
 * notifier's concurrency (prefetch 64): consume a persistent message from a quorum queue, one
 * HMAC-signed POST over a keep-alive connection to the order service, one durable transaction
 * writing a log row and an event row (sent already, as above), one ack. `GET /stats` counts them.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import amqplib from 'amqplib';
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

function floorPool(connectionLimit: number, multipleStatements = false) {
  const url = new URL(process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/payments');
  const pool = createPool({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    connectionLimit,
    timezone: 'Z',
    multipleStatements,
  });
  // As the gateway's pools (UTC_SESSION_SQL in @payments/platform, which the floor does not import):
  // its NOW(3) and our Dates in one time zone, whatever the server's.
  pool.on('connection', (connection) => connection.query("SET time_zone = '+00:00'"));
  return pool;
}

/** One POST of `body` over a keep-alive agent; resolves with the status and the answer's text. */
function post(
  agent: http.Agent,
  target: URL,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      target,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * The notifier's floor: FLOOR_QUEUE (a quorum queue, declared here), prefetch 64, each message a
 * payment.succeeded envelope; per message one signed POST to the order service
 * (`FLOOR_ORDER_SERVICE_URL`, CONTRACT 5's path and signature with FLOOR_ORDER_SERVICE_SECRET), one
 * transaction of the notification_log row and an outbox row in one round trip, then the ack. A
 * refused delivery is nacked back to the queue (the bench counts it).
 */
async function notifier(): Promise<void> {
  const pool = floorPool(20, true);
  const queue = process.env.FLOOR_QUEUE ?? 'floor.notifier';
  const orderService = process.env.FLOOR_ORDER_SERVICE_URL ?? 'http://127.0.0.1:1';
  const secret = process.env.FLOOR_ORDER_SERVICE_SECRET ?? '';
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const stats = { delivered: 0, refused: 0, failed: 0 };
  const connection = await amqplib.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.prefetch(64);
  await channel.consume(queue, (message) => {
    if (!message) return;
    void (async () => {
      try {
        const event = JSON.parse(message.content.toString('utf8')) as {
          eventId: string;
          data: {
            payOrderNo: string;
            merchantOrderNo: string;
            channelOrderNo: string;
            channel: string;
            amount: number;
            currency: string;
            paidAt: string;
          };
        };
        const { data } = event;
        const body = JSON.stringify({
          eventId: event.eventId,
          type: 'payment.succeeded',
          merchantOrderNo: data.merchantOrderNo,
          payOrderNo: data.payOrderNo,
          amount: data.amount,
          currency: data.currency,
          channel: data.channel,
          channelOrderNo: data.channelOrderNo,
          paidAt: data.paidAt,
        });
        const now = Math.floor(Date.now() / 1000);
        const mac = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
        const answer = await post(
          agent,
          new URL(`/orders/${encodeURIComponent(data.merchantOrderNo)}/payment-result`, orderService),
          body,
          { 'idempotency-key': event.eventId, 'x-payment-signature': `t=${now},v1=${mac}` },
        );
        if (answer.status < 200 || answer.status >= 300) {
          stats.refused += 1;
          channel.nack(message, false, true);
          return;
        }
        await pool.query(
          `START TRANSACTION;
           INSERT INTO notification_log (event_id, merchant_order_no, pay_order_no, status, attempts, last_error, delivered_at)
             VALUES (?, ?, ?, 'DELIVERED', 1, NULL, NOW(3));
           INSERT INTO outbox (event_id, event_type, payload, sent_at) VALUES (?, 'floor.notified', ?, NOW(3));
           COMMIT`,
          [
            event.eventId,
            data.merchantOrderNo,
            data.payOrderNo,
            randomUUID(),
            JSON.stringify({ merchantOrderNo: data.merchantOrderNo, notifiedEventId: event.eventId }),
          ],
        );
        channel.ack(message);
        stats.delivered += 1;
      } catch (error) {
        stats.failed += 1;
        process.stderr.write(`floor notifier: ${String(error)}\n`);
        channel.nack(message, false, false);
      }
    })();
  });
  const app = Fastify({ logger: false });
  app.get('/stats', async () => stats);
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.listen({ port, host: '127.0.0.1' });
}

async function gateway(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
    ...(process.env.REDIS_PASSWORD ? { password: process.env.REDIS_PASSWORD } : {}),
  });
  const pool = floorPool(16);
  const stubUrl = new URL('/trades', process.env.FLOOR_STUB_URL);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const callStub = async (body: string) => (await post(agent, stubUrl, body)).text;

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

const role = process.env.FLOOR_ROLE;
(role === 'stub' ? stub() : role === 'notifier' ? notifier() : gateway()).catch((error: unknown) => {
  process.stderr.write(`floor failed: ${String(error)}\n`);
  process.exit(1);
});
