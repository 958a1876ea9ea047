import type { DataSource } from 'typeorm';
import { settleAttempt, type SettleResult } from '../db/settlement';
import type { PaymentChannel } from './payment-channel';

export type CloseAndSettle =
  | { closed: true; result: SettleResult | undefined }
  | { closed: false; paid: true; result: SettleResult | undefined }
  | { closed: false; paid: false; reason: 'NOT_SUPPORTED'; result?: undefined };

/**
 * Closes an attempt at its provider and settles what the provider answered: closed (or never
 * created) → CLOSED; already paid → settled as a success (the money was taken). A channel that
 * cannot close leaves the attempt in flight. Provider errors propagate (transient).
 */
export async function closeAndSettle(
  dataSource: DataSource,
  channel: PaymentChannel,
  channelOrderNo: string,
): Promise<CloseAndSettle> {
  const answer = await channel.closeTrade(channelOrderNo);
  switch (answer.result) {
    case 'CLOSED':
    case 'NOT_FOUND':
      return { closed: true, result: await settleAttempt(dataSource, channelOrderNo, { status: 'CLOSED' }) };
    case 'ALREADY_PAID':
      return {
        closed: false,
        paid: true,
        result: await settleAttempt(dataSource, channelOrderNo, answer.outcome),
      };
    case 'NOT_SUPPORTED':
      return { closed: false, paid: false, reason: 'NOT_SUPPORTED' };
    default: {
      const unknown: never = answer;
      throw new Error(`unknown close result ${JSON.stringify(unknown)}`);
    }
  }
}
