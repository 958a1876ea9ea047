import { errorMessage, exitOnSignals } from '@payments/platform';
import { createLogger, loadConfigOrExit } from '@payments/providers';
import { SANDBOX_PSP_SECRET } from './keys';
import { sandboxPortFromEnv } from '@payments/sandbox-kit';
import { pspSandbox } from './entry';
import { buildPspServer } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger('sandbox-psp', config.LOG_LEVEL);
  const app = buildPspServer({
    secret: config.PSP_SECRET ?? SANDBOX_PSP_SECRET,
    log,
    publicUrl: process.env.SANDBOX_PSP_PUBLIC_URL,
  });
  exitOnSignals(log, () => app.close());
  // All interfaces, so the PSP is reachable from containers too (docker-compose).
  const port = sandboxPortFromEnv(pspSandbox);
  await app.listen({ port, host: '0.0.0.0' });
  log.info({ port }, 'sandbox psp listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox-psp failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
