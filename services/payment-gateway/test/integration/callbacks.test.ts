import { signBody } from '@payments/platform';
import { eventually, sleep } from '@payments/testkit';
import { api, applyBody, GatewayStack, orderNo } from '../../../../test/support/stack';

const SECRET = 'psp_test_secret';

describe('provider callbacks and settlement (real servers)', () => {
  const stack = new GatewayStack();
  let url: string;

  beforeAll(async () => {
    await stack.start({}, { sandboxes: ['psp'] });
    url = (await stack.startGateway()).url;
    await stack.listenToEvents();
  });
  afterAll(() => stack.stop());

  const sendCallback = async (channel: string, body: Record<string, unknown>, signature?: string) => {
    const raw = JSON.stringify(body);
    const response = await fetch(`${url}/v1/notify/${channel}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-sandbox-signature': signature ?? signBody(SECRET, raw),
      },
      body: raw,
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, body: (await response.json()) as any };
  };
  const paidBody = (
    channelOrderNo: string,
    merchantOrderNo: string,
    overrides: Record<string, unknown> = {},
  ) => ({
    notifyId: `n-${Math.random()}`,
    channelOrderNo,
    tradeNo: 't',
    merchantOrderNo,
    channel: 'sandbox-wallet',
    amount: 1250,
    currency: 'CNY',
    status: 'PAID',
    paidAt: new Date().toISOString(),
    ...overrides,
  });
  const snapshot = async (merchantOrderNo: string) => {
    const payment = await api(url, 'GET', `/v1/payments/${merchantOrderNo}`);
    return {
      status: payment.body.status,
      attempts: payment.body.attempts.map((attempt: { status: string }) => attempt.status),
    };
  };

  it('settles a real sandbox payment through its signed callback, once', async () => {
    const no = orderNo('cb');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    const channelOrderNo = applied.body.attempt.channelOrderNo;
    expect(
      (await fetch(`${stack.pspUrl}/sandbox/trades/${channelOrderNo}/pay`, { method: 'POST' })).status,
    ).toBe(200);
    await eventually('PAID', async () => (await snapshot(no)).status === 'PAID');
    const payment = await api(url, 'GET', `/v1/payments/${no}`);
    expect(payment.body).toMatchObject({
      status: 'PAID',
      paidChannelOrderNo: channelOrderNo,
      amount: 1250,
      currency: 'CNY',
    });
    expect(payment.body.paidAt).toBeTruthy();
    await eventually('payment.succeeded', async () => stack.eventsOf('payment.succeeded', no).length === 1);
    expect(stack.eventsOf('payment.succeeded', no)[0]!.body.data).toMatchObject({
      channelOrderNo,
      amount: 1250,
      currency: 'CNY',
    });
  });

  it('SUCCESS twice and FAILED after SUCCESS make one payment event', async () => {
    const no = orderNo('dup');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    const channelOrderNo = applied.body.attempt.channelOrderNo;
    const body = paidBody(channelOrderNo, no);
    const answers = await Promise.all([
      sendCallback('sandbox-wallet', body),
      sendCallback('sandbox-wallet', body),
      sendCallback('sandbox-wallet', body),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect((await sendCallback('sandbox-wallet', { ...body, status: 'CLOSED' })).status).toBe(200);
    expect((await sendCallback('sandbox-wallet', { ...body, status: 'EXPIRED' })).status).toBe(200);
    expect(await snapshot(no)).toEqual({ status: 'PAID', attempts: ['SUCCESS'] });
    await sleep(500);
    expect(stack.eventsOf('payment.succeeded', no)).toHaveLength(1);
    expect(stack.eventsOf('payment.duplicate_detected', no)).toHaveLength(0);
  });

  it('a second attempt succeeding is a duplicate; a success after close is paid after close', async () => {
    const no = orderNo('two');
    const voucher = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-voucher' }));
    const wallet = await api(url, 'POST', '/v1/payments', applyBody(no));
    await sendCallback('sandbox-wallet', paidBody(wallet.body.attempt.channelOrderNo, no));
    await sendCallback(
      'sandbox-voucher',
      paidBody(voucher.body.attempt.channelOrderNo, no, { channel: 'sandbox-voucher' }),
    );
    await eventually(
      'duplicate event',
      async () => stack.eventsOf('payment.duplicate_detected', no).length === 1,
    );
    expect(stack.eventsOf('payment.duplicate_detected', no)[0]!.body.data).toMatchObject({
      channelOrderNo: voucher.body.attempt.channelOrderNo,
      paidChannelOrderNo: wallet.body.attempt.channelOrderNo,
    });
    expect(stack.eventsOf('payment.succeeded', no)).toHaveLength(1);

    const late = orderNo('late');
    const lateVoucher = await api(
      url,
      'POST',
      '/v1/payments',
      applyBody(late, { channel: 'sandbox-voucher' }),
    );
    expect((await api(url, 'POST', `/v1/payments/${late}/close`)).body.status).toBe('CLOSED');
    await sendCallback(
      'sandbox-voucher',
      paidBody(lateVoucher.body.attempt.channelOrderNo, late, { channel: 'sandbox-voucher' }),
    );
    await eventually(
      'paid after close',
      async () => stack.eventsOf('payment.paid_after_close', late).length === 1,
    );
    expect(await snapshot(late)).toEqual({ status: 'CLOSED', attempts: ['SUCCESS'] });
    expect(stack.eventsOf('payment.succeeded', late)).toHaveLength(0);
  });

  it('refuses a forged signature, a stale timestamp, a wrong amount and an unknown attempt, changing nothing', async () => {
    const no = orderNo('forged');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    const channelOrderNo = applied.body.attempt.channelOrderNo;
    const body = paidBody(channelOrderNo, no);
    const raw = JSON.stringify(body);

    expect((await sendCallback('sandbox-wallet', body, signBody('not-the-secret', raw))).status).toBe(401);
    const stale = signBody(SECRET, raw, Math.floor(Date.now() / 1000) - 301);
    expect((await sendCallback('sandbox-wallet', body, stale)).status).toBe(401);
    expect((await sendCallback('sandbox-wallet', body, 'garbage')).status).toBe(401);
    const wrongAmount = await sendCallback('sandbox-wallet', { ...body, amount: 1 });
    expect([wrongAmount.status, wrongAmount.body.error.code]).toEqual([400, 'AMOUNT_MISMATCH']);
    expect((await sendCallback('sandbox-wallet', { ...body, currency: 'USD' })).status).toBe(400);
    expect((await sendCallback('sandbox-wallet', { ...body, channelOrderNo: 'co_never' })).status).toBe(404);
    expect((await sendCallback('sandbox-qr', body)).status).toBe(400);
    expect((await sendCallback('no-such-channel', body)).status).toBe(404);

    expect(await snapshot(no)).toEqual({ status: 'PAYING', attempts: ['PAYING'] });
    await sleep(300);
    expect(stack.eventsOf('payment.succeeded', no)).toHaveLength(0);
    const logged = await stack.gateways[0]!.deps.dataSource.query(
      'SELECT outcome FROM callback_log WHERE channel_order_no = ? ORDER BY id',
      [channelOrderNo],
    );
    expect(logged.map((row: { outcome: string }) => row.outcome)).toEqual(
      expect.arrayContaining(['AMOUNT_MISMATCH', 'CHANNEL_MISMATCH']),
    );
    // The forged ones are kept as a sample under no order, naming the attempt they claimed (issue 27.9).
    expect(logged.map((row: { outcome: string }) => row.outcome)).not.toContain('BAD_SIGNATURE');
    const forged = await stack.gateways[0]!.deps.dataSource.query(
      "SELECT outcome FROM callback_log WHERE channel_order_no IS NULL AND detail LIKE CONCAT('%claims ', ?, '%')",
      [channelOrderNo],
    );
    expect(forged.map((row: { outcome: string }) => row.outcome)).toContain('BAD_SIGNATURE');
  });

  it('takes notifications as raw bytes of any content type, up to 64 KiB and beyond, for the provider to verify', async () => {
    const no = orderNo('bigcb');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    const channelOrderNo = applied.body.attempt.channelOrderNo;
    // A form body reaches the provider's verification (refused there, as unsigned), not a 400 on its type.
    const form = await fetch(`${url}/v1/notify/sandbox-wallet`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `channelOrderNo=${channelOrderNo}&status=PAID`,
    });
    expect(form.status).toBe(401);
    // A signed notification of 64 KiB settles.
    const big = await sendCallback('sandbox-wallet', {
      ...paidBody(channelOrderNo, no),
      padding: 'x'.repeat(64 * 1024),
    });
    expect(big.status).toBe(200);
    expect(await snapshot(no)).toEqual({ status: 'PAID', attempts: ['SUCCESS'] });
  });
});
