import { ConfigError, type Config } from '../config';
import type { Logger } from '../logging';
import type { Registry } from '../metrics';
import type { PaymentChannel } from './payment-channel';
import type { PaymentProvider } from './provider';
import { providerKit, type ProviderEntry } from './registry-kit';
import { alipayProvider } from './alipay/provider';
import { sandboxProvider } from './sandbox/provider';
import { stripeProvider } from './stripe/provider';
import { wechatpayProvider } from './wechatpay/provider';

export * from './payment-channel';
export * from './provider';
export * from './errors';
export * from './registry-kit';
export * from './sandbox/channel';
export * from './sandbox/provider';
export * from './close-and-settle';
export * from './china-time';
export * from './alipay/status';
export * from './alipay/channel';
export * from './alipay/provider';
export * from './alipay/test-keys';
export * from './wechatpay/status';
export * from './wechatpay/channel';
export * from './wechatpay/provider';
export * from './wechatpay/test-keys';
export * from './stripe/status';
export * from './stripe/channel';
export * from './stripe/provider';
export * from './stripe/test-keys';

/** Every provider we can take payments through: adding one is its folder and one line here. */
export const PROVIDERS: readonly ProviderEntry[] = [
  sandboxProvider,
  alipayProvider,
  wechatpayProvider,
  stripeProvider,
];

export const KNOWN_CHANNELS: readonly string[] = PROVIDERS.flatMap((entry) => entry.channels);

export interface Providers {
  providers: PaymentProvider[];
  channels: Map<string, PaymentChannel>;
}

/**
 * The providers serving the channels named in `CHANNELS`, each with its own breaker. A channel we
 * do not know, or a provider whose settings are missing or invalid, stops the process at start.
 */
export function createProviders(config: Config, registry: Registry, log: Logger): Providers {
  const unknown = config.CHANNELS.filter((name) => !KNOWN_CHANNELS.includes(name));
  if (unknown.length > 0)
    throw new ConfigError(
      `invalid configuration: CHANNELS: unknown channel(s) ${unknown.join(', ')}; known: ${KNOWN_CHANNELS.join(', ')}`,
    );
  const kit = providerKit(config, registry, log);
  const providers = PROVIDERS.flatMap((entry) => {
    const named = entry.channels.filter((name) => config.CHANNELS.includes(name));
    return named.length > 0 ? [entry.create(config, kit, named)] : [];
  });
  const channels = new Map<string, PaymentChannel>();
  for (const provider of providers)
    for (const channel of provider.channels) channels.set(channel.name, channel);
  return { providers, channels };
}

/** The channels alone, for services that never receive notifications (poller, refunder). */
export function createChannels(config: Config, registry: Registry, log: Logger): Map<string, PaymentChannel> {
  return createProviders(config, registry, log).channels;
}
