/**
 * What an operator does about refunds owed by hand (CONTRACT 9, `MANUAL_REQUIRED`: Stripe refunds
 * no Boleto payment): pays each back outside the provider and records it, as
 * `payctl refund settle-manually` does. For the demo and the chaos suite, which play the operator.
 */
import { openDataSource, settleRefundManually } from '@payments/core';

export interface OwedRefund {
  refundNo: string;
  merchantOrderNo: string;
  amount: number;
  currency: string;
}

/** Settles every MANUAL_REQUIRED refund of these orders as paid back by `by`; returns what it settled. */
export async function settleOwedByHand(
  databaseUrl: string,
  merchantOrderNos: readonly string[],
  by: string,
): Promise<OwedRefund[]> {
  if (merchantOrderNos.length === 0) return [];
  const dataSource = await openDataSource(databaseUrl, { poolSize: 2 });
  try {
    const owed = (await dataSource.query(
      `SELECT refund_no AS refundNo, merchant_order_no AS merchantOrderNo, amount, currency
         FROM refund_order WHERE status = 'MANUAL_REQUIRED' AND merchant_order_no IN (?)`,
      [merchantOrderNos],
    )) as OwedRefund[];
    for (const refund of owed)
      await settleRefundManually(
        dataSource,
        refund.refundNo,
        by,
        `bank transfer for ${refund.merchantOrderNo}`,
      );
    return owed.map((refund) => ({ ...refund, amount: Number(refund.amount) }));
  } finally {
    await dataSource.destroy();
  }
}
