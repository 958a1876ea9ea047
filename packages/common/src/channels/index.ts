import { ConfigError, configuredChannels, PROVIDER_SECTIONS, type Config } from '../config';
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
export * from './unserved';
export * from './china-time';
export * from './alipay/status';
export * from './alipay/channel';
export * from './alipay/provider';
export * from './wechatpay/status';
export * from './wechatpay/channel';
export * from './wechatpay/provider';
export * from './stripe/status';
export * from './stripe/channel';
export * from './stripe/provider';
export { pspSection } from './sandbox/settings';
export { alipaySection } from './alipay/settings';
export { wechatpaySection } from './wechatpay/settings';
export { stripeSection } from './stripe/settings';

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
  /** What new payments may use: the channels `CHANNELS` names. */
  channels: Map<string, PaymentChannel>;
  /**
   * Every channel whose provider is configured, offered or not (issue 27.3): a channel dropped from
   * CHANNELS keeps its attempts in flight and its refunds owed served (notifications, polls,
   * closes, refunds) for as long as its settings are there.
   */
  served: Map<string, PaymentChannel>;
}

/**
 * The providers serving the channels named in `CHANNELS` and every other channel of a configured
 * provider, each with its own breaker. A channel we do not know, none offered, or a provider whose
 * settings are missing or invalid stops the process at start.
 */
export function createProviders(config: Config, registry: Registry, log: Logger): Providers {
  const unknown = config.CHANNELS.filter((name) => !KNOWN_CHANNELS.includes(name));
  if (unknown.length > 0)
    throw new ConfigError(
      `invalid configuration: CHANNELS: unknown channel(s) ${unknown.join(', ')}; known: ${KNOWN_CHANNELS.join(', ')}`,
    );
  if (config.CHANNELS.length === 0)
    throw new ConfigError(
      'invalid configuration: CHANNELS: no channel is offered: give the settings of at least one provider (README, "Taking real money"), or CHANNELS',
    );
  const servable = new Set([
    ...config.CHANNELS,
    ...configuredChannels(PROVIDER_SECTIONS, config as unknown as Record<string, unknown>),
  ]);
  const kit = providerKit(config, registry, log);
  const providers = PROVIDERS.flatMap((entry) => {
    const named = entry.channels.filter((name) => servable.has(name));
    return named.length > 0 ? [entry.create(config, kit, named)] : [];
  });
  const served = new Map<string, PaymentChannel>();
  for (const provider of providers)
    for (const channel of provider.channels) served.set(channel.name, channel);
  const channels = new Map([...served].filter(([name]) => config.CHANNELS.includes(name)));
  return { providers, channels, served };
}

/** The channels these services serve (poller, refunder): every configured one, offered or not. */
export function createChannels(config: Config, registry: Registry, log: Logger): Map<string, PaymentChannel> {
  return createProviders(config, registry, log).served;
}
