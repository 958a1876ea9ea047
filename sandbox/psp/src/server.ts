/**
 * The sandbox PSP over HTTP (CONTRACT 6): the provider API our adapters call (Bearer secret), the
 * shopper's pay page, and the test control API (no auth) that pays trades, injects faults and
 * shows the ledger.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { errorMessage } from '@payments/platform';
import { sendError } from './answers';
import { registerApi } from './api';
import { registerCallCounter } from './calls';
import { registerControl } from './control';
import { PspSandbox, type PspServerOptions } from './sandbox';
import { registerShopperPages } from './shopper-pages';
import { registerStatements } from './statement-api';

export type { PspServerOptions } from './sandbox';

export function buildPspServer(options: PspServerOptions): FastifyInstance {
  const sandbox = new PspSandbox(options);
  const { log } = sandbox;

  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (request) => {
    sandbox.publicBase ??= `http://${request.headers.host}`;
  });

  // Tests and the demo often send `content-type: application/json` with no body on POSTs
  // (pay, close); treat that as no body instead of a 400.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // The shopper's pay page posts a form with nothing in it.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    return jsonParser(request, text, done);
  });

  app.setErrorHandler<FastifyError>((error, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) return sendError(reply, status, 'INVALID_REQUEST', error.message);
    log.error({ err: errorMessage(error), method: request.method, url: request.url }, 'request failed');
    return sendError(reply, 500, 'INTERNAL', 'internal error');
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `no route ${request.method} ${request.url}`),
  );

  app.addHook('onClose', async () => sandbox.cancelTimers());
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Counts the calls each provider route answers (GET /sandbox/calls): the bench's calls per payment.
  registerCallCounter(app, sandbox.state);
  registerApi(app, sandbox);
  registerShopperPages(app, sandbox);
  registerControl(app, sandbox);
  registerStatements(app, sandbox);
  return app;
}
