/**
 * Stripe's statement of a day (UTC): its balance transactions created that day
 * (`balanceTransactions.list` with `created[gte]`/`created[lt]` and the source expanded with its
 * payment intent, auto-paginated by the SDK), classified by `reporting_category`, each followed to
 * our number: the payment intent's metadata (`payment_intent_data.metadata` at session create), or
 * else its Checkout Session (`checkout.sessions.list({ payment_intent })`: client_reference_id).
 * Stripe publishes no hash and no summary for it: the SDK's answers are not signed, and the
 * statement's summary is null. A day not begun yet is NOT_READY; a day still running is read as far
 * as it goes (Stripe books balance transactions as they happen; the engine's grace period covers
 * what comes later).
 */
import type Stripe from 'stripe';
import {
  ChannelUnavailableError,
  StatementUnavailableError,
  type FetchedStatement,
  type StatementSource,
} from '@payments/core';
import { billDate, fetchedStatement } from '../statement-files/fetched';
import type { Spool } from '../statement-files/spool';
import {
  BalanceFileWriter,
  intentOf,
  stripeBalanceLines,
  stripeCategory,
  type BalanceRecord,
} from './balance-file';
import type { StripeClient } from './client';

const DAY_S = 86_400;

export class StripeStatements implements StatementSource {
  readonly timeZone = 'UTC';

  constructor(
    private readonly client: Pick<StripeClient, 'call' | 'sdk'>,
    private readonly now: () => number = Date.now,
  ) {}

  async fetchStatement(date: string): Promise<FetchedStatement> {
    billDate(date);
    const from = Date.parse(`${date}T00:00:00Z`) / 1000;
    if (from * 1000 > this.now())
      throw new StatementUnavailableError(`Stripe: ${date} has not begun (UTC)`, 'NOT_READY');
    const file = new BalanceFileWriter(date);
    const sessions = new Map<string, BalanceRecord['checkout_session']>();
    try {
      const listing = this.client.sdk.balanceTransactions.list({
        created: { gte: from, lt: from + DAY_S },
        limit: 100,
        expand: ['data.source', 'data.source.payment_intent'],
      });
      for await (const bt of listing) {
        const record = { balance_transaction: bt, checkout_session: null } as unknown as BalanceRecord;
        const kind = stripeCategory(bt.reporting_category);
        const intent = intentOf(record.balance_transaction.source);
        if (
          (kind === 'PAYMENT' || kind === 'REFUND') &&
          intent &&
          typeof intent === 'object' &&
          !intent.metadata?.channelOrderNo
        )
          record.checkout_session = await this.sessionOf(intent.id, sessions);
        await file.write(record);
      }
    } catch (error) {
      await file.abandon();
      if (error instanceof StatementUnavailableError) throw error;
      throw new StatementUnavailableError(
        `Stripe balance transactions of ${date}: ${(error as Error).message}`,
        'FETCH_FAILED',
      );
    }
    return stripeStatement(date, await file.finish());
  }

  /** The Checkout Session a payment intent came from (once per intent). */
  private async sessionOf(intentId: string, known: Map<string, BalanceRecord['checkout_session']>) {
    if (known.has(intentId)) return known.get(intentId)!;
    let answer;
    try {
      answer = await this.client.call('session of intent', (sdk: Stripe) =>
        sdk.checkout.sessions.list({ payment_intent: intentId, limit: 1 }),
      );
    } catch (error) {
      if (error instanceof ChannelUnavailableError)
        throw new StatementUnavailableError(error.message, 'FETCH_FAILED');
      throw error;
    }
    if (!answer.ok)
      throw new StatementUnavailableError(
        `Stripe sessions of ${intentId}: ${answer.refusal.code}`,
        'FETCH_FAILED',
      );
    const session = answer.value.data[0];
    const found = session
      ? { id: session.id, client_reference_id: session.client_reference_id, metadata: session.metadata ?? {} }
      : null;
    known.set(intentId, found);
    return found;
  }
}

/** The spooled balance transactions of a day as the seam's statement (Stripe states no hash and no summary). */
export function stripeStatement(date: string, raw: Spool): FetchedStatement {
  return fetchedStatement('stripe', date, raw, null, () => stripeBalanceLines(raw));
}
