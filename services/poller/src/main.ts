import { errorMessage, exitOnSignals } from '@payments/common';
import { createLogger, loadConfigOrExit } from '@payments/providers';
import { createPoller } from './app';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger('poller', config.LOG_LEVEL);
  log.info({ config }, 'configuration');
  const poller = await createPoller(config, log);
  exitOnSignals(log, () => poller.stop());
  await poller.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`poller failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
