import amqplib from 'amqplib';
import { HEADERS } from '@payments/platform';
import { approveRefund } from '@payments/core';
import { paymentTimeline } from '../../../../tools/payctl/src/timeline';
import { eventually, sleep } from '@payments/testkit';
import { api, applyBody, GatewayStack, orderNo } from '../../../../test/support/stack';

describe('refunder: gives back every extra charge, safely (real servers)', () => {
  const stack = new GatewayStack();
  let url: string;

  beforeAll(async () => {
    await stack.start({}, { sandboxes: ['psp'] });
    url = (await stack.startGateway()).url;
    await stack.listenToEvents();
    await stack.startNotifier();
  });
  afterAll(() => stack.stop());
  afterEach(async () => {
    await stack.setPspFaults(undefined);
    for (const refunder of [...stack.refunders]) await stack.stopRefunder(refunder);
  });

  const db = () => stack.gateways[0]!.deps.dataSource;
  const net = async (merchantOrderNo: string) => {
    const ledger = await stack.ledger(merchantOrderNo);
    const captured = ledger.trades
      .filter((trade) => trade.status === 'PAID')
      .reduce((sum, trade) => sum + trade.amount, 0);
    const returned = ledger.refunds
      .filter((refund) => refund.status === 'SUCCESS')
      .reduce((sum, refund) => sum + refund.amount, 0);
    return { captured, returned, net: captured - returned, refunds: ledger.refunds };
  };
  /** A voucher left in flight, then a wallet: the wallet is paid first, then the voucher (offline). */
  const doublePaid = async (label: string, amount = 1250) => {
    const no = orderNo(label);
    const voucher = await api(
      url,
      'POST',
      '/v1/payments',
      applyBody(no, { channel: 'sandbox-voucher', amount }),
    );
    const wallet = await api(url, 'POST', '/v1/payments', applyBody(no, { amount }));
    expect(await stack.pay(wallet.body.attempt.channelOrderNo)).toBe(200);
    await eventually(
      'PAID',
      async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.status === 'PAID',
    );
    expect(await stack.pay(voucher.body.attempt.channelOrderNo)).toBe(200);
    return {
      no,
      voucher: voucher.body.attempt.channelOrderNo as string,
      wallet: wallet.body.attempt.channelOrderNo as string,
    };
  };

  it('voucher and wallet both paid: the voucher is refunded, never the payment', async () => {
    await stack.startRefunder();
    const { no, voucher, wallet } = await doublePaid('both');
    await eventually('refund SUCCESS', async () => (await net(no)).returned === 1250, 10_000);
    const money = await net(no);
    expect(money).toMatchObject({ captured: 2500, returned: 1250, net: 1250 });
    expect(money.refunds).toHaveLength(1);
    expect(money.refunds[0]!.channelOrderNo).toBe(voucher);
    const payment = (await api(url, 'GET', `/v1/payments/${no}`)).body;
    expect(payment.paidChannelOrderNo).toBe(wallet);
    await eventually(
      'refund shown',
      async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.refunds[0]?.status === 'SUCCESS',
    );
    expect((await api(url, 'GET', `/v1/payments/${no}`)).body.refunds[0]).toMatchObject({
      channelOrderNo: voucher,
      reason: 'DUPLICATE_PAYMENT',
      amount: 1250,
    });
    await eventually('refund.succeeded', async () => stack.eventsOf('refund.succeeded', no).length === 1);
  });

  it('closed, then paid: refunded in full, and the order service is never told paid', async () => {
    await stack.startRefunder();
    const no = orderNo('closedpaid');
    const voucher = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-voucher' }));
    expect((await api(url, 'POST', `/v1/payments/${no}/close`)).body.status).toBe('CLOSED');
    expect(await stack.pay(voucher.body.attempt.channelOrderNo)).toBe(200);
    await eventually('refunded', async () => (await net(no)).returned === 1250, 10_000);
    expect((await net(no)).net).toBe(0);
    expect((await api(url, 'GET', `/v1/payments/${no}`)).body.refunds[0].reason).toBe('PAID_AFTER_CLOSE');
    await sleep(500);
    expect(await stack.merchantOrder(no)).toBeUndefined();
  });

  it('the same duplicate event 5 times, to two refunders at once: one refund at the provider', async () => {
    const { no } = await doublePaid('fivetimes'); // no refunder yet: the event waits in the queue
    await eventually(
      'duplicate event',
      async () => stack.eventsOf('payment.duplicate_detected', no).length === 1,
    );
    const event = stack.eventsOf('payment.duplicate_detected', no)[0]!;
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    const channel = await connection.createConfirmChannel();
    for (let i = 0; i < 4; i++) {
      channel.publish(
        `${stack.config.TOPOLOGY_PREFIX}.payments.events`,
        event.type,
        Buffer.from(JSON.stringify(event.body)),
        { messageId: event.body.eventId, persistent: true },
      );
    }
    await channel.waitForConfirms();
    await connection.close();
    await Promise.all([stack.startRefunder(), stack.startRefunder()]);
    await eventually('refunded', async () => (await net(no)).returned === 1250, 10_000);
    await sleep(1000);
    expect((await net(no)).refunds).toHaveLength(1);
    const [row] = await db().query('SELECT COUNT(*) AS n FROM refund_order WHERE merchant_order_no = ?', [
      no,
    ]);
    expect(Number(row.n)).toBe(1);
  });

  it('a refund above the limit waits for approval; approval sends it', async () => {
    await stack.startRefunder({ REFUND_AUTO_MAX_AMOUNT: '1000' });
    const { no } = await doublePaid('big', 5000);
    await eventually(
      'pending approval',
      async () =>
        (await api(url, 'GET', `/v1/payments/${no}`)).body.refunds[0]?.status === 'PENDING_APPROVAL',
      10_000,
    );
    await sleep(500);
    expect((await net(no)).refunds).toHaveLength(0);
    const refundNo = (await api(url, 'GET', `/v1/payments/${no}`)).body.refunds[0].refundNo;
    await expect(approveRefund(db(), refundNo, '  ')).rejects.toThrow(/approver \(--by\)/);
    await approveRefund(db(), refundNo, 'ops-alice');
    await expect(approveRefund(db(), refundNo, 'ops-alice')).rejects.toThrow(/not PENDING_APPROVAL/);
    const [approval] = await db().query(
      'SELECT approved_by, approved_at FROM refund_order WHERE refund_no = ?',
      [refundNo],
    );
    expect(approval.approved_by).toBe('ops-alice');
    expect(approval.approved_at).not.toBeNull();
    const timeline = await paymentTimeline(db(), no);
    expect(timeline.map((entry) => `${entry.what} ${entry.detail}`)).toContain(
      `refund approved ${refundNo} by ops-alice`,
    );
    await eventually('refunded after approval', async () => (await net(no)).returned === 5000, 10_000);
  });

  it('the daily cap sends the rest to approval', async () => {
    await stack.startRefunder({ REFUND_DAILY_CAP: '1' });
    const { no } = await doublePaid('cap');
    await eventually(
      'pending approval',
      async () =>
        (await api(url, 'GET', `/v1/payments/${no}`)).body.refunds[0]?.status === 'PENDING_APPROVAL',
      10_000,
    );
  });

  it('a provider refund error, then recovery: refunded once', async () => {
    await stack.setPspFaults({ refundErrorRate: 1 });
    await stack.startRefunder({ BREAKER_VOLUME: '1000' });
    const { no } = await doublePaid('referr');
    await eventually(
      'refund requested',
      async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.refunds[0]?.status === 'PROCESSING',
      10_000,
    );
    await sleep(800);
    expect((await net(no)).refunds).toHaveLength(0);
    await stack.setPspFaults(undefined);
    await eventually('refunded', async () => (await net(no)).returned === 1250, 10_000);
    expect((await net(no)).refunds).toHaveLength(1);
  });

  it('a refund FAILED at the provider goes to the dlq for a person', async () => {
    await stack.setPspFaults({ refundFailRate: 1 });
    await stack.startRefunder();
    const { no } = await doublePaid('reffail');
    await eventually(
      'refund FAILED',
      async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.refunds[0]?.status === 'FAILED',
      10_000,
    );
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    const channel = await connection.createChannel();
    const dead = await eventually('dead letter', async () =>
      channel.get(`${stack.config.TOPOLOGY_PREFIX}.payments.refunder.refunds.dlq`, { noAck: true }),
    );
    expect(String(dead.properties.headers![HEADERS.lastError])).toMatch(/FAILED at the provider/);
    expect(dead.properties.headers![HEADERS.merchantOrderNo]).toBe(no);
    await connection.close();
    await eventually('refund.failed', async () => stack.eventsOf('refund.failed', no).length === 1);
  });

  it('the sweep finds a duplicate whose event was lost and refunds it', async () => {
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const no = orderNo('lost');
    const voucher = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-voucher' }));
    const wallet = await api(url, 'POST', '/v1/payments', applyBody(no));
    await stack.pay(wallet.body.attempt.channelOrderNo);
    await stack.pay(voucher.body.attempt.channelOrderNo);
    // The state as if both were settled but the duplicate's event never left.
    await db().query(
      "UPDATE channel_order SET status = 'SUCCESS', inflight_key = NULL, settled_at = NOW(3) WHERE merchant_order_no = ?",
      [no],
    );
    await db().query(
      "UPDATE pay_order SET status = 'PAID', paid_channel_order_no = ?, paid_at = NOW(3) WHERE merchant_order_no = ?",
      [wallet.body.attempt.channelOrderNo, no],
    );
    const refunder = await stack.startRefunder();
    // Outside the sweep's window (settled two days ago) it is not scanned; inside, it is found.
    await db().query(
      'UPDATE channel_order SET settled_at = NOW(3) - INTERVAL 2 DAY WHERE merchant_order_no = ?',
      [no],
    );
    expect((await refunder.sweeps.runOnce()).requested).toBe(0);
    await db().query('UPDATE channel_order SET settled_at = NOW(3) WHERE merchant_order_no = ?', [no]);
    expect((await refunder.sweeps.runOnce()).requested).toBe(1);
    await eventually('refunded by the sweep', async () => (await net(no)).returned === 1250, 10_000);
    expect((await net(no)).refunds[0]!.channelOrderNo).toBe(voucher.body.attempt.channelOrderNo);
    expect((await refunder.sweeps.runOnce()).requested).toBe(0);
  });
});
