/**
 * The cashier's operations (CONTRACT 10): `POST /v1/checkout` makes the pay order (no attempt yet)
 * and a token for its page; the page's choice of a channel applies through `applyPayment`, the
 * same code and rules as `POST /v1/payments`.
 */
import { z } from 'zod';
import { ApiError, applyRequestSchema, describeZodError, type PayAction } from '@payments/core';
import type { GatewayDeps } from '../deps';
import { refuseIfOtherMoney } from '../domain/apply-decision';
import type { CheckoutAnswerBody } from '../http/api-schemas';
import { CASHIER_LOCALES } from './locales';
import { applyPayment, orderExpiry } from '../operations/apply-payment';
import { cashierViewsOf } from './order-views';
import { Remembered, SharedReads } from './shared-reads';
import { cashierState, returnState, type CashierState, type ReturnState } from './view';
import { findReturn, findToken, mintToken, storeToken, type CheckoutRow, type ReturnRow } from './tokens';

export const checkoutRequestSchema = applyRequestSchema.omit({ channel: true, returnUrl: true }).extend({
  returnUrl: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(512),
  channels: z.array(z.string().min(1).max(32)).min(1).max(16).optional(),
  /** The page's language; without it, the shopper's browser (Accept-Language), then the currency, choose. */
  locale: z.enum(CASHIER_LOCALES).optional(),
});
export type CheckoutRequest = z.infer<typeof checkoutRequestSchema>;

/** Where the cashier of a token is, under the gateway's public address. */
export const cashierUrl = (deps: Pick<GatewayDeps, 'config'>, token: string) =>
  new URL(`/cashier/${token}`, deps.config.GATEWAY_PUBLIC_URL).toString();

/**
 * Where providers send the shopper back (Alipay page pay's `return_url`, Stripe's success and
 * cancel URLs): it names the pay order, never the token, because it is stored with the attempt,
 * signed into the pay URL and shown by `GET /v1/payments` (issue 27.7).
 */
export const returnPageUrl = (deps: Pick<GatewayDeps, 'config'>, payOrderNo: string) =>
  new URL(`/cashier/return/${payOrderNo}`, deps.config.GATEWAY_PUBLIC_URL).toString();

/** The cashier's lookups, shared by every page, poll and stream on this gateway (issue 27.4). */
export interface CashierReads {
  tokens: Remembered<CheckoutRow>;
  returns: Remembered<ReturnRow>;
  orders: SharedReads;
}

export function cashierReads(deps: Pick<GatewayDeps, 'dataSource' | 'metrics'>): CashierReads {
  return {
    tokens: new Remembered((token) => findToken(deps.dataSource, token)),
    returns: new Remembered((payOrderNo) => findReturn(deps.dataSource, payOrderNo)),
    orders: new SharedReads((ids) => cashierViewsOf(deps.dataSource, ids), {
      onQueries: (count) => deps.metrics.cashierQueries.inc(count),
    }),
  };
}

export async function startCheckout(deps: GatewayDeps, body: unknown) {
  const parsed = checkoutRequestSchema.safeParse(body ?? {});
  if (!parsed.success) throw new ApiError('VALIDATION_FAILED', describeZodError(parsed.error));
  const request = parsed.data;
  const channels = request.channels ?? [...deps.channels.keys()];
  for (const name of channels) {
    const channel = deps.channels.get(name);
    if (!channel) throw new ApiError('UNKNOWN_CHANNEL', `unknown channel "${name}"`);
    // Named by the merchant, a channel must take the currency; by default those that do not are left out.
    if (request.channels && !channel.supportsCurrency(request.currency))
      throw new ApiError('UNSUPPORTED_CURRENCY', `channel ${name} does not take ${request.currency}`);
  }
  const offered = channels.filter((name) => deps.channels.get(name)!.supportsCurrency(request.currency));
  if (offered.length === 0)
    throw new ApiError('UNSUPPORTED_CURRENCY', `no enabled channel takes ${request.currency}`);
  const expireAt = orderExpiry(deps, request.expireAt);
  let created = true;
  let order = await deps.repository.createPayOrder(request, expireAt);
  if (!order) {
    created = false;
    order = await deps.repository.findPayOrder(request.merchantOrderNo);
    if (!order) throw new ApiError('PAYMENT_IN_PROGRESS', 'the order is being created; try again');
    refuseIfOtherMoney({ amount: Number(order.amount), currency: order.currency }, request);
  }
  // Its first apply from the cashier page then reads it rather than trying to create it.
  deps.finalStatus.rememberExists(order.merchant_order_no);
  const token = mintToken();
  await storeToken(deps.dataSource, token, order.id, offered, request.returnUrl, request.locale ?? null);
  return {
    status: created ? 201 : 200,
    body: {
      payOrderNo: order.pay_order_no,
      merchantOrderNo: order.merchant_order_no,
      url: cashierUrl(deps, token),
      expiresAt: new Date(order.expire_at).toISOString(),
    } satisfies CheckoutAnswerBody,
  };
}

export type CashierLookup =
  { found: true; checkout: CheckoutRow; state: CashierState } | { found: false; status: 404 | 410 };

/** A token's page is gone a day after its order's expiry (the order is long final by then). */
const TOKEN_GRACE_MS = 24 * 3600_000;

/** A token's page as it is now, from a read at most `maxAgeMs` old (0 after an apply of its own). */
export async function lookUpCashier(
  deps: GatewayDeps,
  reads: CashierReads,
  token: string,
  maxAgeMs?: number,
): Promise<CashierLookup> {
  const checkout = await reads.tokens.get(token);
  if (!checkout) return { found: false, status: 404 };
  const view = await reads.orders.read(checkout.pay_order_id, maxAgeMs);
  if (!view) return { found: false, status: 404 };
  if (Date.now() > new Date(view.order.expire_at).getTime() + TOKEN_GRACE_MS)
    return { found: false, status: 410 };
  return { found: true, checkout, state: cashierState(deps, checkout, view) };
}

export type ReturnLookup =
  { found: true; returnRow: ReturnRow; state: ReturnState } | { found: false; status: 404 | 410 };

/** The token-free return page of a pay order: its status, and the way back once paid. */
export async function lookUpReturn(reads: CashierReads, payOrderNo: string): Promise<ReturnLookup> {
  const returnRow = await reads.returns.get(payOrderNo);
  if (!returnRow) return { found: false, status: 404 };
  const view = await reads.orders.read(returnRow.pay_order_id);
  if (!view) return { found: false, status: 404 };
  if (Date.now() > new Date(view.order.expire_at).getTime() + TOKEN_GRACE_MS)
    return { found: false, status: 410 };
  return { found: true, returnRow, state: returnState(returnRow.return_url, view) };
}

/**
 * The shopper chose a channel: applied for through the same code as `POST /v1/payments` (a
 * repeat reuses the attempt, another channel closes or supersedes the first). Providers send
 * the shopper back to the order's return page (no token in it), never to the merchant directly.
 */
export async function payAtCashier(
  deps: GatewayDeps,
  reads: CashierReads,
  token: string,
  lookup: Extract<CashierLookup, { found: true }>,
  channel: string,
): Promise<{ payAction: PayAction | null; state: CashierState }> {
  const { state, checkout } = lookup;
  if (!checkout.channels.includes(channel))
    throw new ApiError('UNKNOWN_CHANNEL', `channel "${channel}" is not offered for this order`);
  if (state.status === 'PAID') throw new ApiError('ORDER_ALREADY_PAID', 'this order is already paid');
  if (state.status === 'CLOSED') throw new ApiError('ORDER_CLOSED', 'this order is closed or expired');
  const answer = await applyPayment(deps, {
    merchantOrderNo: state.merchantOrderNo,
    amount: state.amount,
    currency: state.currency,
    subject: state.subject,
    channel,
    expireAt: state.expiresAt,
    returnUrl: returnPageUrl(deps, state.payOrderNo),
  });
  const after = await lookUpCashier(deps, reads, token, 0);
  return {
    payAction: answer.body.attempt?.payAction ?? null,
    state: after.found ? after.state : state,
  };
}
