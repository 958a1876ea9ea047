import { createLogger, errorMessage, exitOnSignals, loadConfigOrExit } from '@payments/platform';
import { buildOrderService } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger('order-service', config.LOG_LEVEL);
  const app = buildOrderService({ secret: config.ORDER_SERVICE_SECRET, log });
  exitOnSignals(log, () => app.close());
  await app.listen({ port: config.EXAMPLE_ORDER_SERVICE_PORT, host: '0.0.0.0' });
  log.info({ port: config.EXAMPLE_ORDER_SERVICE_PORT }, 'example order service listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`order-service failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
