import { Counter, type Registry } from '@payments/platform';
import type { SettleResult } from './settlement/settlement';

/**
 * `payments_settled_total{outcome}` and `duplicate_payments_detected_total{kind}`, for every
 * service that settles (the gateway's callbacks and closes, the poller's queries): returns the
 * function that counts one settlement.
 */
export function settlementMetrics(registry: Registry): (result: SettleResult | undefined) => void {
  const settled = new Counter({
    name: 'payments_settled_total',
    help: 'Attempt settlements by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'duplicate_payments_detected_total',
    help: 'Extra charges found (duplicate; kept_instead: the payment kept before, when one that cannot be refunded is kept in its place; paid_after_close)',
    labelNames: ['kind'],
    registers: [registry],
  });
  return (result) => {
    const kind = result?.settlement.kind;
    if (!kind || kind === 'NO_CHANGE') return;
    settled.inc({ outcome: kind });
    if (kind === 'DUPLICATE') duplicates.inc({ kind: 'duplicate' });
    if (kind === 'KEPT_INSTEAD') duplicates.inc({ kind: 'kept_instead' });
    if (kind === 'PAID_AFTER_CLOSE') duplicates.inc({ kind: 'paid_after_close' });
  };
}

/**
 * `refunds_total{reason,status}`, for every service that finishes refunds: the refunder (its sends
 * and polls) and the gateway (the providers' refund notifications). Count only a finish that changed
 * the refund, so a refund settled by both is counted once.
 */
export function refundMetrics(registry: Registry): Counter<'reason' | 'status'> {
  return new Counter({
    name: 'refunds_total',
    help: 'Refunds by reason and status reached',
    labelNames: ['reason', 'status'],
    registers: [registry],
  });
}
