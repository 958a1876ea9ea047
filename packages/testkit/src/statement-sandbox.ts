/**
 * What a provider's statement test against its sandbox shares: the sandbox in-process and the
 * provider under test at it (as `providerHarness`, without its merchant endpoint: these tests'
 * notifications go nowhere), the control calls, a statement's lines read whole, and a statement
 * refused with its reason, checked to leave no spool behind.
 */
import type { FastifyInstance } from 'fastify';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRegistry } from '@payments/platform';
import {
  providerKit,
  StatementUnavailableError,
  type PaymentProvider,
  type ProviderKit,
  type StatementLine,
  type StatementSource,
} from '@payments/core';
import { createLogger, loadConfig, type ProvidersConfig } from '@payments/providers';
import { sandboxControl, type SandboxControl } from './sandbox-control';

/** The spool files of a provider's statement of a day left in the temporary directory. */
export const spooled = (provider: string, date: string) =>
  readdirSync(tmpdir()).filter((name) => name.startsWith(`statement-${provider}-${date}-`));

/** Every line of a statement, read to its end. */
export const linesOf = async (lines: AsyncIterable<StatementLine>) => {
  const read: StatementLine[] = [];
  for await (const line of lines) read.push(line);
  return read;
};

export interface StatementSandboxOptions<P extends PaymentProvider & { statements: StatementSource }> {
  /** The provider's name: its spool files' (`statement-<name>-<date>-…`) and its faults' (`/sandbox/<name>-faults`). */
  name: string;
  /** The sandbox, built with the test's own options. */
  build(): FastifyInstance;
  /** The provider's settings pointing it at the sandbox's URL. */
  env(base: string): Record<string, string>;
  /** The provider under test, of a configuration and its kit. */
  makeProvider(config: ProvidersConfig, kit: ProviderKit): P;
}

export interface StatementSandbox<P> extends Pick<SandboxControl, 'control'> {
  /** Starts the sandbox, then the provider at it (a breaker timeout of 5 s). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The sandbox's URL, once started. */
  readonly base: string;
  /** The provider under test, once started. */
  readonly provider: P;
  /** Sets the sandbox's own faults of this provider (`PUT /sandbox/<name>-faults`), checked to be taken. */
  providerFaults(value: Record<string, unknown>): Promise<void>;
  /**
   * The reason the provider's statement of `date` is refused (a `StatementUnavailableError`), checked
   * to leave no spool behind, whether refused after it was spooled (a wrong hash, cut short) or before.
   */
  refusal(date: string): Promise<StatementUnavailableError['reason']>;
}

export function statementSandbox<P extends PaymentProvider & { statements: StatementSource }>(
  options: StatementSandboxOptions<P>,
): StatementSandbox<P> {
  let sandbox: FastifyInstance | undefined;
  let base = '';
  let provider: P | undefined;
  const { control } = sandboxControl(() => base);
  const started = (): P => {
    if (provider === undefined) throw new Error('the statement sandbox is not started: no provider yet');
    return provider;
  };

  return {
    control,
    get base() {
      return base;
    },
    get provider() {
      return started();
    },
    async start() {
      sandbox = options.build();
      await sandbox.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(sandbox.server.address() as { port: number }).port}`;
      const config = loadConfig({ ...options.env(base), BREAKER_TIMEOUT: '5s' });
      const name = `${options.name}-statement`;
      provider = options.makeProvider(
        config,
        providerKit(config, createRegistry(name), createLogger(name, 'silent')),
      );
    },
    async stop() {
      await sandbox?.close();
    },
    async providerFaults(value) {
      expect((await control('PUT', `/sandbox/${options.name}-faults`, value)).status).toBe(200);
    },
    async refusal(date) {
      const before = spooled(options.name, date);
      const error = await started()
        .statements.fetchStatement(date)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StatementUnavailableError);
      // Refused after it was spooled (a wrong hash, cut short) or before: no spool is left behind.
      expect(spooled(options.name, date)).toEqual(before);
      return (error as StatementUnavailableError).reason;
    },
  };
}
