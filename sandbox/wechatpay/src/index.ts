/** For tests and scripts that run the WeChat Pay sandbox in-process (the package's `main`). */
export { buildWechatpaySandbox, type WechatpaySandboxOptions } from './server';
/** The sandbox's platform certificate (TEST ONLY), for a `WECHATPAY_PLATFORM_CERTS` that trusts it. */
export * from './platform-certificate';
/** The sandbox's published TEST-ONLY keys (never production code's). */
export * from './keys';
