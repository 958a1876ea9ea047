import { signBody, type OrderNotification } from '@payments/common';

/** The order service answered something other than 2xx, or not in time. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
}

/**
 * Posts one notification (CONTRACT 5): `Idempotency-Key` is the eventId, the body is signed with
 * ORDER_SERVICE_SECRET. Resolves on any 2xx; the request is aborted at `timeoutMs` so a slow
 * order service cannot pile requests up.
 */
export function orderServiceClient(baseUrl: string, secret: string, timeoutMs: number) {
  return async (notification: OrderNotification): Promise<void> => {
    const rawBody = JSON.stringify(notification);
    let response: Response;
    try {
      response = await fetch(
        new URL(`/orders/${encodeURIComponent(notification.merchantOrderNo)}/payment-result`, baseUrl),
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': notification.eventId,
            'x-payment-signature': signBody(secret, rawBody),
          },
          body: rawBody,
          signal: AbortSignal.timeout(timeoutMs),
        },
      );
    } catch (error) {
      throw new DeliveryError(`order service unreachable: ${(error as Error).message}`);
    }
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status >= 300)
      throw new DeliveryError(`order service answered ${response.status}`);
  };
}
