/**
 * One API route as Stripe serves it: authenticated (`Authorization: Bearer` with the secret key),
 * answered in Stripe's shape, and idempotent for POSTs with a key.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFailure, canonical, failureBody, invalid, type Answer } from './api-params';
import { parseForm, type FormValue } from './form';
import type { StripeSandbox } from './sandbox';
import { API_VERSION } from './webhooks';

/** Stripe keeps a keyed request's answer at least 24 hours; a key reused after that is a new request. */
const IDEMPOTENCY_KEEP_S = 24 * 3600;
/** A lost create answer: the connection is held silent this long (or until the caller gives up), then cut. */
const LOST_ANSWER_HOLD_MS = 60_000;

export type ApiRun = (
  request: FastifyRequest,
  params: Record<string, FormValue>,
  begin: () => void,
) => Promise<Answer> | Answer;

/** Declares API routes on `app`: `api(method, path, run)`. */
export function apiRoutes(app: FastifyInstance, sandbox: StripeSandbox) {
  const { options, log, nowS, idempotency, running, held } = sandbox;
  const fail = (reply: FastifyReply, failure: ApiFailure) =>
    reply.code(failure.status).send(failureBody(failure));

  /** Keys kept at least 24 hours are forgotten: the same key after that is a new request. */
  function forgetOldKeys(): void {
    const oldest = nowS() - IDEMPOTENCY_KEEP_S;
    for (const [key, saved] of idempotency) {
      if (saved.savedAtS > oldest) break;
      idempotency.delete(key);
    }
  }

  /** The answer is kept, never sent: the connection stays silent until the caller gives up, then is cut. */
  function loseAnswer(request: FastifyRequest, reply: FastifyReply): void {
    log.info({ url: request.url, outcome: 'answer lost' }, 'sandbox fault injected');
    reply.hijack();
    const socket = request.raw.socket;
    held.add(socket);
    const timer = setTimeout(() => socket.destroy(), LOST_ANSWER_HOLD_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      held.delete(socket);
    });
  }

  /**
   * One API route: authenticated, answered in Stripe's shape, and idempotent for POSTs with a key,
   * as Stripe's idempotency works: the answer of a request that ran (success or failure) is kept
   * under its key for 24 hours and replayed for the same endpoint and parameters
   * (`Idempotent-Replayed: true`); other parameters or another endpoint under the key are `400
   * idempotency_error`; while the first is still running, `409 idempotency_key_in_use`; a request
   * refused before it ran (invalid parameters, a sandbox fault standing for a failure in front of
   * the API) keeps nothing, and may be sent again.
   */
  function api(method: 'GET' | 'POST', path: string, run: ApiRun) {
    app.route({
      method,
      url: path,
      handler: async (request, reply) => {
        const requestId = `req_${randomBytes(7).toString('hex')}`;
        reply.header('request-id', requestId).header('stripe-version', API_VERSION);
        sandbox.publicBase ??= `http://${request.headers.host}`;
        const auth = request.headers.authorization ?? '';
        if (!auth.startsWith('Bearer '))
          return fail(reply, new ApiFailure(401, 'invalid_request_error', 'You did not provide an API key.'));
        if (auth.slice(7) !== options.secretKey)
          return fail(
            reply,
            new ApiFailure(
              401,
              'invalid_request_error',
              `Invalid API Key provided: ${auth.slice(7, 15)}****`,
            ),
          );
        const body = typeof request.body === 'string' ? request.body : '';
        const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
        let params: Record<string, FormValue>;
        try {
          params = parseForm(method === 'GET' ? rawQuery : body);
        } catch (error) {
          return fail(reply, invalid((error as Error).message));
        }
        const header = method === 'POST' ? request.headers['idempotency-key'] : undefined;
        const key = typeof header === 'string' && header !== '' ? header : undefined;
        let began = false;
        const begin = () => {
          began = true;
        };
        if (key === undefined) {
          try {
            const answer = await run(request, params, begin);
            return reply.code(answer.status).send(answer.body);
          } catch (error) {
            if (!(error instanceof ApiFailure)) throw error;
            return fail(reply, error);
          }
        }

        const fingerprint = `${method} ${request.url.split('?')[0]} ${canonical(params)}`;
        forgetOldKeys();
        const earlier = idempotency.get(key);
        if (earlier) {
          if (earlier.fingerprint !== fingerprint)
            return fail(
              reply,
              new ApiFailure(
                400,
                'idempotency_error',
                `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
              ),
            );
          return reply
            .code(earlier.answer.status)
            .header('idempotent-replayed', 'true')
            .header('original-request', earlier.requestId)
            .send(earlier.answer.body);
        }
        if (running.has(key))
          return fail(
            reply,
            new ApiFailure(
              409,
              'idempotency_error',
              `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
              'idempotency_key_in_use',
            ),
          );
        running.add(key);
        let answer: Answer;
        try {
          answer = await run(request, params, begin);
          began = true; // an answer is a request that ran
        } catch (error) {
          if (!(error instanceof ApiFailure)) throw error;
          answer = { status: error.status, body: failureBody(error) };
        } finally {
          running.delete(key);
        }
        if (began) {
          idempotency.delete(key);
          idempotency.set(key, { fingerprint, answer, requestId, savedAtS: nowS() });
        }
        if (answer.lost) return loseAnswer(request, reply);
        return reply.code(answer.status).send(answer.body);
      },
    });
  }

  return api;
}
