import { signBody } from '@payments/platform';
import { eventually } from '@payments/testkit';
import { paymentTimeline } from '../../../../tools/payctl/src/timeline';
import { UNVERIFIED_LIMITS } from '../../src/domain/unverified-budget';
import { api, applyBody, GatewayStack, orderNo } from '../../../../test/support/stack';

/** Issue 27.9: a notification that fails verification costs a bounded amount and names no order. */
describe('unverified notifications: rate-limited per source, a bounded sample, out of the timeline', () => {
  const stack = new GatewayStack();
  let url: string;
  const db = () => stack.gateways[0]!.deps.dataSource;
  const forge = (channelOrderNo: string, merchantOrderNo: string) =>
    fetch(`${url}/v1/notify/sandbox-wallet`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-sandbox-signature': signBody('not-the-secret', JSON.stringify({ channelOrderNo })),
      },
      body: JSON.stringify({
        channelOrderNo,
        merchantOrderNo,
        status: 'PAID',
        amount: 1999,
        currency: 'CNY',
      }),
    });
  const callbackRows = async () => Number((await db().query('SELECT COUNT(*) AS n FROM callback_log'))[0].n);
  const metric = async (result: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`callbacks_total{channel="sandbox-wallet",result="${result}",`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  beforeAll(async () => {
    await stack.start({}, { sandboxes: ['psp'] });
    url = (await stack.startGateway()).url;
  });
  afterAll(() => stack.stop());

  it("a forged notification is kept under no order and stays out of the order's timeline; a verified one shows", async () => {
    const no = orderNo('forged-tl');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1999 }));
    const channelOrderNo = applied.body.attempt.channelOrderNo as string;
    expect((await forge(channelOrderNo, no)).status).toBe(401);
    expect(
      await db().query('SELECT outcome FROM callback_log WHERE channel_order_no = ?', [channelOrderNo]),
    ).toEqual([]);
    const [sample] = await db().query(
      "SELECT outcome, detail FROM callback_log WHERE channel_order_no IS NULL AND detail LIKE CONCAT('%claims ', ?, '%')",
      [channelOrderNo],
    );
    expect(sample.outcome).toBe('BAD_SIGNATURE');
    expect(sample.detail).toMatch(/^from \S+, claims co_/);
    // One written as before, under the order number it claimed, is kept out of the timeline too.
    await db().query(
      "INSERT INTO callback_log (channel, channel_order_no, raw_body, outcome) VALUES ('sandbox-wallet', ?, '{}', 'BAD_SIGNATURE')",
      [channelOrderNo],
    );
    expect(await stack.pay(channelOrderNo)).toBe(200);
    await eventually(
      'paid',
      async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.status === 'PAID',
    );
    const callbacks = (await paymentTimeline(db(), no)).filter((entry) => entry.what === 'callback');
    expect(callbacks.map((entry) => entry.detail)).toEqual([`${channelOrderNo} → PAID`]);
  });

  it('over its burst, a source is answered 429 and nothing is written; its verified notifications still settle', async () => {
    const no = orderNo('flood');
    const applied = await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1999 }));
    const channelOrderNo = applied.body.attempt.channelOrderNo as string;
    const statuses: number[] = [];
    for (let i = 0; i < UNVERIFIED_LIMITS.burst + 10; i++)
      statuses.push((await forge(channelOrderNo, no)).status);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(5);
    expect(new Set(statuses)).toEqual(new Set([401, 429]));
    // Once limited, further ones write nothing at all.
    const before = await callbackRows();
    for (let i = 0; i < 20; i++) expect((await forge(channelOrderNo, no)).status).toBe(429);
    expect(await callbackRows()).toBe(before);
    expect(await metric('RATE_LIMITED')).toBeGreaterThanOrEqual(25);
    expect(await metric('BAD_SIGNATURE')).toBeGreaterThanOrEqual(UNVERIFIED_LIMITS.burst);
    // The sample is bounded: at most samplesPerMinute rows per minute, whatever was sent.
    const [{ n: sampled }] = await db().query(
      "SELECT COUNT(*) AS n FROM callback_log WHERE channel_order_no IS NULL AND outcome = 'BAD_SIGNATURE'",
    );
    expect(Number(sampled)).toBeLessThanOrEqual(2 * UNVERIFIED_LIMITS.samplesPerMinute);
    // The PSP's signed notification comes from the same address, and is never limited.
    expect(await stack.pay(channelOrderNo)).toBe(200);
    await eventually(
      'paid',
      async () => (await api(url, 'GET', `/v1/payments/${no}`)).body.status === 'PAID',
    );
    expect(
      (await db().query('SELECT outcome FROM callback_log WHERE channel_order_no = ?', [channelOrderNo])).map(
        (row: { outcome: string }) => row.outcome,
      ),
    ).toEqual(['PAID']);
  });
});
