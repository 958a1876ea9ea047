import { z } from 'zod';

/** What the notifier posts to `{ORDER_SERVICE_URL}/orders/:merchantOrderNo/payment-result` (CONTRACT 5). */
export const orderNotificationSchema = z.object({
  eventId: z.string().min(1),
  type: z.literal('payment.succeeded'),
  merchantOrderNo: z.string(),
  payOrderNo: z.string(),
  amount: z.number().int().positive(),
  currency: z.string().length(3),
  channel: z.string(),
  channelOrderNo: z.string(),
  paidAt: z.string(),
});
export type OrderNotification = z.infer<typeof orderNotificationSchema>;
