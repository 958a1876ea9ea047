import { eventually, sleep } from '@payments/testkit';
import { api, GatewayStack, orderNo } from '../../../../test/support/stack';

/**
 * The cashier's live streams and return address (issue 27.4, 27.7), against the real servers:
 * streams are bounded per token and per gateway, every stream of one order is fed by one read,
 * and what a provider is told to send the shopper back to carries no token.
 */
describe('the cashier: bounded streams from shared reads, a return address without the token', () => {
  const stack = new GatewayStack();
  let url: string;
  const db = () => stack.gateways[0]!.deps.dataSource;
  const open: AbortController[] = [];

  beforeAll(async () => {
    await stack.start();
    url = (await stack.startGateway({ CASHIER_STREAMS_PER_TOKEN: '100' })).url;
  });
  afterEach(() => {
    for (const controller of open.splice(0)) controller.abort();
  });
  afterAll(() => stack.stop());

  const checkout = async (base: string, no: string, body: Record<string, unknown> = {}) => {
    const answer = await api(base, 'POST', '/v1/checkout', {
      merchantOrderNo: no,
      amount: 1999,
      currency: 'CNY',
      subject: 'Blue teapot',
      returnUrl: 'https://shop.example/thanks',
      channels: ['sandbox-qr'],
      ...body,
    });
    expect([200, 201]).toContain(answer.status);
    return answer.body as { url: string; payOrderNo: string };
  };

  /** An open event stream: its status, and the states it has pushed so far. */
  const stream = async (cashierUrl: string) => {
    const controller = new AbortController();
    open.push(controller);
    const response = await fetch(`${cashierUrl}/events`, { signal: controller.signal });
    const states: { status: string }[] = [];
    let body: unknown;
    if (response.status === 200) {
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      void (async () => {
        for (;;) {
          const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = event.split('\n').find((line) => line.startsWith('data: '));
            if (data) states.push(JSON.parse(data.slice(6)));
          }
        }
      })();
    } else body = await response.json();
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body,
      states,
      close: () => controller.abort(),
    };
  };

  const cashierQueries = async (base: string) => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = text.split('\n').find((candidate) => /^cashier_order_queries_total[ {]/.test(candidate));
    return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? Number.NaN);
  };

  it('refuses a stream past the bound per token and per gateway with 429 TOO_MANY_STREAMS; a closed one frees its place', async () => {
    const { url: bounded } = await stack.startGateway({
      CASHIER_STREAMS_MAX: '3',
      CASHIER_STREAMS_PER_TOKEN: '2',
    });
    const no = orderNo('streams');
    const first = (await checkout(bounded, no)).url;
    const a = await stream(first);
    const b = await stream(first);
    expect([a.status, b.status]).toEqual([200, 200]);
    const c = await stream(first);
    expect([c.status, c.retryAfter, (c.body as { error: { code: string } }).error.code]).toEqual([
      429,
      '30',
      'TOO_MANY_STREAMS',
    ]);
    // Another page of the same order (a fresh token) has places of its own, up to the gateway's bound.
    const second = (await checkout(bounded, no)).url;
    expect((await stream(second)).status).toBe(200);
    const overGateway = await stream(second);
    expect([overGateway.status, (overGateway.body as { error: { message: string } }).error.message]).toEqual([
      429,
      expect.stringMatching(/this gateway/),
    ]);
    // The page's fallback still answers.
    expect((await fetch(`${second}/state`)).status).toBe(200);
    a.close();
    await eventually(
      'the closed stream gives its place back',
      async () => (await stream(first)).status === 200,
    );
  });

  it('every stream of one order is fed by one read: 60 streams cost what one does, and all see it paid', async () => {
    const no = orderNo('viewers');
    const pages: string[] = [];
    for (let index = 0; index < 3; index += 1) pages.push((await checkout(url, no)).url);
    const viewers: Awaited<ReturnType<typeof stream>>[] = [];
    for (let index = 0; index < 60; index += 1) viewers.push(await stream(pages[index % 3]!));
    expect(viewers.every((viewer) => viewer.status === 200)).toBe(true);
    await eventually('every stream has its first state', async () =>
      viewers.every((viewer) => viewer.states.length >= 1),
    );
    const before = await cashierQueries(url);
    await sleep(3000);
    const spent = (await cashierQueries(url)) - before;
    // One refresh a second for the order: two queries each (the order, its attempts), not 60 × 3.
    expect(spent).toBeGreaterThanOrEqual(2);
    expect(spent).toBeLessThanOrEqual(10);

    const answer = await fetch(`${pages[0]}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"channel":"sandbox-qr"}',
    });
    expect(answer.status).toBe(200);
    const payment = (await api(url, 'GET', `/v1/payments/${no}`)).body;
    expect(await stack.pay(payment.attempts[0].channelOrderNo)).toBe(200);
    await eventually(
      'every viewer sees it paid',
      async () => viewers.every((viewer) => viewer.states.at(-1)?.status === 'PAID'),
      10_000,
    );
  });

  it.each([
    ['alipay-page', 'return_url'],
    ['stripe-card', 'success_url'],
  ])(
    '%s: the stored pay URL and return URL and GET /v1/payments carry no token; the return page shows the status only',
    async (channel) => {
      const no = orderNo(`ret-${channel}`);
      const { url: cashier, payOrderNo } = await checkout(url, no, { channels: [channel] });
      const token = new URL(cashier).pathname.split('/').at(-1)!;
      const answer = await fetch(`${cashier}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel }),
      });
      expect(answer.status).toBe(200);
      const [stored] = (await db().query(
        'SELECT pay_url, return_url FROM channel_order WHERE merchant_order_no = ?',
        [no],
      )) as { pay_url: string; return_url: string }[];
      expect(stored!.return_url).toBe(`${url}/cashier/return/${payOrderNo}`);
      expect(stored!.pay_url).toBeTruthy();
      expect(stored!.pay_url).not.toContain(token);
      expect(stored!.return_url).not.toContain(token);
      const shown = await api(url, 'GET', `/v1/payments/${no}`);
      expect(JSON.stringify(shown.body)).not.toContain(token);

      const returned = await fetch(stored!.return_url);
      expect(returned.status).toBe(200);
      const html = await returned.text();
      expect(html).toContain('data-status="PAYING"');
      expect(html).not.toContain('Blue teapot');
      expect(html).not.toContain('data-channel');
      const state = (await (await fetch(`${stored!.return_url}/state`)).json()) as Record<string, unknown>;
      expect(state).toEqual({
        payOrderNo,
        status: 'PAYING',
        expiresAt: expect.any(String),
        channels: [],
        attempt: null,
        returnUrl: null,
      });
      // It opens nothing else: no pay, no stream.
      expect((await fetch(`${stored!.return_url}/pay`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(`${stored!.return_url}/events`)).status).toBe(404);
    },
  );

  it('a return address of no order, or of an order no checkout made, is 404', async () => {
    expect((await fetch(`${url}/cashier/return/po_nosuchorder0000`)).status).toBe(404);
    expect((await fetch(`${url}/cashier/return/${'A'.repeat(43)}`)).status).toBe(404);
    const direct = await api(url, 'POST', '/v1/payments', {
      merchantOrderNo: orderNo('direct'),
      amount: 1250,
      currency: 'CNY',
      channel: 'sandbox-wallet',
      subject: 'Blue teapot',
    });
    expect(direct.status).toBe(201);
    expect((await fetch(`${url}/cashier/return/${direct.body.payOrderNo}`)).status).toBe(404);
  });
});
