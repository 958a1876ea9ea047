import Fastify, { type FastifyInstance } from 'fastify';

/** What a merchant endpoint answers a notification with. */
export interface ReceiverAnswer {
  status: number;
  contentType?: string;
  body?: string | object;
}

export interface ReceiverOptions {
  /** Where notifications are posted (`/notify`, `/webhook`). */
  path: string;
  /** The content type the provider sends (its body is kept as the raw text). */
  contentType: string;
}

export type Received<T> = { headers: Record<string, string>; rawBody: string } & T;

/**
 * A merchant endpoint for a provider's notifications: records them raw, answers as the test says.
 * A provider's test says what it reads of a body (`read`) and how the endpoint answers (`answer`).
 */
export abstract class NotificationReceiver<T extends object> {
  readonly received: Received<T>[] = [];
  url = '';
  private readonly app: FastifyInstance = Fastify({ logger: false });

  constructor(private readonly options: ReceiverOptions) {}

  /** What the test reads of a notification beside its raw body and headers (`form`, `event`). */
  protected abstract read(rawBody: string, headers: Record<string, string>): T;

  /** The endpoint's answer to this notification. */
  protected abstract answer(received: Received<T>): ReceiverAnswer;

  async start(): Promise<void> {
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser(this.options.contentType, { parseAs: 'string' }, (_r, body, done) =>
      done(null, body),
    );
    this.app.post(this.options.path, async (request, reply) => {
      const rawBody = request.body as string;
      const headers = request.headers as Record<string, string>;
      const received = { headers, rawBody, ...this.read(rawBody, headers) } as Received<T>;
      this.received.push(received);
      const answer = this.answer(received);
      reply.code(answer.status);
      if (answer.contentType) reply.type(answer.contentType);
      return answer.body === undefined ? reply.send() : reply.send(answer.body);
    });
    await this.app.listen({ port: 0, host: '127.0.0.1' });
    this.url = `http://127.0.0.1:${(this.app.server.address() as { port: number }).port}${this.options.path}`;
  }

  stop() {
    return this.app.close();
  }
}
