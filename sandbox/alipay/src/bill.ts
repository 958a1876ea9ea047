/**
 * Alipay's trade bill (`bill_type=trade`) as Alipay writes it: a zip of two GBK CSV files, the
 * detail (`…_业务明细.csv`: `#` comment lines, a header, one row per trade and refund) and its
 * summary (`…_业务明细(汇总).csv`: a 合计 row). Yuan with two decimals; a refund's amounts are
 * negative; the service fee (服务费, 0.6% rounded half up to the fen) is negative on a trade and
 * returned (positive) on a refund; ids end with a tab. The detail is written row by row into the
 * zip, so a generator can write a bill of a million rows without holding its text.
 */
import { toDecimalString } from '@payments/core';
import { ALIPAY_BILL_COLUMNS, ALIPAY_SUMMARY_COLUMNS } from '@payments/providers';
import { gbkBytes } from './gbk';
import { zipArchive } from './zip';

export interface AlipayBillRow {
  tradeNo: string;
  outTradeNo: string;
  subject: string;
  /** `yyyy-MM-dd HH:mm:ss`, China time. */
  createdAt: string;
  finishedAt: string;
  /** The trade's amount in fen. */
  amount: number;
  /** A refund row: what was refunded (fen) under our out_request_no. */
  refund: null | { outRequestNo: string; amount: number };
}

/** Alipay's standard 0.6%, rounded half up to the fen. */
export const serviceFee = (fen: number) => Math.floor((fen * 6 + 500) / 1000);

const yuan = (fen: number) => `${fen < 0 ? '-' : ''}${toDecimalString(Math.abs(fen), 'CNY')}`;
/** Alipay's values hold no comma (its CSV quotes nothing): a subject's commas become full-width. */
const text = (value: string) => value.replaceAll(',', '，');
const id = (value: string) => `${value}\t`;

interface Totals {
  trades: number;
  refunds: number;
  amount: number;
  fee: number;
}

const china = (date: string) => `${date.slice(0, 4)}年${date.slice(5, 7)}月${date.slice(8, 10)}日`;
const nextDay = (date: string) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

function* detailLines(rows: Iterable<AlipayBillRow>, account: string, date: string, totals: Totals) {
  yield '#支付宝业务明细查询';
  yield `#账号：[${account}]`;
  yield `#起始日期：[${china(date)} 00:00:00]   终止日期：[${china(nextDay(date))} 00:00:00]`;
  yield '#-----------------------------------------业务明细列表----------------------------------------';
  yield ALIPAY_BILL_COLUMNS.join(',');
  for (const row of rows) {
    const refund = row.refund;
    const amount = refund ? -refund.amount : row.amount;
    const fee = refund ? serviceFee(refund.amount) : -serviceFee(row.amount);
    if (refund) totals.refunds += 1;
    else totals.trades += 1;
    totals.amount += amount;
    totals.fee += fee;
    const cells: Record<(typeof ALIPAY_BILL_COLUMNS)[number], string> = {
      支付宝交易号: id(row.tradeNo),
      商户订单号: id(row.outTradeNo),
      业务类型: refund ? '退款' : '交易',
      商品名称: text(row.subject),
      创建时间: row.createdAt,
      完成时间: row.finishedAt,
      门店编号: '',
      门店名称: '',
      操作员: '',
      终端号: '',
      对方账户: 'sandbox***@example.com',
      '订单金额（元）': yuan(amount),
      '商家实收（元）': yuan(amount),
      '支付宝红包（元）': '0.00',
      '集分宝（元）': '0.00',
      '支付宝优惠（元）': '0.00',
      '商家优惠（元）': '0.00',
      '券核销金额（元）': '0.00',
      券名称: '',
      '商家红包消费金额（元）': '0.00',
      '卡消费金额（元）': '0.00',
      '退款批次号/请求号': refund ? id(refund.outRequestNo) : '',
      '服务费（元）': yuan(fee),
      '分润（元）': '0.00',
      备注: '',
    };
    yield ALIPAY_BILL_COLUMNS.map((name) => cells[name]).join(',');
  }
  yield '#-----------------------------------------业务明细列表结束------------------------------------';
  yield `#交易合计：${totals.trades}笔，退款合计：${totals.refunds}笔`;
  yield `#导出时间：[${china(nextDay(date))} 09:00:00]`;
}

function* summaryLines(account: string, date: string, totals: Totals) {
  yield '#支付宝业务汇总查询';
  yield `#账号：[${account}]`;
  yield `#起始日期：[${china(date)} 00:00:00]   终止日期：[${china(nextDay(date))} 00:00:00]`;
  yield '#-----------------------------------------业务汇总列表----------------------------------------';
  yield ALIPAY_SUMMARY_COLUMNS.join(',');
  const money = [yuan(totals.amount), yuan(totals.amount), '0.00', '0.00', '0.00', yuan(totals.fee), '0.00'];
  yield [
    '合计',
    '',
    String(totals.trades),
    String(totals.refunds),
    ...money,
    yuan(totals.amount + totals.fee),
  ].join(',');
  yield '#-----------------------------------------业务汇总列表结束------------------------------------';
  yield `#导出时间：[${china(nextDay(date))} 09:00:00]`;
}

/** GBK lines ending `\r\n`, batched into chunks of about 64 KiB. */
function* gbkChunks(lines: Iterable<string>): Generator<Buffer> {
  let batch: Buffer[] = [];
  let size = 0;
  for (const line of lines) {
    const bytes = gbkBytes(`${line}\r\n`);
    batch.push(bytes);
    size += bytes.length;
    if (size >= 64 * 1024) {
      yield Buffer.concat(batch);
      batch = [];
      size = 0;
    }
  }
  if (batch.length > 0) yield Buffer.concat(batch);
}

/** The zip Alipay's bill link serves: `<account>0156_<yyyyMMdd>_业务明细.csv` and its `(汇总)`. */
export function alipayBill(rows: Iterable<AlipayBillRow>, account: string, date: string): Promise<Buffer> {
  const totals: Totals = { trades: 0, refunds: 0, amount: 0, fee: 0 };
  const stem = `${account}0156_${date.replaceAll('-', '')}`;
  // The summary's chunks are made when the zip reaches it, after the detail has counted the totals.
  return zipArchive([
    { name: `${stem}_业务明细.csv`, chunks: gbkChunks(detailLines(rows, account, date, totals)) },
    { name: `${stem}_业务明细(汇总).csv`, chunks: gbkChunks(summaryLines(account, date, totals)) },
  ]);
}
