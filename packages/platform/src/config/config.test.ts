import {
  amqpNodes,
  ConfigError,
  databaseOptions,
  loadConfig,
  quorumGroupSize,
  redisTarget,
  SECRET_CONFIG_NAMES,
} from './';

describe('loadConfig', () => {
  it('gives the contract defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.AMQP_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(config.DATABASE_URL).toBe('mysql://root@127.0.0.1:3306/payments');
    expect(config.TOPOLOGY_PREFIX).toBe('');
    expect(config.GATEWAY_PORT).toBe(8080);
    expect(config.API_KEYS).toEqual(['sk_test_local']);
    expect(config.POLL_SCHEDULE).toEqual([
      3000, 10_000, 30_000, 180_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 54_000_000,
    ]);
    expect(config.NOTIFY_SCHEDULE).toHaveLength(10);
    expect(config.REFUND_POLL_SCHEDULE).toEqual([5000, 30_000, 180_000, 1_800_000, 7_200_000]);
    expect(config.SWEEP_INTERVAL).toBe(60_000);
    expect(config.BREAKER_TIMEOUT).toBe(3000);
    expect(config.BREAKER_RESET).toBe(30_000);
    expect(config.BREAKER_ERROR_PERCENT).toBe(50);
    expect(config.BREAKER_VOLUME).toBe(10);
    expect(config.REFUND_AUTO_MAX_AMOUNT).toBe(100000);
    expect(config.REFUND_DAILY_CAP).toBe(10000000);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('reads overrides', () => {
    const config = loadConfig({
      POLL_SCHEDULE: '300ms,600ms,1s',
      API_KEYS: 'a, b',
      TOPOLOGY_PREFIX: 't1',
      METRICS_PORT: '0',
    });
    expect(config.POLL_SCHEDULE).toEqual([300, 600, 1000]);
    expect(config.API_KEYS).toEqual(['a', 'b']);
    expect(config.TOPOLOGY_PREFIX).toBe('t1');
    expect(config.METRICS_PORT).toBe(0);
  });

  it.each([
    ['POLL_SCHEDULE', '3s,,4s'],
    ['SWEEP_INTERVAL', 'soon'],
    ['GATEWAY_PORT', '70000'],
    ['AMQP_URL', 'http://x'],
    ['AMQP_URL', 'amqp://a:5672,http://b'],
    ['QUORUM_GROUP_SIZE', '0'],
    ['REDIS_SENTINELS', 'a:26379,b'],
    ['REDIS_SENTINELS', 'a:99999'],
    ['DATABASE_URL', 'postgres://x/y'],
    ['TOPOLOGY_PREFIX', 'a.b'],
    ['LOG_LEVEL', 'loud'],
    ['BREAKER_ERROR_PERCENT', '0'],
    ['REFUND_AUTO_MAX_AMOUNT', '1.5'],
  ])('stops on a bad %s, naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('reads a cluster: the broker nodes, the quorum group size, and Sentinels in place of REDIS_URL', () => {
    const single = loadConfig({});
    expect(amqpNodes(single.AMQP_URL)).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
    expect(quorumGroupSize(single)).toBe(1);
    expect(redisTarget(single)).toEqual({ url: 'redis://127.0.0.1:6379/0' });

    const cluster = loadConfig({
      AMQP_URL: 'amqp://a:5672, amqp://b:5672,amqp://c:5672,amqp://d:5672',
      REDIS_SENTINELS: 's1:26379, s2:26380',
    });
    expect(amqpNodes(cluster.AMQP_URL)).toEqual([
      'amqp://a:5672',
      'amqp://b:5672',
      'amqp://c:5672',
      'amqp://d:5672',
    ]);
    expect(quorumGroupSize(cluster)).toBe(3);
    expect(quorumGroupSize({ ...cluster, QUORUM_GROUP_SIZE: 5 })).toBe(5);
    expect(redisTarget(cluster)).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'mymaster',
    });
  });

  it('gives REDIS_PASSWORD to the data nodes and REDIS_SENTINEL_PASSWORD to the Sentinels', () => {
    expect(redisTarget(loadConfig({ REDIS_PASSWORD: 'p1' }))).toEqual({
      url: 'redis://127.0.0.1:6379/0',
      password: 'p1',
    });
    expect(
      redisTarget(
        loadConfig({ REDIS_SENTINELS: 's1:26379', REDIS_PASSWORD: 'p1', REDIS_SENTINEL_PASSWORD: 'p2' }),
      ),
    ).toEqual({
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'mymaster',
      password: 'p1',
      sentinelPassword: 'p2',
    });
    expect(SECRET_CONFIG_NAMES).toEqual(
      expect.arrayContaining(['REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD']),
    );
  });

  it('splits DATABASE_URL', () => {
    expect(databaseOptions('mysql://root:p%40ss@db:3307/payments_x')).toEqual({
      host: 'db',
      port: 3307,
      username: 'root',
      password: 'p@ss',
      database: 'payments_x',
    });
  });
});
