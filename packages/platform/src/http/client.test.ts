import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
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

  /**
   * A server whose keep-alive sockets answer once, then close as the next request arrives on them,
   * before any answer (the idle close and a client's reuse crossing, made certain).
   */
  async function closingKeptAliveSockets() {
    const requests: string[] = [];
    let connections = 0;
    const sockets = new Set<Socket>();
    const tcp = createTcpServer((socket) => {
      connections += 1;
      sockets.add(socket);
      let answered = false;
      socket.on('data', (data: Buffer) => {
        requests.push(data.toString('latin1').split(' ').slice(0, 2).join(' '));
        if (answered) return void socket.destroy();
        answered = true;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      });
      socket.on('error', () => undefined);
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    const address = tcp.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return {
      url,
      requests,
      connections: () => connections,
      close: () => {
        for (const socket of sockets) socket.destroy();
        tcp.close();
      },
    };
  }

  it('sends an idempotent request once more when its kept-alive socket was closed before any answer', async () => {
    const server = await closingKeptAliveSockets();
    try {
      expect((await httpRequest('GET', `${server.url}/a`, { timeoutMs: 2000 })).text).toBe('ok');
      // Goes out on the kept-alive socket, which the server closes: sent again on a fresh one.
      expect((await httpRequest('GET', `${server.url}/b`, { timeoutMs: 2000 })).text).toBe('ok');
      expect(server.requests).toEqual(['GET /a', 'GET /b', 'GET /b']);
      expect(server.connections()).toBe(2);
    } finally {
      server.close();
    }
  });

  it("never sends a POST twice: its reset socket is the caller's error", async () => {
    const server = await closingKeptAliveSockets();
    try {
      await httpRequest('POST', `${server.url}/a`, { timeoutMs: 2000, body: 'x' });
      await expect(httpRequest('POST', `${server.url}/b`, { timeoutMs: 2000, body: 'x' })).rejects.toThrow(
        /socket hang up|ECONNRESET/,
      );
      expect(server.requests).toEqual(['POST /a', 'POST /b']);
    } finally {
      server.close();
    }
  });
});
