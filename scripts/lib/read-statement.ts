/**
 * A statement written by ./statements.ts read back as the reconciliation reads a fetched one (a
 * spool, the provider's checks, its streaming reader), or only read and parsed (the raw rate the
 * benchmark compares matching with).
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { FetchedStatement, StatementLine } from '@payments/core';
import {
  alipayBillLines,
  alipayStatement,
  fileSource,
  sandboxLines,
  sandboxStatement,
  spoolStream,
  stripeBalanceLines,
  stripeStatement,
  wechatBillLines,
  wechatpayStatement,
} from '@payments/providers';
import type { GeneratedStatement } from './statements';

const describedBy = async (path: string) =>
  JSON.parse(await readFile(`${path}.json`, 'utf8')) as GeneratedStatement;

/**
 * A generated statement as a fetch would have it: the file copied into a spool while hashed (as a
 * download is), checked by the provider's own pass (WeChat Pay's SHA-1 and summary, Alipay's
 * CRC-32 and 合计, the sandbox's summary line), its lines streamed by the provider's reader. The
 * caller disposes of it (the run does).
 */
export async function readStatement(path: string): Promise<FetchedStatement> {
  const generated = await describedBy(path);
  const spool = await spoolStream(generated.provider, generated.date, createReadStream(path));
  switch (generated.provider) {
    case 'alipay':
      return alipayStatement(generated.date, spool);
    case 'wechatpay':
      return wechatpayStatement(generated.date, spool, generated.sha1!);
    case 'stripe':
      return stripeStatement(generated.date, spool);
    case 'sandbox':
      return sandboxStatement(generated.date, spool);
    default: {
      const unknown: never = generated.provider;
      throw new Error(`no statement format for ${String(unknown)}`);
    }
  }
}

/** A generated statement's lines read and parsed straight from its file by the provider's reader: no spool, no check (the raw rate). */
export async function* statementLines(path: string): AsyncGenerator<StatementLine> {
  const generated = await describedBy(path);
  const file = fileSource(path, (await stat(path)).size);
  switch (generated.provider) {
    case 'alipay':
      return yield* alipayBillLines(file);
    case 'wechatpay':
      return yield* wechatBillLines(file);
    case 'stripe':
      return yield* stripeBalanceLines(file);
    case 'sandbox':
      return yield* sandboxLines(file);
    default: {
      const unknown: never = generated.provider;
      throw new Error(`no statement format for ${String(unknown)}`);
    }
  }
}
