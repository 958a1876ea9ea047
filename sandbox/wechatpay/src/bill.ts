/**
 * WeChat Pay's trade bill (`bill_type=ALL`) as WeChat Pay writes it: a header, one row per payment
 * and per refund with every value after a backtick, then the summary header and row. Amounts in
 * yuan; fees in units of 0.00001 yuan (five decimals), WeChat Pay's standard rate of 0.6% of the
 * amount (a refund returns its share: a negative fee). Written line by line, so a generator can
 * write a bill of a million rows without holding it.
 */
import { toDecimalString } from '@payments/core';
import { WECHAT_BILL_COLUMNS, WECHAT_BILL_SUMMARY_COLUMNS } from '@payments/providers';

export interface WechatBillRow {
  /** `yyyy-MM-dd HH:mm:ss`, China time. */
  at: string;
  appid: string;
  mchid: string;
  transactionId: string;
  outTradeNo: string;
  openid: string;
  description: string;
  attach: string;
  /** The payment's amount in fen. */
  amount: number;
  refund: null | {
    refundId: string;
    outRefundNo: string;
    /** In fen. */
    amount: number;
    status: 'SUCCESS' | 'PROCESSING' | 'ABNORMAL';
  };
}

/** 0.6%: in 0.00001 yuan, six per fen. */
export const FEE_UNITS_PER_FEN = 6;

/** Units of 0.00001 yuan as WeChat Pay writes a fee: `11994` → `0.11994`, `-600` → `-0.00600`. */
export function fiveDecimals(units: number): string {
  const digits = String(Math.abs(units)).padStart(6, '0');
  return `${units < 0 ? '-' : ''}${digits.slice(0, -5)}.${digits.slice(-5)}`;
}

const yuan = (fen: number) => toDecimalString(fen, 'CNY');
const values = (cells: string[]) => cells.map((cell) => `\`${cell}`).join(',');

/** The bill's lines (no line ends), the summary last, from its rows in order. */
export function* wechatBillText(rows: Iterable<WechatBillRow>): Generator<string> {
  yield WECHAT_BILL_COLUMNS.join(',');
  let count = 0;
  let settled = 0;
  let refunded = 0;
  let fees = 0;
  for (const row of rows) {
    count += 1;
    const refund = row.refund;
    const fee = refund ? -refund.amount * FEE_UNITS_PER_FEN : row.amount * FEE_UNITS_PER_FEN;
    fees += fee;
    if (refund) refunded += refund.amount;
    else settled += row.amount;
    const cells: Record<(typeof WECHAT_BILL_COLUMNS)[number], string> = {
      交易时间: row.at,
      公众账号ID: row.appid,
      商户号: row.mchid,
      特约商户号: '0',
      设备号: '',
      微信订单号: row.transactionId,
      商户订单号: row.outTradeNo,
      用户标识: row.openid,
      交易类型: 'NATIVE',
      交易状态: refund ? 'REFUND' : 'SUCCESS',
      付款银行: 'OTHERS',
      货币种类: 'CNY',
      应结订单金额: refund ? '0.00' : yuan(row.amount),
      代金券金额: '0.00',
      微信退款单号: refund ? refund.refundId : '0',
      商户退款单号: refund ? refund.outRefundNo : '0',
      退款金额: refund ? yuan(refund.amount) : '0.00',
      充值券退款金额: '0.00',
      退款类型: refund ? 'ORIGINAL' : '',
      退款状态: refund ? refund.status : '',
      商品名称: row.description,
      商户数据包: row.attach,
      手续费: fiveDecimals(fee),
      费率: '0.60%',
      订单金额: refund ? '0.00' : yuan(row.amount),
      申请退款金额: refund ? yuan(refund.amount) : '0.00',
      费率备注: '',
    };
    yield values(WECHAT_BILL_COLUMNS.map((name) => cells[name]));
  }
  yield WECHAT_BILL_SUMMARY_COLUMNS.join(',');
  yield values([
    String(count),
    yuan(settled),
    yuan(refunded),
    '0.00',
    // The fee total as written: its sign before the digits.
    fiveDecimals(fees),
    yuan(settled),
    yuan(refunded),
  ]);
}
