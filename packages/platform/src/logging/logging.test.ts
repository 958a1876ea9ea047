import { Writable } from 'node:stream';
import { createLogger, messageLogger, redactUrlCredentials } from './';

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
