/** A merchant endpoint for the PSP's notifies: records each request raw, answers as told. */
import Fastify, { type FastifyInstance } from 'fastify';

export interface ReceivedNotify {
  rawBody: string;
  signature: string | undefined;
  contentType: string | undefined;
  body: Record<string, unknown>;
  at: number;
}

export class NotifyReceiver {
  readonly received: ReceivedNotify[] = [];
  /** Statuses to answer, in order; once empty every request gets 200. */
  answers: number[] = [];
  url = '';
  private readonly app: FastifyInstance = Fastify({ logger: false });

  async start(): Promise<this> {
    // Keep the body as sent: the signature covers the raw bytes, not a re-serialisation.
    this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body.toString()),
    );
    this.app.post('/notify', async (request, reply) => {
      const rawBody = request.body as string;
      const signature = request.headers['x-sandbox-signature'];
      this.received.push({
        rawBody,
        signature: Array.isArray(signature) ? signature[0] : signature,
        contentType: request.headers['content-type'],
        body: JSON.parse(rawBody) as Record<string, unknown>,
        at: Date.now(),
      });
      return reply.code(this.answers.shift() ?? 200).send({ ok: true });
    });
    await this.app.listen({ port: 0, host: '127.0.0.1' });
    const address = this.app.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/notify`;
    return this;
  }

  for(channelOrderNo: string): ReceivedNotify[] {
    return this.received.filter((notify) => notify.body.channelOrderNo === channelOrderNo);
  }

  reset(): void {
    this.received.length = 0;
    this.answers = [];
  }

  stop(): Promise<void> {
    return this.app.close();
  }
}
