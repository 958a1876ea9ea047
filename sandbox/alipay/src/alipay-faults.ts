/**
 * Alipay's own faults, beside the kit's (`PUT /sandbox/alipay-faults`, merged; `DELETE
 * /sandbox/alipay-faults` or `DELETE /sandbox/faults` resets them). Unknown fields are refused.
 */
import { z } from 'zod';

export const alipayFaultsSchema = z
  .object({
    /** The bill query answers `isp.bill_not_exist` (账单不存在): asked before the bill is made. */
    statementNotReady: z.boolean(),
    /** The bill download stops halfway (the zip cut short, the answer otherwise normal). */
    statementTruncated: z.boolean(),
    /**
     * The zip's bytes are not the ones its CRC-32 was made over (one byte of the detail changed):
     * Alipay's bill carries no hash of its own, so this is the "wrong hash" of its download.
     */
    statementWrongHash: z.boolean(),
  })
  .partial()
  .strict();
export type AlipayFaults = Required<z.infer<typeof alipayFaultsSchema>>;
export const NO_ALIPAY_FAULTS: Readonly<AlipayFaults> = {
  statementNotReady: false,
  statementTruncated: false,
  statementWrongHash: false,
};
