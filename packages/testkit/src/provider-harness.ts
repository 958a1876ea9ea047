/**
 * One harness every provider's sandbox test instantiates (as Hyperswitch's `ConnectorActions`): the
 * sandbox of the registry in-process, the merchant endpoint its notifications reach, the provider
 * under test configured at the sandbox, and the actions each test shares (trades, references,
 * control, faults, ledger, notifications as the gateway hands them over).
 */
import type { FastifyInstance } from 'fastify';
import { createRegistry } from '@payments/platform';
import {
  providerKit,
  type CreateTradeRequest,
  type PaymentChannel,
  type PaymentProvider,
  type ProviderKit,
} from '@payments/core';
import { createLogger, loadConfig, type ProvidersConfig } from '@payments/providers';
import type { NotificationReceiver } from './notification-receiver';
import { sandboxControl, type SandboxControl } from './sandbox-control';

/** What the harness needs of a sandbox's entry in `sandbox/registry.ts` (`SandboxEntry`). */
export interface HarnessSandboxEntry {
  gatewayEnv(url: string): Record<string, string>;
  build(context: { gatewayUrl: () => string | undefined }): FastifyInstance;
}

export interface ProviderHarnessOptions<P extends PaymentProvider, R extends NotificationReceiver<object>> {
  /** The provider's sandbox, as the registry lists it. */
  entry: HarnessSandboxEntry;
  /** The sandbox built with the test's own options instead of the entry's in-process build. */
  build?: () => FastifyInstance;
  /** Names the provider's metrics registries and logger (`<name>-test-<n>`). */
  name: string;
  /** The merchant endpoint the provider's notifications reach. */
  receiver: R;
  /** The provider under test, of a configuration and its kit. */
  makeProvider(config: ProvidersConfig, kit: ProviderKit): P;
  /** Settings over the entry's (the secret of a sandbox the test builds itself). */
  env?: Record<string, string>;
  /** Where the sandbox's account-wide notifications go (the entry's gatewayUrl), given the receiver. */
  gatewayUrl?: (receiver: R) => string | undefined;
  /** Called with the sandbox before it listens (hooks recording what it received). */
  onBuild?: (sandbox: FastifyInstance) => void;
  /** The content type of the provider's notifications. */
  contentType: string;
  /** What a trade is unless a test says otherwise (needed by `trade()`). */
  trade?: {
    /** In its numbers: `co_<tag>_…`, `mo-<tag>-…`. */
    tag: string;
    money: CreateTradeRequest['money'];
    expiresInMs: number;
    /** Default: the receiver's URL. */
    notifyUrl?: string;
    returnUrl?: string;
  };
}

export interface ProviderHarness<
  P extends PaymentProvider,
  R extends NotificationReceiver<object>,
> extends SandboxControl {
  /** Starts the receiver and the sandbox, then the provider at it. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly receiver: R;
  /** The sandbox in-process and its URL, once started. */
  readonly sandbox: FastifyInstance;
  readonly base: string;
  /** The provider under test, of the sandbox's own settings. */
  readonly provider: P;
  /** The counter numbering trades and providers (unique within the test file). */
  readonly sequence: number;
  /** The configuration the sandbox's settings give, with `env` over them. */
  config(env?: Record<string, string>): ProvidersConfig;
  /** A kit of its own for a provider of `config` (its own metrics registry: a breaker of its own). */
  kit(config: ProvidersConfig): ProviderKit;
  /** Another provider of the sandbox's settings with `env` over them. */
  makeProvider(env?: Record<string, string>): P;
  /** The provider's channel of that name. */
  channel(name: string): PaymentChannel;
  trade(overrides?: Partial<CreateTradeRequest>): CreateTradeRequest;
  /** A reference as the gateway stores it: our number and the provider's, if known. */
  ref(
    channelOrderNo: string,
    providerTradeNo?: string | null,
  ): { channelOrderNo: string; providerTradeNo: string | null };
  /** A notification as the gateway hands it to the provider. */
  notification(
    rawBody: string,
    headers?: Record<string, string>,
  ): { rawBody: Buffer; contentType: string; headers: Record<string, string> };
}

export function providerHarness<P extends PaymentProvider, R extends NotificationReceiver<object>>(
  options: ProviderHarnessOptions<P, R>,
): ProviderHarness<P, R> {
  const { receiver } = options;
  let sandbox: FastifyInstance | undefined;
  let base = '';
  let provider: P | undefined;
  let sequence = 0;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the harness is not started: no ${what} yet`);
    return value;
  };

  const config = (env: Record<string, string> = {}) =>
    loadConfig({
      ...options.entry.gatewayEnv(base),
      BREAKER_TIMEOUT: '2s',
      ...options.env,
      ...env,
    });
  const kit = (of: ProvidersConfig) =>
    providerKit(
      of,
      createRegistry(`${options.name}-test-${(sequence += 1)}`),
      createLogger(`${options.name}-test`, 'silent'),
    );
  const makeProvider = (env: Record<string, string> = {}) => {
    const of = config(env);
    return options.makeProvider(of, kit(of));
  };

  return {
    ...sandboxControl(() => base),
    receiver,
    get sandbox() {
      return started(sandbox, 'sandbox');
    },
    get base() {
      return base;
    },
    get provider() {
      return started(provider, 'provider');
    },
    get sequence() {
      return sequence;
    },
    async start() {
      await receiver.start();
      sandbox = options.build
        ? options.build()
        : options.entry.build({ gatewayUrl: () => options.gatewayUrl?.(receiver) });
      options.onBuild?.(sandbox);
      await sandbox.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(sandbox.server.address() as { port: number }).port}`;
      provider = makeProvider();
    },
    async stop() {
      await sandbox?.close();
      await receiver.stop();
    },
    config,
    kit,
    makeProvider,
    channel(name) {
      const found = started(provider, 'provider').channels.find((channel) => channel.name === name);
      if (!found) throw new Error(`the provider under test serves no channel ${name}`);
      return found;
    },
    trade(overrides = {}) {
      if (!options.trade) throw new Error('the harness was given no trade defaults');
      sequence += 1;
      const { tag, money, expiresInMs, notifyUrl, returnUrl } = options.trade;
      return {
        channelOrderNo: `co_${tag}_${Date.now().toString(36)}_${sequence}`,
        merchantOrderNo: `mo-${tag}-${sequence}`,
        money: { ...money },
        subject: 'Blue teapot',
        expireAt: new Date(Date.now() + expiresInMs),
        notifyUrl: notifyUrl ?? receiver.url,
        ...(returnUrl === undefined ? {} : { returnUrl }),
        requestedAt: new Date(),
        ...overrides,
      };
    },
    ref: (channelOrderNo, providerTradeNo = null) => ({ channelOrderNo, providerTradeNo }),
    notification: (rawBody, headers = {}) => ({
      rawBody: Buffer.from(rawBody),
      contentType: options.contentType,
      headers,
    }),
  };
}
