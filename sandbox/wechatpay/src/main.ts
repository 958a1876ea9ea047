import { errorMessage, exitOnSignals } from '@payments/platform';
import { createLogger, loadConfigOrExit } from '@payments/providers';
import {
  SANDBOX_WECHATPAY_APIV3_KEY,
  SANDBOX_WECHATPAY_APPID,
  SANDBOX_WECHATPAY_MCHID,
  SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY,
  SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
  SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
  SANDBOX_WECHATPAY_SERIAL,
} from './keys';
import { notifyTimeScaleFromEnv, sandboxPortFromEnv } from '@payments/sandbox-kit';
import { wechatpaySandbox } from './entry';
import { buildWechatpaySandbox } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const scale = notifyTimeScaleFromEnv();
  const log = createLogger('sandbox-wechatpay', config.LOG_LEVEL);
  const app = buildWechatpaySandbox({
    mchid: config.WECHATPAY_MCHID ?? SANDBOX_WECHATPAY_MCHID,
    appid: config.WECHATPAY_APPID ?? SANDBOX_WECHATPAY_APPID,
    merchantSerial: config.WECHATPAY_SERIAL ?? SANDBOX_WECHATPAY_SERIAL,
    // The sandbox's own published test keys (TEST ONLY): the merchant's public half, "WeChat Pay's" private half.
    merchantPublicKey:
      process.env.SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY ?? SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY,
    publicKeyId: config.WECHATPAY_PUBLIC_KEY_ID ?? SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
    platformPrivateKey: SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
    apiV3Key: config.WECHATPAY_APIV3_KEY ?? SANDBOX_WECHATPAY_APIV3_KEY,
    log,
    notifyTimeScale: scale,
  });
  exitOnSignals(log, () => app.close());
  // All interfaces, so the sandbox is reachable from containers too (docker-compose).
  const port = sandboxPortFromEnv(wechatpaySandbox);
  await app.listen({ port, host: '0.0.0.0' });
  log.info({ port }, 'sandbox wechatpay listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox-wechatpay failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
