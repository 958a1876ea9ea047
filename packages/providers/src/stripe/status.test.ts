import { sessionExpiresAt } from './channel';
import {
  fromStripeAmount,
  meaningOfStripeError,
  stripeRefundOutcome,
  stripeSessionOutcome,
  toStripeAmount,
  type StripeIntentStatus,
  type StripeSessionFacts,
} from './status';

describe('Stripe sessions, refunds, errors and money', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const session = (overrides: Partial<StripeSessionFacts> = {}): StripeSessionFacts => ({
    id: 'cs_test_1',
    status: 'open',
    payment_status: 'unpaid',
    amount_total: 1999,
    currency: 'usd',
    payment_intent: null,
    ...overrides,
  });
  const paid = {
    status: 'SUCCESS',
    amount: 1999,
    currency: 'USD',
    paidAt: now,
    providerTradeNo: 'cs_test_1',
  };

  it('maps a session: open in flight, complete+paid paid, expired closed', () => {
    expect(stripeSessionOutcome(session(), now)).toEqual({ status: 'PAYING', providerTradeNo: 'cs_test_1' });
    expect(stripeSessionOutcome(session({ status: 'complete', payment_status: 'paid' }), now)).toEqual(paid);
    expect(stripeSessionOutcome(session({ status: 'expired' }), now)).toEqual({
      status: 'CLOSED',
      providerTradeNo: 'cs_test_1',
    });
  });

  it.each<[StripeIntentStatus, string]>([
    ['requires_action', 'PAYING'],
    ['processing', 'PAYING'],
    ['requires_confirmation', 'PAYING'],
    ['requires_capture', 'PAYING'],
    ['succeeded', 'SUCCESS'],
    ['requires_payment_method', 'FAILED'],
    ['canceled', 'FAILED'],
  ])('complete but unpaid (a Boleto voucher) with its intent %s is %s', (intent, expected) => {
    const outcome = stripeSessionOutcome(
      session({ status: 'complete', payment_intent: { id: 'pi_1', status: intent } }),
      now,
    );
    expect(outcome.status).toBe(expected);
  });

  it("an issued Boleto voucher is payable until its own expiry (next_action's expires_at), days after the order's", () => {
    // Issued 2026-12-02 23:30 in São Paulo with Stripe's default 3 days: 2026-12-05 23:59:59 there.
    const expiresAt = Date.UTC(2026, 11, 6, 2, 59, 59) / 1000;
    const voucher = (status: StripeIntentStatus) =>
      stripeSessionOutcome(
        session({
          status: 'complete',
          payment_intent: { id: 'pi_1', status, voucher_expires_at: expiresAt },
        }),
        now,
      );
    expect(voucher('requires_action')).toEqual({
      status: 'PAYING',
      providerTradeNo: 'cs_test_1',
      payableUntil: new Date('2026-12-06T02:59:59Z'),
    });
    // Paid, or failed at its expiry: the voucher's expiry no longer matters.
    expect(voucher('succeeded')).toEqual(paid);
    expect(voucher('requires_payment_method')).toMatchObject({ status: 'FAILED' });
    // An open session (no voucher yet) is payable until the session's own expiry: nothing more to say.
    expect(stripeSessionOutcome(session(), now)).not.toHaveProperty('payableUntil');
  });

  it('refuses a session that asked for no payment, or a status it does not know', () => {
    expect(() =>
      stripeSessionOutcome(session({ status: 'complete', payment_status: 'no_payment_required' })),
    ).toThrow();
    expect(() => stripeSessionOutcome(session({ status: 'draft' as never }))).toThrow(/unknown/);
  });

  it('maps every refund status', () => {
    expect(
      (['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] as const).map(stripeRefundOutcome),
    ).toEqual(['PROCESSING', 'PROCESSING', 'SUCCESS', 'FAILED', 'FAILED']);
  });

  it('reads errors by what to do about them', () => {
    expect(
      meaningOfStripeError({ type: 'StripeInvalidRequestError', code: 'resource_missing', statusCode: 404 }),
    ).toBe('NOT_FOUND');
    expect(
      meaningOfStripeError({
        type: 'StripeInvalidRequestError',
        code: 'checkout_session_not_open',
        statusCode: 400,
      }),
    ).toBe('WRONG_STATE');
    expect(meaningOfStripeError({ type: 'StripeAPIError', statusCode: 500 })).toBe('TRY_LATER');
    expect(meaningOfStripeError({ type: 'StripeConnectionError' })).toBe('TRY_LATER');
    expect(meaningOfStripeError({ type: 'StripeRateLimitError', statusCode: 429 })).toBe('TRY_LATER');
    // A keyed request Stripe did not run again says nothing of what the first one did: never a refusal.
    expect(meaningOfStripeError({ type: 'StripeIdempotencyError', statusCode: 400, code: undefined })).toBe(
      'OUTCOME_UNKNOWN',
    );
    // The SDK makes a 409 a StripeAPIError whatever its type.
    expect(
      meaningOfStripeError({ type: 'StripeAPIError', code: 'idempotency_key_in_use', statusCode: 409 }),
    ).toBe('OUTCOME_UNKNOWN');
    expect(meaningOfStripeError({ type: 'StripeIdempotencyError', statusCode: 409 })).toBe('OUTCOME_UNKNOWN');
    expect(
      meaningOfStripeError({ type: 'StripeInvalidRequestError', code: 'amount_too_small', statusCode: 400 }),
    ).toBe('REFUSED');
    expect(meaningOfStripeError({ type: 'StripeAuthenticationError', statusCode: 401 })).toBe('REFUSED');
  });

  it('sends minor units as they are, lower-case, for two- and zero-decimal currencies', () => {
    expect(toStripeAmount({ amount: 1999, currency: 'USD' })).toEqual({ amount: 1999, currency: 'usd' });
    expect(toStripeAmount({ amount: 500, currency: 'JPY' })).toEqual({ amount: 500, currency: 'jpy' });
    expect(fromStripeAmount(500, 'jpy')).toEqual({ amount: 500, currency: 'JPY' });
    expect(() => toStripeAmount({ amount: 1000, currency: 'KWD' })).toThrow(RangeError);
    expect(() => toStripeAmount({ amount: 19.99, currency: 'USD' })).toThrow(RangeError);
  });

  it("raises a session's expiry to Stripe's 30 minutes and holds it under 24 hours", () => {
    const at = new Date('2026-12-01T00:00:00Z');
    const seconds = at.getTime() / 1000;
    expect(sessionExpiresAt(new Date(at.getTime() + 5 * 60_000), at)).toBe(seconds + 31 * 60);
    expect(sessionExpiresAt(new Date(at.getTime() + 3600_000), at)).toBe(seconds + 3600);
    expect(sessionExpiresAt(new Date(at.getTime() + 30 * 3600_000), at)).toBe(seconds + 24 * 3600 - 60);
  });
});
