import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  configuredChannels,
  isProviderSection,
  providerSectionProblems,
  type ConfigSection,
} from './provider-section';
import {
  commaList,
  fieldMeta,
  duration,
  minorUnits,
  optionalSecret,
  port,
  schedule,
  secret,
  url,
} from './fields';

export * from './durations';
export * from './fields';
export * from './provider-section';

/**
 * Every variable of CONTRACT 2 the platform reads, with its default. Parsed once at start by
 * `loadConfig`, with the sections (each provider's, CONTRACT 9) its caller's edge passes in.
 */
export const configSchema = z.object({
  /** One node, or the nodes of one cluster comma-separated (CONTRACT 12); `amqpNodes` splits it. */
  AMQP_URL: z
    .string()
    .default('amqp://guest:guest@127.0.0.1:5672')
    .refine(
      (text) => amqpNodes(text).length > 0 && amqpNodes(text).every((node) => /^amqps?:\/\//.test(node)),
      'must be amqp:// or amqps:// URLs, comma-separated',
    ),
  /** Members of each quorum queue; unset: as many nodes as AMQP_URL lists, up to 3 (CONTRACT 12). */
  QUORUM_GROUP_SIZE: z.coerce.number().int().min(1).max(9).optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379/0'),
  /** `host:port,…` of Redis Sentinels: when set, they name the primary and REDIS_URL is not used. */
  REDIS_SENTINELS: z
    .string()
    .optional()
    .refine(
      (text) => text === undefined || sentinelAddresses(text).length > 0,
      'must be host:port pairs, comma-separated',
    ),
  REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
  /** Addition: the password of the Redis data nodes (AUTH); beside REDIS_URL's, or the primary the Sentinels name. */
  REDIS_PASSWORD: optionalSecret(),
  /** Addition: the Sentinels' own password (their `requirepass`), which may differ from the data nodes'. */
  REDIS_SENTINEL_PASSWORD: optionalSecret(),
  DATABASE_URL: z
    .string()
    .regex(/^mysql:\/\/[^/]+\/[A-Za-z0-9_]+$/, 'must look like mysql://user[:password]@host:port/database')
    .default('mysql://root@127.0.0.1:3306/payments'),
  TOPOLOGY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'may hold only letters, digits, "_" and "-"')
    .default(''),
  GATEWAY_PORT: port(8080),
  GATEWAY_PUBLIC_URL: url('http://127.0.0.1:8080'),
  API_KEYS: commaList('sk_test_local', 'needs at least one key').register(fieldMeta, { secret: true }),
  /**
   * The channels this deployment offers for new payments (CONTRACT 9); each must be one a provider
   * of ours serves. Unset: the channels of every provider whose settings are given (issue 27.1).
   */
  CHANNELS: commaList('', 'needs at least one channel').optional(),
  /**
   * Addition: hosts (besides loopback) that are local sandboxes, where a sandbox's published keys
   * are accepted (docker-compose's sandbox containers). Nowhere else.
   */
  SANDBOX_HOSTS: commaList('', '').optional(),
  ORDER_SERVICE_URL: url('http://127.0.0.1:8070'),
  ORDER_SERVICE_SECRET: secret('order_test_secret'),
  EXAMPLE_ORDER_SERVICE_PORT: port(8070),
  POLL_SCHEDULE: schedule('3s,10s,30s,3m,10m,30m,1h,2h,6h,15h'),
  NOTIFY_SCHEDULE: schedule('15s,15s,30s,3m,10m,20m,30m,1h,3h,6h'),
  REFUND_POLL_SCHEDULE: schedule('5s,30s,3m,30m,2h'),
  SWEEP_INTERVAL: duration('60s'),
  /**
   * Addition (CONTRACT 11): when the daily reconciliation of the previous day starts, HH:MM in each
   * provider's own time zone (the one its bill dates are days of).
   */
  RECON_AT: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)')
    .default('03:30'),
  /** Not in CONTRACT 2 (an addition): delays of a consumer's retries after a transient failure. */
  RETRY_SCHEDULE: schedule('1s,5s,30s,2m,10m'),
  REFUND_AUTO_MAX_AMOUNT: minorUnits(100000),
  REFUND_DAILY_CAP: minorUnits(10000000),
  BREAKER_TIMEOUT: duration('3s'),
  BREAKER_RESET: duration('30s'),
  BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  BREAKER_VOLUME: z.coerce.number().int().min(0).default(10),
  /** Additions: the order lock's lease (renewed while held), and how far ahead an order may expire. */
  ORDER_LOCK_TTL: duration('15s').refine((ms) => ms >= 100, 'must be at least 100ms'),
  MAX_ORDER_VALIDITY: duration('24h'),
  /** Addition (issue 27.4): live cashier streams one gateway holds, and one token (past either: 429). */
  CASHIER_STREAMS_MAX: z.coerce.number().int().min(0).max(100_000).default(1000),
  CASHIER_STREAMS_PER_TOKEN: z.coerce.number().int().min(0).max(100).default(4),
  /** Addition: the address `/metrics` and `/readyz` answer on (workers' ops ports bind to it). */
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

type ParsedConfig = z.infer<typeof configSchema>;

/** The parsed configuration; `CHANNELS` is what the deployment offers (given, or every configured provider's). */
export type Config = Omit<ParsedConfig, 'CHANNELS'> & { CHANNELS: string[] };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The platform's schema with each section's own variables beside its own. */
export function composedSchema(sections: readonly ConfigSection[] = []) {
  if (sections.length === 0) return configSchema;
  return configSchema.extend(Object.assign({}, ...sections.map((section) => section.settings)));
}

/**
 * Parses the environment once, the platform's variables and those of `sections` (each provider's,
 * given by the caller's edge, CONTRACT 9). Throws a `ConfigError` naming every bad variable.
 * `T` is what the sections' settings parse to.
 */
export function loadConfig<T extends object = object>(
  env: Record<string, string | undefined> = process.env,
  sections: readonly ConfigSection[] = [],
): Config & T {
  const schema = composedSchema(sections);
  const shape: Record<string, z.ZodType> = schema.shape;
  const known = Object.fromEntries(
    Object.keys(shape)
      .filter((name) => env[name] !== undefined && env[name] !== '')
      .map((name) => [name, env[name]]),
  );
  const unreadable: string[] = [];
  for (const [name, field] of Object.entries(shape)) {
    const path = env[`${name}_FILE`];
    if (!fieldMeta.get(field)?.file || !path || known[name] !== undefined) continue;
    try {
      known[name] = readFileSync(path, 'utf8');
    } catch (error) {
      unreadable.push(
        `${name}_FILE: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  }
  if (unreadable.length > 0) throw new ConfigError(`invalid configuration: ${unreadable.join('; ')}`);
  if (env.TOPOLOGY_PREFIX !== undefined) known.TOPOLOGY_PREFIX = env.TOPOLOGY_PREFIX;
  const parsed = schema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const data = parsed.data as ParsedConfig;
  const values = parsed.data as Record<string, unknown>;
  const providers = sections.filter(isProviderSection);
  const problems = providerSectionProblems(
    providers,
    values,
    data.CHANNELS,
    (data.SANDBOX_HOSTS ?? []).map((host) => host.toLowerCase()),
  );
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return {
    ...data,
    CHANNELS: data.CHANNELS ?? configuredChannels(providers, values),
  } as Config & T;
}

/** The variables whose schema calls them secret (the platform's and `sections`'): the logger redacts them. */
export function secretConfigNames(sections: readonly ConfigSection[] = []): string[] {
  return Object.entries(composedSchema(sections).shape as Record<string, z.ZodType>)
    .filter(([, field]) => fieldMeta.get(field)?.secret)
    .map(([name]) => name);
}

/** The platform's variables its schema calls secret (a provider's are its edge's: `secretConfigNames`). */
export const SECRET_CONFIG_NAMES: readonly string[] = secretConfigNames();

/** For a service's `main`: parse, or print the reason and exit 1. */
export function loadConfigOrExit<T extends object = object>(
  env: Record<string, string | undefined> = process.env,
  sections: readonly ConfigSection[] = [],
): Config & T {
  try {
    return loadConfig<T>(env, sections);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}

/** The nodes `AMQP_URL` lists (one for a single broker), in the order they are tried. */
export function amqpNodes(amqpUrl: string): string[] {
  return amqpUrl
    .split(',')
    .map((node) => node.trim())
    .filter(Boolean);
}

/** Members each quorum queue is declared with: QUORUM_GROUP_SIZE, else min(3, nodes listed). */
export function quorumGroupSize(config: Pick<Config, 'AMQP_URL' | 'QUORUM_GROUP_SIZE'>): number {
  return config.QUORUM_GROUP_SIZE ?? Math.min(3, amqpNodes(config.AMQP_URL).length);
}

export interface SentinelAddress {
  host: string;
  port: number;
}

/** `a:26379, b:26379` → addresses; an entry that is not `host:port` makes the list empty (invalid). */
function sentinelAddresses(text: string): SentinelAddress[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const addresses = entries.flatMap((entry) => {
    const match = /^([^:\s]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    return match && port > 0 && port < 65536 ? [{ host: match[1]!, port }] : [];
  });
  return addresses.length === entries.length ? addresses : [];
}

/**
 * Where the order lock lives: one Redis, or the primary that Sentinels name (and follow). `password`
 * is the data nodes' (REDIS_PASSWORD), `sentinelPassword` the Sentinels' (REDIS_SENTINEL_PASSWORD).
 */
export type RedisTarget =
  | { url: string; password?: string }
  | { sentinels: SentinelAddress[]; name: string; password?: string; sentinelPassword?: string };

export function redisTarget(
  config: Pick<
    Config,
    'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_PASSWORD' | 'REDIS_SENTINEL_PASSWORD'
  >,
): RedisTarget {
  const password = config.REDIS_PASSWORD ? { password: config.REDIS_PASSWORD } : {};
  if (!config.REDIS_SENTINELS) return { url: config.REDIS_URL, ...password };
  return {
    sentinels: sentinelAddresses(config.REDIS_SENTINELS),
    name: config.REDIS_SENTINEL_NAME,
    ...password,
    ...(config.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: config.REDIS_SENTINEL_PASSWORD } : {}),
  };
}

/** Host, port, credentials and database name out of `DATABASE_URL`. */
export function databaseOptions(databaseUrl: string) {
  const url = new URL(databaseUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    username: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
  };
}

/** `T` with the settings `K` known to be given. */
export type Given<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };

/**
 * The named settings, each one given, else a `ConfigError` naming those missing: how a provider
 * reads its section (loadConfig has checked it already for the providers a deployment uses).
 */
export function requireSettings<T extends object, K extends keyof T & string>(
  config: T,
  names: readonly K[],
  provider: string,
): Given<T, K> {
  const missing = names.filter((name) => config[name] === undefined || config[name] === null);
  if (missing.length > 0)
    throw new ConfigError(
      `invalid configuration: ${missing.map((name) => `${name}: required by ${provider}`).join('; ')}`,
    );
  return config as Given<T, K>;
}
