import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  ApiError,
  applyRequestSchema,
  describeZodError,
  merchantOrderNoSchema,
  registerOpsRoutes,
  type ReadinessCheck,
  type Registry,
} from '@payments/common';
import type { GatewayDeps } from '../deps';
import { applyPayment } from '../operations/apply-payment';
import { closePayment } from '../operations/close-payment';
import { getPayment } from '../operations/get-payment';
import { receiveCallback } from '../operations/receive-callback';
import { toApiError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

const BODY_LIMIT = 16 * 1024;

function merchantOrderNoOf(request: FastifyRequest): string {
  const parsed = merchantOrderNoSchema.safeParse(
    (request.params as { merchantOrderNo?: string }).merchantOrderNo,
  );
  if (!parsed.success)
    throw new ApiError('VALIDATION_FAILED', `merchantOrderNo: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** The merchant API (CONTRACT 3), provider callbacks, and the ops routes. */
export function buildHttpServer(
  deps: GatewayDeps,
  registry: Registry,
  ready: ReadinessCheck,
): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });

  // Keep the raw body: callbacks are verified over the exact bytes received.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    if ((body as string).length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ApiError('VALIDATION_FAILED', 'body: not valid JSON'), undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    // An oversized or non-JSON body is bad input like any other (CONTRACT 3: body ≤ 16 KiB, JSON).
    if (!(error instanceof ApiError) && fastifyError.statusCode === 413) {
      return reply
        .code(400)
        .send(new ApiError('VALIDATION_FAILED', `body: larger than ${BODY_LIMIT} bytes`).toBody());
    }
    if (!(error instanceof ApiError) && fastifyError.statusCode === 415) {
      return reply
        .code(400)
        .send(new ApiError('VALIDATION_FAILED', 'body: must be application/json').toBody());
    }
    const apiError = toApiError(error);
    if (apiError.status >= 500 && apiError.status !== 502)
      deps.log.warn({ err: fastifyError.message, url: request.url }, 'request failed');
    return reply.code(apiError.status).send(apiError.toBody());
  });

  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/payments')) return;
    const header = request.headers.authorization ?? '';
    const key = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!deps.config.API_KEYS.includes(key)) {
      throw new ApiError('UNAUTHORIZED', 'missing or unknown API key');
    }
  });

  app.post('/v1/payments', async (request, reply) => {
    const parsed = applyRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      deps.metrics.applied.inc({ result: 'VALIDATION_FAILED' });
      throw new ApiError('VALIDATION_FAILED', describeZodError(parsed.error));
    }
    try {
      const answer = await applyPayment(deps, parsed.data);
      deps.metrics.applied.inc({ result: answer.status === 201 ? 'created' : 'reused' });
      return reply.code(answer.status).send(answer.body);
    } catch (error) {
      deps.metrics.applied.inc({ result: toApiError(error).code });
      throw error;
    }
  });

  app.get('/v1/payments/:merchantOrderNo', async (request) => getPayment(deps, merchantOrderNoOf(request)));

  app.post('/v1/payments/:merchantOrderNo/close', async (request) =>
    closePayment(deps, merchantOrderNoOf(request)),
  );

  app.post('/v1/notify/:channel', async (request, reply) => {
    const { channel } = request.params as { channel: string };
    const answer = await receiveCallback(deps, channel, request.rawBody ?? '', request.headers);
    return reply.code(answer.status).send(answer.body);
  });

  registerOpsRoutes(app, registry, ready);
  return app;
}
