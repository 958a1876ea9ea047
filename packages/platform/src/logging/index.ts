import pino, { type Logger } from 'pino';
import { SECRET_CONFIG_NAMES } from '../config';

export type { Logger };

/**
 * Headers that carry a signature: whoever holds one could replay what it signs. Ours (the order
 * service's notifications); each provider names its own (its registry entry's `signatureHeaders`).
 */
const SIGNATURE_HEADERS = ['x-payment-signature'];

/** What a part's edge adds to the redaction: its providers' signature headers and secret settings. */
export interface LogRedaction {
  headers?: readonly string[];
  /** Configuration fields its schema calls secret (`secretConfigNames`). */
  fields?: readonly string[];
}

const headerPaths = (names: readonly string[]) =>
  names.flatMap((name) => [`headers["${name}"]`, `*.headers["${name}"]`]);
const fieldPaths = (names: readonly string[]) => names.flatMap((name) => [name, `*.${name}`]);

/** Secrets never reach a log line. */
const REDACT = [
  'password',
  '*.password',
  'sentinelPassword',
  '*.sentinelPassword',
  'secret',
  '*.secret',
  'signature',
  '*.signature',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  ...headerPaths(SIGNATURE_HEADERS),
  'apiKey',
  '*.apiKey',
  ...['AMQP_URL', 'REDIS_URL', 'DATABASE_URL'].flatMap((name) => [name, `*.${name}`]),
  // Every configuration field its schema calls secret, so a logged configuration shows none of them.
  ...fieldPaths(SECRET_CONFIG_NAMES),
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

export function createLogger(
  service: string,
  level = 'info',
  destination?: pino.DestinationStream,
  redaction: LogRedaction = {},
): Logger {
  const paths = [
    ...new Set([...REDACT, ...headerPaths(redaction.headers ?? []), ...fieldPaths(redaction.fields ?? [])]),
  ];
  return pino(
    {
      name: service,
      level,
      redact: { paths, censor: '[redacted]' },
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

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
const silent = () => undefined;

/**
 * One child logger per handled message, carrying its identifiers, made only when it first writes
 * a line: a pino child applies the redaction to its bindings when it is made, and most messages
 * log nothing at `warn`, so building one per message was work dropped unseen (issue 20's profile:
 * a third of the poller's CPU per message). A level that is off costs nothing.
 */
export function messageLogger(
  log: Logger,
  ids: { eventId?: string; merchantOrderNo?: string; correlationId?: string; messageId?: string },
): Logger {
  // A message logger of a message logger: one level of bindings on the real logger beneath.
  const outer = LAZY.get(log);
  const base = outer?.base ?? log;
  const bindings = {
    ...outer?.bindings,
    ...Object.fromEntries(Object.entries(ids).filter(([, value]) => value !== undefined)),
  };
  let child: Logger | undefined;
  const real = () => (child ??= base.child(bindings));
  const lazy = new Proxy(base, {
    get(target, property) {
      if (typeof property === 'string' && LEVELS.has(property)) {
        if (!target.isLevelEnabled(property)) return silent;
        return (...args: unknown[]) => (real()[property as pino.Level] as (...a: unknown[]) => void)(...args);
      }
      if (property === 'isLevelEnabled') return (level: string) => target.isLevelEnabled(level);
      if (property === 'bindings') return () => ({ ...target.bindings(), ...bindings });
      const value = Reflect.get(real(), property) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real()) : value;
    },
  });
  LAZY.set(lazy, { base, bindings });
  return lazy;
}

const LAZY = new WeakMap<Logger, { base: Logger; bindings: Record<string, unknown> }>();
