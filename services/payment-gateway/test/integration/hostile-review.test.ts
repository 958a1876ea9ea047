import { networkInterfaces } from 'node:os';
import { eventually, sleep } from '@payments/testkit';
import { api, applyBody, GatewayStack, orderNo } from '../../../../test/support/stack';
import { AttemptRepository } from '../../../poller/src/adapters/attempt-repository';

/** What a hostile review found (issue 14): each case failed on the code it reviewed. */
describe('hostile review: money-safety holes closed (real servers)', () => {
  const stack = new GatewayStack();
  let url: string;
  const db = () => stack.gateways[0]!.deps.dataSource;
  const attempts = async (no: string) =>
    (await db().query(
      'SELECT channel, status, pay_url FROM channel_order WHERE merchant_order_no = ? ORDER BY id',
      [no],
    )) as { channel: string; status: string; pay_url: string | null }[];
  /** CONTRACT 8.1 at the PSP: captured minus refunded. */
  const net = async (no: string) => {
    const ledger = await stack.ledger(no);
    const captured = ledger.trades.filter((t) => t.status === 'PAID').reduce((sum, t) => sum + t.amount, 0);
    const returned = ledger.refunds
      .filter((r) => r.status === 'SUCCESS')
      .reduce((sum, r) => sum + r.amount, 0);
    return captured - returned;
  };

  beforeAll(async () => {
    await stack.start({ BREAKER_TIMEOUT: '1s' }, { sandboxes: ['psp'] });
    url = (await stack.startGateway({ BREAKER_TIMEOUT: '1s' })).url;
    await stack.listenToEvents();
  });
  afterAll(() => stack.stop());
  afterEach(() => stack.setPspFaults(undefined));

  it('no spelling of a merchant path reaches it without a key: 401, and nothing changes', async () => {
    const victim = orderNo('victim');
    expect((await api(url, 'POST', '/v1/payments', applyBody(victim))).status).toBe(201);
    const forged = orderNo('forged');
    const attemptsBefore = await db().query('SELECT COUNT(*) AS n FROM channel_order');
    const spellings: [string, string, unknown?][] = [
      ['POST', '/v1/%70ayments', applyBody(forged, { amount: 1 })],
      ['POST', '/%761/payments', applyBody(forged, { amount: 1 })],
      ['POST', '/v1/payment%73', applyBody(forged, { amount: 1 })],
      ['POST', '/v1/%70%61%79%6d%65%6e%74%73', applyBody(forged, { amount: 1 })],
      ['POST', `/v1/%70ayments/${victim}/close`],
      ['POST', `/v1/payments/${victim}/%63lose`],
      ['GET', `/v1/%70ayments/${victim}`],
      ['GET', `/v1/payments/${victim}`],
    ];
    for (const [method, path, body] of spellings) {
      const answer = await fetch(`${url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect([method, path, answer.status]).toEqual([method, path, 401]);
      // A wrong key is refused the same way.
      const wrongKey = await api(url, method, path, body, 'sk_test_loca');
      expect([method, path, wrongKey.status]).toEqual([method, path, 401]);
    }
    expect(await db().query('SELECT COUNT(*) AS n FROM channel_order')).toEqual(attemptsBefore);
    expect((await api(url, 'GET', `/v1/payments/${forged}`)).status).toBe(404);
    expect((await api(url, 'GET', `/v1/payments/${victim}`)).body.status).toBe('PAYING');
  });

  /** Lets the poller, notifier and refunder run until the order is settled and quiet. */
  const settleEverything = async (no: string, amount: number) => {
    const poller = await stack.startPoller();
    const notifier = await stack.startNotifier();
    const refunder = await stack.startRefunder();
    try {
      await eventually(
        'paid, told, and every extra charge refunded',
        async () => {
          const payment = (await api(url, 'GET', `/v1/payments/${no}`)).body;
          const told = await stack.merchantOrder(no);
          return (
            payment.status === 'PAID' &&
            payment.attempts.every((attempt: { status: string }) => attempt.status !== 'PAYING') &&
            told?.distinctEvents === 1 &&
            (await net(no)) === amount
          );
        },
        20_000,
        100,
      );
    } finally {
      await stack.stopPoller(poller);
      await stack.stopNotifier(notifier);
      await stack.stopRefunder(refunder);
    }
  };

  const waitForTrade = (no: string, channel: string) =>
    eventually(
      `the slow create reaches the PSP (${channel})`,
      async () => (await stack.ledger(no)).trades.find((trade) => trade.channel === channel),
      10_000,
      20,
    );

  it('a create slower than the breaker stays in flight; paid with notifies dropped, the payment is found and kept', async () => {
    const no = orderNo('slowcreate');
    // A poller already running asks once before the create lands ("not found") and next well after.
    const early = await stack.startPoller({ POLL_SCHEDULE: '300ms,4s' });
    try {
      await stack.setPspFaults({ createLatencyMs: 1800, dropNotifyRate: 1 });
      const answer = await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1999 }));
      expect([answer.status, answer.body.error?.code]).toEqual([502, 'CHANNEL_ERROR']);
      expect(await attempts(no)).toEqual([{ channel: 'sandbox-wallet', status: 'PAYING', pay_url: null }]);
      const trade = await waitForTrade(no, 'sandbox-wallet');
      // That early "not found" did not end the attempt.
      expect(await attempts(no)).toEqual([{ channel: 'sandbox-wallet', status: 'PAYING', pay_url: null }]);
      expect(await stack.pay(trade.channelOrderNo)).toBe(200);
      await settleEverything(no, 1999);
    } finally {
      await stack.stopPoller(early);
    }
    expect((await stack.merchantOrder(no))?.status).toBe('PAID');
  }, 40_000);

  it('the same when the close of a channel switch reaches the PSP before the slow create: one kept, one refunded', async () => {
    const no = orderNo('slowswitch');
    await stack.setPspFaults({ createLatencyMs: 1800, dropNotifyRate: 1 });
    const slow = await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1999 }));
    expect(slow.status).toBe(502);
    await stack.setPspFaults({ dropNotifyRate: 1 });
    // The switch closes the wallet attempt first: the PSP knows no such trade yet.
    const qr = await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1999, channel: 'sandbox-qr' }));
    expect(qr.status).toBe(201);
    expect((await stack.ledger(no)).trades.map((trade) => trade.channel)).toEqual(['sandbox-qr']);
    // "Not found" before its expiry did not end the wallet attempt.
    expect((await attempts(no)).map((attempt) => attempt.status)).toEqual(['PAYING', 'PAYING']);
    const wallet = await waitForTrade(no, 'sandbox-wallet');
    expect(await stack.pay(wallet.channelOrderNo)).toBe(200);
    expect(await stack.pay(qr.body.attempt.channelOrderNo)).toBe(200);
    await settleEverything(no, 1999);
    const ledger = await stack.ledger(no);
    expect(ledger.trades.filter((trade) => trade.status === 'PAID')).toHaveLength(2);
    expect(ledger.refunds.filter((refund) => refund.status === 'SUCCESS')).toHaveLength(1);
  }, 40_000);

  /** An attempt the PSP made but whose create answer never reached us (502), and its row id. */
  const unconfirmedAttempt = async (prefix: string) => {
    const no = orderNo(prefix);
    await stack.setPspFaults({ createLatencyMs: 1800, dropNotifyRate: 1 });
    expect((await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1999 }))).status).toBe(502);
    await waitForTrade(no, 'sandbox-wallet');
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const [row] = await db().query('SELECT id FROM channel_order WHERE merchant_order_no = ?', [no]);
    return { no, id: Number(row.id) };
  };

  it("the poller's close of an unconfirmed create loses to a retried apply that confirmed it first (issue 26.8)", async () => {
    const { no, id } = await unconfirmedAttempt('confirmfirst');
    // The shopper applies again: the same attempt, created again, confirmed, its pay URL handed out.
    const retried = await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1999 }));
    expect(retried.status).toBe(201);
    // The poller, which found the trade unpaid and unconfirmed a moment before, may not close it now.
    expect(await new AttemptRepository(db()).claimClose(id)).toBe(false);
    expect(await attempts(no)).toEqual([
      { channel: 'sandbox-wallet', status: 'PAYING', pay_url: retried.body.attempt.payUrl },
    ]);
    expect(await stack.pay(retried.body.attempt.channelOrderNo)).toBe(200);
    await settleEverything(no, 1999);
  }, 40_000);

  it('a retried apply hands out no pay URL for an attempt whose close the poller claimed first (issue 26.8)', async () => {
    const { no, id } = await unconfirmedAttempt('claimfirst');
    const poller = new AttemptRepository(db());
    expect(await poller.claimClose(id)).toBe(true);
    expect(await poller.claimClose(id)).toBe(false); // one claim at a time
    const retried = await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1999 }));
    expect([retried.status, retried.body.error?.code]).toEqual([502, 'CHANNEL_ERROR']);
    expect(await attempts(no)).toEqual([{ channel: 'sandbox-wallet', status: 'PAYING', pay_url: null }]);
    // A close that did not end the attempt gives the claim back: the next apply confirms it.
    await poller.releaseClose(id);
    const again = await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1999 }));
    expect(again.status).toBe(201);
    expect(await poller.claimClose(id)).toBe(false);
  }, 40_000);

  it('the order lock is renewed under a slow close: never two channels live at once', async () => {
    const { url: lockUrl } = await stack.startGateway({ ORDER_LOCK_TTL: '600ms', BREAKER_TIMEOUT: '5s' });
    const no = orderNo('slowclose');
    expect(
      (await api(lockUrl, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-qr' }))).status,
    ).toBe(201);
    await stack.setPspFaults({ closeLatencyMs: 1500 });
    // A holds the lock through a close longer than the lease; B asks after the lease would have run out.
    const first = api(lockUrl, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-wallet' }));
    await sleep(900);
    const second = api(lockUrl, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-voucher' }));
    const answers = await Promise.all([first, second]);
    expect(answers[0].status).toBe(201);
    expect([201, 409]).toContain(answers[1].status);
    const live = (await attempts(no)).filter((attempt) => attempt.status === 'PAYING');
    expect(live).toHaveLength(1);
  }, 30_000);

  it('an unverified callback is stored as a bounded prefix with the hash and size of the whole', async () => {
    const body = JSON.stringify({ channelOrderNo: 'co_forged', padding: 'x'.repeat(15_000) });
    const answer = await fetch(`${url}/v1/notify/sandbox-wallet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sandbox-signature': 't=1,v1=00' },
      body,
    });
    expect(answer.status).toBe(401);
    // Kept under no order (issue 27.9): the order it claims is only named in `detail`.
    const [row] = await db().query(
      "SELECT CHAR_LENGTH(raw_body) AS kept, body_bytes, body_sha256, channel_order_no FROM callback_log WHERE detail LIKE '%claims co_forged:%'",
    );
    expect(row.channel_order_no).toBeNull();
    expect(Number(row.kept)).toBe(1024);
    expect(Number(row.body_bytes)).toBe(Buffer.byteLength(body));
    expect(row.body_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses the inputs that got through: odd currencies, far expiries, script URLs, duplicate keys', async () => {
    const refused = async (body: unknown, field: RegExp) => {
      const answer = await api(url, 'POST', '/v1/payments', body);
      expect([answer.status, answer.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(answer.body.error.message).toMatch(field);
    };
    await refused(applyBody(orderNo('cur'), { currency: 'XXX' }), /currency/);
    await refused(applyBody(orderNo('cur'), { currency: 'QZJ' }), /currency/);
    await refused(
      applyBody(orderNo('far'), { expireAt: '2100-01-01T00:00:00Z' }),
      /expireAt: must be at most/,
    );
    await refused(applyBody(orderNo('url'), { returnUrl: 'javascript:alert(1)' }), /returnUrl/);
    await refused(applyBody(orderNo('url'), { returnUrl: 'data:text/html,hi' }), /returnUrl/);
    const no = orderNo('dupkey');
    const raw = JSON.stringify(applyBody(no, { amount: 1 })).replace(
      '"amount":1',
      '"amount":1,"amount":19999',
    );
    const answer = await fetch(`${url}/v1/payments`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_local', 'content-type': 'application/json' },
      body: raw,
    });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { error: { message: string } }).error.message).toMatch(
      /duplicate key "amount"/,
    );
    expect((await api(url, 'GET', `/v1/payments/${no}`)).status).toBe(404);
    // Still taken: a near expiry, an https return URL, a real currency.
    const fine = await api(
      url,
      'POST',
      '/v1/payments',
      applyBody(orderNo('fine'), {
        currency: 'USD',
        returnUrl: 'https://shop.example/back',
        expireAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    expect(fine.status).toBe(201);
  });

  describe('the ops routes answer on the ops address only (OPS_HOST, loopback by default)', () => {
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

    it('finds an address of this machine that is not loopback (else the checks below prove nothing)', () => {
      expect(outside).toBeDefined();
    });

    it('the gateway: /metrics and /readyz on loopback, 404 on its public address; /healthz on both', async () => {
      const port = new URL(url).port;
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
      expect((await fetch(`http://${outside}:${port}/metrics`)).status).toBe(404);
      expect((await fetch(`http://${outside}:${port}/readyz`)).status).toBe(404);
      expect((await fetch(`http://${outside}:${port}/healthz`)).status).toBe(200);
    });

    it('a worker: its ops port listens on loopback only', async () => {
      const poller = await stack.startPoller();
      try {
        const port = poller.metricsPort();
        expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
        await expect(fetch(`http://${outside}:${port}/metrics`)).rejects.toThrow();
      } finally {
        await stack.stopPoller(poller);
      }
    });
  });
});
