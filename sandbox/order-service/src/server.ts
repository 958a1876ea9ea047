import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { z } from 'zod';
import { createLogger, verifySignature, type Logger } from '@payments/platform';
import { orderNotificationSchema } from '@payments/core';
import { OrderBook } from './orders';

/** Sandbox faults (CONTRACT 7): how tests and the demo make this merchant slow, flaky or down. */
const faultsSchema = z
  .strictObject({
    failRate: z.number().min(0).max(1),
    latencyMs: z.number().int().min(0).max(600_000),
    down: z.boolean(),
  })
  .partial();
type Faults = Required<z.infer<typeof faultsSchema>>;
const NO_FAULTS: Faults = { failRate: 0, latencyMs: 0, down: false };

/** These answer even while `down`: tests must be able to bring the service back, supervisors to see it alive. */
const ALWAYS_UP = new Set(['/sandbox/faults', '/healthz']);

type OrderRoute = { Params: { merchantOrderNo: string } };

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}

/**
 * The example order service (CONTRACT 7), the model of a merchant integration: it verifies the
 * signature over the raw body, de-duplicates by eventId, and marks the order paid.
 */
export function buildOrderService(options: { secret: string; log?: Logger }): FastifyInstance {
  const log = options.log ?? createLogger('order-service', 'silent');
  const book = new OrderBook();
  let faults: Faults = { ...NO_FAULTS };
  const app = Fastify({ logger: false });

  // The HMAC covers the exact bytes received: keep JSON bodies as the raw string and parse them ourselves.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (faults.down && !ALWAYS_UP.has(path)) {
      return sendError(reply, 503, 'SERVICE_DOWN', 'the order service is down (sandbox fault)');
    }
  });

  /** Payment-result requests that reached the handler, answered or not (how hard callers push). */
  let received = 0;

  app.post<OrderRoute>('/orders/:merchantOrderNo/payment-result', async (request, reply) => {
    received += 1;
    const { merchantOrderNo } = request.params;
    const refuse = (status: number, code: string, message: string) => {
      log.warn({ merchantOrderNo, outcome: code, status }, message);
      return sendError(reply, status, code, message);
    };
    const rawBody = typeof request.body === 'string' ? request.body : '';

    // Authenticity first: nothing in an unsigned or tampered body is trusted.
    const signature = verifySignature(options.secret, rawBody, header(request, 'x-payment-signature'));
    if (!signature.valid) return refuse(401, 'BAD_SIGNATURE', signature.reason);

    // Sandbox faults come after the check, so a long latencyMs cannot age a fresh signature out of tolerance.
    if (faults.latencyMs > 0) {
      await sleep(faults.latencyMs);
      // The caller gave up (its timeout, or it died): like a service whose work rolls back with
      // the connection, record nothing, so only deliveries a caller saw answered count.
      if (request.raw.socket?.destroyed)
        return refuse(499, 'CLIENT_GONE', 'the caller hung up; nothing recorded');
    }
    if (Math.random() < faults.failRate)
      return refuse(500, 'SANDBOX_FAULT', 'injected failure (sandbox fault)');

    const json = parseJson(rawBody);
    if (!json.ok) return refuse(400, 'VALIDATION_FAILED', 'body is not JSON');
    const parsed = orderNotificationSchema.safeParse(json.value);
    if (!parsed.success) return refuse(400, 'VALIDATION_FAILED', describeIssues(parsed.error));
    const notification = parsed.data;
    if (notification.merchantOrderNo !== merchantOrderNo) {
      return refuse(400, 'VALIDATION_FAILED', 'body merchantOrderNo differs from the path');
    }
    // The header is not signed, so the signed eventId is what we de-duplicate by; a different header is a broken sender.
    const idempotencyKey = header(request, 'idempotency-key');
    if (idempotencyKey !== undefined && idempotencyKey !== notification.eventId) {
      return refuse(400, 'VALIDATION_FAILED', 'Idempotency-Key differs from the body eventId');
    }

    const { order, newEvent } = book.recordPayment(merchantOrderNo, notification.eventId);
    log.info(
      {
        merchantOrderNo,
        eventId: notification.eventId,
        outcome: newEvent ? 'paid' : 'duplicate',
        deliveries: order.deliveries,
      },
      'payment result accepted',
    );
    return order;
  });

  app.get<OrderRoute>('/orders/:merchantOrderNo', async (request, reply) => {
    const order = book.get(request.params.merchantOrderNo);
    return order ?? sendError(reply, 404, 'NOT_FOUND', 'no payment result was ever received for this order');
  });
  app.get('/orders', async () => ({ orders: book.list() }));

  app.get('/sandbox/faults', async () => faults);
  app.put('/sandbox/faults', async (request, reply) => {
    const json =
      typeof request.body === 'string' && request.body !== ''
        ? parseJson(request.body)
        : { ok: true, value: {} };
    if (!json.ok) return sendError(reply, 400, 'VALIDATION_FAILED', 'body is not JSON');
    const parsed = faultsSchema.safeParse(json.value);
    if (!parsed.success) return sendError(reply, 400, 'VALIDATION_FAILED', describeIssues(parsed.error));
    faults = { ...faults, ...parsed.data };
    log.info({ faults }, 'sandbox faults set');
    return faults;
  });
  app.delete('/sandbox/faults', async () => {
    faults = { ...NO_FAULTS };
    return faults;
  });
  app.get('/sandbox/stats', async () => ({ received }));
  app.delete('/sandbox/state', async () => {
    received = 0;
    book.clear();
    return { cleared: true };
  });
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Every answer, framework ones included (413, 415, unknown route), has the error shape of CONTRACT 3.
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `no route ${request.method} ${request.url}`),
  );
  app.setErrorHandler<FastifyError>((error, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) log.error({ err: error }, 'request failed');
    return sendError(reply, status, error.code ?? 'INTERNAL', error.message);
  });
  return app;
}
