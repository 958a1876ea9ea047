/**
 * Issue 27.1 at start: a gateway given a real Alipay endpoint, app id and private key but no
 * ALIPAY_PUBLIC_KEY stops before it opens anything, naming the variable (it used to verify
 * notifications with the sandbox's public key, whose private half ships with the source).
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { SANDBOX_ALIPAY_PUBLIC_KEY } from '../../../../sandbox/alipay/src/keys';

describe('the gateway at start with a provider half configured (real process)', () => {
  const dir = join(__dirname, '..', '..');
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const start = (env: Record<string, string>) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !/^(ALIPAY|WECHATPAY|STRIPE|PSP)_|^CHANNELS$/.test(name),
      ),
    );
    return spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: dir,
      env: { ...clean, GATEWAY_PORT: '0', LOG_LEVEL: 'silent', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  };
  const realAlipay = {
    ALIPAY_APP_ID: '2021004100000001',
    ALIPAY_PRIVATE_KEY: privateKey,
    ALIPAY_ENDPOINT: 'https://openapi.alipay.com',
  };

  it('stops, naming ALIPAY_PUBLIC_KEY, when it is missing', () => {
    const run = start(realAlipay);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/ALIPAY_PUBLIC_KEY: required/);
  });

  it("stops, naming ALIPAY_PUBLIC_KEY, when it is the sandbox's", () => {
    const run = start({ ...realAlipay, ALIPAY_PUBLIC_KEY: SANDBOX_ALIPAY_PUBLIC_KEY });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/ALIPAY_PUBLIC_KEY: is a local sandbox's published test key/);
  });
});
