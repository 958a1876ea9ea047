/**
 * The registry composed at the edge: the platform knows no provider, so whoever runs providers
 * (the gateway, the poller, the refunder, their tests) parses the configuration, redacts its logs
 * and builds its providers through these, which iterate the registry's entries. Nothing here names
 * a provider.
 */
import {
  composedSchema,
  ConfigError,
  configuredChannels,
  createLogger as createPlatformLogger,
  loadConfig as loadPlatformConfig,
  loadConfigOrExit as loadPlatformConfigOrExit,
  secretConfigNames,
  type Config,
  type Logger,
  type LogRedaction,
  type ProviderSection,
  type Registry,
} from '@payments/platform';
import { providerKit, type PaymentChannel, type PaymentProvider, type ProviderEntry } from '@payments/core';

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

/** Everything the rest of the house needs of a registry, derived from its entries alone. */
export interface ProviderRegistry<T extends object = object> {
  entries: readonly ProviderEntry[];
  /** Every channel a provider of ours serves, in the registry's order (CHANNELS' default order). */
  knownChannels: readonly string[];
  sections: readonly ProviderSection[];
  /** The platform's variables and every provider's. */
  configSchema: ReturnType<typeof composedSchema>;
  /** Every variable its schema calls secret, the providers' included. */
  secretConfigNames: readonly string[];
  /** What logs never show: the providers' signature headers and secret settings. */
  redaction: LogRedaction;
  loadConfig(env?: Record<string, string | undefined>): Config & T;
  loadConfigOrExit(env?: Record<string, string | undefined>): Config & T;
  createLogger(
    service: string,
    level?: string,
    destination?: Parameters<typeof createPlatformLogger>[2],
  ): Logger;
  createProviders(config: Config, registry: Registry, log: Logger): Providers;
  /** The channels these services serve (poller, refunder): every configured one, offered or not. */
  createChannels(config: Config, registry: Registry, log: Logger): Map<string, PaymentChannel>;
}

/** A provider's own slice of the configuration: the variables of its section, nothing else. */
export function settingsOf(entry: ProviderEntry, config: Config): Record<string, unknown> {
  const values = config as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.keys(entry.section.settings).map((name) => [name, values[name]]));
}

export function providerRegistry<T extends object = object>(
  entries: readonly ProviderEntry[],
): ProviderRegistry<T> {
  const knownChannels = entries.flatMap((entry) => entry.channels);
  const sections = entries.map((entry) => entry.section);
  const redaction: LogRedaction = {
    headers: entries.flatMap((entry) => entry.signatureHeaders),
    fields: secretConfigNames(sections),
  };

  /**
   * The providers serving the channels named in `CHANNELS` and every other channel of a configured
   * provider, each with its own breaker. A channel we do not know, none offered, or a provider whose
   * settings are missing or invalid stops the process at start.
   */
  function createProviders(config: Config, registry: Registry, log: Logger): Providers {
    const unknown = config.CHANNELS.filter((name) => !knownChannels.includes(name));
    if (unknown.length > 0)
      throw new ConfigError(
        `invalid configuration: CHANNELS: unknown channel(s) ${unknown.join(', ')}; known: ${knownChannels.join(', ')}`,
      );
    if (config.CHANNELS.length === 0)
      throw new ConfigError(
        'invalid configuration: CHANNELS: no channel is offered: give the settings of at least one provider (README, "Taking real money"), or CHANNELS',
      );
    const servable = new Set([
      ...config.CHANNELS,
      ...configuredChannels(sections, config as unknown as Record<string, unknown>),
    ]);
    const kit = providerKit(config, registry, log);
    const providers = entries.flatMap((entry) => {
      const named = entry.channels.filter((name) => servable.has(name));
      return named.length > 0 ? [entry.create(settingsOf(entry, config), kit, named)] : [];
    });
    const served = new Map<string, PaymentChannel>();
    for (const provider of providers)
      for (const channel of provider.channels) served.set(channel.name, channel);
    const channels = new Map([...served].filter(([name]) => config.CHANNELS.includes(name)));
    return { providers, channels, served };
  }

  return {
    entries,
    knownChannels,
    sections,
    configSchema: composedSchema(sections),
    secretConfigNames: redaction.fields ?? [],
    redaction,
    loadConfig: (env = process.env) => loadPlatformConfig<T>(env, sections),
    loadConfigOrExit: (env = process.env) => loadPlatformConfigOrExit<T>(env, sections),
    createLogger: (service, level, destination) =>
      createPlatformLogger(service, level, destination, redaction),
    createProviders,
    createChannels: (config, registry, log) => createProviders(config, registry, log).served,
  };
}
