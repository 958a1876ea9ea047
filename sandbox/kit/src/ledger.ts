/**
 * The ledger every sandbox shows at `GET /sandbox/ledger` (CONTRACT 6): its trades and their
 * refunds, in integer minor units, projected from the provider's own records.
 */

/** Ground truth of money, in integer minor units (CONTRACT 6). */
export interface Ledger {
  trades: LedgerTrade[];
  refunds: LedgerRefund[];
}

export interface LedgerTrade {
  channelOrderNo: string;
  merchantOrderNo: string | null;
  channel: string;
  amount: number;
  currency: string;
  status: 'WAITING' | 'PAID' | 'CLOSED' | 'EXPIRED';
  paidAt: string | null;
}

export interface LedgerRefund {
  refundNo: string;
  channelOrderNo: string;
  amount: number;
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
}

/**
 * Which trades (and their refunds) `GET /sandbox/ledger` shows: by `?merchantOrderNo=` (CONTRACT 6),
 * or by `?channelOrderNo=a,b` (a provider that never learns the merchant's order number, or keeps
 * only a short one); all when neither is given.
 */
export interface LedgerFilter {
  merchantOrderNo?: string;
  channelOrderNos?: string[];
}

/** The numbers of a trade the filter reads. */
export interface TradeNumbers {
  channelOrderNo: string;
  merchantOrderNo: string | null;
}

/** Whether a trade passes the filter. */
export function inLedger(filter: LedgerFilter, trade: TradeNumbers): boolean {
  if (filter.merchantOrderNo && trade.merchantOrderNo !== filter.merchantOrderNo) return false;
  if (filter.channelOrderNos && !filter.channelOrderNos.includes(trade.channelOrderNo)) return false;
  return true;
}

/** A provider's records, and how each becomes a line of the ledger. */
export interface LedgerSource<T, R, Entry extends LedgerTrade = LedgerTrade> {
  trades: Iterable<T>;
  /** What the filter reads of a trade; undefined for one the ledger never shows. */
  numbersOf(trade: T): TradeNumbers | undefined;
  /** The trade's line, made only for a trade shown. */
  tradeEntry(trade: T): Entry;
  refunds: Iterable<R>;
  /** What ties a refund to its trade: the same key on both (null: a trade no refund can name). */
  tradeKey(trade: T): string | null;
  refundTradeKey(refund: R): string;
  /** The refund's line, made only for a refund of a trade shown. */
  refundEntry(refund: R): LedgerRefund;
}

/** The ledger's trades the filter passes, and the refunds of those trades. */
export function projectLedger<T, R, Entry extends LedgerTrade>(
  filter: LedgerFilter,
  source: LedgerSource<T, R, Entry>,
): { trades: Entry[]; refunds: LedgerRefund[] } {
  const shown = [...source.trades].filter((trade) => {
    const numbers = source.numbersOf(trade);
    return numbers !== undefined && inLedger(filter, numbers);
  });
  const keys = new Set(shown.map((trade) => source.tradeKey(trade)).filter((key) => key !== null));
  return {
    trades: shown.map((trade) => source.tradeEntry(trade)),
    refunds: [...source.refunds]
      .filter((refund) => keys.has(source.refundTradeKey(refund)))
      .map((refund) => source.refundEntry(refund)),
  };
}
