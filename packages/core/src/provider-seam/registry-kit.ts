import type CircuitBreaker from 'opossum';
import type { z } from 'zod';
import {
  createBreaker,
  type Config,
  type Logger,
  type ProviderSection,
  type Registry,
  type SettingsOf,
} from '@payments/platform';
import type { PaymentProvider } from './provider';

/** What every provider is built with: its breaker (one per provider), the call timeout, a logger. */
export interface ProviderKit {
  breaker<A extends unknown[], R>(circuit: string, call: (...args: A) => Promise<R>): CircuitBreaker<A, R>;
  /** A provider call's own timeout: the breaker's, so no request outlives the breaker's answer. */
  callTimeoutMs: number;
  log: Logger;
}

/**
 * One line of the provider registry (Medusa's typed provider options, Hyperswitch's connector): a
 * name, the channels it can serve, its own configuration section, the headers its signatures come
 * in (redacted from logs), and how to build it from its own settings alone.
 */
export interface ProviderEntry<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  channels: readonly string[];
  /** Its variables (zod) and what loadConfig checks of them: required, endpoints, keys. */
  section: ProviderSection<S>;
  /** Request headers carrying its notifications' signatures: never logged. */
  signatureHeaders: readonly string[];
  /**
   * Builds the provider for the named channels (a subset of `channels`) from its own slice of the
   * configuration; throws `ConfigError` for bad settings.
   */
  create(settings: SettingsOf<S>, kit: ProviderKit, channels: readonly string[]): PaymentProvider;
}

/** A registry entry whose settings' type (`SettingsOf` its section) is kept, for the registry to compose. */
export type DefinedProvider<S extends z.ZodRawShape = z.ZodRawShape> = ProviderEntry & {
  /** Type only, never set: what the section's settings parse to. */
  readonly settingsType?: SettingsOf<S>;
};

/** A registry entry, its settings' type inferred from its section. */
export function defineProvider<S extends z.ZodRawShape>(entry: ProviderEntry<S>): DefinedProvider<S> {
  return entry as unknown as DefinedProvider<S>;
}

type Intersection<U> = (U extends unknown ? (value: U) => void : never) extends (value: infer I) => void
  ? I
  : never;

/** What the settings of every entry of a registry parse to, together. */
export type SettingsOfEntries<E extends readonly DefinedProvider[]> = Intersection<
  NonNullable<E[number]['settingsType']>
>;

export function providerKit(config: Config, registry: Registry, log: Logger): ProviderKit {
  return {
    breaker: (circuit, call) => createBreaker(call, { name: circuit, config, registry, log }),
    callTimeoutMs: config.BREAKER_TIMEOUT,
    log,
  };
}
