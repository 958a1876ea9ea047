import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<Record<string, boolean>>;

/** `/healthz` (process up), `/readyz` (dependencies reachable), `/metrics` (Prometheus). */
export function registerOpsRoutes(app: FastifyInstance, registry: Registry, ready: ReadinessCheck): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks = await ready().catch(() => ({ checks: false }));
    const ok = Object.values(checks).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}

/** The three ops routes on their own port, for workers (`METRICS_PORT`; 0 picks a free port). */
export async function startOpsServer(
  port: number,
  registry: Registry,
  ready: ReadinessCheck,
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false });
  registerOpsRoutes(app, registry, ready);
  await app.listen({ port, host: '0.0.0.0' });
  const address = app.server.address();
  return { app, port: typeof address === 'object' && address ? address.port : port };
}
