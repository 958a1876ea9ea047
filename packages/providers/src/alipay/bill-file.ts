/**
 * Alipay's trade bill (`bill_type=trade`): a zip of GBK-encoded CSV files, read as a stream. The
 * detail file (…_业务明细.csv) has `#` comment lines around a header and one row per trade (业务类型
 * 交易) or refund (退款); the summary file (…_业务明细(汇总).csv) has one row per store and a
 * 合计 (total) row. Amounts are yuan with two decimals; a refund's amounts are negative, and so is
 * the service fee (服务费) Alipay charges on a trade (a refund's returns it: positive); every id
 * carries a trailing tab (so spreadsheets keep it as text), trimmed here.
 */
import { StatementUnavailableError, type StatementLine, type StatementSummary } from '@payments/core';
import { parseChinaDateTime } from '../china-time';
import { signedMinorUnits } from '../statement-files/amounts';
import { splitLines } from '../statement-files/lines';
import { ZipChecksumError, zipEntries, type ByteSource, type ZipEntry } from '../statement-files/zip';

/** The detail file's columns, in Alipay's order. */
export const ALIPAY_BILL_COLUMNS = [
  '支付宝交易号',
  '商户订单号',
  '业务类型',
  '商品名称',
  '创建时间',
  '完成时间',
  '门店编号',
  '门店名称',
  '操作员',
  '终端号',
  '对方账户',
  '订单金额（元）',
  '商家实收（元）',
  '支付宝红包（元）',
  '集分宝（元）',
  '支付宝优惠（元）',
  '商家优惠（元）',
  '券核销金额（元）',
  '券名称',
  '商家红包消费金额（元）',
  '卡消费金额（元）',
  '退款批次号/请求号',
  '服务费（元）',
  '分润（元）',
  '备注',
] as const;
/** The summary file's columns. */
export const ALIPAY_SUMMARY_COLUMNS = [
  '门店编号',
  '门店名称',
  '交易订单总笔数',
  '退款订单总笔数',
  '订单金额（元）',
  '商家实收（元）',
  '支付宝优惠（元）',
  '商家优惠（元）',
  '卡消费金额（元）',
  '服务费（元）',
  '分润（元）',
  '实收净额（元）',
] as const;

const CNY = 'CNY';
const gbk = new TextDecoder('gbk', { fatal: true });

const unreadable = (message: string) =>
  new StatementUnavailableError(`Alipay bill: ${message}`, 'UNREADABLE');

type Row = (name: string) => string;

async function files(archive: ByteSource): Promise<{ detail: ZipEntry; summary: ZipEntry }> {
  let entries: ZipEntry[];
  try {
    entries = await zipEntries(archive);
  } catch (error) {
    throw unreadable((error as Error).message);
  }
  const summary = entries.find((entry) => entry.name.includes('汇总'));
  const detail = entries.find((entry) => entry.name.includes('业务明细') && entry !== summary);
  if (!detail || !summary)
    throw unreadable(`no 业务明细 and 汇总 files in ${entries.map((entry) => entry.name).join(', ')}`);
  return { detail, summary };
}

/**
 * The data rows of one CSV file in the zip, `#` lines skipped; throws UNREADABLE when it has no
 * header with `required`, a row of another width, bytes that are not GBK, or a bad CRC (cut short).
 */
async function* csvRows(
  entry: ZipEntry,
  required: readonly string[],
): AsyncGenerator<{ lineNo: number; row: Row }> {
  let index: Map<string, number> | null = null;
  let lineNo = 0;
  const source = entry.open();
  try {
    for await (const bytes of splitLines(source)) {
      lineNo += 1;
      const line = gbk.decode(bytes);
      if (line.startsWith('#') || line.trim() === '') continue;
      // Plain commas: Alipay's bill quotes nothing, and its values hold no comma.
      const values = line.split(',');
      if (index === null) {
        index = new Map(values.map((name, at) => [name.trim(), at]));
        for (const name of required)
          if (!index.has(name)) throw unreadable(`${entry.name}: no column ${name}`);
        continue;
      }
      if (values.length !== index.size)
        throw unreadable(`${entry.name} line ${lineNo}: ${values.length} values under ${index.size} columns`);
      const columns = index;
      yield {
        lineNo,
        row: (name) => {
          const at = columns.get(name);
          if (at === undefined) throw unreadable(`no column ${name}`);
          // The ids' trailing tab, and any padding.
          return values[at]!.trim();
        },
      };
    }
  } catch (error) {
    source.destroy();
    if (error instanceof StatementUnavailableError) throw error;
    // The zip's own check of its bytes: the bill has no other hash.
    if (error instanceof ZipChecksumError)
      throw new StatementUnavailableError(`Alipay bill: ${error.message}`, 'HASH_MISMATCH');
    throw unreadable(`${entry.name} line ${lineNo + 1}: ${(error as Error).message}`);
  }
  if (index === null) throw unreadable(`${entry.name}: no header`);
}

function lineOf(row: Row, lineNo: number): StatementLine {
  const kind = row('业务类型');
  const amount = signedMinorUnits(row('订单金额（元）'), CNY);
  // Alipay writes the fee it takes as negative; the seam's fee is positive when charged.
  const fee = -signedMinorUnits(row('服务费（元）') || '0', CNY);
  const common = {
    providerTradeNo: row('支付宝交易号') || null,
    channelOrderNo: row('商户订单号') || null,
    currency: CNY,
    fee: fee === 0 ? 0 : fee,
    at: parseChinaDateTime(row('完成时间') || row('创建时间')),
    source: `业务明细 line ${lineNo}`,
    providerRefundNo: null,
  };
  switch (kind) {
    case '交易':
      if (amount < 0) throw unreadable(`line ${lineNo}: a trade of ${row('订单金额（元）')}`);
      return { kind: 'PAYMENT', ...common, refundNo: null, amount };
    case '退款':
      if (amount > 0) throw unreadable(`line ${lineNo}: a refund of ${row('订单金额（元）')}`);
      return { kind: 'REFUND', ...common, refundNo: row('退款批次号/请求号') || null, amount: -amount };
    default:
      throw unreadable(`line ${lineNo}: 业务类型 ${kind}`);
  }
}

const DETAIL_REQUIRED = [
  '支付宝交易号',
  '商户订单号',
  '业务类型',
  '订单金额（元）',
  '退款批次号/请求号',
  '服务费（元）',
];

/** The statement's lines, streamed from the zip (never all held). */
export async function* alipayBillLines(archive: ByteSource): AsyncGenerator<StatementLine> {
  for await (const { lineNo, row } of csvRows((await files(archive)).detail, DETAIL_REQUIRED)) {
    try {
      yield lineOf(row, lineNo);
    } catch (error) {
      if (error instanceof StatementUnavailableError) throw error;
      throw unreadable(`业务明细 line ${lineNo}: ${(error as Error).message}`);
    }
  }
}

/**
 * One streamed pass before anything trusts the bill: both files readable to their end (a zip cut
 * short has no directory; an entry's CRC-32 is checked), and the summary's 合计 row. Alipay's
 * summary states counts and net totals (a refund's amounts are negative in it): the refunds are
 * taken from the detail, and the payments are the net total plus them, so the engine's check that
 * the lines add up to the summary holds exactly when the bill's own net total does.
 */
export async function checkedAlipayBill(archive: ByteSource): Promise<StatementSummary> {
  const { summary } = await files(archive);
  let total: Row | null = null;
  for await (const { row } of csvRows(summary, [
    '门店编号',
    '交易订单总笔数',
    '退款订单总笔数',
    '订单金额（元）',
    '服务费（元）',
  ]))
    if (row('门店编号') === '合计') total = row;
  if (!total) throw unreadable('the summary has no 合计 row');
  // Only the refund rows' amounts (the detail's CRC-32 checked to its end on the way): the run's
  // own pass reads every row as a line before anything is acted on.
  let refunds = 0;
  for await (const { lineNo, row } of csvRows((await files(archive)).detail, DETAIL_REQUIRED))
    if (row('业务类型') === '退款') {
      let amount: number;
      try {
        amount = signedMinorUnits(row('订单金额（元）'), CNY);
      } catch (error) {
        throw unreadable(`业务明细 line ${lineNo}: ${(error as Error).message}`);
      }
      if (amount > 0) throw unreadable(`line ${lineNo}: a refund of ${row('订单金额（元）')}`);
      refunds -= amount;
    }
  try {
    const net = signedMinorUnits(total('订单金额（元）'), CNY);
    return {
      lines: Number(total('交易订单总笔数')) + Number(total('退款订单总笔数')),
      totals: {
        [CNY]: { payments: net + refunds, refunds, fees: -signedMinorUnits(total('服务费（元）'), CNY) },
      },
    };
  } catch (error) {
    throw unreadable(`the summary's 合计 row: ${(error as Error).message}`);
  }
}
