import amqplib from 'amqplib';
import { peekDlq, replayDlq } from '@payments/platform';
import { eventually, sleep } from '@payments/testkit';
import {
  api,
  applyBody,
  GatewayStack,
  orderNo,
  readQueueThroughManagementApi,
} from '../../../../test/support/stack';

describe('poller: finds every payment whose callback never came (real servers)', () => {
  const stack = new GatewayStack();
  let url: string;

  beforeAll(async () => {
    await stack.start({ POLL_SCHEDULE: '300ms,600ms,1s', SWEEP_INTERVAL: '1s' }, { sandboxes: ['psp'] });
    url = (await stack.startGateway()).url;
    await stack.listenToEvents();
  });
  afterAll(() => stack.stop());
  afterEach(async () => {
    await stack.setPspFaults(undefined);
    for (const poller of [...stack.pollers]) await stack.stopPoller(poller);
  });

  const statusOf = async (merchantOrderNo: string) =>
    (await api(url, 'GET', `/v1/payments/${merchantOrderNo}`)).body;

  it('settles paid attempts by polling alone when every notify is dropped, within the schedule', async () => {
    const poller = await stack.startPoller();
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const orders = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const no = orderNo('drop');
        const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
        return { no, channelOrderNo: applied.body.attempt.channelOrderNo as string };
      }),
    );
    const paidAt = Date.now();
    for (const order of orders) expect(await stack.pay(order.channelOrderNo)).toBe(200);
    for (const order of orders) {
      await eventually(`PAID ${order.no}`, async () => (await statusOf(order.no)).status === 'PAID', 5000);
    }
    // Paid right after apply, so the first steps (300ms, then 600ms) find them.
    expect(Date.now() - paidAt).toBeLessThan(3000);
    for (const order of orders) {
      expect((await statusOf(order.no)).attempts[0].status).toBe('SUCCESS');
      await eventually(
        'one payment event',
        async () => stack.eventsOf('payment.succeeded', order.no).length === 1,
      );
    }
    const metrics = await (await fetch(`http://127.0.0.1:${poller.metricsPort()}/metrics`)).text();
    expect(metrics).toMatch(/poll_queries_total\{[^}]*result="success"/);
  });

  it('opens its breaker on query errors, resumes, and loses nothing', async () => {
    const poller = await stack.startPoller({
      BREAKER_VOLUME: '2',
      BREAKER_RESET: '500ms',
      BREAKER_ERROR_PERCENT: '50',
    });
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const no = orderNo('qerr');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    await stack.pay(applied.body.attempt.channelOrderNo);
    await stack.setPspFaults({ dropNotifyRate: 1, queryErrorRate: 1 });
    const port = poller.metricsPort();
    await eventually(
      'breaker open',
      async () =>
        /circuit_breaker_state\{[^}]*circuit="psp_sandbox"[^}]*\} 2/.test(
          await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
        ),
      8000,
    );
    expect((await statusOf(no)).status).toBe('PAYING');
    await stack.setPspFaults({ dropNotifyRate: 1 });
    await eventually('PAID after recovery', async () => (await statusOf(no)).status === 'PAID', 8000);
  });

  it('loses nothing when the poller is stopped with messages in the delay tiers', async () => {
    const poller = await stack.startPoller();
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const no = orderNo('restart');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    await sleep(400); // the first poll happened; the next waits in a tier
    await stack.stopPoller(poller);
    await stack.pay(applied.body.attempt.channelOrderNo);
    await sleep(1200);
    expect((await statusOf(no)).status).toBe('PAYING');
    await stack.startPoller();
    await eventually('PAID after restart', async () => (await statusOf(no)).status === 'PAID', 8000);
  });

  it('the sweep recovers an attempt whose delayed message was deleted', async () => {
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const no = orderNo('sweep');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    await stack.pay(applied.body.attempt.channelOrderNo);
    // No poller running: the event waits in the work queue. Delete it, as if lost.
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    const channel = await connection.createChannel();
    await sleep(200);
    await channel.purgeQueue(`${stack.config.TOPOLOGY_PREFIX}.payments.poller.attempts`);
    await connection.close();
    const poller = await stack.startPoller();
    await eventually('PAID through the sweep', async () => (await statusOf(no)).status === 'PAID', 10_000);
    const metrics = await (await fetch(`http://127.0.0.1:${poller.metricsPort()}/metrics`)).text();
    expect(metrics).toMatch(/poll_sweep_requeued_total\S* [1-9]/);
  });

  it('closes an expired unpaid attempt at the provider and the pay order with it', async () => {
    await stack.startPoller();
    const no = orderNo('expire');
    const applied = await api(
      url,
      'POST',
      '/v1/payments',
      applyBody(no, { expireAt: new Date(Date.now() + 1500).toISOString() }),
    );
    await eventually(
      'attempt CLOSED',
      async () => (await statusOf(no)).attempts[0].status === 'CLOSED',
      10_000,
    );
    const ledger = await stack.ledger(no);
    expect(ledger.trades[0]!.status).toBe('CLOSED');
    await eventually('pay order CLOSED', async () => (await statusOf(no)).status === 'CLOSED', 10_000);
    await eventually('payment.closed', async () => stack.eventsOf('payment.closed', no).length === 1);
    expect(stack.eventsOf('payment.closed', no)[0]!.body.data.reason).toBe('EXPIRED');
    expect(applied.status).toBe(201);
  });

  it('an attempt paid at the last moment before expiry is settled as paid, not closed', async () => {
    await stack.startPoller();
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const no = orderNo('lastmoment');
    const applied = await api(
      url,
      'POST',
      '/v1/payments',
      applyBody(no, { expireAt: new Date(Date.now() + 1200).toISOString() }),
    );
    await sleep(1000);
    expect(await stack.pay(applied.body.attempt.channelOrderNo)).toBe(200);
    await eventually('PAID', async () => (await statusOf(no)).status === 'PAID', 10_000);
    await sleep(2500); // past expiry and a sweep: still paid, nothing to refund
    expect((await statusOf(no)).status).toBe('PAID');
    expect((await stack.ledger(no)).trades[0]!.status).toBe('PAID');
    expect(stack.eventsOf('payment.paid_after_close', no)).toHaveLength(0);
  });

  it('parks an attempt still open after its close and a further schedule; a replay resumes it', async () => {
    const poller = await stack.startPoller();
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const db = stack.gateways[0]!.deps.dataSource;
    const dlq = `${stack.config.TOPOLOGY_PREFIX}.payments.poller.attempts.dlq`;
    const depth = async () => (await peekDlq(stack.config.AMQP_URL, dlq, 10)).length;
    // A voucher cannot be closed; our side believes it expired while the provider still waits.
    const no = orderNo('park');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-voucher' }));
    const channelOrderNo = applied.body.attempt.channelOrderNo as string;
    await db.query(
      'UPDATE channel_order SET expire_at = NOW(3) - INTERVAL 1 SECOND WHERE channel_order_no = ?',
      [channelOrderNo],
    );
    // close tried, then 300 + 600 + 1000 ms of further polls, then the dlq.
    await eventually('parked in the dlq', async () => (await depth()) === 1, 10_000);
    const [parked] = await db.query(
      'SELECT needs_review, status FROM channel_order WHERE channel_order_no = ?',
      [channelOrderNo],
    );
    expect(parked).toMatchObject({ needs_review: 1, status: 'PAYING' });
    const [letter] = await peekDlq(stack.config.AMQP_URL, dlq, 1);
    expect(String(letter!.headers['x-last-error'])).toMatch(/still not final/);
    // What a person reads in the management UI (its HTTP API): why, from where, which payment.
    const [shown] = await readQueueThroughManagementApi(dlq, 1);
    expect(shown!.properties.headers).toMatchObject({
      'x-dead-letter-reason': 'permanent',
      'x-original-queue': `${stack.config.TOPOLOGY_PREFIX}.payments.poller.attempts`,
      'x-original-routing-key': 'channel_order.created',
      'x-merchant-order-no': no,
    });
    expect(shown!.properties.headers['x-event-id']).toEqual(expect.any(String));
    // The sweep leaves a parked attempt to its person: no second dead letter, no more polling.
    await sleep(2500);
    expect(await depth()).toBe(1);
    const metrics = await (await fetch(`http://127.0.0.1:${poller.metricsPort()}/metrics`)).text();
    expect(metrics).not.toMatch(/poll_sweep_requeued_total\S* [1-9]/);
    // The shopper pays the voucher after all; the operator replays the dead letter.
    expect(await stack.pay(channelOrderNo)).toBe(200);
    expect(await replayDlq(stack.config.AMQP_URL, dlq)).toBe(1);
    await eventually('PAID after the replay', async () => (await statusOf(no)).status === 'PAID', 10_000);
    const [resumed] = await db.query('SELECT needs_review FROM channel_order WHERE channel_order_no = ?', [
      channelOrderNo,
    ]);
    expect(resumed.needs_review).toBe(0);
    expect(await depth()).toBe(0);
  });

  it('parks a success the provider reports with another amount, settling nothing', async () => {
    await stack.startPoller();
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const db = stack.gateways[0]!.deps.dataSource;
    const dlq = `${stack.config.TOPOLOGY_PREFIX}.payments.poller.attempts.dlq`;
    const no = orderNo('otheramount');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
    const channelOrderNo = applied.body.attempt.channelOrderNo as string;
    // Our record says 1 minor unit more than the trade the provider holds (1250).
    await db.query('UPDATE channel_order SET amount = 1251 WHERE channel_order_no = ?', [channelOrderNo]);
    expect(await stack.pay(channelOrderNo)).toBe(200);
    const letter = await eventually(
      'parked',
      async () =>
        (await peekDlq(stack.config.AMQP_URL, dlq, 10)).find((m) => m.body.includes(channelOrderNo)),
      10_000,
    );
    expect(String(letter.headers['x-last-error'])).toMatch(/1250 CNY paid, attempt is 1251 CNY/);
    const [row] = await db.query(
      'SELECT status, needs_review FROM channel_order WHERE channel_order_no = ?',
      [channelOrderNo],
    );
    expect(row).toMatchObject({ status: 'PAYING', needs_review: 1 });
    expect((await statusOf(no)).status).toBe('PAYING');
    expect(stack.eventsOf('payment.succeeded', no)).toHaveLength(0);
    expect(await replayDlq(stack.config.AMQP_URL, dlq)).toBe(1); // leave the dlq empty for the next test
    await db.query('UPDATE channel_order SET amount = 1250 WHERE channel_order_no = ?', [channelOrderNo]);
    await eventually(
      'PAID once the record is right',
      async () => (await statusOf(no)).status === 'PAID',
      10_000,
    );
  });

  it('counts a second charge it finds by polling as a duplicate', async () => {
    const poller = await stack.startPoller();
    await stack.setPspFaults({ dropNotifyRate: 1 });
    const no = orderNo('pollduplicate');
    const voucher = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-voucher' }));
    const wallet = await api(url, 'POST', '/v1/payments', applyBody(no));
    expect(await stack.pay(wallet.body.attempt.channelOrderNo)).toBe(200);
    expect(await stack.pay(voucher.body.attempt.channelOrderNo)).toBe(200);
    await eventually(
      'duplicate found',
      async () => stack.eventsOf('payment.duplicate_detected', no).length === 1,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${poller.metricsPort()}/metrics`)).text();
    expect(metrics).toMatch(/duplicate_payments_detected_total\{[^}]*kind="duplicate"[^}]*\} 1/);
    expect(metrics).toMatch(/payments_settled_total\{[^}]*outcome="PAID"[^}]*\} 1/);
  });

  it('two pollers at once settle each attempt once', async () => {
    const pollers = [await stack.startPoller(), await stack.startPoller()];
    await stack.setPspFaults({ dropNotifyRate: 1, duplicateNotifies: true });
    const orders = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const no = orderNo('two');
        const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
        return { no, channelOrderNo: applied.body.attempt.channelOrderNo as string };
      }),
    );
    await Promise.all(orders.map((order) => stack.pay(order.channelOrderNo)));
    for (const order of orders)
      await eventually('PAID', async () => (await statusOf(order.no)).status === 'PAID', 8000);
    await sleep(1500);
    for (const order of orders) expect(stack.eventsOf('payment.succeeded', order.no)).toHaveLength(1);
    const queries = await Promise.all(
      pollers.map(async (poller) => (await fetch(`http://127.0.0.1:${poller.metricsPort()}/metrics`)).text()),
    );
    expect(queries.every((text) => /poll_queries_total/.test(text))).toBe(true);
  });
});
