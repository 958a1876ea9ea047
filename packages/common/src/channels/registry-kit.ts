import type CircuitBreaker from 'opossum';
import type { Config } from '../config';
import type { Logger } from '../logging';
import { createBreaker, type Registry } from '../metrics';
import type { PaymentProvider } from './provider';

/** What every provider is built with: its breaker (one per provider), the call timeout, a logger. */
export interface ProviderKit {
  breaker<A extends unknown[], R>(circuit: string, call: (...args: A) => Promise<R>): CircuitBreaker<A, R>;
  /** A provider call's own timeout: the breaker's, so no request outlives the breaker's answer. */
  callTimeoutMs: number;
  log: Logger;
}

/** One line of the provider registry: a name, the channels it can serve, and how to build it. */
export interface ProviderEntry {
  name: string;
  channels: readonly string[];
  /** Builds the provider for the named channels (a subset of `channels`); throws `ConfigError` for bad settings. */
  create(config: Config, kit: ProviderKit, channels: readonly string[]): PaymentProvider;
}

export function providerKit(config: Config, registry: Registry, log: Logger): ProviderKit {
  return {
    breaker: (circuit, call) => createBreaker(call, { name: circuit, config, registry, log }),
    callTimeoutMs: config.BREAKER_TIMEOUT,
    log,
  };
}
