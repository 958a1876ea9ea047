import { createLogger, errorMessage, exitOnSignals, loadConfigOrExit } from '@payments/common';
import { createNotifier } from './app';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger('notifier', config.LOG_LEVEL);
  log.info({ config }, 'configuration');
  const notifier = await createNotifier(config, log);
  exitOnSignals(log, () => notifier.stop());
  await notifier.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`notifier failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
