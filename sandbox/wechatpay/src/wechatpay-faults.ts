/**
 * WeChat Pay's own faults, beside the kit's (`PUT /sandbox/wechatpay-faults`, merged; `DELETE
 * /sandbox/wechatpay-faults` or `DELETE /sandbox/faults` resets them). Unknown fields are refused.
 */
import { z } from 'zod';

export const wechatpayFaultsSchema = z
  .object({
    /**
     * What a close drawn by the kit's `closeErrorRate` answers: `SYSTEM_ERROR` (500, the default)
     * or `FREQUENCY_LIMITED` (429). Either way the order is not closed.
     */
    closeErrorCode: z.enum(['SYSTEM_ERROR', 'FREQUENCY_LIMITED']),
    /** Chance that a new refund ends `ABNORMAL` (notified `REFUND.ABNORMAL`) instead of `SUCCESS`. */
    refundAbnormalRate: z.number().min(0).max(1),
    /** Which key signs notifications: WeChat Pay's public key (default) or the platform certificate's. */
    notifySignWith: z.enum(['public-key', 'platform-cert']),
    /**
     * Which key signs answers: the one the request's `Wechatpay-Serial` names (default), or the
     * platform certificate's whatever it names (a merchant that has not switched the public key on in
     * the merchant platform yet: WeChat Pay then answers with the certificate).
     */
    answerSignWith: z.enum(['as-requested', 'platform-cert']),
    /** `GET /v3/bill/tradebill` answers `400 STATEMENT_CREATING` (账单生成中: asked before the bill is made). */
    statementNotReady: z.boolean(),
    /** The bill download stops halfway (its bytes cut short, the answer otherwise normal). */
    statementTruncated: z.boolean(),
    /** The bill answer's `hash_value` is not the bill's SHA-1. */
    statementWrongHash: z.boolean(),
  })
  .partial()
  .strict();
export type WechatpayFaults = Required<z.infer<typeof wechatpayFaultsSchema>>;
export const NO_WECHATPAY_FAULTS: Readonly<WechatpayFaults> = {
  closeErrorCode: 'SYSTEM_ERROR',
  refundAbnormalRate: 0,
  notifySignWith: 'public-key',
  answerSignWith: 'as-requested',
  statementNotReady: false,
  statementTruncated: false,
  statementWrongHash: false,
};
/** HTTP statuses of the close errors the `closeErrorCode` fault answers with. */
export const CLOSE_ERROR_STATUS: Record<WechatpayFaults['closeErrorCode'], number> = {
  SYSTEM_ERROR: 500,
  FREQUENCY_LIMITED: 429,
};
