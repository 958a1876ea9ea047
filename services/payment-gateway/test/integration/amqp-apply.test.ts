import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { HEADERS } from '@payments/platform';
import { eventually } from '@payments/testkit';
import { applyBody, GatewayStack, orderNo } from '../../../../test/support/stack';

describe('apply by message (real RabbitMQ, direct reply-to)', () => {
  const stack = new GatewayStack();
  let connection: amqplib.ChannelModel;
  let channel: amqplib.Channel;
  const replies = new Map<string, { status: number; body: Record<string, any> }>(); // eslint-disable-line @typescript-eslint/no-explicit-any

  beforeAll(async () => {
    await stack.start({}, { sandboxes: ['psp'] });
    await stack.startGateway();
    connection = await amqplib.connect(stack.config.AMQP_URL);
    channel = await connection.createChannel();
    await channel.consume(
      'amq.rabbitmq.reply-to',
      (message) => {
        if (message)
          replies.set(message.properties.correlationId as string, JSON.parse(message.content.toString()));
      },
      { noAck: true },
    );
  });
  afterAll(async () => {
    await connection?.close();
    await stack.stop();
  });

  const exchange = () => `${stack.config.TOPOLOGY_PREFIX}.payments.commands`;
  const send = async (body: unknown, messageId: string | undefined) => {
    const correlationId = randomUUID();
    const content = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    channel.publish(exchange(), 'payment.apply', content, {
      messageId,
      correlationId,
      replyTo: 'amq.rabbitmq.reply-to',
      contentType: 'application/json',
      persistent: true,
    });
    return eventually('reply', async () => replies.get(correlationId), 15_000);
  };

  it('answers on direct reply-to; the same message id answers with the same attempt', async () => {
    const no = orderNo('amqp');
    const messageId = randomUUID();
    const first = await send(applyBody(no), messageId);
    expect(first.status).toBe(201);
    expect(first.body.attempt.channelOrderNo).toMatch(/^co_/);
    const repeat = await send(applyBody(no), messageId);
    expect(repeat).toEqual(first);
    const otherMessage = await send(applyBody(no), randomUUID());
    expect(otherMessage.status).toBe(200);
    expect(otherMessage.body.reused).toBe(true);
    expect(otherMessage.body.attempt.channelOrderNo).toBe(first.body.attempt.channelOrderNo);
  });

  it('answers refusals with their HTTP status', async () => {
    const no = orderNo('amqp-refuse');
    await send(applyBody(no), randomUUID());
    const mismatch = await send(applyBody(no, { amount: 1 }), randomUUID());
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.code).toBe('AMOUNT_MISMATCH');
  });

  it('dead-letters a poison message and answers 400', async () => {
    const messageId = randomUUID();
    const answer = await send({ merchantOrderNo: 'x', amount: 'lots' }, messageId);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    const dlq = `${stack.config.TOPOLOGY_PREFIX}.payments.gateway.apply.dlq`;
    const dead = await eventually('dead letter', async () => channel.get(dlq, { noAck: true }));
    expect(dead.properties.messageId).toBe(messageId);
    expect(dead.properties.headers![HEADERS.reason]).toBe('invalid');
    expect(String(dead.properties.headers![HEADERS.lastError])).toMatch(/amount/);
  });

  it('answers 400 to a body that is not JSON at all, and dead-letters it', async () => {
    const messageId = randomUUID();
    const answer = await send(Buffer.from('{"merchantOrderNo": "cut off'), messageId);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    expect(answer.body.error.message).toMatch(/JSON/);
    const dlq = `${stack.config.TOPOLOGY_PREFIX}.payments.gateway.apply.dlq`;
    const dead = await eventually('dead letter', async () => channel.get(dlq, { noAck: true }));
    expect(dead.properties.messageId).toBe(messageId);
    expect(dead.properties.headers![HEADERS.reason]).toBe('invalid');
  });

  it('dead-letters a message without a messageId', async () => {
    const answer = await send(applyBody(orderNo('noid')), undefined);
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/messageId/);
  });

  it('an oversized command is refused with 400 before parsing; its dead letter is a bounded copy', async () => {
    const messageId = randomUUID();
    const huge = Buffer.from(JSON.stringify({ ...applyBody(orderNo('huge')), subject: 'x'.repeat(200_000) }));
    const reply = await send(huge, messageId);
    expect([reply.status, reply.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(reply.body.error?.message).toMatch(/larger than the limit of 16384/);
    // Earlier tests' dead letters may come first: read past them.
    const dlq = `${stack.config.TOPOLOGY_PREFIX}.payments.gateway.apply.dlq`;
    const letter = await eventually('the dead letter', async () => {
      const message = await channel.get(dlq, { noAck: true });
      return message && message.properties.messageId === messageId ? message : undefined;
    });
    expect(letter.content.length).toBe(16 * 1024);
    expect(letter.properties.headers?.[HEADERS.originalBytes]).toBe(huge.length);
  });

  it('a messageId longer than the key column is refused, never cut', async () => {
    const reply = await send(applyBody(orderNo('longid')), 'm'.repeat(200));
    expect([reply.status, reply.body.error?.message]).toEqual([400, 'messageId: at most 128 characters']);
  });

  it("a messageId reused for another order is refused (409), never answered with the first order's answer", async () => {
    const messageId = randomUUID();
    const request = applyBody(orderNo('idem'));
    const first = await send(request, messageId);
    expect(first.status).toBe(201);
    const other = orderNo('idem-other');
    const reused = await send(applyBody(other), messageId);
    expect([reused.status, reused.body.error?.code]).toEqual([409, 'IDEMPOTENCY_KEY_REUSED']);
    expect(await stack.gateways[0]!.deps.repository.findPayOrder(other)).toBeUndefined();
    // The same request again still gets its first answer.
    expect(await send(request, messageId)).toEqual(first);
  });

  it('an unknown-outcome 502 is not remembered: the same messageId applied again gets the attempt', async () => {
    const no = orderNo('amqp-502');
    const messageId = randomUUID();
    const request = applyBody(no);
    // The PSP fails the create with a 5xx: the trade may or may not exist, so the answer says "apply again".
    await stack.setPspFaults({ createErrorRate: 1 });
    let first;
    try {
      first = await send(request, messageId);
    } finally {
      await stack.setPspFaults(undefined);
    }
    expect([first.status, first.body.error?.code]).toEqual([502, 'CHANNEL_ERROR']);
    expect(first.body.error.message).toMatch(/apply again/);
    const repeat = await send(request, messageId);
    expect([201, 200]).toContain(repeat.status);
    const [attempt] = (await stack.gateways[0]!.deps.dataSource.query(
      'SELECT channel_order_no, status, pay_url FROM channel_order WHERE merchant_order_no = ?',
      [no],
    )) as { channel_order_no: string; status: string; pay_url: string | null }[];
    expect(repeat.body.attempt.channelOrderNo).toBe(attempt!.channel_order_no);
    expect(attempt!.status).toBe('PAYING');
    expect(repeat.body.attempt.payUrl).toBe(attempt!.pay_url);
    expect(repeat.body.attempt.payUrl).toBeTruthy();
    // That answer is final: it is the one remembered, and a third delivery gets it again.
    expect(await send(request, messageId)).toEqual(repeat);
  });

  it('a command with a key named twice is refused', async () => {
    const raw = JSON.stringify(applyBody(orderNo('dupcmd'), { amount: 1 })).replace(
      '"amount":1',
      '"amount":1,"amount":19999',
    );
    const reply = await send(Buffer.from(raw), randomUUID());
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toMatch(/duplicate key "amount"/);
  });
});
