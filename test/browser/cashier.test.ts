/**
 * The cashier page in a real browser (headless Debian Chromium through playwright-core) against
 * the whole pipeline: the gateway, poller, refunder and notifier in-process, every sandbox over
 * real HTTP. Each test asserts what the shopper sees (text, buttons, URL) and the ledgers.
 * Screenshots land in docs/cashier/ (the README shows them).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually } from '@payments/testkit';
import { api, GatewayStack, orderNo } from '../support/stack';

const SCREENSHOTS = join(__dirname, '..', '..', 'docs', 'cashier');

describe('the cashier page in Chromium', () => {
  const stack = new GatewayStack();
  let url: string;
  let shop: FastifyInstance;
  let shopUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    // The expiry sweep runs seldom here: the page must see an expiry itself, within 5 s.
    await stack.start({ SWEEP_INTERVAL: '60s' });
    url = (await stack.startGateway()).url;
    await stack.startPoller();
    await stack.startRefunder();
    await stack.startNotifier();
    // The merchant's shop: where the shopper comes back to.
    shop = Fastify({ logger: false });
    shop.get('/thanks', async (request, reply) =>
      reply
        .type('text/html')
        .send(
          `<!doctype html><title>Shop</title><h1>Thank you, from the shop</h1><p>${JSON.stringify(request.query)}</p>`,
        ),
    );
    await shop.listen({ port: 0, host: '127.0.0.1' });
    shopUrl = `http://127.0.0.1:${(shop.server.address() as { port: number }).port}/thanks`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.close();
    await stack.stop();
  });

  const checkout = async (no: string, body: Record<string, unknown> = {}) => {
    const answer = await api(url, 'POST', '/v1/checkout', {
      merchantOrderNo: no,
      amount: 1999,
      currency: 'CNY',
      subject: 'Blue teapot',
      returnUrl: shopUrl,
      ...body,
    });
    expect(answer.status).toBe(201);
    return answer.body as { url: string; payOrderNo: string; expiresAt: string };
  };
  const payment = async (no: string) => (await api(url, 'GET', `/v1/payments/${no}`)).body;
  const statusOf = (page: Page) => page.getAttribute('[data-status]', 'data-status');
  const visibleButtons = (page: Page) => page.locator('button[data-channel]:visible');
  const newPage = async () => (await browser.newContext()).newPage();

  it('shows the order, its channels, and takes a double click as one attempt; another channel switches', async () => {
    const no = orderNo('cash-dbl');
    const { url: cashier } = await checkout(no, { channels: ['sandbox-qr', 'wechat-native', 'alipay-qr'] });
    const page = await newPage();
    await page.goto(cashier);
    expect(await page.textContent('#subject')).toBe('Blue teapot');
    expect(await page.textContent('#amount')).toBe('CN¥19.99');
    expect(await statusOf(page)).toBe('UNPAID');
    expect(await visibleButtons(page).allTextContents()).toEqual([
      'Sandbox QR',
      'WeChat Pay',
      'Alipay (scan a code)',
    ]);
    await page.dblclick('button[data-channel="sandbox-qr"]');
    await page.waitForSelector('[data-qr-content^="http"]');
    const first = await payment(no);
    expect(first.attempts).toHaveLength(1);
    expect(await page.getAttribute('#qr-image', 'data-qr-content')).toBe(first.attempts[0].payUrl);
    await page.screenshot({ path: join(SCREENSHOTS, 'qr.png') });

    await page.click('button[data-channel="wechat-native"]');
    await page.waitForSelector('[data-qr-content^="weixin://"]');
    const switched = await payment(no);
    expect(
      switched.attempts.map((attempt: { channel: string; status: string }) => [
        attempt.channel,
        attempt.status,
      ]),
    ).toEqual([
      ['sandbox-qr', 'CLOSED'],
      ['wechat-native', 'PAYING'],
    ]);
    expect(await page.getAttribute('#qr-image', 'data-qr-content')).toBe(switched.attempts[1].payUrl);
  });

  it('paid by QR: the page says paid and returns to the shop; back, or a second tab, show the paid prompt and charge nothing more', async () => {
    const no = orderNo('cash-qr');
    const { url: cashier } = await checkout(no, { channels: ['wechat-native', 'sandbox-wallet'] });
    const page = await newPage();
    await page.goto(cashier);
    await page.click('button[data-channel="wechat-native"]');
    await page.waitForSelector('[data-qr-content^="weixin://"]');
    const channelOrderNo = (await payment(no)).attempts[0].channelOrderNo;
    // The shopper scans and pays in WeChat: the page follows by itself.
    expect(await stack.pay(channelOrderNo, 'wechatpay')).toBe(200);
    await page.waitForSelector('[data-status="PAID"]', { timeout: 10_000 });
    expect(await page.isVisible('text=already paid')).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'paid.png') });
    await page.waitForURL(/\/thanks\?/, { timeout: 10_000 });
    const back = new URL(page.url());
    expect([back.searchParams.get('merchantOrderNo'), back.searchParams.get('status')]).toEqual([no, 'PAID']);

    await page.goBack();
    await page.waitForSelector('[data-status="PAID"]');
    expect(await page.isVisible('text=This order is already paid, please do not pay again')).toBe(true);
    expect(await visibleButtons(page).count()).toBe(0);
    await page.waitForTimeout(2500);
    expect(page.url()).toBe(cashier); // it stays: no second trip to the shop

    const second = await newPage();
    await second.goto(cashier);
    expect(await statusOf(second)).toBe('PAID');
    expect(await second.isVisible('text=already paid')).toBe(true);
    expect(await visibleButtons(second).count()).toBe(0);
    // Even a forged press (the page's own endpoint) charges nothing more.
    const forced = await second.evaluate(async (path) => {
      const response = await fetch(`${path}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"channel":"sandbox-wallet"}',
      });
      return response.status;
    }, new URL(cashier).pathname);
    expect(forced).toBe(409);
    const view = await payment(no);
    expect(view.attempts).toHaveLength(1);
    expect((await stack.ledger(no, 'wechatpay')).trades.map((trade) => trade.status)).toEqual(['PAID']);
    expect((await stack.ledger(no)).trades).toEqual([]);
  });

  it.each([
    ['alipay-page', 'alipay', 'button[type="submit"]'],
    ['stripe-card', 'stripe', 'button[type="submit"]'],
    ['sandbox-wallet', 'psp', 'button[type="submit"]'],
  ])(
    '%s: the same window goes to the provider, is paid there, comes back to the return page, then the shop',
    async (channel, sandbox, payButton) => {
      const no = orderNo(`cash-${channel}`);
      const { url: cashier } = await checkout(no, { channels: [channel] });
      const page = await newPage();
      await page.goto(cashier);
      await Promise.all([
        page.waitForURL((to) => !to.pathname.startsWith('/cashier/')),
        page.click(`button[data-channel="${channel}"]`),
      ]);
      expect(page.url().startsWith(stack.sandboxUrl(sandbox as never))).toBe(true);
      if (channel === 'stripe-card')
        await page.screenshot({ path: join(SCREENSHOTS, 'stripe-checkout.png') });
      await page.click(payButton);
      if (channel !== 'sandbox-wallet') {
        await page.waitForURL(/\/cashier\/[^/]+\/return/, { timeout: 10_000 });
        await page.waitForSelector('[data-status="PAID"]', { timeout: 10_000 });
        await page.waitForURL(/\/thanks\?/, { timeout: 10_000 });
      } else {
        // The sandbox wallet sends nobody back: the shopper returns by hand and sees it paid.
        await page.waitForSelector('text=Paid. Thank you.');
        await page.goto(cashier);
        await page.waitForSelector('[data-status="PAID"]', { timeout: 10_000 });
        await Promise.all([page.waitForURL(/\/thanks\?/), page.click('#back-link')]);
      }
      expect((await payment(no)).status).toBe('PAID');
      const ledger = await stack.ledger(no, sandbox as never);
      expect(ledger.trades.map((trade) => trade.status)).toEqual(['PAID']);
    },
  );

  it('Boleto: the voucher is shown; the order is paid by card meanwhile; the voucher paid later is kept, the card refunded, and the page keeps saying paid', async () => {
    const no = orderNo('cash-boleto');
    const { url: cashier } = await checkout(no, {
      amount: 15000,
      currency: 'BRL',
      channels: ['stripe-boleto', 'stripe-card'],
    });
    const page = await newPage();
    await page.goto(cashier);
    expect(await page.textContent('#amount')).toBe('R$150.00');
    await Promise.all([page.waitForURL(/\/c\/pay\//), page.click('button[data-channel="stripe-boleto"]')]);
    await page.fill('input[name="tax_id"]', '123.456.789-09');
    await Promise.all([page.waitForURL(/\/voucher\//), page.click('button[type="submit"]')]);
    expect(await page.isVisible('text=Number:')).toBe(true);
    const voucherUrl = page.url();
    await page.screenshot({ path: join(SCREENSHOTS, 'boleto-voucher.png') });

    await page.goto(cashier);
    await Promise.all([page.waitForURL(/\/c\/pay\//), page.click('button[data-channel="stripe-card"]')]);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/thanks\?/, { timeout: 15_000 });

    // Market day: the voucher is paid too.
    await page.goto(voucherUrl);
    await page.click('button[type="submit"]');
    // Stripe cannot refund the voucher; it can the card: the voucher is kept, the card refunded.
    const refunded = await eventually(
      'the card refunded',
      async () => {
        const view = await payment(no);
        return view.refunds.some((refund: { status: string }) => refund.status === 'SUCCESS') && view;
      },
      20_000,
    );
    const voucher = refunded.attempts.find(
      (attempt: { channel: string }) => attempt.channel === 'stripe-boleto',
    );
    expect(refunded.paidChannelOrderNo).toBe(voucher.channelOrderNo);
    expect(refunded.refunds.map((refund: { status: string }) => refund.status)).toEqual(['SUCCESS']);
    await page.goto(cashier);
    expect(await statusOf(page)).toBe('PAID');
    expect(await page.isVisible('text=already paid')).toBe(true);
    expect(await visibleButtons(page).count()).toBe(0);
  });

  it('the return address carries no token: opened in another browser it shows the status only, and the shop once paid (issue 27.7)', async () => {
    const no = orderNo('cash-ret');
    const { url: cashier, payOrderNo } = await checkout(no, { channels: ['alipay-page'] });
    const token = new URL(cashier).pathname.split('/').at(-1)!;
    const page = await newPage();
    await page.goto(cashier);
    await Promise.all([
      page.waitForURL((to) => !to.pathname.startsWith('/cashier/')),
      page.click('button[data-channel="alipay-page"]'),
    ]);
    // What Alipay was told to send the shopper back to names the order, not the token.
    const returnUrl = new URL(page.url()).searchParams.get('return_url');
    expect(returnUrl).toBe(`${url}/cashier/return/${payOrderNo}`);
    expect(page.url()).not.toContain(token);
    // Someone else opens it (no cashier in that tab): the status, nothing to pay with, nothing of the order.
    const other = await newPage();
    await other.goto(returnUrl!);
    expect(await statusOf(other)).toBe('PAYING');
    expect(await other.isVisible('text=Waiting for your payment')).toBe(true);
    expect(await other.locator('button[data-channel]').count()).toBe(0);
    expect(await other.isVisible('text=Blue teapot')).toBe(false);
    // Paid: it says so and goes back to the shop; back from the shop, it stays.
    expect(await stack.pay((await payment(no)).attempts[0].channelOrderNo, 'alipay')).toBe(200);
    await other.waitForSelector('[data-status="PAID"]', { timeout: 10_000 });
    expect(await other.isVisible('text=already paid')).toBe(true);
    await other.waitForURL(/\/thanks\?/, { timeout: 10_000 });
    expect(new URL(other.url()).searchParams.get('status')).toBe('PAID');
    await other.goBack();
    await other.waitForSelector('[data-status="PAID"]');
    await other.waitForTimeout(2500);
    expect(other.url()).toBe(returnUrl);
  });

  it('past the streams a page may hold, another tab of it polls and still shows the payment (issue 27.4)', async () => {
    const no = orderNo('cash-many');
    const { url: cashier } = await checkout(no, { channels: ['sandbox-qr'] });
    const tabs: Page[] = [];
    const refused: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const tab = await newPage();
      tab.on('response', (response) => {
        if (response.url().endsWith('/events') && response.status() === 429) refused.push(response.url());
      });
      await tab.goto(cashier);
      tabs.push(tab);
    }
    // CASHIER_STREAMS_PER_TOKEN is 4: the fifth tab was told so.
    await eventually('the fifth stream refused', async () => refused.length === 1, 5000);
    const answer = await api(url, 'POST', '/v1/payments', {
      merchantOrderNo: no,
      amount: 1999,
      currency: 'CNY',
      subject: 'Blue teapot',
      channel: 'sandbox-qr',
    });
    expect(await stack.pay(answer.body.attempt.channelOrderNo)).toBe(200);
    // Every tab within 10 s of the pay, each on its own clock (the streamed ones and the one polling).
    await Promise.all(tabs.map((tab) => tab.waitForSelector('[data-status="PAID"]', { timeout: 10_000 })));
  });

  it('an order that expires while its page is open says so within 5 s and offers nothing; unknown tokens are 404', async () => {
    const no = orderNo('cash-exp');
    const expiresAt = Date.now() + 3000;
    const { url: cashier } = await checkout(no, {
      expireAt: new Date(expiresAt).toISOString(),
      channels: ['sandbox-wallet'],
    });
    const page = await newPage();
    await page.goto(cashier);
    expect(await visibleButtons(page).count()).toBe(1);
    await page.waitForSelector('[data-status="CLOSED"]', { timeout: 10_000 });
    expect(Date.now() - expiresAt).toBeLessThan(5000);
    expect(await page.isVisible('text=closed or has expired')).toBe(true);
    expect(await visibleButtons(page).count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'expired.png') });

    const response = await fetch(`${url}/cashier/${'A'.repeat(43)}`);
    expect(response.status).toBe(404);
    expect((await fetch(`${url}/cashier/not-a-token`)).status).toBe(404);
  });

  it('stays live on whichever gateway instance the browser reached: paid through another one, it shows paid', async () => {
    const other = (await stack.startGateway()).url;
    const no = orderNo('cash-two');
    const { url: cashier } = await checkout(no, { channels: ['alipay-qr'] });
    const page = await newPage();
    // The page (and its event stream) from the second instance; Alipay notifies the first.
    await page.goto(cashier.replace(url, other));
    await page.click('button[data-channel="alipay-qr"]');
    await page.waitForSelector('[data-qr-content^="http"]');
    const qrContent = (await page.getAttribute('#qr-image', 'data-qr-content'))!;
    expect((await fetch(qrContent)).status).toBe(200); // the shopper scans it
    expect(await stack.pay((await payment(no)).attempts[0].channelOrderNo, 'alipay')).toBe(200);
    await page.waitForSelector('[data-status="PAID"]', { timeout: 10_000 });
    expect(await page.isVisible('text=already paid')).toBe(true);
  });

  it('answers with a restrictive CSP, no framing, nothing cached; the API key opens nothing there', async () => {
    const { url: cashier } = await checkout(orderNo('cash-headers'));
    const response = await fetch(cashier);
    expect(response.headers.get('content-security-policy')).toMatch(
      /default-src 'none'.*frame-ancestors 'none'/,
    );
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const tokenless = await fetch(`${url}/cashier/state`, {
      headers: { authorization: 'Bearer sk_test_local' },
    });
    expect(tokenless.status).toBe(404);
    const page = await newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(cashier);
    await page.waitForTimeout(500);
    expect(errors).toEqual([]); // no CSP violation: everything comes from this origin
    // Keyboard: Tab reaches the first pay button.
    await page.keyboard.press('Tab');
    expect(await page.getAttribute(':focus', 'data-channel')).toBeTruthy();
  });
});
