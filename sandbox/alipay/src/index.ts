/** For tests and scripts that run the Alipay sandbox in-process (the package's `main`). */
export { buildAlipaySandbox, type AlipaySandboxOptions } from './server';
