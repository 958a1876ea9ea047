/**
 * Issue 27.3: removing a channel from CHANNELS must not orphan its money. CHANNELS says what new
 * payments may use; a channel dropped from it keeps its attempts in flight served (notifications,
 * polls) while its provider's settings are there, and a start without them names the channel and
 * the orders waiting on it, its poll messages delayed rather than dead-lettered.
 */
import { Writable } from 'node:stream';
import { signBody, topologyFor } from '@payments/platform';
import { createLogger, loadConfig } from '@payments/providers';
import { eventually } from '@payments/testkit';
import { SANDBOX_PSP_SECRET } from '../../../../sandbox/psp/src/keys';
import { createPoller } from '../../../poller/src/app';
import { api, applyBody, GatewayStack, orderNo } from '../../../../test/support/stack';

describe('a channel dropped from CHANNELS (real servers)', () => {
  const stack = new GatewayStack();
  let url: string;

  beforeAll(async () => {
    await stack.start();
    url = (await stack.startGateway()).url;
  });
  afterAll(() => stack.stop());

  const notifyPaid = async (gatewayUrl: string, channelOrderNo: string, merchantOrderNo: string) => {
    const raw = JSON.stringify({
      notifyId: `n-${Math.random()}`,
      channelOrderNo,
      tradeNo: 't',
      merchantOrderNo,
      channel: 'sandbox-qr',
      amount: 1250,
      currency: 'CNY',
      status: 'PAID',
      paidAt: new Date().toISOString(),
    });
    const response = await fetch(`${gatewayUrl}/v1/notify/sandbox-qr`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-sandbox-signature': signBody(SANDBOX_PSP_SECRET, raw),
      },
      body: raw,
    });
    return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
  };

  it('still settles a notification for an attempt on it, and offers it to no new payment', async () => {
    const no = orderNo('dropped');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-qr' }));
    expect(applied.status).toBe(201);
    const channelOrderNo = applied.body.attempt.channelOrderNo as string;

    // The deployment now offers Alipay only; the sandbox PSP's settings are still given.
    const { url: narrowed } = await stack.startGateway({ CHANNELS: 'alipay-qr,alipay-page' });
    const refused = await api(
      narrowed,
      'POST',
      '/v1/payments',
      applyBody(orderNo('new'), { channel: 'sandbox-qr' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('UNKNOWN_CHANNEL');

    await fetch(`${stack.pspUrl}/sandbox/trades/${channelOrderNo}/pay`, { method: 'POST' });
    const notified = await notifyPaid(narrowed, channelOrderNo, no);
    expect(notified.body.error?.code).not.toBe('CHANNEL_MISMATCH');
    expect(notified.status).toBe(200);
    const payment = await api(narrowed, 'GET', `/v1/payments/${no}`);
    expect(payment.body.status).toBe('PAID');
    expect(payment.body.paidChannelOrderNo).toBe(channelOrderNo);
  });

  it('a start without its settings names the channel and the waiting orders, and its polls wait, never dead-lettered', async () => {
    const no = orderNo('orphan');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'sandbox-qr' }));
    const channelOrderNo = applied.body.attempt.channelOrderNo as string;

    // A poller of a deployment that dropped the sandbox PSP entirely: CHANNELS and its settings gone.
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...stack.serviceEnv({ CHANNELS: 'alipay-qr,alipay-page', LOG_LEVEL: 'info' }),
    };
    delete env.PSP_BASE_URL;
    delete env.PSP_SECRET;
    let written = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const config = loadConfig(env);
    const poller = await createPoller(config, createLogger('poller', 'info', sink));
    await poller.start();
    try {
      const lines = () =>
        written
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      const atStart = lines().find(
        (line) => line.channel === 'sandbox-qr' && line.attemptsInFlight !== undefined,
      );
      expect(atStart?.level).toBe(50); // error
      expect(atStart?.merchantOrderNos).toEqual(expect.arrayContaining([no]));
      expect(String(atStart?.msg)).toMatch(/channel sandbox-qr has money waiting/);

      // Its poll message comes and is put back to wait (RETRY_SCHEDULE's last step), several times.
      await eventually(
        'the poll waited twice',
        async () =>
          lines().filter(
            (line) => line.channelOrderNo === channelOrderNo && /not configured here/.test(String(line.msg)),
          ).length >= 2,
        15_000,
      );
      const topology = topologyFor(stack.config);
      const dlq = topology.dlq(topology.queue('pollerAttempts'));
      const dead = await fetch(`http://127.0.0.1:15672/api/queues/%2F/${encodeURIComponent(dlq)}`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      });
      expect(dead.status).toBe(200);
      expect(((await dead.json()) as { messages?: number }).messages ?? 0).toBe(0);
      const [attempt] = (await stack.query('SELECT status FROM channel_order WHERE channel_order_no = ?', [
        channelOrderNo,
      ])) as { status: string }[];
      expect(attempt?.status).toBe('PAYING');
    } finally {
      await poller.stop();
    }

    // With the settings back, the same waiting message is served: paid at the PSP, found by polling.
    await fetch(`${stack.pspUrl}/sandbox/trades/${channelOrderNo}/pay`, { method: 'POST' });
    await stack.startPoller();
    await eventually(
      'the waiting attempt settled by a poller that serves its channel',
      async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.status === 'PAID',
      15_000,
    );
  });
});
