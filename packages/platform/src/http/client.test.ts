import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { HttpTimeoutError, httpRequest } from './client';

/** A real local HTTP server: echoes the request, or answers after `?delay=` milliseconds. */
describe('httpRequest', () => {
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const delay = Number(new URL(request.url!, 'http://x').searchParams.get('delay') ?? 0);
        setTimeout(() => {
          response.writeHead(request.url!.startsWith('/missing') ? 404 : 200, {
            'content-type': 'application/json',
          });
          response.end(
            JSON.stringify({ method: request.method, type: request.headers['content-type'], body }),
          );
        }, delay).unref();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
  });

  it('sends the method, headers and body and resolves with any status and the text', async () => {
    const answer = await httpRequest('POST', `${baseUrl}/echo`, {
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
      timeoutMs: 2000,
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ method: 'POST', type: 'application/json', body: '{"a":1}' });
    expect((await httpRequest('GET', `${baseUrl}/missing`, { timeoutMs: 2000 })).status).toBe(404);
  });

  it('gives up on a server slower than the timeout', async () => {
    const started = Date.now();
    await expect(httpRequest('GET', `${baseUrl}/slow?delay=2000`, { timeoutMs: 200 })).rejects.toBeInstanceOf(
      HttpTimeoutError,
    );
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('stops when its signal fires, and before sending when it already has', async () => {
    const controller = new AbortController();
    const pending = httpRequest('GET', `${baseUrl}/slow?delay=2000`, {
      timeoutMs: 5000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow(/aborted/);
    await expect(
      httpRequest('GET', `${baseUrl}/echo`, { timeoutMs: 5000, signal: AbortSignal.abort() }),
    ).rejects.toThrow(/aborted/);
  });

  it('rejects when nothing listens', async () => {
    await expect(httpRequest('GET', 'http://127.0.0.1:1/', { timeoutMs: 2000 })).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});
