import { errorMessage, exitOnSignals } from '@payments/platform';
import { createLogger, loadConfigOrExit } from '@payments/providers';
import { notifyTimeScaleFromEnv, sandboxPortFromEnv } from '@payments/sandbox-kit';
import { SANDBOX_STRIPE_SECRET_KEY, SANDBOX_STRIPE_WEBHOOK_SECRET } from './keys';
import { stripeSandbox } from './entry';
import { buildStripeSandbox } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const scale = notifyTimeScaleFromEnv();
  const log = createLogger('sandbox-stripe', config.LOG_LEVEL);
  // The account's webhook endpoint: the gateway's Stripe route unless told otherwise.
  const webhookUrl =
    process.env.SANDBOX_STRIPE_WEBHOOK_URL ??
    new URL('/v1/notify/stripe', config.GATEWAY_PUBLIC_URL).toString();
  const app = buildStripeSandbox({
    // The sandbox accepts the configured key and secret, unset: its own published TEST-ONLY ones.
    secretKey: config.STRIPE_SECRET_KEY ?? SANDBOX_STRIPE_SECRET_KEY,
    webhookSecret: config.STRIPE_WEBHOOK_SECRET ?? SANDBOX_STRIPE_WEBHOOK_SECRET,
    webhookUrl: () => webhookUrl,
    log,
    notifyTimeScale: scale,
    publicUrl: process.env.SANDBOX_STRIPE_PUBLIC_URL,
  });
  exitOnSignals(log, () => app.close());
  // All interfaces, so the sandbox is reachable from containers too (docker-compose).
  const port = sandboxPortFromEnv(stripeSandbox);
  await app.listen({ port, host: '0.0.0.0' });
  log.info({ port, webhookUrl }, 'sandbox stripe listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox-stripe failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
