import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

const isLoopback = (address: string | undefined) =>
  address !== undefined && (/^(::ffff:)?127\./.test(address) || address === '::1' || address === 'localhost');
const isAnyAddress = (host: string) => host === '0.0.0.0' || host === '::';

/**
 * Whether a request reached us on the ops address (`OPS_HOST`), as if the ops routes listened
 * there alone: a loopback OPS_HOST answers connections made on loopback only, `0.0.0.0`/`::`
 * everyone, any other address the connections made to that address.
 */
export function reachedOpsAddress(opsHost: string): (request: FastifyRequest) => boolean {
  if (isAnyAddress(opsHost)) return () => true;
  return (request) => {
    const local = request.socket.localAddress;
    if (isLoopback(opsHost)) return isLoopback(local);
    return local === opsHost || local === `::ffff:${opsHost}`;
  };
}

/**
 * `/healthz` (process up), `/readyz` (dependencies reachable), `/metrics` (Prometheus). With
 * `opsOnly`, `/readyz` and `/metrics` answer 404 to requests that did not come in on the ops
 * address (the gateway shares its public port with them); `/healthz` tells nothing and stays open.
 */
export function registerOpsRoutes(
  app: FastifyInstance,
  registry: Registry,
  ready: ReadinessCheck,
  opsOnly: (request: FastifyRequest) => boolean = () => true,
): void {
  const notHere = { error: { code: 'NOT_FOUND', message: 'not found' } };
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    if (!opsOnly(request)) return reply.code(404).send(notHere);
    const checks = await ready().catch(() => ({ checks: false }));
    const ok = Object.values(checks).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (request, reply) => {
    if (!opsOnly(request)) return reply.code(404).send(notHere);
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}

/** The three ops routes on their own port and address, for workers (`METRICS_PORT`, `OPS_HOST`). */
export async function startOpsServer(
  port: number,
  registry: Registry,
  ready: ReadinessCheck,
  host = '127.0.0.1',
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false });
  registerOpsRoutes(app, registry, ready);
  await app.listen({ port, host });
  const address = app.server.address();
  return { app, port: typeof address === 'object' && address ? address.port : port };
}
