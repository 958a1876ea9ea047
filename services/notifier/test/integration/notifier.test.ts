import amqplib from 'amqplib';
import { HEADERS, replayDlq, topologyFor } from '@payments/platform';
import { newEvent } from '@payments/core';
import { NotificationLogRepository } from '../../src/adapters/notification-log';
import { eventually, sleep } from '@payments/testkit';
import { api, applyBody, freePort, GatewayStack, orderNo } from '../../../../test/support/stack';

describe('notifier: every payment reaches the order service (real servers)', () => {
  const stack = new GatewayStack();
  let url: string;

  beforeAll(async () => {
    await stack.start({ NOTIFY_SCHEDULE: '300ms,600ms,1s' }, { sandboxes: ['psp'] });
    url = (await stack.startGateway()).url;
    await stack.listenToEvents();
  });
  afterAll(() => stack.stop());
  afterEach(async () => {
    await stack.setOrderServiceFaults(undefined);
    for (const notifier of [...stack.notifiers]) await stack.stopNotifier(notifier);
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    await (
      await connection.createChannel()
    ).purgeQueue(`${stack.config.TOPOLOGY_PREFIX}.payments.notifier.payment-succeeded.dlq`);
    await connection.close();
  });

  /** Applies and pays `count` orders; the sandbox's callback settles them. */
  const paidOrders = async (count: number, label: string) => {
    const orders: string[] = [];
    await Promise.all(
      Array.from({ length: count }, async () => {
        const no = orderNo(label);
        const applied = await api(url, 'POST', '/v1/payments', applyBody(no));
        expect(await stack.pay(applied.body.attempt.channelOrderNo)).toBe(200);
        orders.push(no);
      }),
    );
    for (const no of orders)
      await eventually(
        'PAID',
        async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.status === 'PAID',
      );
    return orders;
  };
  const dlqDepth = async () => {
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    try {
      const channel = await connection.createChannel();
      return (
        await channel.checkQueue(`${stack.config.TOPOLOGY_PREFIX}.payments.notifier.payment-succeeded.dlq`)
      ).messageCount;
    } finally {
      await connection.close();
    }
  };
  const logStatus = async (merchantOrderNo: string) => {
    const [row] = await stack.gateways[0]!.deps.dataSource.query(
      'SELECT status, attempts, last_error FROM notification_log WHERE merchant_order_no = ?',
      [merchantOrderNo],
    );
    return row as { status: string; attempts: number; last_error: string | null } | undefined;
  };

  it('delivers each payment once, signed, and records it', async () => {
    await stack.startNotifier();
    const [no] = await paidOrders(1, 'plain');
    await eventually('order service told', async () => (await stack.merchantOrder(no!))?.status === 'PAID');
    expect(await stack.merchantOrder(no!)).toEqual({
      merchantOrderNo: no,
      status: 'PAID',
      deliveries: 1,
      distinctEvents: 1,
    });
    await eventually('log DELIVERED', async () => (await logStatus(no!))?.status === 'DELIVERED');
    await eventually('order.notified', async () => stack.eventsOf('order.notified', no).length === 1);
  });

  it('a payment whose event the broker lost (confirmed, never delivered) is sent again by the sweep', async () => {
    // No notifier runs: the event waits in the queue, and is then lost there (purged).
    const [no] = await paidOrders(1, 'lost');
    const queue = `${stack.config.TOPOLOGY_PREFIX}.payments.notifier.payment-succeeded`;
    await eventually(
      'the event in the queue',
      async () => stack.eventsOf('payment.succeeded', no).length === 1,
    );
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    await (await connection.createChannel()).purgeQueue(queue);
    await connection.close();
    const notifier = await stack.startNotifier();
    const db = stack.gateways[0]!.deps.dataSource;
    expect(await notifier.sweeps.runOnce()).toBe(0); // sent just now: only slow, perhaps
    await sleep(500);
    expect(await stack.merchantOrder(no!)).toBeUndefined();
    // Long enough unseen (as if published ten minutes ago): the sweep sends the same event again.
    await db.query(
      "UPDATE outbox SET sent_at = sent_at - INTERVAL 10 MINUTE WHERE event_type = 'payment.succeeded' AND payload LIKE ?",
      [`%"merchantOrderNo":"${no}"%`],
    );
    const again = await stack.startNotifier(); // a fresh start looks back a day
    expect(await again.sweeps.runOnce()).toBe(1);
    await eventually('order service told', async () => (await stack.merchantOrder(no!))?.status === 'PAID');
    expect(await stack.merchantOrder(no!)).toMatchObject({ deliveries: 1, distinctEvents: 1 });
    expect((await logStatus(no!))?.status).toBe('DELIVERED');
    expect(await again.sweeps.runOnce()).toBe(0); // seen now: not sent a third time
  });

  it('a delivery whose retry was lost in a delay tier is started again by the sweep', async () => {
    await stack.setOrderServiceFaults({ failRate: 1 });
    const notifier = await stack.startNotifier();
    const [no] = await paidOrders(1, 'stalled');
    await eventually(
      'tried, and waiting for its retry',
      async () => (await logStatus(no!))?.status === 'PENDING',
    );
    // The retry is lost: no notifier takes it back from its tier, and the tiers lose it.
    await stack.stopNotifier(notifier);
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    try {
      const channel = await connection.createChannel();
      const topology = topologyFor(stack.config);
      for (const delayMs of stack.config.NOTIFY_SCHEDULE)
        await channel.purgeQueue(topology.tierQueue(delayMs));
      await channel.purgeQueue(topology.queue('notifierPaymentSucceeded'));
    } finally {
      await connection.close();
    }
    await stack.setOrderServiceFaults(undefined);
    const again = await stack.startNotifier();
    expect(await again.sweeps.runOnce()).toBe(0); // touched just now: its retry may still come
    await sleep(500);
    expect(await stack.merchantOrder(no!)).toBeUndefined();
    // Untouched for ten minutes, past every step of the schedules: started again, once.
    const db = stack.gateways[0]!.deps.dataSource;
    await db.query(
      'UPDATE notification_log SET updated_at = updated_at - INTERVAL 10 MINUTE WHERE merchant_order_no = ?',
      [no],
    );
    expect(await again.sweeps.runOnce()).toBe(1);
    expect(await again.sweeps.runOnce()).toBe(0); // not twice while the new one runs
    await eventually('order service told', async () => (await stack.merchantOrder(no!))?.status === 'PAID');
    expect(await stack.merchantOrder(no!)).toMatchObject({ deliveries: 1, distinctEvents: 1 });
    // The order service is told before the log is written (record, call, then settle).
    await eventually('log DELIVERED', async () => (await logStatus(no!))?.status === 'DELIVERED');
    await eventually('order.notified', async () => stack.eventsOf('order.notified', no).length === 1);
  });

  it('a redelivered message for an event already delivered does not call the order service again', async () => {
    await stack.startNotifier();
    const [no] = await paidOrders(1, 'again');
    await eventually('log DELIVERED', async () => (await logStatus(no!))?.status === 'DELIVERED');
    const [event] = stack.eventsOf('payment.succeeded', no);
    const read = jest.spyOn(stack.notifiers[0]!.deps.notifications, 'status');
    // The same message once more, as the broker redelivers it after a lost ack.
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.sendToQueue(
        `${stack.config.TOPOLOGY_PREFIX}.payments.notifier.payment-succeeded`,
        Buffer.from(JSON.stringify(event!.body)),
        { messageId: event!.body.eventId, type: 'payment.succeeded', persistent: true },
      );
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    const skipped = async () =>
      (await stack.notifiers[0]!.deps.metrics.notifications.get()).values.find(
        (value) => value.labels.result === 'skipped',
      )?.value === 1;
    await eventually('the repeat seen and skipped', skipped);
    expect(read).toHaveBeenCalledTimes(1); // a copy that is no first arrival: its log row is read first
    expect(await stack.merchantOrder(no!)).toMatchObject({ deliveries: 1, distinctEvents: 1 });
    expect(stack.eventsOf('order.notified', no)).toHaveLength(1);
  });

  it('an event the relay published twice ends with one log row and one order.notified', async () => {
    // No notifier runs yet: both copies wait in the queue, and both arrive as first deliveries
    // (straight from the events exchange, not redelivered), which are not read first.
    const [no] = await paidOrders(1, 'twice');
    await eventually('the event published', async () => stack.eventsOf('payment.succeeded', no).length === 1);
    const [event] = stack.eventsOf('payment.succeeded', no);
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish(
        topologyFor(stack.config).exchange('events'),
        'payment.succeeded',
        Buffer.from(JSON.stringify(event!.body)),
        { messageId: event!.body.eventId, type: 'payment.succeeded', persistent: true },
      );
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    await eventually(
      'both copies in the queue',
      async () => stack.eventsOf('payment.succeeded', no).length === 2,
    );
    const read = jest.spyOn(NotificationLogRepository.prototype, 'status');
    await stack.startNotifier();
    await eventually('log DELIVERED', async () => (await logStatus(no!))?.status === 'DELIVERED');
    const delivered = async () =>
      (await stack.notifiers[0]!.deps.metrics.notifications.get()).values.find(
        (value) => value.labels.result === 'delivered',
      )?.value === 2;
    await eventually('both copies handled', delivered);
    // At least once (CONTRACT 5): the order service may be told twice, always with the one eventId.
    expect(await stack.merchantOrder(no!)).toMatchObject({ status: 'PAID', distinctEvents: 1 });
    const rows = await stack.gateways[0]!.deps.dataSource.query(
      'SELECT status FROM notification_log WHERE merchant_order_no = ?',
      [no],
    );
    expect(rows).toEqual([{ status: 'DELIVERED' }]);
    await sleep(300);
    expect(stack.eventsOf('order.notified', no)).toHaveLength(1);
    expect(read).not.toHaveBeenCalled();
    read.mockRestore();
  });

  it('an outage longer than the quick tries but shorter than the schedule loses nothing', async () => {
    await stack.setOrderServiceFaults({ down: true });
    // The breaker opens during the outage; its trial call comes well within the schedule.
    await stack.startNotifier({ BREAKER_RESET: '200ms' });
    const orders = await paidOrders(5, 'outage');
    await sleep(700);
    expect(await stack.merchantOrder(orders[0]!)).toBeUndefined(); // down answers 503 to reads too
    await stack.setOrderServiceFaults(undefined);
    for (const no of orders) {
      await eventually(
        'delivered after outage',
        async () => (await stack.merchantOrder(no))?.status === 'PAID',
        8000,
      );
      expect((await stack.merchantOrder(no))!.distinctEvents).toBe(1);
    }
    expect(await dlqDepth()).toBe(0);
  });

  it('an outage longer than the schedule parks messages in the dlq; replay delivers them', async () => {
    await stack.setOrderServiceFaults({ down: true });
    await stack.startNotifier({ BREAKER_VOLUME: '1000' });
    const orders = await paidOrders(3, 'spent');
    await eventually('all in the dlq', async () => (await dlqDepth()) === 3, 10_000);
    for (const no of orders) {
      const row = await logStatus(no);
      expect(row?.status).toBe('FAILED');
      expect(row?.attempts).toBe(3 + 3); // quick tries, then one per schedule step
      expect(row?.last_error).toMatch(/503/);
      await eventually(
        'order.notify_failed',
        async () => stack.eventsOf('order.notify_failed', no).length === 1,
      );
    }
    const connection = await amqplib.connect(stack.config.AMQP_URL);
    const channel = await connection.createChannel();
    const dlq = `${stack.config.TOPOLOGY_PREFIX}.payments.notifier.payment-succeeded.dlq`;
    const peeked = await channel.get(dlq, { noAck: false });
    if (!peeked) throw new Error('dlq empty');
    expect(peeked.properties.headers![HEADERS.reason]).toBe('permanent');
    expect(String(peeked.properties.headers![HEADERS.lastError])).toMatch(
      /notify schedule spent: order service answered 503/,
    );
    expect(orders).toContain(peeked.properties.headers![HEADERS.merchantOrderNo]);
    await connection.close(); // returns the peeked message

    await stack.setOrderServiceFaults(undefined);
    expect(await replayDlq(stack.config.AMQP_URL, dlq)).toBe(3);
    for (const no of orders) {
      await eventually(
        'delivered after replay',
        async () => (await stack.merchantOrder(no))?.status === 'PAID',
        8000,
      );
      expect((await stack.merchantOrder(no))!.distinctEvents).toBe(1);
      await eventually('log DELIVERED', async () => (await logStatus(no))?.status === 'DELIVERED');
    }
    expect(await dlqDepth()).toBe(0);
  });

  it('a slow order service opens the breaker without piling requests up, then delivers', async () => {
    await stack.setOrderServiceFaults({ latencyMs: 1500 });
    const notifier = await stack.startNotifier({
      BREAKER_TIMEOUT: '300ms',
      BREAKER_VOLUME: '3',
      BREAKER_RESET: '300ms',
      NOTIFY_SCHEDULE: '300ms,300ms,300ms,300ms,300ms,300ms,1s,2s,2s,2s',
    });
    const orders = await paidOrders(8, 'slow');
    // The breaker open, and a message already deferred to a later step (its failure recorded first:
    // under load that write can land after the breaker opened).
    const metrics = await eventually(
      'breaker open and a message deferred',
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${notifier.metricsPort()}/metrics`)).text();
        const open = /circuit_breaker_state\{[^}]*circuit="order_service"[^}]*\} 2/.test(text);
        return open && /notifications_total\{[^}]*result="retry"/.test(text) && text;
      },
      8000,
    );
    expect(metrics).toMatch(/circuit_breaker_events_total\{[^}]*circuit="order_service"[^}]*event="timeout"/);
    // While open, messages are deferred without calling: over two seconds of 8 undelivered
    // messages retried every 300 ms, only the breaker's half-open trial calls reach the order
    // service (3 in each of two runs here), where calling past the open breaker made 24. One trial
    // per reset + timeout (600 ms) is 4 at most, but opossum 9 starts a reset timer on every
    // `open` and never clears the one before: a call from before the breaker opened that fails
    // while it is half-open opens it again, and two chains of trials then run side by side (our
    // reading of the 7 CI saw, from opossum's source; not reproduced here). Hence the bound:
    // fewer than two calls per message.
    const received = async () =>
      ((await (await fetch(`${stack.orderServiceUrl}/sandbox/stats`)).json()) as { received: number })
        .received;
    const before = await received();
    await sleep(2000);
    expect((await received()) - before).toBeLessThan(2 * orders.length);
    await stack.setOrderServiceFaults(undefined);
    for (const no of orders) {
      await eventually(
        'delivered after recovery',
        async () => (await stack.merchantOrder(no))?.status === 'PAID',
        15_000,
      );
    }
    expect(await dlqDepth()).toBe(0);
  });

  it('500 on 30% of calls: all delivered, none twice as a distinct event', async () => {
    await stack.setOrderServiceFaults({ failRate: 0.3 });
    await stack.startNotifier({ BREAKER_VOLUME: '1000' });
    const orders = await paidOrders(20, 'flaky');
    for (const no of orders) {
      await eventually('delivered', async () => (await stack.merchantOrder(no))?.status === 'PAID', 10_000);
    }
    await sleep(500);
    for (const no of orders) expect((await stack.merchantOrder(no))!.distinctEvents).toBe(1);
  });

  it('retries spent on its own database: dead-lettered, log FAILED, order.notify_failed', async () => {
    const db = stack.gateways[0]!.deps.dataSource;
    // The database refuses to record a delivery (as if it failed at that moment, every time),
    // whether the delivery writes the event's first row or updates it.
    for (const [name, when] of [
      ['refuse_delivered', 'UPDATE'],
      ['refuse_delivered_row', 'INSERT'],
    ])
      await db.query(`CREATE TRIGGER ${name} BEFORE ${when} ON notification_log FOR EACH ROW
        BEGIN IF NEW.status = 'DELIVERED' THEN
          SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'test: delivery not recordable'; END IF; END`);
    try {
      await stack.startNotifier({ RETRY_SCHEDULE: '100ms,200ms' });
      const [no] = await paidOrders(1, 'dbdown');
      await eventually('dead-lettered', async () => (await dlqDepth()) === 1, 10_000);
      await eventually('log FAILED', async () => (await logStatus(no!))?.status === 'FAILED');
      expect((await logStatus(no!))!.last_error).toMatch(/retries spent: .*not recordable/);
      await eventually(
        'order.notify_failed',
        async () => stack.eventsOf('order.notify_failed', no).length === 1,
      );
    } finally {
      await db.query('DROP TRIGGER IF EXISTS refuse_delivered');
      await db.query('DROP TRIGGER IF EXISTS refuse_delivered_row');
    }
  });

  it('the log is written with outcomes only: one row per event, one order.notified, no FAILED after DELIVERED', async () => {
    const db = stack.gateways[0]!.deps.dataSource;
    const log = new NotificationLogRepository(db);
    const succeeded = (no: string) =>
      newEvent('payment.succeeded', {
        payOrderNo: `P${no}`.slice(0, 40),
        merchantOrderNo: no,
        amount: 100,
        currency: 'CNY',
        channel: 'sandbox-wallet',
        channelOrderNo: `C${no}`.slice(0, 40),
        paidAt: new Date().toISOString(),
      });
    const notifiedRows = async (eventId: string) =>
      (
        await db.query(
          "SELECT COUNT(*) AS n FROM outbox WHERE event_type = 'order.notified' AND JSON_VALUE(payload, '$.data.notifiedEventId') = ?",
          [eventId],
        )
      )[0].n;

    // Failed calls first, then a delivery: one row, the calls added up.
    const retried = succeeded(orderNo('log'));
    expect(await log.status(retried.eventId)).toBeUndefined();
    await log.recordFailure(retried, 3, 'HTTP 500');
    expect(await log.status(retried.eventId)).toBe('PENDING');
    await log.recordFailure(retried, 0, 'circuit open');
    expect(await logStatus(retried.data.merchantOrderNo)).toMatchObject({
      attempts: 3,
      last_error: 'HTTP 500',
    });
    expect(await log.markDelivered(retried, 1)).toMatchObject({ type: 'order.notified' });
    expect(await logStatus(retried.data.merchantOrderNo)).toMatchObject({ status: 'DELIVERED', attempts: 4 });
    // A second delivery of the same event (a duplicate message) writes nothing.
    expect(await log.markDelivered(retried, 1)).toBeNull();
    await log.markFailed(retried, 'late');
    expect(await log.status(retried.eventId)).toBe('DELIVERED');
    expect(Number(await notifiedRows(retried.eventId))).toBe(1);

    // Delivered at the first call: the row is written by the delivery itself.
    const first = succeeded(orderNo('log'));
    expect(await log.markDelivered(first, 1)).toMatchObject({ type: 'order.notified' });
    const [row] = await db.query(
      'SELECT status, attempts, delivered_at FROM notification_log WHERE event_id = ?',
      [first.eventId],
    );
    expect(row).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    expect(row.delivered_at).not.toBeNull();

    // Retries spent on our own database before any outcome was written: FAILED, with its event.
    const spent = succeeded(orderNo('log'));
    await log.markFailed(spent, 'retries spent: database down');
    expect(await logStatus(spent.data.merchantOrderNo)).toMatchObject({
      status: 'FAILED',
      last_error: 'retries spent: database down',
    });
    const [failedEvents] = await db.query(
      "SELECT COUNT(*) AS n FROM outbox WHERE event_type = 'order.notify_failed' AND JSON_VALUE(payload, '$.data.notifiedEventId') = ?",
      [spent.eventId],
    );
    expect(Number(failedEvents.n)).toBe(1);
  });

  it('a notifier killed mid-delivery and restarted delivers, losing nothing', async () => {
    await stack.setOrderServiceFaults({ latencyMs: 1500 });
    const port = await freePort();
    const child = stack.spawnService('notifier', { METRICS_PORT: String(port) });
    await eventually(
      'notifier ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      20_000,
    );
    const orders = await paidOrders(5, 'killed');
    await sleep(500); // deliveries are in flight, waiting on the slow order service
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await stack.merchantOrder(orders[0]!)).toBeUndefined();
    await stack.setOrderServiceFaults(undefined);
    const restartPort = await freePort();
    const restarted = stack.spawnService('notifier', { METRICS_PORT: String(restartPort) });
    await eventually(
      'notifier ready again',
      async () => (await fetch(`http://127.0.0.1:${restartPort}/readyz`)).status === 200,
      20_000,
    );
    for (const no of orders) {
      await eventually(
        'delivered after restart',
        async () => (await stack.merchantOrder(no))?.status === 'PAID',
        20_000,
      );
      expect((await stack.merchantOrder(no))!.distinctEvents).toBe(1);
    }
    restarted.kill('SIGTERM');
    const code = await new Promise((resolve) => restarted.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(0);
  });
});
