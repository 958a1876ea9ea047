/** For tests and scripts that run the Alipay sandbox in-process (the package's `main`). */
export { buildAlipaySandbox, type AlipaySandboxOptions } from './server';
/** The sandbox's published TEST-ONLY keys (never production code's). */
export * from './keys';
