import Fastify from 'fastify';
import type { GatewayDeps } from '../deps';
import { registerCashier } from './routes';

describe('the cashier assets route', () => {
  const app = Fastify({ logger: false });
  let base: string;
  beforeAll(async () => {
    // The asset route reads nothing of the gateway's connections.
    registerCashier(app, {} as GatewayDeps);
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(() => app.close());

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'nope.js'])(
    '/cashier/assets/%s is 404, never an inherited property (issue 27.10)',
    async (name) => {
      const answer = await fetch(`${base}/cashier/assets/${name}`);
      expect([answer.status, await answer.text()]).toEqual([404, 'not found']);
      expect(answer.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    },
  );

  it('serves its own files', async () => {
    const answer = await fetch(`${base}/cashier/assets/cashier.js`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/javascript/);
  });
});
