/**
 * TEST ONLY. The sandbox PSP's notification secret, published with the source: what `npm run up`,
 * the demo and the tests give it and the gateway as `PSP_SECRET`. The gateway refuses it for a
 * PSP_BASE_URL that is not a local sandbox (loopback or SANDBOX_HOSTS).
 */
export const SANDBOX_PSP_SECRET = 'psp_test_secret';

/** The settings that point the gateway's sandbox channels at this PSP (`npm run up`, tests, bench). */
export function sandboxPspEnv(baseUrl: string): Record<string, string> {
  return { PSP_BASE_URL: baseUrl, PSP_SECRET: SANDBOX_PSP_SECRET };
}
