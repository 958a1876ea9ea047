/** `npm run migrate`: creates the database if missing and applies pending migrations. */
import { loadConfigOrExit } from '@payments/platform';
import { migrate } from '@payments/core';

const config = loadConfigOrExit();
migrate(config.DATABASE_URL).then(
  (applied) => {
    process.stdout.write(
      applied.length ? `[migrate] applied ${applied.join(', ')}\n` : '[migrate] schema up to date\n',
    );
  },
  (error: unknown) => {
    process.stderr.write(`[migrate] failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
