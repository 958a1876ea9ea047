/**
 * The payment core: the contracts (messages, HTTP bodies), money, the state machine's pure
 * decisions (domain/), the payment schema, settlement, refunds, the outbox of the payment's events,
 * and the seam every provider implements. Built on `@payments/platform`; knows no provider.
 */
export * from './contracts';
export * from './money';
export * from './domain/settle';
export * from './domain/provider-answer';
export * from './domain/attempt';
export * from './schema';
export * from './settlement';
export * from './refunds';
export * from './outbox';
export * from './provider-seam';
export * from './reconciliation';
export * from './metrics';
