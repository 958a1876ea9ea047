/**
 * WeChat Pay's trade bill file (`GET /v3/bill/tradebill`, `bill_type=ALL`), read as a stream: a
 * header row, one detail row per payment or refund whose every value starts with a backtick (so
 * spreadsheets keep long numbers as text), then a summary header and its one row. Values are split
 * on comma-backtick, not on comma: the merchant's attach (商户数据包) may hold commas. Amounts are
 * in yuan; fees (手续费) carry five decimals. The file is UTF-8, plain or gzip.
 */
import { createHash } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { StatementUnavailableError, type StatementLine, type StatementSummary } from '@payments/core';
import { parseChinaDateTime } from '../china-time';
import { roundedMinorUnits, signedMinorUnits } from '../statement-files/amounts';
import { INFLATED_CHUNK_BYTES, type ByteSource } from '../statement-files/bytes';
import { splitLines } from '../statement-files/lines';

/** The detail columns of an ALL bill, in WeChat Pay's order. */
export const WECHAT_BILL_COLUMNS = [
  '交易时间',
  '公众账号ID',
  '商户号',
  '特约商户号',
  '设备号',
  '微信订单号',
  '商户订单号',
  '用户标识',
  '交易类型',
  '交易状态',
  '付款银行',
  '货币种类',
  '应结订单金额',
  '代金券金额',
  '微信退款单号',
  '商户退款单号',
  '退款金额',
  '充值券退款金额',
  '退款类型',
  '退款状态',
  '商品名称',
  '商户数据包',
  '手续费',
  '费率',
  '订单金额',
  '申请退款金额',
  '费率备注',
] as const;
export const WECHAT_BILL_SUMMARY_COLUMNS = [
  '总交易单数',
  '应结订单总金额',
  '退款总金额',
  '充值券退款总金额',
  '手续费总金额',
  '订单总金额',
  '申请退款总金额',
] as const;

type Row = (name: string) => string;

const unreadable = (message: string) =>
  new StatementUnavailableError(`WeChat Pay bill: ${message}`, 'UNREADABLE');

/** The bill's bytes as text chunks: gunzipped when gzip (its magic bytes), as sent otherwise. */
async function decompressed(raw: ByteSource): Promise<Readable> {
  const magic = await raw.read(0, 2);
  const plain = raw.open(0, raw.byteLength);
  // pipeline, not pipe: a gunzip error must reach the reader.
  return magic[0] === 0x1f && magic[1] === 0x8b
    ? pipeline(plain, createGunzip({ chunkSize: INFLATED_CHUNK_BYTES }), () => {})
    : plain;
}

async function* tapped(source: Readable, tap: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const chunk of source as AsyncIterable<Buffer>) {
    tap(chunk);
    yield chunk;
  }
}

/** A row's values: the backtick before each value dropped. */
function backtickValues(line: string, lineNo: number): string[] {
  if (!line.startsWith('`')) throw unreadable(`line ${lineNo}: a value without its backtick`);
  return line.slice(1).split(',`');
}

type Columns = ReadonlyMap<string, number>;
const columnsOf = (names: string[]): Columns => new Map(names.map((name, at) => [name, at]));

function rowOf(index: Columns, values: string[], lineNo: number): Row {
  if (values.length !== index.size)
    throw unreadable(`line ${lineNo}: ${values.length} values under ${index.size} columns`);
  return (name) => {
    const at = index.get(name);
    if (at === undefined) throw unreadable(`no column ${name}`);
    return values[at]!;
  };
}

/** Where each value a statement line takes sits in a detail row, found once from the bill's header. */
interface Places {
  time: number;
  tradeNo: number;
  orderNo: number;
  status: number;
  currency: number;
  refundNo: number;
  providerRefundNo: number;
  refundStatus: number;
  fee: number;
  orderAmount: number;
  refundAmount: number;
}

/** The places in a header already checked to hold every column of WECHAT_BILL_COLUMNS. */
function placesOf(header: Columns): Places {
  const place = (name: (typeof WECHAT_BILL_COLUMNS)[number]) => header.get(name)!;
  return {
    time: place('交易时间'),
    tradeNo: place('微信订单号'),
    orderNo: place('商户订单号'),
    status: place('交易状态'),
    currency: place('货币种类'),
    refundNo: place('商户退款单号'),
    providerRefundNo: place('微信退款单号'),
    refundStatus: place('退款状态'),
    fee: place('手续费'),
    orderAmount: place('订单金额'),
    refundAmount: place('申请退款金额'),
  };
}

/** A detail row's values, as many as the header's columns (read by place, not by name: a million rows). */
type DetailRecord = { type: 'detail'; lineNo: number; values: string[]; at: Places };
type Record_ = DetailRecord | { type: 'summary'; row: Row };

/**
 * The rows of the bill in order, the summary last; throws UNREADABLE when the file does not have
 * this shape (a truncated file has no summary). `tap` sees every decompressed byte.
 */
async function* billRecords(
  raw: ByteSource,
  tap: (chunk: Buffer) => void = () => {},
): AsyncGenerator<Record_> {
  let header: Columns | null = null;
  let places: Places | null = null;
  let summaryHeader: Columns | null = null;
  let summarySeen = false;
  let lineNo = 0;
  const source = await decompressed(raw);
  try {
    for await (const bytes of splitLines(tapped(source, tap))) {
      lineNo += 1;
      const line = bytes.toString('utf8');
      if (line.trim() === '') continue;
      if (summarySeen) throw unreadable(`line ${lineNo}: text after the summary row`);
      if (header === null) {
        header = columnsOf(line.replace(/^\uFEFF/, '').split(','));
        for (const name of WECHAT_BILL_COLUMNS)
          if (!header.has(name)) throw unreadable(`the header has no column ${name}`);
        places = placesOf(header);
      } else if (summaryHeader === null && line.startsWith('总交易单数')) {
        summaryHeader = columnsOf(line.split(','));
      } else if (summaryHeader === null) {
        const values = backtickValues(line, lineNo);
        if (values.length !== header.size)
          throw unreadable(`line ${lineNo}: ${values.length} values under ${header.size} columns`);
        yield { type: 'detail', lineNo, values, at: places! };
      } else {
        summarySeen = true;
        yield { type: 'summary', row: rowOf(summaryHeader, backtickValues(line, lineNo), lineNo) };
      }
    }
  } catch (error) {
    source.destroy();
    if (error instanceof StatementUnavailableError) throw error;
    throw unreadable(`line ${lineNo + 1}: ${(error as Error).message}`);
  }
  if (!summarySeen) throw unreadable('no summary row (the file is cut short)');
}

/**
 * A detail row as a statement line: SUCCESS is a payment, REFUND a refund (its status a snapshot of
 * the day). The fee is rounded half away from zero to the fen, its five decimals kept as written.
 */
function lineOf({ values, at, lineNo }: DetailRecord): StatementLine {
  const currency = values[at.currency]!;
  // Every line's fee as written, exact or not: the engine adds them up exactly only when every line gives one.
  const exactFee = values[at.fee]!;
  const providerTradeNo = values[at.tradeNo] || null;
  const channelOrderNo = values[at.orderNo] || null;
  const fee = roundedMinorUnits(exactFee, currency).value;
  const bookedAt = parseChinaDateTime(values[at.time]!);
  const source = `line ${lineNo}`;
  const status = values[at.status];
  switch (status) {
    case 'SUCCESS':
      return {
        kind: 'PAYMENT',
        providerTradeNo,
        channelOrderNo,
        refundNo: null,
        providerRefundNo: null,
        amount: signedMinorUnits(values[at.orderAmount]!, currency),
        currency,
        fee,
        exactFee,
        at: bookedAt,
        source,
      };
    case 'REFUND':
      return {
        kind: 'REFUND',
        providerTradeNo,
        channelOrderNo,
        refundNo: values[at.refundNo] || null,
        providerRefundNo: values[at.providerRefundNo] || null,
        amount: signedMinorUnits(values[at.refundAmount]!, currency),
        currency,
        fee,
        exactFee,
        at: bookedAt,
        source,
        // The bill is a picture of its day: a refund PROCESSING then may have ended since.
        ...(values[at.refundStatus] === 'SUCCESS' ? {} : { provisional: true }),
      };
    default:
      throw unreadable(`line ${lineNo}: 交易状态 ${status}`);
  }
}

/** The statement's lines, streamed from the raw bill (never all held). */
export async function* wechatBillLines(raw: ByteSource): AsyncGenerator<StatementLine> {
  for await (const record of billRecords(raw)) {
    if (record.type !== 'detail') continue;
    try {
      yield lineOf(record);
    } catch (error) {
      if (error instanceof StatementUnavailableError) throw error;
      throw unreadable(`line ${record.lineNo}: ${(error as Error).message}`);
    }
  }
}

/** The bill's summary header and row, from the last bytes of its text (`tail`); UNREADABLE when it has none. */
function summaryOf(tail: string): Row {
  const lines = tail.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  let header = lines.length - 1;
  while (header >= 0 && !lines[header]!.startsWith('总交易单数')) header -= 1;
  if (header < 0 || header === lines.length - 1) throw unreadable('no summary row (the file is cut short)');
  if (header < lines.length - 2) throw unreadable('text after the summary row');
  return rowOf(columnsOf(lines[header]!.split(',')), backtickValues(lines[header + 1]!, -1), -1);
}

/** The bytes kept from the end of the bill's text: more than its summary header and row. */
const TAIL_BYTES = 64 * 1024;

/**
 * One streamed pass over the bill before anything trusts it: its SHA-1 (of the uncompressed bill,
 * as WeChat Pay's hash_value is) against `sha1`, and its own summary from its last lines. Throws
 * UNREADABLE for a file cut short (no summary, or gzip cut), HASH_MISMATCH for other bytes than
 * announced. Its rows are not parsed here: the run's own pass reads every one (and stops at the
 * first that does not have the bill's shape) before anything is acted on.
 */
export async function checkedWechatBill(raw: ByteSource, sha1: string): Promise<StatementSummary> {
  const hash = createHash('sha1');
  // The last chunks, at least TAIL_BYTES of them: joined once at the end, never copied per chunk.
  const tail: Buffer[] = [];
  let tailBytes = 0;
  const source = await decompressed(raw);
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      hash.update(chunk);
      tail.push(chunk);
      tailBytes += chunk.length;
      while (tailBytes - tail[0]!.length >= TAIL_BYTES) tailBytes -= tail.shift()!.length;
    }
  } catch (error) {
    source.destroy();
    throw unreadable(`the file is cut short or damaged: ${(error as Error).message}`);
  }
  const row = summaryOf(Buffer.concat(tail).toString('utf8'));
  const actual = hash.digest('hex');
  if (actual !== sha1.toLowerCase())
    throw new StatementUnavailableError(
      `WeChat Pay bill: SHA-1 ${actual}, the bill answer said ${sha1}`,
      'HASH_MISMATCH',
    );
  try {
    const fees = roundedMinorUnits(row('手续费总金额'), 'CNY');
    return {
      lines: Number(row('总交易单数')),
      // A domestic merchant's bill is in CNY only (货币种类).
      totals: {
        CNY: {
          payments: signedMinorUnits(row('订单总金额'), 'CNY'),
          refunds: signedMinorUnits(row('申请退款总金额'), 'CNY'),
          fees: fees.value,
          exactFees: row('手续费总金额'),
        },
      },
    };
  } catch (error) {
    if (error instanceof StatementUnavailableError) throw error;
    throw unreadable(`summary row: ${(error as Error).message}`);
  }
}
