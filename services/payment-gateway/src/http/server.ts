import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  APPLY_BODY_LIMIT,
  DuplicateKeyError,
  errorMessage,
  parseStrictJson,
  reachedOpsAddress,
  registerOpsRoutes,
  type ReadinessCheck,
  type Registry,
} from '@payments/platform';
import { ApiError, applyRequestSchema, describeZodError, merchantOrderNoSchema } from '@payments/core';
import type { GatewayDeps } from '../deps';
import { applyPayment } from '../operations/apply-payment';
import { closePayment } from '../operations/close-payment';
import { getPayment } from '../operations/get-payment';
import { receiveNotification } from '../operations/receive-callback';
import { startCheckout } from '../cashier/checkout';
import { registerCashier } from '../cashier/routes';
import { redactCashierPath } from '../cashier/tokens';
import { apiKeyChecker } from './api-keys';
import { toApiError } from './errors';
import { buildOpenApiDocument } from './openapi';
import { registerApiDocs } from './api-docs';
import { UnverifiedBudget } from '../domain/unverified-budget';

/** Providers' notifications can be large (a Stripe event with its objects): CONTRACT 9 says at least 64 KiB. */
const NOTIFY_BODY_LIMIT = 256 * 1024;

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
  const app = Fastify({ logger: false, bodyLimit: APPLY_BODY_LIMIT });

  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if ((body as string).length === 0) return done(null, undefined);
    try {
      done(null, parseStrictJson(body as string));
    } catch (error) {
      const problem = error instanceof DuplicateKeyError ? error.message : 'not valid JSON';
      done(new ApiError('VALIDATION_FAILED', `body: ${problem}`), undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    // An oversized or non-JSON body is bad input like any other (CONTRACT 3: body ≤ 16 KiB, JSON).
    if (!(error instanceof ApiError) && fastifyError.statusCode === 413) {
      return reply
        .code(400)
        .send(new ApiError('VALIDATION_FAILED', `body: larger than ${APPLY_BODY_LIMIT} bytes`).toBody());
    }
    if (!(error instanceof ApiError) && fastifyError.statusCode === 415) {
      return reply
        .code(400)
        .send(new ApiError('VALIDATION_FAILED', 'body: must be application/json').toBody());
    }
    const apiError = toApiError(error);
    if (apiError.status >= 500 && apiError.status !== 502)
      deps.log.warn(
        {
          err: fastifyError.message,
          // What the dependency said (a Redis `READONLY`, a refused connection): the operator's lead.
          cause: error instanceof Error && error.cause !== undefined ? errorMessage(error.cause) : undefined,
          url: redactCashierPath(request.url),
        },
        'request failed',
      );
    return reply.code(apiError.status).send(apiError.toBody());
  });

  // The merchant API's description (CONTRACT 3 and 10), generated from the schemas it is built to.
  const openApi = JSON.stringify(buildOpenApiDocument(deps.config.GATEWAY_PUBLIC_URL));
  app.get('/openapi.json', async (_request, reply) => reply.type('application/json').send(openApi));
  registerApiDocs(app);

  // The merchant routes authenticate as routes, not by URL prefix: the hook belongs to this
  // plugin's routes, so every spelling the router matches to them (percent-encoded, ...) is checked.
  const isApiKey = apiKeyChecker(deps.config.API_KEYS);
  app.register(async (merchant) => {
    merchant.addHook('onRequest', async (request) => {
      const header = request.headers.authorization ?? '';
      const key = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!isApiKey(key)) throw new ApiError('UNAUTHORIZED', 'missing or unknown API key');
    });

    merchant.post('/v1/payments', async (request, reply) => {
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

    merchant.post('/v1/checkout', async (request, reply) => {
      const answer = await startCheckout(deps, request.body);
      return reply.code(answer.status).send(answer.body);
    });

    merchant.get('/v1/payments/:merchantOrderNo', async (request) =>
      getPayment(deps, merchantOrderNoOf(request)),
    );

    merchant.post('/v1/payments/:merchantOrderNo/close', async (request) =>
      closePayment(deps, merchantOrderNoOf(request)),
    );
  });

  // Provider notifications: whatever their content type (Alipay posts a form, the others JSON),
  // kept as the exact bytes for the provider to verify; nothing is parsed before that.
  const unverifiedBudget = new UnverifiedBudget();
  app.register(async (notify) => {
    notify.removeAllContentTypeParsers();
    notify.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: NOTIFY_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    notify.post('/v1/notify/:route', async (request, reply) => {
      const { route } = request.params as { route: string };
      const answer = await receiveNotification(
        deps,
        route,
        {
          rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          contentType: request.headers['content-type'] ?? '',
          headers: request.headers,
        },
        { address: request.ip, budget: unverifiedBudget },
      );
      return reply.code(answer.status).type(answer.contentType).send(answer.body);
    });
  });

  registerCashier(app, deps);
  registerOpsRoutes(app, registry, ready, reachedOpsAddress(deps.config.OPS_HOST));
  return app;
}
