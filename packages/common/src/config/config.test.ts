import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  amqpNodes,
  ConfigError,
  databaseOptions,
  isSandboxUrl,
  keyFingerprint,
  loadConfig,
  quorumGroupSize,
  redisTarget,
  SECRET_CONFIG_NAMES,
} from '.';

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

/** A key pair of our own: what a real deployment's keys look like to the configuration. */
const realKey = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const appKey = realKey();
const alipayKey = realKey();
const realAlipay = {
  ALIPAY_APP_ID: '2021004100000001',
  ALIPAY_PRIVATE_KEY: appKey.privateKey,
  ALIPAY_PUBLIC_KEY: alipayKey.publicKey,
  ALIPAY_ENDPOINT: 'https://openapi.alipay.com',
};
const realWechatpay = {
  WECHATPAY_MCHID: '1230000109',
  WECHATPAY_APPID: 'wxd678efh567hg6787',
  WECHATPAY_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  WECHATPAY_PRIVATE_KEY: realKey().privateKey,
  WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0112345678202401010000000000000001',
  WECHATPAY_PUBLIC_KEY: realKey().publicKey,
  WECHATPAY_APIV3_KEY: 'abcdefghijklmnopqrstuvwxyz012345',
  WECHATPAY_BASE_URL: 'https://api.mch.weixin.qq.com/',
};
const realStripe = {
  STRIPE_SECRET_KEY: 'sk_live_51RealAccountKey',
  STRIPE_WEBHOOK_SECRET: 'whsec_realendpointsecret',
  STRIPE_API_BASE: 'https://api.stripe.com',
};

describe('provider settings (issue 27.1: no sandbox defaults)', () => {
  it('have no defaults: nothing configured offers no channel, and no sandbox key is filled in', () => {
    const config = loadConfig({});
    expect(config.CHANNELS).toEqual([]);
    expect(config.ALIPAY_PUBLIC_KEY).toBeUndefined();
    expect(config.ALIPAY_ENDPOINT).toBeUndefined();
    expect(config.WECHATPAY_PUBLIC_KEY).toBeUndefined();
    expect(config.WECHATPAY_APIV3_KEY).toBeUndefined();
    expect(config.STRIPE_SECRET_KEY).toBeUndefined();
    expect(config.PSP_SECRET).toBeUndefined();
  });

  it('offer, with CHANNELS unset, the channels of the providers configured: no sandbox channel without the sandbox', () => {
    expect(loadConfig(realAlipay).CHANNELS).toEqual(['alipay-qr', 'alipay-page']);
    expect(loadConfig({ ...realAlipay, ...realStripe }).CHANNELS).toEqual([
      'alipay-qr',
      'alipay-page',
      'stripe-card',
      'stripe-boleto',
    ]);
    expect(loadConfig({ ...realAlipay, CHANNELS: 'alipay-qr' }).CHANNELS).toEqual(['alipay-qr']);
  });

  it.each([
    ['ALIPAY_PUBLIC_KEY', realAlipay],
    ['ALIPAY_APP_ID', realAlipay],
    ['ALIPAY_PRIVATE_KEY', realAlipay],
    ['ALIPAY_ENDPOINT', realAlipay],
    ['WECHATPAY_PUBLIC_KEY', realWechatpay],
    ['WECHATPAY_PUBLIC_KEY_ID', realWechatpay],
    ['WECHATPAY_APIV3_KEY', realWechatpay],
    ['WECHATPAY_BASE_URL', realWechatpay],
    ['STRIPE_WEBHOOK_SECRET', realStripe],
    ['STRIPE_SECRET_KEY', realStripe],
    ['STRIPE_API_BASE', realStripe],
  ])('stop when %s is missing from a configured provider, naming it', (name, section) => {
    const env: Record<string, string> = { ...section };
    delete env[name];
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`${name}: required`));
  });

  it('stop when CHANNELS names a channel whose provider is not configured, naming every setting it needs', () => {
    const attempt = () => loadConfig({ CHANNELS: 'wechat-native' });
    for (const name of [
      'WECHATPAY_MCHID',
      'WECHATPAY_PUBLIC_KEY',
      'WECHATPAY_APIV3_KEY',
      'WECHATPAY_BASE_URL',
    ])
      expect(attempt).toThrow(new RegExp(`${name}: required: CHANNELS names wechat-native`));
    expect(() => loadConfig({ CHANNELS: 'sandbox-wallet' })).toThrow(/PSP_SECRET: required/);
  });

  it('take a key as one line with literal \\n, or from <NAME>_FILE', () => {
    const oneLine = appKey.privateKey.replace(/\n/g, '\\n');
    expect(loadConfig({ ...realAlipay, ALIPAY_PRIVATE_KEY: oneLine }).ALIPAY_PRIVATE_KEY).toBe(
      appKey.privateKey.trim(),
    );
    const path = join(mkdtempSync(join(tmpdir(), 'keys-')), 'app.pem');
    writeFileSync(path, `${appKey.privateKey}\n`);
    const { ALIPAY_PRIVATE_KEY: _, ...withoutKey } = realAlipay;
    expect(loadConfig({ ...withoutKey, ALIPAY_PRIVATE_KEY_FILE: path }).ALIPAY_PRIVATE_KEY).toBe(
      appKey.privateKey.trim(),
    );
    expect(() => loadConfig({ ALIPAY_PRIVATE_KEY_FILE: '/nonexistent/app.pem' })).toThrow(
      /ALIPAY_PRIVATE_KEY_FILE/,
    );
  });

  it('refuses a malformed app id, merchant id or APIv3 key, naming it', () => {
    expect(() => loadConfig({ ALIPAY_APP_ID: 'abc' })).toThrow(/ALIPAY_APP_ID/);
    expect(() => loadConfig({ WECHATPAY_MCHID: 'm-1' })).toThrow(/WECHATPAY_MCHID/);
    expect(() => loadConfig({ WECHATPAY_APPID: '1900000109' })).toThrow(/WECHATPAY_APPID/);
    expect(() => loadConfig({ WECHATPAY_APIV3_KEY: 'a'.repeat(31) })).toThrow(/WECHATPAY_APIV3_KEY/);
    expect(() => loadConfig({ STRIPE_SECRET_KEY: 'pk_live_abc' })).toThrow(/STRIPE_SECRET_KEY/);
  });

  it('tells a local sandbox by its host: loopback, or a host SANDBOX_HOSTS names', () => {
    expect(isSandboxUrl('http://127.0.0.1:8091', [])).toBe(true);
    expect(isSandboxUrl('http://localhost:8091', [])).toBe(true);
    expect(isSandboxUrl('http://[::1]:8091', [])).toBe(true);
    expect(isSandboxUrl('http://alipay:8091', [])).toBe(false);
    expect(isSandboxUrl('http://alipay:8091', ['alipay'])).toBe(true);
    expect(isSandboxUrl('https://openapi.alipay.com', ['alipay'])).toBe(false);
    expect(isSandboxUrl('https://127.0.0.1.example.com', [])).toBe(false);
  });

  it('names a key by its public half: a private key and its public key have one fingerprint', () => {
    expect(keyFingerprint(appKey.privateKey)).toBe(keyFingerprint(appKey.publicKey));
    expect(keyFingerprint(appKey.publicKey)).not.toBe(keyFingerprint(alipayKey.publicKey));
    expect(keyFingerprint('whsec_x')).toMatch(/^[0-9a-f]{64}$/);
  });
});
