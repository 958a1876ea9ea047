import type { Config } from '../config';
import type { Logger } from '../logging';
import { createBreaker, type Registry } from '../metrics';
import type { PaymentChannel } from './payment-channel';
import { SandboxChannel, sandboxProviderCall } from './sandbox-channel';

export * from './payment-channel';
export * from './sandbox-channel';
export * from './close-and-settle';

export const SANDBOX_CHANNELS = ['sandbox-wallet', 'sandbox-qr', 'sandbox-voucher'] as const;

/** Every channel we can take payments on, each behind one breaker for its provider. */
export function createChannels(config: Config, registry: Registry, log: Logger): Map<string, PaymentChannel> {
  // One provider (the sandbox PSP) serves the three sandbox channels, so they share its breaker.
  // The HTTP call is aborted when the breaker stops waiting for it, so no request outlives the
  // breaker's answer by long; what a timed-out call may still have done is the caller's to handle.
  const breaker = createBreaker(
    sandboxProviderCall(config.PSP_BASE_URL, config.PSP_SECRET, config.BREAKER_TIMEOUT),
    {
      name: 'psp_sandbox',
      config,
      registry,
      log,
    },
  );
  return new Map(
    SANDBOX_CHANNELS.map((name) => [name, new SandboxChannel(name, breaker, config.PSP_SECRET)]),
  );
}
