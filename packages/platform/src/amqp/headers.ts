/** Headers we set on messages. Dead-letter headers are for people reading the management UI. */
export const HEADERS = {
  retryCount: 'x-retry-count',
  publishId: 'x-publish-id',
  reason: 'x-dead-letter-reason',
  lastError: 'x-last-error',
  originalQueue: 'x-original-queue',
  originalExchange: 'x-original-exchange',
  originalRoutingKey: 'x-original-routing-key',
  attempts: 'x-attempts',
  eventId: 'x-event-id',
  merchantOrderNo: 'x-merchant-order-no',
  deadLetteredAt: 'x-dead-lettered-at',
  /** On a dead letter whose body was cut to the consumer's limit: the size it had. */
  originalBytes: 'x-original-bytes',
} as const;

/**
 * Broker headers that must not travel with a republished message: `x-death` would let the
 * broker's cycle detection drop a replayed message, and a surviving `CC` routes a second copy.
 */
export function cleanHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name === 'x-death' || name.startsWith('x-first-death') || name.startsWith('x-last-death')) continue;
    if (name === 'CC' || name === 'BCC' || name === HEADERS.publishId) continue;
    clean[name] = value;
  }
  return clean;
}

export function numberHeader(headers: Record<string, unknown> | undefined, name: string): number {
  const value = Number(headers?.[name] ?? 0);
  return Number.isFinite(value) && value >= 0 ? value : 0;
}
