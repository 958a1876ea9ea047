/**
 * The cashier page's static files (`services/payment-gateway/assets/`), read once at start. This
 * module sits directly in `src/`, so `../assets` is the same folder from the source (tests) and
 * from the bundle (`dist/main.js`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const folder = join(__dirname, '..', 'assets');

export const CASHIER_ASSETS: Readonly<Record<string, { type: string; body: string }>> = {
  'cashier.js': {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(join(folder, 'cashier.js'), 'utf8'),
  },
  'cashier.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(folder, 'cashier.css'), 'utf8') },
};
