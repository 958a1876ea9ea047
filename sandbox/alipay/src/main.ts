import { errorMessage, exitOnSignals } from '@payments/platform';
import { createLogger, loadConfigOrExit } from '@payments/providers';
import { SANDBOX_ALIPAY_APP_ID, SANDBOX_ALIPAY_PRIVATE_KEY, SANDBOX_APP_PUBLIC_KEY } from './keys';
import { notifyTimeScaleFromEnv, sandboxPortFromEnv } from '@payments/sandbox-kit';
import { alipaySandbox } from './entry';
import { buildAlipaySandbox } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const scale = notifyTimeScaleFromEnv();
  const log = createLogger('sandbox-alipay', config.LOG_LEVEL);
  const app = buildAlipaySandbox({
    appId: config.ALIPAY_APP_ID ?? SANDBOX_ALIPAY_APP_ID,
    // The sandbox's own published test keys (TEST ONLY): the app's public half, "Alipay's" private half.
    appPublicKey: process.env.SANDBOX_ALIPAY_APP_PUBLIC_KEY ?? SANDBOX_APP_PUBLIC_KEY,
    alipayPrivateKey: SANDBOX_ALIPAY_PRIVATE_KEY,
    log,
    notifyTimeScale: scale,
    publicUrl: process.env.SANDBOX_ALIPAY_PUBLIC_URL,
  });
  exitOnSignals(log, () => app.close());
  // All interfaces, so the sandbox is reachable from containers too (docker-compose).
  const port = sandboxPortFromEnv(alipaySandbox);
  await app.listen({ port, host: '0.0.0.0' });
  log.info({ port }, 'sandbox alipay listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox-alipay failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
