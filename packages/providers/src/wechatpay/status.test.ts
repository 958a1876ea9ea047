import {
  meaningOfWechatClose,
  meaningOfWechatError,
  wechatRefundOutcome,
  wechatRefundStatus,
  wechatTradeOutcome,
  wechatTradeState,
  type WechatTradeState,
} from './status';

describe('WeChat Pay trade states', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const trade = (trade_state: WechatTradeState, extra: object = {}) => ({
    appid: 'wx8888888888888888',
    mchid: '1900000109',
    out_trade_no: 'co_1',
    trade_state,
    ...extra,
  });
  const paid = {
    transaction_id: '4200000000000000000000000001',
    success_time: '2026-12-01T10:00:00+08:00',
    amount: { total: 1999, payer_total: 1999, currency: 'CNY' },
  };

  it('maps every state (REFUND is a paid trade, never a closed one)', () => {
    const expected: Record<WechatTradeState, unknown> = {
      NOTPAY: { status: 'PAYING', providerTradeNo: '4200000000000000000000000001' },
      USERPAYING: { status: 'PAYING', providerTradeNo: '4200000000000000000000000001' },
      SUCCESS: {
        status: 'SUCCESS',
        amount: 1999,
        currency: 'CNY',
        paidAt: new Date('2026-12-01T02:00:00Z'),
        providerTradeNo: '4200000000000000000000000001',
      },
      REFUND: {
        status: 'SUCCESS',
        amount: 1999,
        currency: 'CNY',
        paidAt: new Date('2026-12-01T02:00:00Z'),
        providerTradeNo: '4200000000000000000000000001',
      },
      CLOSED: { status: 'CLOSED', providerTradeNo: '4200000000000000000000000001' },
      REVOKED: { status: 'CLOSED', providerTradeNo: '4200000000000000000000000001' },
      PAYERROR: {
        status: 'FAILED',
        reason: 'PAYERROR: bank refused',
        providerTradeNo: '4200000000000000000000000001',
      },
    };
    for (const state of wechatTradeState.options)
      expect(wechatTradeOutcome(trade(state, { ...paid, trade_state_desc: 'bank refused' }), now)).toEqual(
        expected[state],
      );
  });

  it('takes fen as they are, and refuses a paid trade without an amount', () => {
    expect(wechatTradeOutcome(trade('SUCCESS', { amount: { total: 1 } }), now)).toMatchObject({
      amount: 1,
      currency: 'CNY',
      paidAt: now,
      providerTradeNo: null,
    });
    expect(() => wechatTradeOutcome(trade('SUCCESS'), now)).toThrow(RangeError);
    expect(() =>
      wechatTradeOutcome(trade('SUCCESS', { ...paid, success_time: '2026-12-01 10:00:00' })),
    ).toThrow(RangeError);
  });

  it('maps every refund status: ABNORMAL is money held by WeChat Pay for a person, never a failure', () => {
    expect(wechatRefundStatus.options.map((status) => [status, wechatRefundOutcome(status)])).toEqual([
      ['SUCCESS', 'SUCCESS'],
      ['CLOSED', 'FAILED'],
      ['PROCESSING', 'PROCESSING'],
      ['ABNORMAL', 'MANUAL_REQUIRED'],
    ]);
  });

  it.each([
    [204, undefined, 'CLOSED'],
    [202, { code: 'USER_PAYING', message: '用户支付中，需要输入密码' }, 'IN_PAYMENT'],
    [202, undefined, 'UNREADABLE'],
    [200, undefined, 'UNREADABLE'],
    [200, { code: 'USER_PAYING' }, 'UNREADABLE'],
  ])('a close answered %i %j means %s (only 204 is closed)', (status, data, meaning) =>
    expect(meaningOfWechatClose(status, data)).toBe(meaning),
  );

  it.each([
    ['ORDER_NOT_EXIST', 'NOT_FOUND'],
    ['RESOURCE_NOT_EXISTS', 'NOT_FOUND'],
    ['ORDERPAID', 'ORDER_SETTLED'],
    ['ORDER_CLOSED', 'ORDER_SETTLED'],
    ['SYSTEM_ERROR', 'TRY_LATER'],
    ['FREQUENCY_LIMITED', 'TRY_LATER'],
    ['BANKERROR', 'TRY_LATER'],
    ['NOT_ENOUGH', 'TRY_LATER'],
    ['OUT_TRADE_NO_USED', 'REFUSED'],
    ['PARAM_ERROR', 'REFUSED'],
    ['INVALID_REQUEST', 'REFUSED'],
    ['SIGN_ERROR', 'REFUSED'],
    ['APPID_MCHID_NOT_MATCH', 'REFUSED'],
    ['USER_ACCOUNT_ABNORMAL', 'REFUSED'],
  ])('error %s means %s', (code, meaning) => expect(meaningOfWechatError(code)).toBe(meaning));
});
