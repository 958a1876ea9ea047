/**
 * The cashier page's static files (`services/payment-gateway/assets/`), read once at start. This
 * module sits directly in `src/`, so `../assets` is the same folder from the source (tests) and
 * from the bundle (`dist/main.js`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const folder = join(__dirname, '..', 'assets');

/**
 * A Map, not an object: a name from the URL (`constructor`, `__proto__`, `toString`) must find
 * nothing rather than something inherited (issue 27.10).
 */
export const CASHIER_ASSETS: ReadonlyMap<string, { type: string; body: string }> = new Map([
  [
    'cashier.js',
    { type: 'text/javascript; charset=utf-8', body: readFileSync(join(folder, 'cashier.js'), 'utf8') },
  ],
  [
    'cashier.css',
    { type: 'text/css; charset=utf-8', body: readFileSync(join(folder, 'cashier.css'), 'utf8') },
  ],
]);
