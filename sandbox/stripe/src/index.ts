/** For tests and scripts that run the Stripe sandbox in-process (the package's `main`). */
export { buildStripeSandbox, type StripeSandboxOptions } from './server';
/** The sandbox's published TEST-ONLY keys (never production code's). */
export * from './keys';
