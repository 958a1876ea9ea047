import { errorMessage, exitOnSignals } from '@payments/common';
import { createLogger } from '@payments/providers';
import { createGateway } from './app';
import { gatewayConfig } from './config';

async function main(): Promise<void> {
  const config = gatewayConfig();
  const log = createLogger('payment-gateway', config.LOG_LEVEL);
  log.info({ config }, 'configuration');
  const gateway = await createGateway(config, log);
  exitOnSignals(log, () => gateway.stop());
  await gateway.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`payment-gateway failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
