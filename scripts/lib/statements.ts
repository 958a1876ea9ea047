/**
 * Statements of N lines in each provider's own format, for the reconciliation benchmark (issue
 * 29.4: a statement of 1,000,000 lines against as many of our attempts): Alipay's zip of GBK CSV
 * files, WeChat Pay's backtick CSV (gzip, with the SHA-1 its bill answer would announce), Stripe's
 * balance transactions as we keep them (gzip JSON lines), the sandbox PSP's JSON lines (summary
 * last). Written as they are generated, by the same writers the sandboxes serve their statements
 * with; read back by the providers' own streaming readers from a spool, so a benchmark reads
 * exactly what a fetch would have spooled.
 *
 * Line i is a payment of our attempt `co_bench_<i>` (amount `benchAmount(i)`), or, every
 * `refundEvery`-th line, a refund `rf_bench_<i>` of half the payment on the line before it.
 *
 *   node --import tsx scripts/lib/statements.ts <alipay|wechatpay|stripe|sandbox> <lines> <file> [refundEvery]
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import type { BalanceRecord } from '@payments/providers';
import { alipayBill, type AlipayBillRow } from '../../sandbox/alipay/src/bill';
import { wechatBillText, type WechatBillRow } from '../../sandbox/wechatpay/src/bill';

export type StatementProvider = 'sandbox' | 'alipay' | 'wechatpay' | 'stripe';
export const STATEMENT_PROVIDERS: readonly StatementProvider[] = ['sandbox', 'alipay', 'wechatpay', 'stripe'];

export interface GenerateOptions {
  /** The statement's day, YYYY-MM-DD (default 2026-12-01). */
  date?: string;
  /** Every n-th line is a refund of the payment before it (0: payments only, the default). */
  refundEvery?: number;
  /** Stripe's and the sandbox's currency, ISO 4217 (default USD for Stripe, CNY for the sandbox; Alipay's and WeChat Pay's bills are CNY). */
  currency?: string;
}

/** What line i of a generated statement is, for the benchmark to hold the matching attempts and refunds. */
export interface BenchLine {
  kind: 'PAYMENT' | 'REFUND';
  /** The attempt the line is about (for a refund: the payment it refunds). */
  channelOrderNo: string;
  /** The attempt's amount (minor units). */
  paymentAmount: number;
  refundNo: string | null;
  /** What the line moves: the payment, or the refund (half the payment). */
  amount: number;
}

export const benchAmount = (index: number) => 100 + ((index * 7919) % 100_000);

export function benchLine(index: number, refundEvery = 0): BenchLine {
  const refund = refundEvery > 0 && index > 0 && index % refundEvery === refundEvery - 1;
  const paid = refund ? index - 1 : index;
  const paymentAmount = benchAmount(paid);
  return {
    kind: refund ? 'REFUND' : 'PAYMENT',
    channelOrderNo: `co_bench_${paid}`,
    paymentAmount,
    refundNo: refund ? `rf_bench_${index}` : null,
    amount: refund ? Math.floor(paymentAmount / 2) : paymentAmount,
  };
}

const digits = (index: number, width: number) => String(index).padStart(width, '0');
/** Seconds into the day, spread over it. */
const secondOf = (index: number, lines: number) => Math.floor((index * 86_399) / Math.max(1, lines));

function* benchLines(lines: number, refundEvery: number) {
  for (let index = 0; index < lines; index += 1) yield { index, line: benchLine(index, refundEvery) };
}

function chinaTime(date: string, second: number): string {
  const at = new Date(Date.parse(`${date}T00:00:00Z`) + second * 1000);
  return `${date} ${at.toISOString().slice(11, 19)}`;
}

function* alipayRows(lines: number, date: string, refundEvery: number): Generator<AlipayBillRow> {
  for (const { index, line } of benchLines(lines, refundEvery)) {
    const at = chinaTime(date, secondOf(index, lines));
    yield {
      tradeNo: `${date.replaceAll('-', '')}22001${digits(Number(line.channelOrderNo.slice(9)), 15)}`,
      outTradeNo: line.channelOrderNo,
      subject: '基准测试',
      createdAt: at,
      finishedAt: at,
      amount: line.paymentAmount,
      refund: line.refundNo ? { outRequestNo: line.refundNo, amount: line.amount } : null,
    };
  }
}

function* wechatRows(lines: number, date: string, refundEvery: number): Generator<WechatBillRow> {
  for (const { index, line } of benchLines(lines, refundEvery)) {
    const paid = Number(line.channelOrderNo.slice(9));
    yield {
      at: chinaTime(date, secondOf(index, lines)),
      appid: 'wx0000000000000001',
      mchid: '1900000001',
      transactionId: `4200${digits(paid, 24)}`,
      outTradeNo: line.channelOrderNo,
      openid: `oUpF8uMuAJO_M2pxb1Q9zNjWeS${digits(paid % 100, 2)}`,
      description: 'Bench, teapot',
      attach: `mo-bench-${paid}`,
      amount: line.paymentAmount,
      refund: line.refundNo
        ? {
            refundId: `5030${digits(index, 26)}`,
            outRefundNo: line.refundNo,
            amount: line.amount,
            status: 'SUCCESS',
          }
        : null,
    };
  }
}

/** Stripe's fee on a card charge, as the sandbox books it: 2.9% + 30. */
const stripeFee = (amount: number) => Math.round(amount * 0.029) + 30;

function stripeRecord(
  index: number,
  lines: number,
  date: string,
  line: BenchLine,
  currency: string,
): BalanceRecord {
  const paid = Number(line.channelOrderNo.slice(9));
  const intent = { id: `pi_bench_${paid}`, metadata: { channelOrderNo: line.channelOrderNo } };
  const created = Date.parse(`${date}T00:00:00Z`) / 1000 + secondOf(index, lines);
  return line.refundNo
    ? {
        balance_transaction: {
          id: `txn_bench_${index}`,
          amount: -line.amount,
          currency,
          fee: 0,
          created,
          type: 'refund',
          reporting_category: 'refund',
          source: {
            id: `re_bench_${index}`,
            object: 'refund',
            metadata: { refundNo: line.refundNo },
            payment_intent: intent,
          },
        },
        checkout_session: null,
      }
    : {
        balance_transaction: {
          id: `txn_bench_${index}`,
          amount: line.amount,
          currency,
          fee: stripeFee(line.amount),
          created,
          type: 'charge',
          reporting_category: 'charge',
          source: { id: `ch_bench_${index}`, object: 'charge', metadata: {}, payment_intent: intent },
        },
        checkout_session: null,
      };
}

/** Writes text lines through gzip into `path`, with backpressure; the SHA-1 of the uncompressed text. */
async function writeGzipLines(path: string, lines: Iterable<string>, separator: string): Promise<string> {
  const sha1 = createHash('sha1');
  const gzip = createGzip();
  const file = createWriteStream(path);
  gzip.pipe(file);
  const done = once(file, 'finish');
  let batch = '';
  const flush = async () => {
    const bytes = Buffer.from(batch, 'utf8');
    batch = '';
    sha1.update(bytes);
    if (!gzip.write(bytes)) await once(gzip, 'drain');
  };
  for (const line of lines) {
    batch += `${line}${separator}`;
    if (batch.length >= 64 * 1024) await flush();
  }
  await flush();
  gzip.end();
  await done;
  return sha1.digest('hex');
}

export interface GeneratedStatement {
  provider: StatementProvider;
  date: string;
  lines: number;
  path: string;
  /** WeChat Pay's bill answer would announce this (the SHA-1 of the uncompressed bill). */
  sha1: string | null;
}

/** Writes a statement of `lines` lines in the provider's format to `path` (and `<path>.json`, what it is). */
export async function writeStatement(
  provider: StatementProvider,
  lines: number,
  path: string,
  options: GenerateOptions = {},
): Promise<GeneratedStatement> {
  const date = options.date ?? '2026-12-01';
  const refundEvery = options.refundEvery ?? 0;
  let sha1: string | null = null;
  switch (provider) {
    case 'alipay':
      await writeFile(path, await alipayBill(alipayRows(lines, date, refundEvery), '2088000000000001', date));
      break;
    case 'wechatpay':
      sha1 = await writeGzipLines(path, wechatBillText(wechatRows(lines, date, refundEvery)), '\r\n');
      break;
    case 'stripe': {
      const currency = (options.currency ?? 'usd').toLowerCase();
      const records = function* () {
        for (const { index, line } of benchLines(lines, refundEvery))
          yield JSON.stringify(stripeRecord(index, lines, date, line, currency));
      };
      await writeGzipLines(path, records(), '\n');
      break;
    }
    case 'sandbox':
      await writeSandboxStatement(path, lines, date, refundEvery, (options.currency ?? 'CNY').toUpperCase());
      break;
    default: {
      const unknown: never = provider;
      throw new Error(`no statement format for ${String(unknown)}`);
    }
  }
  const generated = { provider, date, lines, path, sha1 };
  await writeFile(`${path}.json`, JSON.stringify(generated));
  return generated;
}

/** The sandbox PSP's JSON lines, its summary line last, as its statement route writes them; fees 0.6% half up. */
async function writeSandboxStatement(
  path: string,
  lines: number,
  date: string,
  refundEvery: number,
  currency: string,
): Promise<void> {
  const out = createWriteStream(path);
  const totals = { payments: 0, refunds: 0, fees: 0 };
  let batch = '';
  for (const { index, line } of benchLines(lines, refundEvery)) {
    const at = new Date(Date.parse(`${date}T00:00:00Z`) + secondOf(index, lines) * 1000).toISOString();
    const fee = Math.floor((line.amount * 6 + 500) / 1000) * (line.refundNo ? -1 : 1);
    const tradeNo = `sbx_bench_${line.channelOrderNo.slice(9)}`;
    totals.fees += fee;
    if (line.refundNo) totals.refunds += line.amount;
    else totals.payments += line.amount;
    batch += `${JSON.stringify(
      line.refundNo
        ? {
            type: 'refund',
            refundNo: line.refundNo,
            tradeNo,
            channelOrderNo: line.channelOrderNo,
            amount: line.amount,
            currency,
            fee,
            at,
          }
        : {
            type: 'payment',
            tradeNo,
            channelOrderNo: line.channelOrderNo,
            amount: line.amount,
            currency,
            fee,
            at,
          },
    )}\n`;
    if (batch.length >= 64 * 1024) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(`${batch}${JSON.stringify({ type: 'summary', date, lines, totals: { [currency]: totals } })}\n`);
  await once(out, 'finish');
}

if (require.main === module) {
  const [provider, lines, path, refundEvery] = process.argv.slice(2);
  if (!STATEMENT_PROVIDERS.includes(provider as StatementProvider) || !Number(lines) || !path) {
    process.stderr.write(
      'usage: statements.ts <alipay|wechatpay|stripe|sandbox> <lines> <file> [refundEvery]\n',
    );
    process.exit(2);
  }
  const started = Date.now();
  void writeStatement(provider as StatementProvider, Number(lines), path, {
    refundEvery: Number(refundEvery ?? 0),
  }).then((generated) => {
    process.stdout.write(`${JSON.stringify({ ...generated, ms: Date.now() - started })}\n`);
  });
}
