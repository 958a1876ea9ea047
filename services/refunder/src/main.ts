import { errorMessage, exitOnSignals } from '@payments/common';
import { createLogger, loadConfigOrExit } from '@payments/providers';
import { createRefunder } from './app';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger('refunder', config.LOG_LEVEL);
  log.info({ config }, 'configuration');
  const refunder = await createRefunder(config, log);
  exitOnSignals(log, () => refunder.stop());
  await refunder.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`refunder failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
