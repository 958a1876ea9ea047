import { Writable } from 'node:stream';
import { SANDBOX_WECHATPAY_APIV3_KEY } from '../../../../sandbox/wechatpay/src/keys';
import { sandboxProvidersEnv } from '../../../../scripts/lib/sandbox-env';
import { loadConfig } from '../config';
import { createLogger, messageLogger, redactUrlCredentials } from './index';

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

describe('log redaction', () => {
  it('masks the credentials of every URL, in fields, error strings and messages', () => {
    const { log, text } = capture();
    log.info(
      {
        REDIS_URL: 'redis://:hunter2@10.0.0.5:6379/0',
        config: { AMQP_URL: 'amqp://app:s3cret@rabbit:5672', DATABASE_URL: 'mysql://root:pw1@db/payments' },
        err: 'connect ECONNREFUSED mysql://svc:pw2@db:3306/payments',
      },
      'could not reach amqps://user:pw3@broker:5671',
    );
    const written = text();
    for (const secret of ['hunter2', 's3cret', 'pw1', 'pw2', 'pw3']) expect(written).not.toContain(secret);
    expect(written).toContain('amqps://[redacted]@broker:5671');
    expect(written).toContain('mysql://[redacted]@db:3306/payments');
  });

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

  it('leaves URLs without credentials and e-mail-like text alone', () => {
    expect(redactUrlCredentials('http://127.0.0.1:8080/v1/notify')).toBe('http://127.0.0.1:8080/v1/notify');
    expect(redactUrlCredentials('ops@example.com')).toBe('ops@example.com');
  });
});

describe('message loggers', () => {
  it('make their child only when a line is written at an enabled level, with every binding', () => {
    const { log, text } = capture('warn');
    const child = jest.spyOn(log, 'child');
    const outer = messageLogger(log, { messageId: 'm-1' });
    const inner = messageLogger(outer, { eventId: 'e-1', merchantOrderNo: undefined });
    inner.info({ step: 1 }, 'dropped: info is off');
    inner.debug('dropped too');
    expect(child).not.toHaveBeenCalled();
    expect(text()).toBe('');
    inner.warn({ step: 2 }, 'kept');
    expect(child).toHaveBeenCalledTimes(1);
    const line = JSON.parse(text());
    expect(line).toMatchObject({ messageId: 'm-1', eventId: 'e-1', step: 2, msg: 'kept', level: 40 });
    expect(line).not.toHaveProperty('merchantOrderNo');
    expect(inner.isLevelEnabled('info')).toBe(false);
  });
});
