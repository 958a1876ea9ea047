import pino, { type Logger } from 'pino';

export type { Logger };

/** Secrets never reach a log line. */
const REDACT = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'apiKey',
  '*.apiKey',
  'AMQP_URL',
  'DATABASE_URL',
  'PSP_SECRET',
  'ORDER_SERVICE_SECRET',
  'API_KEYS',
];

export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, redact: { paths: REDACT, censor: '[redacted]' } });
}

/** One child logger per handled message, carrying its identifiers. */
export function messageLogger(
  log: Logger,
  ids: { eventId?: string; merchantOrderNo?: string; correlationId?: string; messageId?: string },
): Logger {
  const bindings = Object.fromEntries(Object.entries(ids).filter(([, value]) => value !== undefined));
  return log.child(bindings);
}
