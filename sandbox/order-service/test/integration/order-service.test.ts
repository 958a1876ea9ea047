import { randomUUID } from 'node:crypto';
import { signBody } from '@payments/platform';
import { buildOrderService } from '../../src/server';

const SECRET = 'order_test_secret';

describe('example order service (real HTTP)', () => {
  const app = buildOrderService({ secret: SECRET });
  let url: string;

  beforeAll(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => app.close());
  afterEach(async () => {
    await fetch(`${url}/sandbox/faults`, { method: 'DELETE' });
    await fetch(`${url}/sandbox/state`, { method: 'DELETE' });
  });

  type Answer = { status: number; body: Record<string, unknown> };
  const answer = async (response: Response): Promise<Answer> => ({
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
  });

  const newOrderNo = () => `mo-${randomUUID().slice(0, 8)}`;
  const notification = (merchantOrderNo: string, eventId: string = randomUUID()) => ({
    eventId,
    type: 'payment.succeeded',
    merchantOrderNo,
    payOrderNo: 'po_1',
    amount: 100,
    currency: 'CNY',
    channel: 'sandbox-wallet',
    channelOrderNo: 'co_1',
    paidAt: new Date().toISOString(),
  });

  /** Posts `rawBody` as the notifier would; every part can be overridden to make it wrong. */
  const deliverRaw = async (
    merchantOrderNo: string,
    rawBody: string,
    headers: { signature?: string; idempotencyKey?: string; contentType?: string } = {},
  ) => {
    const response = await fetch(`${url}/orders/${merchantOrderNo}/payment-result`, {
      method: 'POST',
      headers: {
        'content-type': headers.contentType ?? 'application/json',
        'x-payment-signature': headers.signature ?? signBody(SECRET, rawBody),
        ...(headers.idempotencyKey === undefined ? {} : { 'idempotency-key': headers.idempotencyKey }),
      },
      body: rawBody,
    });
    return answer(response);
  };
  const deliver = (body: ReturnType<typeof notification>) =>
    deliverRaw(body.merchantOrderNo, JSON.stringify(body), { idempotencyKey: body.eventId });
  const orderOf = async (merchantOrderNo: string) => answer(await fetch(`${url}/orders/${merchantOrderNo}`));
  const putFaults = async (faults: unknown) =>
    answer(
      await fetch(`${url}/sandbox/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: typeof faults === 'string' ? faults : JSON.stringify(faults),
      }),
    );

  describe('payment results', () => {
    it('marks an order paid on a correctly signed delivery', async () => {
      const merchantOrderNo = newOrderNo();
      expect((await orderOf(merchantOrderNo)).status).toBe(404);
      const delivered = await deliver(notification(merchantOrderNo));
      expect(delivered).toEqual({
        status: 200,
        body: { merchantOrderNo, status: 'PAID', deliveries: 1, distinctEvents: 1 },
      });
      expect(await orderOf(merchantOrderNo)).toEqual({
        status: 200,
        body: { merchantOrderNo, status: 'PAID', deliveries: 1, distinctEvents: 1 },
      });
    });

    it('acknowledges the same eventId again without counting it as a new event', async () => {
      const body = notification(newOrderNo());
      expect((await deliver(body)).status).toBe(200);
      const repeat = await deliver(body);
      expect(repeat.status).toBe(200);
      expect(repeat.body).toMatchObject({ status: 'PAID', deliveries: 2, distinctEvents: 1 });
      expect((await orderOf(body.merchantOrderNo)).body).toMatchObject({ deliveries: 2, distinctEvents: 1 });
    });

    it('counts two eventIds for one order as two distinct events', async () => {
      const merchantOrderNo = newOrderNo();
      await deliver(notification(merchantOrderNo, 'e1'));
      expect((await deliver(notification(merchantOrderNo, 'e2'))).body).toMatchObject({
        deliveries: 2,
        distinctEvents: 2,
      });
      expect((await orderOf(merchantOrderNo)).body).toMatchObject({ deliveries: 2, distinctEvents: 2 });
    });

    it('checks the signature over the exact bytes received, whatever their layout or charset', async () => {
      const body = notification(newOrderNo());
      const pretty = JSON.stringify(body, null, 2);
      const delivered = await deliverRaw(body.merchantOrderNo, pretty, {
        contentType: 'application/json; charset=utf-8',
      });
      expect(delivered.status).toBe(200);
    });

    it('accepts a delivery without Idempotency-Key, de-duplicating by the signed eventId', async () => {
      const body = notification(newOrderNo());
      await deliverRaw(body.merchantOrderNo, JSON.stringify(body));
      expect((await deliverRaw(body.merchantOrderNo, JSON.stringify(body))).body).toMatchObject({
        deliveries: 2,
        distinctEvents: 1,
      });
    });
  });

  describe('refusals', () => {
    it.each([
      ['signed with another secret', (raw: string) => signBody('other-secret', raw)],
      ['stale (400 s old)', (raw: string) => signBody(SECRET, raw, Math.floor(Date.now() / 1000) - 400)],
      [
        'from the future (400 s ahead)',
        (raw: string) => signBody(SECRET, raw, Math.floor(Date.now() / 1000) + 400),
      ],
      ['malformed', () => 'nonsense'],
      ['empty', () => ''],
    ])('refuses a signature %s with 401 and changes nothing', async (_case, sign) => {
      const body = notification(newOrderNo());
      const raw = JSON.stringify(body);
      const refused = await deliverRaw(body.merchantOrderNo, raw, { signature: sign(raw) });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: { code: 'BAD_SIGNATURE' } });
      expect((await orderOf(body.merchantOrderNo)).status).toBe(404);
    });

    it('refuses a tampered body (signature of the original) with 401 and changes nothing', async () => {
      const body = notification(newOrderNo());
      const signature = signBody(SECRET, JSON.stringify(body));
      const tampered = JSON.stringify({ ...body, amount: 1 });
      expect((await deliverRaw(body.merchantOrderNo, tampered, { signature })).status).toBe(401);
      expect((await orderOf(body.merchantOrderNo)).status).toBe(404);
    });

    it('does not let a bad signature touch an order that is already paid', async () => {
      const body = notification(newOrderNo());
      await deliver(body);
      const other = { ...body, eventId: 'forged' };
      const raw = JSON.stringify(other);
      expect(
        (await deliverRaw(body.merchantOrderNo, raw, { signature: signBody('other-secret', raw) })).status,
      ).toBe(401);
      expect((await orderOf(body.merchantOrderNo)).body).toMatchObject({ deliveries: 1, distinctEvents: 1 });
    });

    it.each([
      ['amount is not a number', { amount: 'lots' }],
      ['amount is not an integer', { amount: 1.5 }],
      ['type is not payment.succeeded', { type: 'payment.closed' }],
      ['eventId is empty', { eventId: '' }],
      ['amount is missing', { amount: undefined }],
    ])('refuses a correctly signed body whose %s with 400', async (_case, change) => {
      const body = { ...notification(newOrderNo()), ...change };
      const refused = await deliverRaw(body.merchantOrderNo, JSON.stringify(body));
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
      expect((await orderOf(body.merchantOrderNo)).status).toBe(404);
    });

    it('refuses a correctly signed body that is not JSON with 400', async () => {
      const merchantOrderNo = newOrderNo();
      expect((await deliverRaw(merchantOrderNo, '{not json')).status).toBe(400);
      expect((await orderOf(merchantOrderNo)).status).toBe(404);
    });

    it('refuses a body for another order than the path names with 400', async () => {
      const body = notification(newOrderNo());
      const pathOrderNo = newOrderNo();
      expect((await deliverRaw(pathOrderNo, JSON.stringify(body))).status).toBe(400);
      expect((await orderOf(pathOrderNo)).status).toBe(404);
      expect((await orderOf(body.merchantOrderNo)).status).toBe(404);
    });

    it('refuses an Idempotency-Key that differs from the eventId with 400', async () => {
      const body = notification(newOrderNo());
      const refused = await deliverRaw(body.merchantOrderNo, JSON.stringify(body), {
        idempotencyKey: 'something-else',
      });
      expect(refused.status).toBe(400);
      expect((await orderOf(body.merchantOrderNo)).status).toBe(404);
    });
  });

  describe('sandbox faults', () => {
    it('starts with no faults and merges partial updates', async () => {
      expect(await answer(await fetch(`${url}/sandbox/faults`))).toEqual({
        status: 200,
        body: { failRate: 0, latencyMs: 0, down: false },
      });
      await putFaults({ failRate: 0.5 });
      expect((await putFaults({ latencyMs: 20 })).body).toEqual({
        failRate: 0.5,
        latencyMs: 20,
        down: false,
      });
      expect((await answer(await fetch(`${url}/sandbox/faults`))).body).toEqual({
        failRate: 0.5,
        latencyMs: 20,
        down: false,
      });
      const reset = await answer(await fetch(`${url}/sandbox/faults`, { method: 'DELETE' }));
      expect(reset.body).toEqual({ failRate: 0, latencyMs: 0, down: false });
    });

    it.each([
      ['failRate above 1', { failRate: 2 }],
      ['negative failRate', { failRate: -0.1 }],
      ['negative latencyMs', { latencyMs: -1 }],
      ['fractional latencyMs', { latencyMs: 1.5 }],
      ['down as a string', { down: 'yes' }],
      ['an unknown fault', { explode: true }],
      ['a body that is not JSON', '{oops'],
    ])('refuses %s with 400 and keeps the faults as they were', async (_case, faults) => {
      await putFaults({ latencyMs: 5 });
      const refused = await putFaults(faults);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
      expect((await answer(await fetch(`${url}/sandbox/faults`))).body).toEqual({
        failRate: 0,
        latencyMs: 5,
        down: false,
      });
    });

    it('answers 503 to everything but the fault endpoints and /healthz while down, and comes back after DELETE', async () => {
      const body = notification(newOrderNo());
      expect((await putFaults({ down: true })).body).toMatchObject({ down: true });

      const refused = await deliver(body);
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ error: { code: 'SERVICE_DOWN' } });
      expect((await fetch(`${url}/orders/${body.merchantOrderNo}`)).status).toBe(503);
      expect((await fetch(`${url}/orders`)).status).toBe(503);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/sandbox/faults`)).status).toBe(200);

      expect((await fetch(`${url}/sandbox/faults`, { method: 'DELETE' })).status).toBe(200);
      expect((await orderOf(body.merchantOrderNo)).status).toBe(404);
      expect((await deliver(body)).body).toMatchObject({ status: 'PAID', deliveries: 1, distinctEvents: 1 });
    });

    it('comes back after PUT down:false too', async () => {
      await putFaults({ down: true });
      expect((await fetch(`${url}/orders`)).status).toBe(503);
      await putFaults({ down: false });
      expect((await fetch(`${url}/orders`)).status).toBe(200);
    });

    it('answers 500 and records nothing with failRate 1', async () => {
      const paid = notification(newOrderNo());
      await deliver(paid);
      await putFaults({ failRate: 1 });

      const fresh = notification(newOrderNo());
      const failed = await deliver(fresh);
      expect(failed.status).toBe(500);
      expect(failed.body).toMatchObject({ error: { code: 'SANDBOX_FAULT' } });
      expect((await orderOf(fresh.merchantOrderNo)).status).toBe(404);
      expect((await deliver(paid)).status).toBe(500);
      expect((await orderOf(paid.merchantOrderNo)).body).toMatchObject({ deliveries: 1, distinctEvents: 1 });
    });

    it('delays payment results by latencyMs', async () => {
      const latencyMs = 300;
      await putFaults({ latencyMs });
      const started = performance.now();
      const delivered = await deliver(notification(newOrderNo()));
      const elapsed = performance.now() - started;
      expect(delivered.status).toBe(200);
      expect(elapsed).toBeGreaterThanOrEqual(latencyMs - 10);
    });
  });

  describe('test conveniences', () => {
    it('lists every order, and forgets them all on DELETE /sandbox/state', async () => {
      const first = notification(newOrderNo());
      const second = notification(newOrderNo());
      await deliver(first);
      await deliver(second);
      const listed = await answer(await fetch(`${url}/orders`));
      expect(listed.body.orders).toEqual([
        { merchantOrderNo: first.merchantOrderNo, status: 'PAID', deliveries: 1, distinctEvents: 1 },
        { merchantOrderNo: second.merchantOrderNo, status: 'PAID', deliveries: 1, distinctEvents: 1 },
      ]);

      expect((await fetch(`${url}/sandbox/state`, { method: 'DELETE' })).status).toBe(200);
      expect((await answer(await fetch(`${url}/orders`))).body.orders).toEqual([]);
      expect((await orderOf(first.merchantOrderNo)).status).toBe(404);
    });

    it('answers /healthz and gives unknown routes the error shape', async () => {
      expect(await answer(await fetch(`${url}/healthz`))).toEqual({ status: 200, body: { status: 'ok' } });
      const unknown = await answer(await fetch(`${url}/nowhere`));
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    });
  });
});
