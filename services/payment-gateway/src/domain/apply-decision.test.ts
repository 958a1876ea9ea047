import { ApiError } from '@payments/core';
import { decideApply, type ExistingOrder, type InflightAttempt } from './apply-decision';

const now = new Date('2026-11-22T12:00:00Z');
const later = new Date('2026-11-22T12:15:00Z');
const order = (overrides: Partial<ExistingOrder> = {}): ExistingOrder => ({
  status: 'PAYING',
  amount: 1000,
  currency: 'CNY',
  expireAt: later,
  ...overrides,
});
const attempt = (channel: string, overrides: Partial<InflightAttempt> = {}): InflightAttempt => ({
  channelOrderNo: `co_${channel}`,
  channel,
  status: 'PAYING',
  expireAt: later,
  ...overrides,
});
const request = { amount: 1000, currency: 'CNY', channel: 'sandbox-wallet' };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('decideApply', () => {
  it('creates for a new order', () => {
    expect(decideApply(undefined, request, [], now)).toEqual({ action: 'CREATE', closeFirst: [] });
  });

  it('refuses a paid, closed or expired order, and another amount or currency', () => {
    expect(refusal(() => decideApply(order({ status: 'PAID' }), request, [], now))).toBe(
      'ORDER_ALREADY_PAID',
    );
    expect(refusal(() => decideApply(order({ status: 'CLOSED' }), request, [], now))).toBe('ORDER_CLOSED');
    expect(refusal(() => decideApply(order({ expireAt: now }), request, [], now))).toBe('ORDER_CLOSED');
    expect(refusal(() => decideApply(order(), { ...request, amount: 999 }, [], now))).toBe('AMOUNT_MISMATCH');
    expect(refusal(() => decideApply(order(), { ...request, currency: 'USD' }, [], now))).toBe(
      'AMOUNT_MISMATCH',
    );
  });

  it('reuses the same channel in flight', () => {
    const wallet = attempt('sandbox-wallet');
    expect(decideApply(order(), request, [wallet, attempt('sandbox-qr')], now)).toEqual({
      action: 'REUSE',
      attempt: wallet,
    });
  });

  it('closes other channels first, and ignores final attempts', () => {
    const qr = attempt('sandbox-qr');
    const voucher = attempt('sandbox-voucher');
    const failed = attempt('sandbox-wallet', { status: 'FAILED' });
    expect(decideApply(order(), request, [qr, voucher, failed], now)).toEqual({
      action: 'CREATE',
      closeFirst: [qr, voucher],
    });
  });
});
