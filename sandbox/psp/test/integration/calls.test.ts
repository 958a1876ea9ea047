import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildPspServer } from '../../src/server';

const SECRET = 'calls_test_secret';
const auth = { authorization: `Bearer ${SECRET}` };

function trade(channelOrderNo: string) {
  return {
    channelOrderNo,
    merchantOrderNo: `mo_${channelOrderNo}`,
    channel: 'sandbox-wallet',
    amount: 1000,
    currency: 'EUR',
    subject: 'A book',
    expireAt: new Date(Date.now() + 15 * 60_000).toISOString(),
    // Nothing listens there: the paid trade's notify fails, and is cancelled when the server closes.
    notifyUrl: 'http://127.0.0.1:1/notify',
  };
}

describe('the PSP counts the provider calls it answers (GET /sandbox/calls)', () => {
  let app: FastifyInstance;
  let base = '';
  beforeEach(async () => {
    app = buildPspServer({ secret: SECRET });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterEach(() => app.close());

  /** One request over real HTTP: its status and JSON body. */
  const send = async (options: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    payload?: unknown;
  }) => {
    const response = await fetch(`${base}${options.url}`, {
      method: options.method,
      headers: {
        ...options.headers,
        ...(options.payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.payload === undefined ? {} : { body: JSON.stringify(options.payload) }),
    });
    const text = await response.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { statusCode: response.status, json: (): any => JSON.parse(text) };
  };

  const calls = async (trades = false) =>
    (await send({ method: 'GET', url: `/sandbox/calls${trades ? '?trades=1' : ''}` })).json();

  it('by kind and per trade, with the queries up to the first that answered it paid', async () => {
    expect(
      (await send({ method: 'POST', url: '/api/trades', headers: auth, payload: trade('co_a') })).statusCode,
    ).toBe(200);
    await send({ method: 'POST', url: '/api/trades', headers: auth, payload: trade('co_b') });
    // Two queries while co_a is unpaid, it is paid (a control call: not counted), then two more.
    await send({ method: 'GET', url: '/api/trades/co_a', headers: auth });
    await send({ method: 'GET', url: '/api/trades/co_a', headers: auth });
    expect((await send({ method: 'POST', url: '/sandbox/trades/co_a/pay' })).statusCode).toBe(200);
    await send({ method: 'GET', url: '/api/trades/co_a', headers: auth });
    await send({ method: 'GET', url: '/api/trades/co_a', headers: auth });
    await send({ method: 'POST', url: '/api/trades/co_b/close', headers: auth });
    const refund = await send({
      method: 'POST',
      url: '/api/refunds',
      headers: auth,
      payload: { refundNo: 'rf_1', channelOrderNo: 'co_a', amount: 500 },
    });
    expect(refund.statusCode).toBe(200);
    await send({ method: 'GET', url: '/api/refunds/rf_1', headers: auth });
    // Refused for its missing secret, still a call; the control API and health are not.
    expect((await send({ method: 'GET', url: '/api/trades/co_b' })).statusCode).toBe(401);
    await send({ method: 'GET', url: '/healthz' });
    await send({ method: 'GET', url: '/sandbox/ledger' });

    const seen = await calls(true);
    expect(seen.totals).toEqual({
      create: 2,
      query: 5,
      close: 1,
      refund: 1,
      refundQuery: 1,
      statement: 0,
      other: 0,
    });
    expect(seen.trades).toBe(2);
    expect(seen.byTrade.co_a).toEqual({
      create: 1,
      query: 4,
      close: 0,
      refund: 1,
      refundQuery: 1,
      queriesUntilFoundPaid: 3,
    });
    expect(seen.byTrade.co_b).toEqual({
      create: 1,
      query: 1,
      close: 1,
      refund: 0,
      refundQuery: 0,
      queriesUntilFoundPaid: null,
    });
    expect(await calls()).not.toHaveProperty('byTrade');
  });

  it('starts again on DELETE /sandbox/calls', async () => {
    await send({ method: 'POST', url: '/api/trades', headers: auth, payload: trade('co_c') });
    await send({ method: 'GET', url: '/api/trades/co_c', headers: auth });
    expect((await calls()).totals.create).toBe(1);
    expect((await send({ method: 'DELETE', url: '/sandbox/calls' })).statusCode).toBe(200);
    const seen = await calls(true);
    expect(seen.totals).toEqual({
      create: 0,
      query: 0,
      close: 0,
      refund: 0,
      refundQuery: 0,
      statement: 0,
      other: 0,
    });
    expect(seen.byTrade).toEqual({});
  });
});
