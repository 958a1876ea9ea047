import { z } from 'zod';
import { eventually } from '@payments/testkit';
import { api, applyBody, GatewayStack, orderNo } from '../../../../test/support/stack';

type Json = Record<string, unknown>;

/**
 * The OpenAPI document served at /openapi.json against the gateway's real answers (issue 31.1):
 * every merchant route is in it, and every answer the test provokes (each route, each status it
 * can reach here) has its status listed for that route, its error code among those the status
 * names, and a body the document's schema for it accepts. The document and the API cannot drift.
 */
describe('the OpenAPI document says what the merchant API answers (real servers)', () => {
  const stack = new GatewayStack();
  let url: string;
  let document: Json;
  const seen: string[] = [];

  beforeAll(async () => {
    await stack.start();
    const started = await stack.startGateway();
    url = started.url;
    const answer = await fetch(`${url}/openapi.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/application\/json/);
    document = (await answer.json()) as Json;
  });
  afterAll(() => stack.stop());
  afterEach(() => stack.setPspFaults(undefined));

  /** `#/components/schemas/X` resolved in place, so a schema stands alone. */
  const inline = (schema: unknown): unknown => {
    if (Array.isArray(schema)) return schema.map(inline);
    if (!schema || typeof schema !== 'object') return schema;
    const { $ref, ...rest } = schema as Json;
    if (typeof $ref === 'string') {
      const name = $ref.replace('#/components/schemas/', '');
      const target = ((document.components as Json).schemas as Json)[name];
      if (!target) throw new Error(`the document has no schema ${name}`);
      return inline({ ...(target as Json), ...rest });
    }
    return Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, inline(value)]));
  };

  /** Checks one real answer against the document's operation for its route. */
  const conforms = (method: string, path: string, answer: { status: number; body: unknown }) => {
    const operation = ((document.paths as Json)[path] as Json | undefined)?.[method] as Json | undefined;
    expect([method, path, operation !== undefined]).toEqual([method, path, true]);
    const response = (operation!.responses as Json)[String(answer.status)] as Json | undefined;
    expect([method, path, answer.status, response !== undefined]).toEqual([
      method,
      path,
      answer.status,
      true,
    ]);
    const schema = ((response!.content as Json)['application/json'] as Json).schema;
    const checked = z.fromJSONSchema(inline(schema) as never).safeParse(answer.body);
    expect([method, path, answer.status, checked.success ? 'conforms' : checked.error.message]).toEqual([
      method,
      path,
      answer.status,
      'conforms',
    ]);
    const code = (answer.body as { error?: { code?: string } }).error?.code;
    if (code) expect(response!['x-error-codes']).toContain(code);
    seen.push(`${method} ${path} ${answer.status}${code ? ` ${code}` : ''}`);
  };

  it('documents every merchant route the gateway serves, and only those', () => {
    const documented = Object.entries(document.paths as Json).flatMap(([path, operations]) =>
      Object.keys(operations as Json).map(
        (method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
      ),
    );
    // printRoutes draws a tree ("├── /v1/payments (POST)", children indented 4 by level, each
    // line's path following its parent's): every full path with its methods.
    const served: string[] = [];
    const parents: string[] = [];
    for (const line of stack.gateways[0]!.http.printRoutes({ commonPrefix: false }).split('\n')) {
      const match = /^([\s│]*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
      if (!match) continue;
      const depth = match[1]!.length / 4;
      parents.length = depth;
      const path = `${parents.join('')}${match[2]}`;
      parents.push(match[2]!);
      for (const method of match[3]?.split(', ') ?? []) served.push(`${method} ${path}`);
    }
    const merchant = served.filter(
      (route) => / \/v1\//.test(route) && !route.includes('/v1/notify/') && !route.startsWith('HEAD '),
    );
    expect(merchant.sort()).toEqual(documented.sort());
  });

  it('POST /v1/payments: 201, 200, and each refusal as documented', async () => {
    const no = orderNo('oa-apply');
    conforms('post', '/v1/payments', await api(url, 'POST', '/v1/payments', applyBody(no)));
    conforms('post', '/v1/payments', await api(url, 'POST', '/v1/payments', applyBody(no)));
    conforms('post', '/v1/payments', await api(url, 'POST', '/v1/payments', applyBody(no, { amount: 1 })));
    conforms(
      'post',
      '/v1/payments',
      await api(url, 'POST', '/v1/payments', { ...applyBody(no), amount: 'lots' }),
    );
    conforms(
      'post',
      '/v1/payments',
      await api(url, 'POST', '/v1/payments', applyBody(no, { channel: 'nope' })),
    );
    conforms(
      'post',
      '/v1/payments',
      await api(
        url,
        'POST',
        '/v1/payments',
        applyBody(orderNo('oa-usd'), { channel: 'alipay-qr', currency: 'USD' }),
      ),
    );
    conforms('post', '/v1/payments', await api(url, 'POST', '/v1/payments', applyBody(no), 'sk_wrong'));
    await stack.setPspFaults({ createErrorRate: 1 });
    conforms('post', '/v1/payments', await api(url, 'POST', '/v1/payments', applyBody(orderNo('oa-502'))));
    await stack.setPspFaults(undefined);
    // Paid, then applied for again; and closed, then applied for again.
    const paid = await api(url, 'POST', '/v1/payments', applyBody(orderNo('oa-paid')));
    expect(await stack.pay(paid.body.attempt.channelOrderNo)).toBe(200);
    await eventually(
      'paid',
      async () => (await api(url, 'GET', `/v1/payments/${paid.body.merchantOrderNo}`)).body.status === 'PAID',
    );
    conforms(
      'post',
      '/v1/payments',
      await api(url, 'POST', '/v1/payments', applyBody(paid.body.merchantOrderNo)),
    );
    const closed = orderNo('oa-closed');
    await api(url, 'POST', '/v1/payments', applyBody(closed));
    await api(url, 'POST', `/v1/payments/${closed}/close`);
    conforms('post', '/v1/payments', await api(url, 'POST', '/v1/payments', applyBody(closed)));
    expect(seen.filter((line) => line.startsWith('post /v1/payments '))).toEqual([
      'post /v1/payments 201',
      'post /v1/payments 200',
      'post /v1/payments 422 AMOUNT_MISMATCH',
      'post /v1/payments 400 VALIDATION_FAILED',
      'post /v1/payments 400 UNKNOWN_CHANNEL',
      'post /v1/payments 400 UNSUPPORTED_CURRENCY',
      'post /v1/payments 401 UNAUTHORIZED',
      'post /v1/payments 502 CHANNEL_ERROR',
      'post /v1/payments 409 ORDER_ALREADY_PAID',
      'post /v1/payments 410 ORDER_CLOSED',
    ]);
  });

  it('GET and close of a payment, and the checkout: as documented', async () => {
    const no = orderNo('oa-read');
    await api(url, 'POST', '/v1/payments', applyBody(no));
    const item = '/v1/payments/{merchantOrderNo}';
    conforms('get', item, await api(url, 'GET', `/v1/payments/${no}`));
    conforms('get', item, await api(url, 'GET', `/v1/payments/${orderNo('oa-none')}`));
    conforms('get', item, await api(url, 'GET', '/v1/payments/not%20valid'));
    const close = '/v1/payments/{merchantOrderNo}/close';
    conforms('post', close, await api(url, 'POST', `/v1/payments/${no}/close`));
    conforms('post', close, await api(url, 'POST', `/v1/payments/${orderNo('oa-none')}/close`));
    const checkout = {
      ...applyBody(orderNo('oa-co')),
      channel: undefined,
      returnUrl: 'https://shop.example/back',
    };
    conforms('post', '/v1/checkout', await api(url, 'POST', '/v1/checkout', checkout));
    conforms('post', '/v1/checkout', await api(url, 'POST', '/v1/checkout', checkout));
    conforms('post', '/v1/checkout', await api(url, 'POST', '/v1/checkout', { ...checkout, amount: 2 }));
    conforms(
      'post',
      '/v1/checkout',
      await api(url, 'POST', '/v1/checkout', { ...checkout, returnUrl: 'ftp://x' }),
    );
    expect(seen.filter((line) => !line.startsWith('post /v1/payments '))).toEqual([
      'get /v1/payments/{merchantOrderNo} 200',
      'get /v1/payments/{merchantOrderNo} 404 NOT_FOUND',
      'get /v1/payments/{merchantOrderNo} 400 VALIDATION_FAILED',
      'post /v1/payments/{merchantOrderNo}/close 200',
      'post /v1/payments/{merchantOrderNo}/close 404 NOT_FOUND',
      'post /v1/checkout 201',
      'post /v1/checkout 200',
      'post /v1/checkout 422 AMOUNT_MISMATCH',
      'post /v1/checkout 400 VALIDATION_FAILED',
    ]);
  });

  it('the error codes the document names are those of CONTRACT 3 and 10, with their statuses', () => {
    const schemas = (document.components as Json).schemas as Json;
    const codes = (((schemas.Error as Json).properties as Json).error as Json).properties as Json;
    expect(((codes.code as Json).enum as string[]).sort()).toEqual(
      [
        'UNAUTHORIZED',
        'VALIDATION_FAILED',
        'UNKNOWN_CHANNEL',
        'UNSUPPORTED_CURRENCY',
        'NOT_FOUND',
        'ORDER_ALREADY_PAID',
        'PAYMENT_IN_PROGRESS',
        'ORDER_CLOSED',
        'AMOUNT_MISMATCH',
        'IDEMPOTENCY_KEY_REUSED',
        'CHANNEL_ERROR',
        'DEPENDENCY_UNAVAILABLE',
        'INTERNAL',
      ].sort(),
    );
  });
});
