/**
 * Every provider we can take payments through. Adding one is its folder beside these, its sandbox
 * (sandbox/<name>), and one line in `PROVIDERS` (README, "Layout").
 */
import type { Config } from '@payments/platform';
import type { SettingsOfEntries } from '@payments/core';
import { alipayProvider } from './alipay/provider';
import { providerRegistry } from './compose';
import { sandboxProvider } from './sandbox/provider';
import { stripeProvider } from './stripe/provider';
import { wechatpayProvider } from './wechatpay/provider';

/** In the order CHANNELS' default lists their channels. */
export const PROVIDERS = [sandboxProvider, alipayProvider, wechatpayProvider, stripeProvider] as const;

/** What the providers' sections parse to, beside the platform's configuration. */
export type ProviderSettings = SettingsOfEntries<typeof PROVIDERS>;

/** The configuration of a part that runs providers: the platform's and every provider's section. */
export type ProvidersConfig = Config & ProviderSettings;

export const providers = providerRegistry<ProviderSettings>(PROVIDERS);

export const KNOWN_CHANNELS = providers.knownChannels;
export const PROVIDER_SECTIONS = providers.sections;
/** The platform's variables and every provider's (CONTRACT 2, CONTRACT 9). */
export const configSchema = providers.configSchema;
export const SECRET_CONFIG_NAMES = providers.secretConfigNames;
/** `loadConfig` of `@payments/platform` with every provider's section. */
export const loadConfig = providers.loadConfig;
export const loadConfigOrExit = providers.loadConfigOrExit;
/** `createLogger` of `@payments/platform`, redacting every provider's signature headers and secrets. */
export const createLogger = providers.createLogger;
export const createProviders = providers.createProviders;
export const createChannels = providers.createChannels;
