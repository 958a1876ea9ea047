import { channelOrderNoOf, stripeCategory, stripeLineOf, type BalanceRecord } from './balance-file';

const charge = (overrides: Partial<BalanceRecord['balance_transaction']> = {}): BalanceRecord => ({
  balance_transaction: {
    id: 'txn_1',
    amount: 15000,
    currency: 'brl',
    fee: 345,
    created: 1_796_000_000,
    type: 'payment',
    reporting_category: 'charge',
    source: {
      id: 'py_1',
      object: 'charge',
      payment_intent: { id: 'pi_1', metadata: { channelOrderNo: 'co_1' } },
    },
    ...overrides,
  },
  checkout_session: null,
});

describe('Stripe balance transactions as statement lines', () => {
  it('classifies by reporting_category, not by type (a Boleto payment posts as payment)', () => {
    expect(stripeCategory('charge')).toBe('PAYMENT');
    expect(stripeCategory('refund')).toBe('REFUND');
    expect(stripeCategory('fee')).toBe('FEE');
    expect(stripeCategory('payout')).toBe('OTHER');
    expect(stripeLineOf(charge(), 'txn_1')).toMatchObject({
      kind: 'PAYMENT',
      amount: 15000,
      currency: 'BRL',
      fee: 345,
      channelOrderNo: 'co_1',
      providerTradeNo: 'pi_1',
    });
    expect(stripeLineOf(charge({ reporting_category: 'payout', type: 'payout' }), 'txn_1')).toBeNull();
  });

  it("a refund's negative amount is the amount returned; its refundNo from its metadata", () => {
    const record = charge({
      amount: -500,
      fee: 0,
      type: 'payment_refund',
      reporting_category: 'refund',
      source: { id: 'pyr_1', object: 'refund', metadata: { refundNo: 'rf_1' }, payment_intent: 'pi_1' },
    });
    expect(stripeLineOf(record, 'txn_1')).toMatchObject({
      kind: 'REFUND',
      amount: 500,
      refundNo: 'rf_1',
      providerRefundNo: 'pyr_1',
      providerTradeNo: 'pi_1',
    });
  });

  it("our number from the intent's metadata, else the Checkout Session it was followed to", () => {
    const record = charge({
      source: { id: 'ch_1', object: 'charge', payment_intent: { id: 'pi_1', metadata: {} } },
    });
    expect(channelOrderNoOf(record)).toBeNull();
    record.checkout_session = { id: 'cs_1', client_reference_id: 'co_from_session', metadata: {} };
    expect(channelOrderNoOf(record)).toBe('co_from_session');
  });

  it('a fee Stripe billed on its own (reporting_category fee) is a FEE line: amount 0, its cost as the fee', () => {
    const radar = charge({
      amount: -500,
      fee: 0,
      type: 'stripe_fee',
      reporting_category: 'fee',
      source: null,
    });
    expect(stripeLineOf(radar, 'txn_1')).toEqual({
      kind: 'FEE',
      providerTradeNo: null,
      channelOrderNo: null,
      refundNo: null,
      providerRefundNo: null,
      amount: 0,
      currency: 'BRL',
      fee: 500,
      at: new Date(1_796_000_000 * 1000),
      source: 'txn_1',
    });
    // A fee given back is a negative fee.
    expect(stripeLineOf(charge({ ...radar.balance_transaction, amount: 200 }), 'txn_2')).toMatchObject({
      kind: 'FEE',
      amount: 0,
      fee: -200,
    });
  });

  it('a source not expanded cannot be read', () => {
    expect(() => stripeLineOf(charge({ source: 'ch_1' }), 'txn_1')).toThrow(/not expanded/);
  });
});
