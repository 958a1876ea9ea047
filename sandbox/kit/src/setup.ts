/** Set-up every signing sandbox shares: raw bodies, a stranger's key for bad signatures, its time scale. */
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** JSON and form bodies stay the exact strings that arrived: signatures cover those bytes. */
export function keepRawBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  for (const type of ['application/json', 'application/x-www-form-urlencoded'])
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => done(null, body));
}

/**
 * An RSA key that is nobody's, for the `badResponseSignature` fault: valid signatures under the
 * wrong key. Made when first asked for: generating one takes a tenth of a second.
 */
export function strangerKey(): () => string {
  let pem: string | undefined;
  return () =>
    (pem ??= generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString());
}

/** `SANDBOX_NOTIFY_TIME_SCALE` (default 1): compresses a provider's retry schedule; exits on a bad value. */
export function notifyTimeScaleFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const scale = Number(env.SANDBOX_NOTIFY_TIME_SCALE ?? 1);
  if (!Number.isFinite(scale) || scale <= 0) {
    process.stderr.write('invalid configuration: SANDBOX_NOTIFY_TIME_SCALE: must be a positive number\n');
    process.exit(1);
  }
  return scale;
}
