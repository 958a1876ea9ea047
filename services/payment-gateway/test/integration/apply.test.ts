import Redis from 'ioredis';
import { redisKey } from '@payments/platform';
import { eventually } from '@payments/testkit';
import { api, applyBody, GatewayStack, orderNo } from '../../../../test/support/stack';

describe('apply for payment over HTTP (real MariaDB, Redis, RabbitMQ, sandbox PSP)', () => {
  const stack = new GatewayStack();
  let url: string;
  let secondUrl: string;

  beforeAll(async () => {
    await stack.start({}, { sandboxes: ['psp'] });
    url = (await stack.startGateway()).url;
    await stack.listenToEvents();
    secondUrl = (await stack.startGateway()).url;
  });
  afterAll(() => stack.stop());

  const ledger = async (merchantOrderNo: string) =>
    (await fetch(`${stack.pspUrl}/sandbox/ledger?merchantOrderNo=${merchantOrderNo}`)).json() as Promise<{
      trades: { channelOrderNo: string; status: string; channel: string }[];
    }>;
  const attemptRows = async (merchantOrderNo: string) =>
    stack.gateways[0]!.deps.dataSource.query('SELECT * FROM channel_order WHERE merchant_order_no = ?', [
      merchantOrderNo,
    ]);

  it('creates an attempt (201), then returns the same one (200, same payUrl) and announces it once', async () => {
    const no = orderNo();
    const first = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      merchantOrderNo: no,
      status: 'PAYING',
      reused: false,
      attempt: { channel: 'sandbox-wallet', status: 'PAYING' },
    });
    expect(first.body.attempt.payUrl).toBeTruthy();
    const again = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(again.status).toBe(200);
    expect(again.body.reused).toBe(true);
    expect(again.body.attempt.channelOrderNo).toBe(first.body.attempt.channelOrderNo);
    expect(again.body.attempt.payUrl).toBe(first.body.attempt.payUrl);
    await eventually(
      'channel_order.created',
      async () => stack.eventsOf('channel_order.created', no).length === 1,
    );
    expect((await ledger(no)).trades).toHaveLength(1);
  });

  it('50 concurrent applies for one order and channel, across two gateway instances, make one attempt', async () => {
    const no = orderNo('storm');
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api(i % 2 ? secondUrl : url, 'POST', '/v1/payments', applyBody(no)),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.every((status) => [200, 201, 409].includes(status))).toBe(true);
    const succeeded = answers.filter((answer) => answer.status < 300);
    expect(new Set(succeeded.map((answer) => answer.body.attempt.channelOrderNo)).size).toBe(1);
    expect(await attemptRows(no)).toHaveLength(1);
    expect((await ledger(no)).trades).toHaveLength(1);
  });

  it('two gateways whose locks never meet (a Redis failover lost the key) still make one attempt: the database fences', async () => {
    // Each holds the "same" lock in a Redis database of its own, as two gateways do when one took
    // the lock on the old primary and the other on the promoted replica that never got the key.
    const split = [
      (await stack.startGateway({ REDIS_URL: 'redis://127.0.0.1:6379/1' })).url,
      (await stack.startGateway({ REDIS_URL: 'redis://127.0.0.1:6379/2' })).url,
    ];
    // The order exists (its first attempt made); the storm switches it to another channel, so what
    // fences is the unique in-flight key of (order, channel), not the order's own unique number.
    const no = orderNo('split');
    expect((await api(split[0]!, 'POST', '/v1/payments', applyBody(no))).status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        api(split[i % 2]!, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-qr' })),
      ),
    );
    const succeeded = answers.filter((answer) => answer.status < 300);
    expect(succeeded.length).toBeGreaterThan(0);
    expect(answers.every((answer) => [200, 201, 409, 503].includes(answer.status))).toBe(true);
    expect(new Set(succeeded.map((answer) => answer.body.attempt.channelOrderNo)).size).toBe(1);
    const rows = (await attemptRows(no)) as { channel: string }[];
    expect(rows.filter((row) => row.channel === 'sandbox-qr')).toHaveLength(1);
    expect((await ledger(no)).trades.filter((trade) => trade.channel === 'sandbox-qr')).toHaveLength(1);
  });

  it('switching channel closes the old attempt at the provider', async () => {
    const no = orderNo('switch');
    const wallet = await api(url, 'POST', '/v1/payments', applyBody(no));
    const qr = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-qr' }));
    expect(qr.status).toBe(201);
    const trades = (await ledger(no)).trades;
    expect(trades.find((trade) => trade.channelOrderNo === wallet.body.attempt.channelOrderNo)?.status).toBe(
      'CLOSED',
    );
    expect(trades.find((trade) => trade.channelOrderNo === qr.body.attempt.channelOrderNo)?.status).toBe(
      'WAITING',
    );
    const payment = await api(url, 'GET', `/v1/payments/${no}`);
    expect(payment.body.attempts.map((attempt: { status: string }) => attempt.status)).toEqual([
      'CLOSED',
      'PAYING',
    ]);
    await eventually(
      'channel_order.closed',
      async () => stack.eventsOf('channel_order.closed', no).length === 1,
    );
  });

  it('a voucher cannot be closed: it stays in flight beside the new attempt', async () => {
    const no = orderNo('voucher');
    const voucher = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-voucher' }));
    const wallet = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(wallet.status).toBe(201);
    const trades = (await ledger(no)).trades;
    expect(trades.find((trade) => trade.channelOrderNo === voucher.body.attempt.channelOrderNo)?.status).toBe(
      'WAITING',
    );
    const rows = await attemptRows(no);
    expect(rows.map((row: { status: string }) => row.status)).toEqual(['PAYING', 'PAYING']);
  });

  it('switching to a channel whose old attempt was already paid answers ORDER_ALREADY_PAID', async () => {
    const no = orderNo('paidswitch');
    await fetch(`${stack.pspUrl}/sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dropNotifyRate: 1 }),
    });
    try {
      const wallet = await api(url, 'POST', '/v1/payments', applyBody(no));
      const paid = await fetch(`${stack.pspUrl}/sandbox/trades/${wallet.body.attempt.channelOrderNo}/pay`, {
        method: 'POST',
      });
      expect(paid.status).toBe(200);
      const qr = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-qr' }));
      expect(qr.status).toBe(409);
      expect(qr.body.error.code).toBe('ORDER_ALREADY_PAID');
      expect((await api(url, 'GET', `/v1/payments/${no}`)).body).toMatchObject({
        status: 'PAID',
        paidChannelOrderNo: wallet.body.attempt.channelOrderNo,
      });
      expect((await ledger(no)).trades).toHaveLength(1);
    } finally {
      await fetch(`${stack.pspUrl}/sandbox/faults`, { method: 'DELETE' });
    }
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const no = orderNo('bad');
    const cases: [unknown, number, string, RegExp][] = [
      [{ ...applyBody(no), amount: 12.5 }, 400, 'VALIDATION_FAILED', /amount/],
      [{ ...applyBody(no), amount: 0 }, 400, 'VALIDATION_FAILED', /amount/],
      [{ ...applyBody(no), merchantOrderNo: 'has space' }, 400, 'VALIDATION_FAILED', /merchantOrderNo/],
      [{ ...applyBody(no), currency: 'yuan' }, 400, 'VALIDATION_FAILED', /currency/],
      [{ ...applyBody(no), subject: '' }, 400, 'VALIDATION_FAILED', /subject/],
      [{ ...applyBody(no), expireAt: '2001-01-01T00:00:00Z' }, 400, 'VALIDATION_FAILED', /expireAt/],
      [{ ...applyBody(no), surprise: 1 }, 400, 'VALIDATION_FAILED', /surprise|unrecognized/i],
      [{ ...applyBody(no), channel: 'carrier-pigeon' }, 400, 'UNKNOWN_CHANNEL', /carrier-pigeon/],
    ];
    for (const [body, status, code, message] of cases) {
      const answer = await api(url, 'POST', '/v1/payments', body);
      expect({ status: answer.status, code: answer.body.error.code }).toEqual({ status, code });
      expect(answer.body.error.message).toMatch(message);
    }
    const big = await api(url, 'POST', '/v1/payments', { ...applyBody(no), subject: 'x'.repeat(17_000) });
    expect([big.status, big.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(big.body.error.message).toMatch(/larger than/);
    const notJson = await fetch(`${url}/v1/payments`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_local', 'content-type': 'text/plain' },
      body: 'merchantOrderNo=1',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    const broken = await fetch(`${url}/v1/payments`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_local', 'content-type': 'application/json' },
      body: '{"merchantOrderNo": ',
    });
    expect(broken.status).toBe(400);
    expect((await api(url, 'POST', '/v1/payments', applyBody(no), 'sk_wrong')).status).toBe(401);
    expect((await fetch(`${url}/v1/payments/${no}`)).status).toBe(401);
    expect((await api(url, 'GET', `/v1/payments/${no}`)).status).toBe(404);
    expect(await attemptRows(no)).toHaveLength(0);
  });

  it('refuses another amount (422), a paid order (409) and a closed order (410)', async () => {
    const no = orderNo('rules');
    await api(url, 'POST', '/v1/payments', applyBody(no));
    const mismatch = await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 999 }));
    expect([mismatch.status, mismatch.body.error.code]).toEqual([422, 'AMOUNT_MISMATCH']);

    const closed = await api(url, 'POST', `/v1/payments/${no}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('CLOSED');
    expect(closed.body.attempts[0].status).toBe('CLOSED');
    const afterClose = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect([afterClose.status, afterClose.body.error.code]).toEqual([410, 'ORDER_CLOSED']);
    await eventually('payment.closed', async () => stack.eventsOf('payment.closed', no).length === 1);
    expect((await api(url, 'POST', `/v1/payments/${no}/close`)).status).toBe(200);
  });

  it('refuses repeated clicks on a paid order from the cache, without waiting for its lock', async () => {
    const no = orderNo('cached');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(await stack.pay(applied.body.attempt.channelOrderNo)).toBe(200);
    await eventually(
      'PAID',
      async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.status === 'PAID',
    );
    const first = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect([first.status, first.body.error.code]).toEqual([409, 'ORDER_ALREADY_PAID']);
    const cache = stack.gateways[0]!.deps.finalStatus;
    expect(await cache.get(no)).toBe('PAID');
    // Someone holds the order's lock for a long time: the cached, database-confirmed refusal
    // still answers at once, where the locked path would wait and say PAYMENT_IN_PROGRESS.
    const lockKey = `${stack.config.TOPOLOGY_PREFIX}.lock:order:${no}`;
    const lock = stack.gateways[0]!.deps.lock;
    const held = await lock.acquire(`order:${no}`, { ttlMs: 10_000, waitMs: 0 });
    expect(held?.key).toBe(lockKey);
    try {
      const started = Date.now();
      const again = await api(url, 'POST', '/v1/payments', applyBody(no));
      expect([again.status, again.body.error.code]).toEqual([409, 'ORDER_ALREADY_PAID']);
      expect(Date.now() - started).toBeLessThan(1000);
      // The cache alone refuses nobody: an order it names that the database does not know
      // goes through the lock as usual (and finds it busy).
      const unknown = orderNo('cachedonly');
      await cache.remember(unknown, 'PAID');
      const busy = await lock.acquire(`order:${unknown}`, { ttlMs: 10_000, waitMs: 0 });
      const refused = await api(url, 'POST', '/v1/payments', applyBody(unknown));
      expect([refused.status, refused.body.error.code]).toEqual([409, 'PAYMENT_IN_PROGRESS']);
      await busy?.release();
      expect((await api(url, 'POST', '/v1/payments', applyBody(unknown))).status).toBe(201);
    } finally {
      await held?.release();
    }
  });

  it('an order the cache forgot is refused a second pay order by its unique key, and answered as a repeat', async () => {
    const no = orderNo('forgot');
    const first = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(first.status).toBe(201);
    const cache = stack.gateways[0]!.deps.finalStatus;
    await eventually('remembered', async () => (await cache.lookup(no)) === 'EXISTS');
    // Redis lost the key (a flush, a failover): the next apply tries to create the order first.
    const redis = new Redis(stack.config.REDIS_URL);
    try {
      await redis.del(redisKey(stack.config.TOPOLOGY_PREFIX, `final:${no}`));
    } finally {
      redis.disconnect();
    }
    expect(await cache.lookup(no)).toBeUndefined();
    const again = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect([again.status, again.body.reused]).toEqual([200, true]);
    expect(again.body.attempt.channelOrderNo).toBe(first.body.attempt.channelOrderNo);
    expect(again.body.payOrderNo).toBe(first.body.payOrderNo);
    expect(await attemptRows(no)).toHaveLength(1);
    await eventually('remembered again', async () => (await cache.lookup(no)) === 'EXISTS');
    // Another amount is refused as for any known order.
    const other = await api(url, 'POST', '/v1/payments', { ...applyBody(no), amount: 1 });
    expect(other.status).toBe(422);
  });

  it('answers 503 and creates nothing when Redis cannot be reached', async () => {
    const { url: brokenUrl } = await stack.startGateway({ REDIS_URL: 'redis://127.0.0.1:1/0' });
    const no = orderNo('noredis');
    const answer = await api(brokenUrl, 'POST', '/v1/payments', applyBody(no));
    expect([answer.status, answer.body.error.code]).toEqual([503, 'DEPENDENCY_UNAVAILABLE']);
    expect(await attemptRows(no)).toHaveLength(0);
    const payOrders = await stack.gateways[0]!.deps.dataSource.query(
      'SELECT * FROM pay_order WHERE merchant_order_no = ?',
      [no],
    );
    expect(payOrders).toHaveLength(0);
    expect((await fetch(`${brokenUrl}/readyz`)).status).toBe(503);
  });

  it('answers 502 CHANNEL_ERROR when the provider fails, leaving the attempt in flight for the poller (a 500 may have made the trade)', async () => {
    const no = orderNo('pspdown');
    await fetch(`${stack.pspUrl}/sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ createErrorRate: 1 }),
    });
    let channelOrderNo: string;
    try {
      const answer = await api(url, 'POST', '/v1/payments', applyBody(no));
      expect([answer.status, answer.body.error.code]).toEqual([502, 'CHANNEL_ERROR']);
      const rows = await attemptRows(no);
      expect(
        rows.map((row: { status: string; pay_url: string | null }) => [row.status, row.pay_url]),
      ).toEqual([['PAYING', null]]);
      channelOrderNo = rows[0].channel_order_no;
      // Announced, so the poller takes it at once rather than at the next sweep.
      await eventually(
        'channel_order.created',
        async () => stack.eventsOf('channel_order.created', no).length === 1,
      );
    } finally {
      await fetch(`${stack.pspUrl}/sandbox/faults`, { method: 'DELETE' });
    }
    // Applying again finishes the same attempt (the provider's create is idempotent).
    const retry = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(retry.status).toBe(201);
    expect(retry.body.attempt.channelOrderNo).toBe(channelOrderNo);
    expect((await ledger(no)).trades).toHaveLength(1);
  });

  it('finishes an attempt recorded but never created (a gateway stopped in between) on the next apply', async () => {
    const no = orderNo('halfmade');
    const first = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(first.status).toBe(201);
    const channelOrderNo = first.body.attempt.channelOrderNo as string;
    // As a gateway killed after recording the attempt leaves it: in flight, with no pay URL.
    await stack.gateways[0]!.deps.dataSource.query(
      'UPDATE channel_order SET pay_url = NULL WHERE channel_order_no = ?',
      [channelOrderNo],
    );
    const again = await api(secondUrl, 'POST', '/v1/payments', applyBody(no));
    expect(again.status).toBe(201);
    expect(again.body.attempt).toMatchObject({ channelOrderNo, payUrl: first.body.attempt.payUrl });
    // The provider's create is idempotent: still one trade, and the attempt announced again.
    expect((await ledger(no)).trades).toHaveLength(1);
    expect((await attemptRows(no)).map((row: { pay_url: string }) => row.pay_url)).toEqual([
      first.body.attempt.payUrl,
    ]);
    await eventually(
      'channel_order.created again',
      async () => stack.eventsOf('channel_order.created', no).length === 2,
    );
  });

  it('keeps taking applies while the broker is gone; the outbox holds their events', async () => {
    const { gateway, url: lonelyUrl } = await stack.startGateway();
    await gateway.broker.close();
    const no = orderNo('nobroker');
    const answer = await api(lonelyUrl, 'POST', '/v1/payments', applyBody(no));
    expect(answer.status).toBe(201);
    const [row] = await gateway.deps.dataSource.query(
      "SELECT sent_at FROM outbox WHERE event_type = 'channel_order.created' AND payload LIKE ?",
      [`%${no}%`],
    );
    expect(row).toBeDefined();
    // Another instance's relay publishes it.
    await eventually(
      'event relayed by another gateway',
      async () => stack.eventsOf('channel_order.created', no).length === 1,
      10_000,
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/payments_applied_total\{[^}]*result="created"/);
    expect(metrics).toMatch(/outbox_unpublished/);
  });

  it('answers a typed pay action beside payUrl: a QR code to show, or a page to open', async () => {
    const qr = await api(url, 'POST', '/v1/payments', applyBody(orderNo('qr'), { channel: 'sandbox-qr' }));
    expect(qr.body.attempt.payAction).toEqual({ type: 'qr', content: qr.body.attempt.payUrl });
    const wallet = await api(url, 'POST', '/v1/payments', applyBody(orderNo('page')));
    expect(wallet.body.attempt.payAction).toEqual({ type: 'redirect', url: wallet.body.attempt.payUrl });
    const again = await api(url, 'GET', `/v1/payments/${qr.body.merchantOrderNo}`);
    expect(again.body.attempts[0].payAction).toEqual(qr.body.attempt.payAction);
  });

  it('serves only the channels named in CHANNELS, and refuses to start with one it does not know', async () => {
    const { url: walletOnly } = await stack.startGateway({ CHANNELS: 'sandbox-wallet' });
    const refused = await api(
      walletOnly,
      'POST',
      '/v1/payments',
      applyBody(orderNo('off'), { channel: 'sandbox-qr' }),
    );
    expect([refused.status, refused.body.error.code]).toEqual([400, 'UNKNOWN_CHANNEL']);
    expect(refused.body.error.message).toMatch(/use one of sandbox-wallet$/);
    await expect(stack.startGateway({ CHANNELS: 'sandbox-wallet,alipay-qrr' })).rejects.toThrow(
      /CHANNELS: unknown channel\(s\) alipay-qrr/,
    );
  });
});
