import { httpRequest, signBody } from '@payments/platform';
import { type OrderNotification } from '@payments/core';

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
    let status: number;
    try {
      ({ status } = await httpRequest(
        'POST',
        new URL(`/orders/${encodeURIComponent(notification.merchantOrderNo)}/payment-result`, baseUrl),
        {
          headers: {
            'content-type': 'application/json',
            'idempotency-key': notification.eventId,
            'x-payment-signature': signBody(secret, rawBody),
          },
          body: rawBody,
          timeoutMs,
        },
      ));
    } catch (error) {
      throw new DeliveryError(`order service unreachable: ${(error as Error).message}`);
    }
    if (status < 200 || status >= 300) throw new DeliveryError(`order service answered ${status}`);
  };
}
