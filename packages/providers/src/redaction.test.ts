import { Writable } from 'node:stream';
import { SANDBOX_WECHATPAY_APIV3_KEY } from '../../../sandbox/wechatpay/src/keys';
import { sandboxProvidersEnv } from '../../../scripts/lib/sandbox-env';
import { createLogger, loadConfig } from './registry';

function capture(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: createLogger('test', level, stream), text: () => lines.join('') };
}

/** The registry's logger redacts what each provider's entry names: its signature headers, its secret settings. */
describe('log redaction of the providers', () => {
  it('masks signature headers, wherever the headers object sits', () => {
    const { log, text } = capture();
    const headers = {
      'x-sandbox-signature': 't=1,v1=abcdef0123',
      'stripe-signature': 't=1,v1=fedcba9876',
      'content-type': 'application/json',
    };
    log.info({ headers, request: { headers } }, 'callback');
    const written = text();
    expect(written).not.toContain('abcdef0123');
    expect(written).not.toContain('fedcba9876');
    expect(written).toContain('application/json');
  });

  it('redacts every configuration field its schema calls secret, and only those', () => {
    const { log, text } = capture();
    const config = loadConfig({
      ...sandboxProvidersEnv(),
      API_KEYS: 'sk_live_abc',
      PSP_SECRET: 'psp-s3cret',
      ORDER_SERVICE_SECRET: 'o-s3cret',
    });
    log.info({ config }, 'configuration');
    const described = text();
    for (const secret of [
      'sk_live_abc',
      'psp-s3cret',
      'o-s3cret',
      'PRIVATE KEY',
      SANDBOX_WECHATPAY_APIV3_KEY,
    ])
      expect(described).not.toContain(secret);
    expect(described).toContain('PUBLIC KEY'); // Alipay's public key is no secret
    expect(described).toContain('"ALIPAY_PRIVATE_KEY":"[redacted]"');
    expect(described).toContain('"WECHATPAY_APIV3_KEY":"[redacted]"');
    expect(described).toContain('"STRIPE_SECRET_KEY":"[redacted]"');
    expect(described).toContain('"STRIPE_WEBHOOK_SECRET":"[redacted]"');
    expect(described).not.toContain('sk_test_51Sandbox');
    expect(described).toContain('127.0.0.1:8091');
  });
});
