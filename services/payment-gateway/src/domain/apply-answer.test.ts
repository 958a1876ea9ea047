import { API_ERRORS, type ApiErrorCode } from '@payments/core';
import { isFinalApplyAnswer } from './apply-answer';

describe('isFinalApplyAnswer: which answers a repeated queued apply is given again', () => {
  it('an attempt (201 new, 200 reused) is final', () => {
    expect(isFinalApplyAnswer({ status: 201 })).toBe(true);
    expect(isFinalApplyAnswer({ status: 200 })).toBe(true);
  });

  it('refusals the same request would meet again are final', () => {
    for (const code of [
      'ORDER_ALREADY_PAID',
      'ORDER_CLOSED',
      'AMOUNT_MISMATCH',
      'VALIDATION_FAILED',
      'UNKNOWN_CHANNEL',
      'UNSUPPORTED_CURRENCY',
    ] as const)
      expect([code, isFinalApplyAnswer({ status: API_ERRORS[code], code })]).toEqual([code, true]);
  });

  it('"try again" answers are not: an unknown create outcome, a busy lock, a dependency down, our failure', () => {
    for (const code of [
      'CHANNEL_ERROR',
      'PAYMENT_IN_PROGRESS',
      'DEPENDENCY_UNAVAILABLE',
      'INTERNAL',
    ] as const)
      expect([code, isFinalApplyAnswer({ status: API_ERRORS[code], code })]).toEqual([code, false]);
  });

  it('no 5xx is ever final, whatever its code', () => {
    for (const code of Object.keys(API_ERRORS) as ApiErrorCode[])
      if (API_ERRORS[code] >= 500)
        expect([code, isFinalApplyAnswer({ status: API_ERRORS[code], code })]).toEqual([code, false]);
  });
});
