/** For tests and scripts that run the WeChat Pay sandbox in-process (the package's `main`). */
export { buildWechatpaySandbox, type WechatpaySandboxOptions } from './server';
