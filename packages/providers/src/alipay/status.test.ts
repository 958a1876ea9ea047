import { alipayTradeOutcome, meaningOfAlipayError } from './status';

describe('Alipay trade statuses', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  it('maps every status', () => {
    expect(alipayTradeOutcome({ trade_status: 'WAIT_BUYER_PAY', total_amount: '19.99' }, now)).toEqual({
      status: 'PAYING',
      providerTradeNo: null,
    });
    for (const paid of ['TRADE_SUCCESS', 'TRADE_FINISHED'] as const)
      expect(
        alipayTradeOutcome(
          { trade_status: paid, total_amount: '19.99', trade_no: 't1', paid_at: '2026-12-01 10:00:00' },
          now,
        ),
      ).toEqual({
        status: 'SUCCESS',
        amount: 1999,
        currency: 'CNY',
        paidAt: new Date('2026-12-01T02:00:00Z'),
        providerTradeNo: 't1',
      });
    expect(alipayTradeOutcome({ trade_status: 'TRADE_CLOSED', total_amount: '19.99' }, now)).toEqual({
      status: 'CLOSED',
      providerTradeNo: null,
    });
  });

  it('refuses an amount it cannot read exactly', () => {
    expect(() =>
      alipayTradeOutcome({ trade_status: 'TRADE_SUCCESS', total_amount: '19.999' }, now),
    ).toThrow();
  });
});

describe('Alipay error codes', () => {
  it.each([
    ['ACQ.TRADE_NOT_EXIST', 'NOT_FOUND'],
    ['ACQ.TRADE_STATUS_ERROR', 'WRONG_STATUS'],
    ['ACQ.TRADE_HAS_SUCCESS', 'TRADE_EXISTS'],
    ['ACQ.TRADE_HAS_CLOSE', 'TRADE_EXISTS'],
    ['ACQ.SYSTEM_ERROR', 'TRY_LATER'],
    ['SYSTEM_ERROR', 'TRY_LATER'],
    ['ACQ.SELLER_BALANCE_NOT_ENOUGH', 'TRY_LATER'],
    ['ACQ.REFUND_CHARGE_ERROR', 'TRY_LATER'],
    ['ACQ.INVALID_PARAMETER', 'REFUSED'],
    ['ACQ.CONTEXT_INCONSISTENT', 'REFUSED'],
    ['ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', 'REFUSED'],
    ['ACQ.TRADE_NOT_ALLOW_REFUND', 'REFUSED'],
    ['invalid-signature', 'REFUSED'],
  ])('%s means %s', (code, meaning) => expect(meaningOfAlipayError(code)).toBe(meaning));
});
