import { chromium, type Browser } from 'playwright-core';
import { GatewayStack } from '../support/stack';

/** The merchant API's document rendered at /docs (issue 31.1), in Chromium, from our own files only. */
describe('the API reference page (Chromium)', () => {
  const stack = new GatewayStack();
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    await stack.start();
    url = (await stack.startGateway()).url;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
  });

  it('renders every operation of /openapi.json, loading nothing from another origin, with no script error', async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    const answer = await page.goto(`${url}/docs`);
    expect(answer?.status()).toBe(200);
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
    const operations = await page.$$eval('.opblock-summary', (blocks) =>
      blocks.map((block) =>
        [
          block.querySelector('.opblock-summary-method')?.textContent?.trim(),
          block
            .querySelector('.opblock-summary-path')
            ?.textContent?.replace(/\u200b/g, '')
            .trim(),
        ].join(' '),
      ),
    );
    expect(operations.sort()).toEqual(
      [
        'POST /v1/payments',
        'GET /v1/payments/{merchantOrderNo}',
        'POST /v1/payments/{merchantOrderNo}/close',
        'POST /v1/checkout',
      ].sort(),
    );
    expect(requested.filter((address) => !address.startsWith(url) && !address.startsWith('data:'))).toEqual(
      [],
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it('serves only its own files under /docs', async () => {
    expect((await fetch(`${url}/docs/constructor`)).status).toBe(404);
    expect((await fetch(`${url}/docs/..%2Fpackage.json`)).status).toBe(404);
    const css = await fetch(`${url}/docs/swagger-ui.css`);
    expect([css.status, css.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
  });
});
