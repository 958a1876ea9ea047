/**
 * The cashier in the shopper's language and on a phone (issue 31.3), in headless Debian Chromium:
 * Simplified Chinese for Alipay and WeChat Pay shoppers, Brazilian Portuguese for Boleto, English
 * otherwise; the time left to pay; no serious or critical accessibility violation (axe-core, the
 * package's own script run in the page). Screenshots land in docs/cashier/ (the README shows them).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { eventually } from '@payments/testkit';
import { api, GatewayStack, orderNo } from '../support/stack';

const SCREENSHOTS = join(__dirname, '..', '..', 'docs', 'cashier');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

describe('the cashier in the shopper’s language, on a phone (Chromium)', () => {
  const stack = new GatewayStack();
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await stack.start();
    url = (await stack.startGateway()).url;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
  });

  const checkout = async (body: Record<string, unknown>) => {
    const answer = await api(url, 'POST', '/v1/checkout', {
      merchantOrderNo: orderNo('lang'),
      amount: 1999,
      currency: 'CNY',
      subject: 'Blue teapot',
      returnUrl: 'https://shop.example/back',
      ...body,
    });
    expect(answer.status).toBe(201);
    return answer.body.url as string;
  };
  const open = async (cashier: string, options: BrowserContextOptions) => {
    const page = await (await browser.newContext(options)).newPage();
    await page.goto(cashier);
    await page.waitForSelector('#time-left[data-seconds-left]');
    return page;
  };
  /** axe-core's serious and critical violations of the page as it is now (its script, run through the debugger). */
  const violations = async (page: Page) => {
    await page.evaluate(AXE);
    const found = (await page.evaluate(
      'axe.run().then((result) => result.violations.map(({ id, impact, nodes }) => ({ id, impact, nodes: nodes.length })))',
    )) as { id: string; impact: string; nodes: number }[];
    return found.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  };

  it('Simplified Chinese for a Chinese browser: texts, amount, time left, QR caption; accessible', async () => {
    const cashier = await checkout({ channels: ['wechat-native', 'alipay-qr'] });
    const page = await open(cashier, { locale: 'zh-CN' });
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await page.title()).toBe('支付：Blue teapot');
    expect(await page.textContent('#amount')).toBe('¥19.99');
    expect(await page.textContent('#status')).toBe('请选择支付方式。');
    expect(await page.getAttribute('#channels', 'aria-label')).toBe('支付方式');
    const left = Number(await page.getAttribute('#time-left', 'data-seconds-left'));
    expect(left).toBeGreaterThan(14 * 60);
    expect(await page.textContent('#time-left')).toMatch(/^剩余支付时间：1[45]:\d\d$/);
    // It counts down.
    await eventually(
      'the time left counted down',
      async () => Number(await page.getAttribute('#time-left', 'data-seconds-left')) < left,
      5_000,
    );
    await page.click('button[data-channel="wechat-native"]');
    await page.waitForSelector('[data-qr-content^="weixin://"]');
    expect(await page.textContent('#qr figcaption')).toBe('请用手机扫码支付，支付完成前请勿关闭本页面。');
    expect(await page.textContent('#status')).toBe('正在等待您付款…');
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'zh-CN.png') });
  });

  it('Brazilian Portuguese for a Boleto order, from the checkout’s locale over an English browser; accessible', async () => {
    const cashier = await checkout({
      amount: 15000,
      currency: 'BRL',
      channels: ['stripe-boleto', 'stripe-card'],
      locale: 'pt-BR',
    });
    const page = await open(cashier, { locale: 'en-US' });
    expect(await page.getAttribute('html', 'lang')).toBe('pt-BR');
    expect((await page.textContent('#amount'))!.replace(/\s/g, ' ')).toBe('R$ 150,00');
    expect(await page.textContent('#status')).toBe('Escolha como pagar.');
    expect(await page.textContent('#time-left')).toMatch(/^Tempo restante para pagar: 1[45]:\d\d$/);
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'pt-BR.png') });
  });

  it('English for any other browser; the currency decides only when the browser names no language of ours', async () => {
    const page = await open(await checkout({ currency: 'USD', channels: ['sandbox-qr'] }), {
      locale: 'de-DE',
    });
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('#amount')).toBe('$19.99');
    expect(await page.textContent('#time-left')).toMatch(/^Time left to pay: 1[45]:\d\d$/);
    const german = await open(await checkout({ channels: ['alipay-qr'] }), { locale: 'de-DE' });
    expect(await german.getAttribute('html', 'lang')).toBe('zh-CN'); // a CNY order, no language of ours asked
  });

  it('works on a phone: nothing wider than the screen, every button on it and large enough to tap; accessible', async () => {
    const cashier = await checkout({ channels: ['wechat-native', 'alipay-qr', 'alipay-page'] });
    const page = await open(cashier, {
      locale: 'zh-CN',
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const widths = (await page.evaluate(
      '({ document: document.documentElement.scrollWidth, screen: window.innerWidth })',
    )) as { document: number; screen: number };
    expect(widths.document).toBeLessThanOrEqual(widths.screen);
    const boxes = await page.$$eval('button[data-channel]', (buttons) =>
      buttons.map((button) => {
        const box = button.getBoundingClientRect();
        return { left: box.left, right: box.right, height: box.height };
      }),
    );
    expect(boxes).toHaveLength(3);
    for (const box of boxes) {
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.right).toBeLessThanOrEqual(360);
      expect(box.height).toBeGreaterThanOrEqual(44); // a finger's target
    }
    await page.tap('button[data-channel="alipay-qr"]');
    await page.waitForSelector('#qr:not([hidden])');
    const qr = await page.$eval('#qr-image', (image) => image.getBoundingClientRect().right);
    expect(qr).toBeLessThanOrEqual(360);
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'phone.png'), fullPage: true });
  });
});
