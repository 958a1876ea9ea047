/**
 * Statements of N lines in each provider's own format, for the reconciliation benchmark (issue
 * 29.4: a statement of 1,000,000 lines against as many of our attempts): Alipay's zip of GBK CSV
 * files, WeChat Pay's backtick CSV (gzip, with the SHA-1 its bill answer would announce), Stripe's
 * balance transactions as we keep them (gzip JSON lines). Written as they are generated, by the
 * same writers the sandboxes serve their statements with; read back by the providers' own
 * streaming readers, so a benchmark reads exactly what a fetch would have kept.
 *
 * Line i is a payment of our attempt `co_bench_<i>` (amount `benchAmount(i)`), or, every
 * `refundEvery`-th line, a refund `rf_bench_<i>` of half the payment on the line before it.
 *
 *   node --import tsx scripts/lib/statements.ts <alipay|wechatpay|stripe> <lines> <file> [refundEvery]
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import type { FetchedStatement } from '@payments/core';
import {
  alipayBillLines,
  checkedAlipayBill,
  checkedWechatBill,
  stripeBalanceLines,
  wechatBillLines,
  type BalanceRecord,
} from '@payments/providers';
import { alipayBill, type AlipayBillRow } from '../../sandbox/alipay/src/bill';
import { wechatBillText, type WechatBillRow } from '../../sandbox/wechatpay/src/bill';

export type StatementProvider = 'alipay' | 'wechatpay' | 'stripe';
export const STATEMENT_PROVIDERS: readonly StatementProvider[] = ['alipay', 'wechatpay', 'stripe'];

export interface GenerateOptions {
  /** The statement's day, YYYY-MM-DD (default 2026-12-01). */
  date?: string;
  /** Every n-th line is a refund of the payment before it (0: payments only, the default). */
  refundEvery?: number;
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

function stripeRecord(index: number, lines: number, date: string, line: BenchLine): BalanceRecord {
  const paid = Number(line.channelOrderNo.slice(9));
  const intent = { id: `pi_bench_${paid}`, metadata: { channelOrderNo: line.channelOrderNo } };
  const created = Date.parse(`${date}T00:00:00Z`) / 1000 + secondOf(index, lines);
  return line.refundNo
    ? {
        balance_transaction: {
          id: `txn_bench_${index}`,
          amount: -line.amount,
          currency: 'usd',
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
          currency: 'usd',
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
      const records = function* () {
        for (const { index, line } of benchLines(lines, refundEvery))
          yield JSON.stringify(stripeRecord(index, lines, date, line));
      };
      await writeGzipLines(path, records(), '\n');
      break;
    }
    default: {
      const unknown: never = provider;
      throw new Error(`no statement format for ${String(unknown)}`);
    }
  }
  const generated = { provider, date, lines, path, sha1 };
  await writeFile(`${path}.json`, JSON.stringify(generated));
  return generated;
}

/**
 * A generated statement read as a fetch would have kept it: its raw bytes held, checked (WeChat
 * Pay's SHA-1 and summary, Alipay's CRC-32 and 合计), its lines streamed by the provider's reader.
 * `check: false` skips the checking pass (to time the raw read alone).
 */
export async function readStatement(path: string, check = true): Promise<FetchedStatement> {
  const generated = JSON.parse(await readFile(`${path}.json`, 'utf8')) as GeneratedStatement;
  const raw = await readFile(path);
  const base = {
    provider: generated.provider,
    date: generated.date,
    raw,
    sha256: createHash('sha256').update(raw).digest('hex'),
  };
  switch (generated.provider) {
    case 'alipay':
      return {
        ...base,
        summary: check ? await checkedAlipayBill(raw) : null,
        lines: () => alipayBillLines(raw),
      };
    case 'wechatpay':
      return {
        ...base,
        summary: check ? await checkedWechatBill(raw, generated.sha1!) : null,
        lines: () => wechatBillLines(raw),
      };
    case 'stripe':
      return { ...base, summary: null, lines: () => stripeBalanceLines(raw) };
    default: {
      const unknown: never = generated.provider;
      throw new Error(`no statement format for ${String(unknown)}`);
    }
  }
}

if (require.main === module) {
  const [provider, lines, path, refundEvery] = process.argv.slice(2);
  if (!STATEMENT_PROVIDERS.includes(provider as StatementProvider) || !Number(lines) || !path) {
    process.stderr.write('usage: statements.ts <alipay|wechatpay|stripe> <lines> <file> [refundEvery]\n');
    process.exit(2);
  }
  const started = Date.now();
  void writeStatement(provider as StatementProvider, Number(lines), path, {
    refundEvery: Number(refundEvery ?? 0),
  }).then((generated) => {
    process.stdout.write(`${JSON.stringify({ ...generated, ms: Date.now() - started })}\n`);
  });
}
