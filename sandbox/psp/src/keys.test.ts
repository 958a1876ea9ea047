import { keyFingerprint } from '@payments/platform';
import { loadConfig, pspSection } from '@payments/providers';
import { SANDBOX_PSP_SECRET, sandboxPspEnv } from './keys';

describe("the sandbox PSP's published secret (issue 27.1)", () => {
  it('is named by the fingerprint the gateway refuses outside a sandbox', () => {
    expect(pspSection.publishedKeys).toContain(keyFingerprint(SANDBOX_PSP_SECRET));
  });

  it('offers the sandbox channels only where the sandbox is configured', () => {
    expect(loadConfig({}).CHANNELS).not.toContain('sandbox-wallet');
    expect(loadConfig(sandboxPspEnv('http://127.0.0.1:8090')).CHANNELS).toEqual([
      'sandbox-wallet',
      'sandbox-qr',
      'sandbox-voucher',
    ]);
    expect(() => loadConfig(sandboxPspEnv('https://psp.example.com'))).toThrow(
      /PSP_SECRET: is a local sandbox's published test key/,
    );
  });
});
