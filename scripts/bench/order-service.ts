import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { buildOrderService } from '../../sandbox/order-service/src/server';
import { portOf } from './processes';

/**
 * The example order service, in this process, timestamping in `notifiedAt` the first accepted
 * payment-result of each merchant order (performance.now()).
 */
export async function startTimedOrderService(
  secret: string,
  notifiedAt: Map<string, number>,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = buildOrderService({ secret });
  const route = /^\/orders\/([^/?]+)\/payment-result/;
  app.addHook('onResponse', async (request, reply) => {
    if (request.method !== 'POST' || reply.statusCode >= 300) return;
    const match = route.exec(request.url);
    if (!match) return;
    const merchantOrderNo = decodeURIComponent(match[1]!);
    if (!notifiedAt.has(merchantOrderNo)) notifiedAt.set(merchantOrderNo, performance.now());
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${portOf(app)}` };
}
