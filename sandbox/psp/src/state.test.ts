import { PspState, tradeStatus, type CreateTradeInput, type PspResult, type Trade } from './state';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const EXPIRE = T0 + 15 * 60_000;

function tradeInput(overrides: Partial<CreateTradeInput> = {}): CreateTradeInput {
  return {
    channelOrderNo: 'co_1',
    merchantOrderNo: 'mo_1',
    channel: 'sandbox-wallet',
    amount: 1000,
    currency: 'EUR',
    subject: 'A book',
    expireAt: EXPIRE,
    notifyUrl: 'http://127.0.0.1:1/notify',
    ...overrides,
  };
}

/** Unwraps a success, failing the test with the refusal otherwise. */
function ok<T>(result: PspResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.message}`);
  return result;
}

function code<T>(result: PspResult<T>): string {
  return result.ok ? 'OK' : result.code;
}

function paidTrade(state: PspState, overrides: Partial<CreateTradeInput> = {}): Trade {
  const { trade } = ok(state.createTrade(tradeInput(overrides)));
  return ok(state.payTrade(trade.channelOrderNo, T0 + 1000)).trade;
}

describe('creating trades', () => {
  it('creates a WAITING trade with a pay URL', () => {
    const state = new PspState();
    const { trade, created } = ok(state.createTrade(tradeInput()));
    expect(created).toBe(true);
    expect(tradeStatus(trade, T0)).toBe('WAITING');
    expect(trade.payPath).toBe('/pay/co_1');
    expect(trade.tradeNo).toMatch(/^sbx_[0-9a-f]{16}$/);
    expect(trade.paidAt).toBeNull();
  });

  it('returns the same trade for a repeat with the same parameters', () => {
    const state = new PspState();
    const first = ok(state.createTrade(tradeInput())).trade;
    const again = ok(
      state.createTrade(tradeInput({ subject: 'other words', notifyUrl: 'http://elsewhere/n' })),
    );
    expect(again.created).toBe(false);
    expect(again.trade).toBe(first);
    expect(again.trade.notifyUrl).toBe('http://127.0.0.1:1/notify');
  });

  it.each([
    ['amount', { amount: 999 }],
    ['currency', { currency: 'USD' }],
    ['merchantOrderNo', { merchantOrderNo: 'mo_2' }],
    ['channel', { channel: 'sandbox-qr' }],
  ])('refuses a repeat with another %s', (_field, overrides) => {
    const state = new PspState();
    ok(state.createTrade(tradeInput()));
    expect(code(state.createTrade(tradeInput(overrides)))).toBe('TRADE_CONFLICT');
    expect(state.ledger().trades).toHaveLength(1);
    expect(state.ledger().trades[0]).toMatchObject({
      amount: 1000,
      currency: 'EUR',
      merchantOrderNo: 'mo_1',
    });
  });

  it('refuses an unknown channel', () => {
    const state = new PspState();
    expect(code(state.createTrade(tradeInput({ channel: 'paypal' })))).toBe('UNKNOWN_CHANNEL');
    expect(state.ledger().trades).toHaveLength(0);
  });

  it('gives the QR channel the same page: the code holds its address', () => {
    const state = new PspState();
    expect(ok(state.createTrade(tradeInput({ channel: 'sandbox-qr' }))).trade.payPath).toBe('/pay/co_1');
  });
});

describe('paying, expiring and closing', () => {
  it('pays a WAITING trade before expiry, once', () => {
    const state = new PspState();
    ok(state.createTrade(tradeInput()));
    const { trade } = ok(state.payTrade('co_1', T0 + 5000));
    expect(tradeStatus(trade, T0 + 5000)).toBe('PAID');
    expect(trade.paidAt).toBe(T0 + 5000);
    expect(code(state.payTrade('co_1', T0 + 6000))).toBe('ALREADY_PAID');
    expect(trade.paidAt).toBe(T0 + 5000);
  });

  it('reads a WAITING trade past its expiry as EXPIRED, and refuses to pay it', () => {
    const state = new PspState();
    const { trade } = ok(state.createTrade(tradeInput()));
    expect(tradeStatus(trade, EXPIRE - 1)).toBe('WAITING');
    expect(tradeStatus(trade, EXPIRE)).toBe('EXPIRED');
    expect(code(state.payTrade('co_1', EXPIRE))).toBe('TRADE_EXPIRED');
    expect(trade.paidAt).toBeNull();
  });

  it('a PAID trade stays PAID after its expiry', () => {
    const state = new PspState();
    const trade = paidTrade(state);
    expect(tradeStatus(trade, EXPIRE + 60_000)).toBe('PAID');
  });

  it('closes a WAITING trade, idempotently, and then refuses to pay it', () => {
    const state = new PspState();
    ok(state.createTrade(tradeInput()));
    expect(tradeStatus(ok(state.closeTrade('co_1')).trade, T0)).toBe('CLOSED');
    expect(tradeStatus(ok(state.closeTrade('co_1')).trade, T0)).toBe('CLOSED');
    expect(code(state.payTrade('co_1', T0 + 1))).toBe('TRADE_CLOSED');
  });

  it('closes an EXPIRED trade', () => {
    const state = new PspState();
    ok(state.createTrade(tradeInput()));
    const { trade } = ok(state.closeTrade('co_1'));
    expect(tradeStatus(trade, EXPIRE + 1)).toBe('CLOSED');
  });

  it('refuses to close a PAID trade and says so with the trade', () => {
    const state = new PspState();
    paidTrade(state);
    const result = state.closeTrade('co_1');
    expect(code(result)).toBe('TRADE_PAID');
    expect(result.ok ? undefined : result.trade?.state).toBe('PAID');
  });

  it('cannot close a voucher, which can still be paid before expiry', () => {
    const state = new PspState();
    ok(state.createTrade(tradeInput({ channel: 'sandbox-voucher' })));
    expect(code(state.closeTrade('co_1'))).toBe('CLOSE_NOT_SUPPORTED');
    expect(code(state.payTrade('co_1', T0 + 1))).toBe('OK');
  });

  it('a voucher cannot be paid after its expiry either', () => {
    const state = new PspState();
    ok(state.createTrade(tradeInput({ channel: 'sandbox-voucher' })));
    expect(code(state.payTrade('co_1', EXPIRE + 1))).toBe('TRADE_EXPIRED');
  });

  it('reports unknown trades', () => {
    const state = new PspState();
    expect(code(state.getTrade('nope'))).toBe('TRADE_NOT_FOUND');
    expect(code(state.payTrade('nope', T0))).toBe('TRADE_NOT_FOUND');
    expect(code(state.closeTrade('nope'))).toBe('TRADE_NOT_FOUND');
  });
});

describe('refunds', () => {
  it('creates a PROCESSING refund that settles once', () => {
    const state = new PspState();
    paidTrade(state);
    const { refund, created } = ok(
      state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'co_1', amount: 400 }, T0 + 2000),
    );
    expect(created).toBe(true);
    expect(refund).toMatchObject({ status: 'PROCESSING', amount: 400, createdAt: T0 + 2000 });
    expect(state.settleRefund('rf_1', 'SUCCESS')?.status).toBe('SUCCESS');
    expect(state.settleRefund('rf_1', 'FAILED')).toBeUndefined();
    expect(ok(state.getRefund('rf_1')).refund.status).toBe('SUCCESS');
  });

  it('is idempotent by refundNo and never records a second refund', () => {
    const state = new PspState();
    paidTrade(state);
    const first = ok(
      state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'co_1', amount: 1000 }, T0),
    ).refund;
    const again = ok(state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'co_1', amount: 1000 }, T0 + 5));
    expect(again.created).toBe(false);
    expect(again.refund).toBe(first);
    expect(state.ledger().refunds).toHaveLength(1);
  });

  it('refuses a repeat refundNo with another amount or trade', () => {
    const state = new PspState();
    paidTrade(state);
    paidTrade(state, { channelOrderNo: 'co_2' });
    ok(state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'co_1', amount: 300 }, T0));
    expect(code(state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'co_1', amount: 301 }, T0))).toBe(
      'REFUND_CONFLICT',
    );
    expect(code(state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'co_2', amount: 300 }, T0))).toBe(
      'REFUND_CONFLICT',
    );
    expect(state.ledger().refunds).toHaveLength(1);
  });

  it('never lets refunds exceed the trade amount; a FAILED refund frees its share', () => {
    const state = new PspState();
    paidTrade(state);
    ok(state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'co_1', amount: 600 }, T0));
    expect(code(state.createRefund({ refundNo: 'rf_2', channelOrderNo: 'co_1', amount: 401 }, T0))).toBe(
      'REFUND_EXCEEDS_AMOUNT',
    );
    ok(state.createRefund({ refundNo: 'rf_3', channelOrderNo: 'co_1', amount: 400 }, T0));
    expect(code(state.createRefund({ refundNo: 'rf_4', channelOrderNo: 'co_1', amount: 1 }, T0))).toBe(
      'REFUND_EXCEEDS_AMOUNT',
    );
    state.settleRefund('rf_1', 'FAILED');
    ok(state.createRefund({ refundNo: 'rf_5', channelOrderNo: 'co_1', amount: 600 }, T0));
    const live = state
      .ledger()
      .refunds.filter((refund) => refund.status !== 'FAILED')
      .reduce((sum, refund) => sum + refund.amount, 0);
    expect(live).toBe(1000);
  });

  it('refuses refunds of a trade that is not paid, or unknown', () => {
    const state = new PspState();
    ok(state.createTrade(tradeInput()));
    expect(code(state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'co_1', amount: 1 }, T0))).toBe(
      'TRADE_NOT_PAID',
    );
    ok(state.closeTrade('co_1'));
    expect(code(state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'co_1', amount: 1 }, T0))).toBe(
      'TRADE_NOT_PAID',
    );
    expect(code(state.createRefund({ refundNo: 'rf_1', channelOrderNo: 'nope', amount: 1 }, T0))).toBe(
      'TRADE_NOT_FOUND',
    );
    expect(code(state.getRefund('rf_1'))).toBe('REFUND_NOT_FOUND');
  });
});

describe('ledger', () => {
  it('filters trades by merchant order, and refunds through their trade', () => {
    const state = new PspState();
    paidTrade(state, { channelOrderNo: 'co_a', merchantOrderNo: 'mo_a' });
    paidTrade(state, { channelOrderNo: 'co_b', merchantOrderNo: 'mo_b' });
    ok(state.createRefund({ refundNo: 'rf_a', channelOrderNo: 'co_a', amount: 10 }, T0));
    ok(state.createRefund({ refundNo: 'rf_b', channelOrderNo: 'co_b', amount: 20 }, T0));
    const ledger = state.ledger('mo_a');
    expect(ledger.trades.map((trade) => trade.channelOrderNo)).toEqual(['co_a']);
    expect(ledger.refunds.map((refund) => refund.refundNo)).toEqual(['rf_a']);
    expect(state.ledger().trades).toHaveLength(2);
    state.clear();
    expect(state.ledger()).toEqual({ trades: [], refunds: [] });
  });
});
