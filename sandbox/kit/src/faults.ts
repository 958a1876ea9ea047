/** Faults the tests and the demo switch on to make a sandbox provider misbehave (CONTRACT 6 and 9). */
import { z } from 'zod';

const rate = z.number().min(0).max(1);
const delayMs = z.number().int().min(0).max(600_000);

/** Every field optional: a PUT merges into the current faults. Unknown fields are refused (likely typos). */
export const faultsPatchSchema = z
  .object({
    /** Chance that the notify of a payment is never sent at all. */
    dropNotifyRate: rate,
    /** Each notify is delivered twice, by two independent sends. */
    duplicateNotifies: z.boolean(),
    /** Wait before the first send of a notify. */
    notifyDelayMs: delayMs,
    /** Each notify's first send waits a further random time up to this: later ones may overtake earlier ones. */
    reorderNotifiesMs: delayMs,
    queryErrorRate: rate,
    queryLatencyMs: delayMs,
    closeErrorRate: rate,
    closeLatencyMs: delayMs,
    createErrorRate: rate,
    /** Wait before a create is recorded (a slow provider; the window to kill a gateway in). */
    createLatencyMs: delayMs,
    /** Chance that a refund request answers 500 without recording anything. */
    refundErrorRate: rate,
    /** Chance that a new refund ends FAILED instead of SUCCESS. */
    refundFailRate: rate,
    /**
     * Answers signed with a key that is not the sandbox's (Alipay, WeChat Pay sign every answer;
     * the PSP signs none, so there it changes nothing).
     */
    badResponseSignature: z.boolean(),
  })
  .partial()
  .strict();

export type Faults = Required<z.infer<typeof faultsPatchSchema>>;

export const NO_FAULTS: Readonly<Faults> = {
  dropNotifyRate: 0,
  duplicateNotifies: false,
  notifyDelayMs: 0,
  reorderNotifiesMs: 0,
  queryErrorRate: 0,
  queryLatencyMs: 0,
  closeErrorRate: 0,
  closeLatencyMs: 0,
  createErrorRate: 0,
  createLatencyMs: 0,
  refundErrorRate: 0,
  refundFailRate: 0,
  badResponseSignature: false,
};

/** When a notification's first send goes out under these faults: its delay, plus a random share of the reordering window. */
export function firstSendDelayMs(faults: Faults, random: () => number = Math.random): number {
  return faults.notifyDelayMs + Math.floor(random() * faults.reorderNotifiesMs);
}

/** True with probability `rate`: 0 never, 1 always (Math.random() is below 1). */
export function draw(rate: number, random: () => number = Math.random): boolean {
  return random() < rate;
}
