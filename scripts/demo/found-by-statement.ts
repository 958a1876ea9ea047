/**
 * The demo's hidden loss (issue 29.5): one PSP payment whose callback and every poll are lost (the
 * sandbox's hidden trades: no notification, every query and close answered "not found"), so its
 * order ends closed here while the shopper's money sits at the PSP; then the day's reconciliation,
 * run as an operator runs it (`payctl recon run`), finds it in the statement and settles it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Endpoints } from '../lib/invariants';
import { paymentOf } from '../lib/invariants';

const run = promisify(execFile);
const PAYCTL = join(__dirname, '..', '..', 'tools', 'payctl', 'bin', 'payctl.js');

export interface HiddenPayment {
  merchantOrderNo: string;
  channelOrderNo: string;
  amount: number;
}

/** Applies for a short-lived wallet order, hides it at the PSP, and pays it there. */
export async function makeHiddenPayment(endpoints: Endpoints, label: string): Promise<HiddenPayment> {
  const merchantOrderNo = `${label}-found-by-statement`;
  const amount = 4321;
  const hidden = await fetch(`${endpoints.pspUrl}/sandbox/hidden/${merchantOrderNo}`, { method: 'PUT' });
  if (!hidden.ok) throw new Error(`the PSP sandbox would not hide a trade: ${hidden.status}`);
  const applied = await fetch(`${endpoints.gatewayUrl}/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${endpoints.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      merchantOrderNo,
      amount,
      currency: 'CNY',
      channel: 'sandbox-wallet',
      subject: 'Demo order, paid unseen',
      expireAt: new Date(Date.now() + 8000).toISOString(),
    }),
  });
  const body = (await applied.json()) as { attempt?: { channelOrderNo: string } };
  if (!body.attempt) throw new Error(`apply of ${merchantOrderNo}: ${applied.status}`);
  const paid = await fetch(`${endpoints.pspUrl}/sandbox/trades/${body.attempt.channelOrderNo}/pay`, {
    method: 'POST',
  });
  if (!paid.ok) throw new Error(`paying ${body.attempt.channelOrderNo}: ${paid.status}`);
  return { merchantOrderNo, channelOrderNo: body.attempt.channelOrderNo, amount };
}

/** Waits until our side gave the attempt up (closed past its expiry); what it and the PSP say then. */
export async function waitUntilGivenUp(endpoints: Endpoints, payment: HiddenPayment, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await paymentOf(endpoints, payment.merchantOrderNo);
    const attempt = view?.attempts.find((candidate) => candidate.channelOrderNo === payment.channelOrderNo);
    if ((attempt && attempt.status !== 'PAYING' && view?.status === 'CLOSED') || Date.now() > deadline) {
      const ledger = (await (
        await fetch(`${endpoints.pspUrl}/sandbox/ledger?merchantOrderNo=${payment.merchantOrderNo}`)
      ).json()) as { trades: { channelOrderNo: string; status: string; queries?: number }[] };
      const trade = ledger.trades.find((candidate) => candidate.channelOrderNo === payment.channelOrderNo);
      return {
        orderHere: view?.status ?? 'unknown',
        attemptHere: attempt?.status ?? 'unknown',
        atPsp: trade?.status ?? 'unknown',
        queries: trade?.queries ?? 0,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The PSP's API sees the trade again (its outage over): by now only its statement would tell. */
export async function showAgain(endpoints: Endpoints, payment: HiddenPayment): Promise<void> {
  await fetch(`${endpoints.pspUrl}/sandbox/hidden/${payment.merchantOrderNo}`, { method: 'DELETE' });
}

/**
 * `payctl recon run --provider sandbox --date <today, UTC>` as an operator runs it (a payment made
 * now is in today's statement, which the PSP serves as far as the day has gone). Its exit code
 * and its lines: the summary ones, and those naming this payment (a shared database may hold
 * differences of earlier demos, which are counted, not printed).
 */
export async function reconcileToday(env: Record<string, string | undefined>, payment: HiddenPayment) {
  const date = new Date().toISOString().slice(0, 10);
  const command = `npx payctl recon run --provider sandbox --date ${date}`;
  let code = 0;
  let stdout = '';
  let stderr = '';
  try {
    ({ stdout, stderr } = await run(
      process.execPath,
      [PAYCTL, 'recon', 'run', '--provider', 'sandbox', '--date', date],
      {
        env: env as NodeJS.ProcessEnv,
      },
    ));
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    ({ code, stdout, stderr } = failed);
  }
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  const itemLine = /^ {2}(ACTED|RESOLVED|ANOMALY|PENDING) rd_/;
  const summary = lines.filter((line) => !itemLine.test(line));
  const ours = lines.filter((line) => itemLine.test(line) && line.includes(payment.channelOrderNo));
  const others = lines.filter((line) => itemLine.test(line) && !line.includes(payment.channelOrderNo));
  const found = ours.some((line) => /ACTED rd_\w+ PAID_THERE_NOT_HERE /.test(line));
  return { command, code, stderr: stderr.trim(), summary, ours, others: others.length, found };
}
