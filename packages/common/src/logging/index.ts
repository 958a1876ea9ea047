import pino, { type Logger } from 'pino';
import { SECRET_CONFIG_NAMES } from '../config';

export type { Logger };

/** Headers that carry a signature: whoever holds one could replay what it signs. */
const SIGNATURE_HEADERS = [
  'x-sandbox-signature',
  'x-payment-signature',
  'stripe-signature',
  'wechatpay-signature',
  'alipay-signature',
];

/** Secrets never reach a log line. */
const REDACT = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'signature',
  '*.signature',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  ...SIGNATURE_HEADERS.flatMap((name) => [`headers["${name}"]`, `*.headers["${name}"]`]),
  'apiKey',
  '*.apiKey',
  ...['AMQP_URL', 'REDIS_URL', 'DATABASE_URL'].flatMap((name) => [name, `*.${name}`]),
  // Every configuration field its schema calls secret, so a logged configuration shows none of them.
  ...SECRET_CONFIG_NAMES.flatMap((name) => [name, `*.${name}`]),
];

/** `scheme://user:password@host` → `scheme://[redacted]@host`, wherever a URL with credentials appears. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;

export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1[redacted]@');
}

function redactStrings(object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(object)) {
    if (typeof value !== 'string' || !value.includes('@')) continue;
    const clean = redactUrlCredentials(value);
    if (clean !== value) (copy ??= { ...object })[key] = clean;
  }
  return copy ?? object;
}

export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: service,
      level,
      redact: { paths: REDACT, censor: '[redacted]' },
      // Error messages of drivers (ioredis, mysql2, amqplib) may quote the URL they were given.
      formatters: { log: redactStrings },
      hooks: {
        logMethod(args, method) {
          const last = args.length - 1;
          if (typeof args[last] === 'string') args[last] = redactUrlCredentials(args[last] as string);
          method.apply(this, args);
        },
      },
    },
    destination,
  );
}

/** One child logger per handled message, carrying its identifiers. */
export function messageLogger(
  log: Logger,
  ids: { eventId?: string; merchantOrderNo?: string; correlationId?: string; messageId?: string },
): Logger {
  const bindings = Object.fromEntries(Object.entries(ids).filter(([, value]) => value !== undefined));
  return log.child(bindings);
}
