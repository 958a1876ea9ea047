/**
 * The settings that point every provider at its local sandbox, with the sandboxes' published
 * TEST-ONLY keys: how `npm run up`, the demo, the bench and the test stacks start things. The
 * configuration itself has no such defaults (issue 27.1), so a deployment that forgets a setting
 * stops at start instead of verifying notifications with a key whose private half is public.
 */
import { sandboxAlipayEnv } from '../../sandbox/alipay/src/keys';
import { sandboxPspEnv } from '../../sandbox/psp/src/keys';
import { sandboxStripeEnv } from '../../sandbox/stripe/src/keys';
import { sandboxWechatpayEnv } from '../../sandbox/wechatpay/src/keys';

export interface SandboxUrls {
  psp: string;
  alipay: string;
  wechatpay: string;
  stripe: string;
}

/** The sandboxes on this machine at their default ports (CONTRACT 9). */
export const LOCAL_SANDBOX_URLS: SandboxUrls = {
  psp: 'http://127.0.0.1:8090',
  alipay: 'http://127.0.0.1:8091',
  wechatpay: 'http://127.0.0.1:8092/',
  stripe: 'http://127.0.0.1:8093',
};

/** The sandboxes on this machine at the ports `env` gives them (SANDBOX_*_PORT), else the defaults. */
export function localSandboxUrls(env: Record<string, string | undefined>): SandboxUrls {
  const at = (variable: string, fallback: string) =>
    env[variable] ? `http://127.0.0.1:${env[variable]}` : fallback;
  return {
    psp: at('SANDBOX_PSP_PORT', LOCAL_SANDBOX_URLS.psp),
    alipay: at('SANDBOX_ALIPAY_PORT', LOCAL_SANDBOX_URLS.alipay),
    wechatpay: at('SANDBOX_WECHATPAY_PORT', LOCAL_SANDBOX_URLS.wechatpay),
    stripe: at('SANDBOX_STRIPE_PORT', LOCAL_SANDBOX_URLS.stripe),
  };
}

export function sandboxProvidersEnv(urls: SandboxUrls = LOCAL_SANDBOX_URLS): Record<string, string> {
  return {
    ...sandboxPspEnv(urls.psp),
    ...sandboxAlipayEnv(urls.alipay),
    ...sandboxWechatpayEnv(urls.wechatpay),
    ...sandboxStripeEnv(urls.stripe),
  };
}

/**
 * `env` with each provider's sandbox settings added where `env` gives none of that provider's own:
 * an operator's provider settings (any variable of that provider) are kept whole, never mixed with
 * a sandbox's keys.
 */
export function withSandboxDefaults(
  env: Record<string, string | undefined>,
  urls: SandboxUrls = LOCAL_SANDBOX_URLS,
): Record<string, string | undefined> {
  const sections = [
    sandboxPspEnv(urls.psp),
    sandboxAlipayEnv(urls.alipay),
    sandboxWechatpayEnv(urls.wechatpay),
    sandboxStripeEnv(urls.stripe),
  ];
  const added = sections.filter(
    (section) => !Object.keys(section).some((name) => env[name] || env[`${name}_FILE`]),
  );
  return { ...Object.assign({}, ...added), ...env };
}
