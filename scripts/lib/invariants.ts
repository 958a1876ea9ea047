/**
 * The money invariants of CONTRACT 8, checked through the public interfaces only: the gateway's
 * payment view, the sandboxes' ledgers (ground truth of money) and the example order service.
 */
export interface Endpoints {
  gatewayUrl: string;
  apiKey: string;
  pspUrl: string;
  /** Every other sandbox provider whose ledger holds money of these orders (the Alipay sandbox, ...). */
  otherSandboxUrls?: string[];
  orderServiceUrl: string;
  /**
   * Money given back at a provider's portal for this order, outside our system, as reconciliation
   * recorded it (REFUND_MADE_OUTSIDE, for a person): a PAID order then nets its amount less that.
   * One never recorded still counts against the order, as any money missing does.
   */
  refundedOutside?: (merchantOrderNo: string) => Promise<number>;
}

export interface Violation {
  merchantOrderNo: string;
  problem: string;
}

interface PaymentView {
  status: string;
  amount: number;
  attempts: { channelOrderNo: string; status: string }[];
  refunds: {
    refundNo: string;
    status: string;
    amount: number;
    /** Paid back outside the provider (no ledger of ours shows it): the operator's record. */
    settledManually?: { by: string; at: string; reference: string } | null;
  }[];
  expireAt: string;
}

async function getJson<T>(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function paymentOf(
  endpoints: Endpoints,
  merchantOrderNo: string,
): Promise<PaymentView | undefined> {
  const answer = await getJson<PaymentView>(
    `${endpoints.gatewayUrl}/v1/payments/${encodeURIComponent(merchantOrderNo)}`,
    {
      authorization: `Bearer ${endpoints.apiKey}`,
    },
  );
  return answer.status === 200 ? answer.body : undefined;
}

/** The money of one order across every sandbox: one shopper may pay in two providers. */
export async function moneyOf(endpoints: Endpoints, merchantOrderNo: string) {
  const body = {
    trades: [] as { status: string; amount: number }[],
    refunds: [] as { status: string; amount: number }[],
  };
  // The PSP knows the merchant's order number; other providers may not (or keep only 32
  // characters of it): their ledgers are asked by our attempts' numbers.
  const others = endpoints.otherSandboxUrls ?? [];
  const payment = await paymentOf(endpoints, merchantOrderNo);
  const attempts = others.length > 0 ? (payment?.attempts ?? []) : [];
  const queries = [
    `${endpoints.pspUrl}/sandbox/ledger?merchantOrderNo=${encodeURIComponent(merchantOrderNo)}`,
    ...(attempts.length > 0
      ? others.map(
          (base) =>
            `${base}/sandbox/ledger?channelOrderNo=${attempts.map((attempt) => encodeURIComponent(attempt.channelOrderNo)).join(',')}`,
        )
      : []),
  ];
  for (const query of queries) {
    const { body: ledger } = await getJson<typeof body>(query);
    body.trades.push(...ledger.trades);
    body.refunds.push(...ledger.refunds);
  }
  const captured = body.trades
    .filter((trade) => trade.status === 'PAID')
    .reduce((sum, trade) => sum + trade.amount, 0);
  // Money paid back by hand (a Boleto payment Stripe cannot refund) is returned once an operator
  // recorded it: no provider's ledger can show it.
  const manual = (payment?.refunds ?? []).filter(
    (refund) => refund.status === 'SUCCESS' && refund.settledManually,
  );
  const returned = [...body.refunds, ...manual]
    .filter((refund) => refund.status === 'SUCCESS')
    .reduce((sum, refund) => sum + refund.amount, 0);
  return {
    captured,
    returned,
    net: captured - returned,
    paidTrades: body.trades.filter((trade) => trade.status === 'PAID').length,
  };
}

export async function merchantViewOf(endpoints: Endpoints, merchantOrderNo: string) {
  const answer = await getJson<{ status: string; distinctEvents: number; deliveries: number }>(
    `${endpoints.orderServiceUrl}/orders/${encodeURIComponent(merchantOrderNo)}`,
  );
  return answer.status === 200 ? answer.body : undefined;
}

/** True once nothing more will happen to this order: no attempt in flight, no refund open, the shop told. */
export async function isQuiet(endpoints: Endpoints, merchantOrderNo: string): Promise<boolean> {
  const payment = await paymentOf(endpoints, merchantOrderNo);
  if (!payment) return true;
  if (payment.status !== 'PAID' && payment.status !== 'CLOSED') return false;
  if (payment.attempts.some((attempt) => attempt.status === 'PAYING')) return false;
  if (payment.refunds.some((refund) => refund.status === 'PROCESSING')) return false;
  const money = await moneyOf(endpoints, merchantOrderNo);
  const refundable = payment.status === 'PAID' ? money.captured - payment.amount : money.captured;
  // A refund waiting for a person (approval, or paying back by hand) is as far as it goes by itself.
  const waitsForPerson = payment.refunds.some(
    (refund) => refund.status === 'PENDING_APPROVAL' || refund.status === 'MANUAL_REQUIRED',
  );
  if (money.returned < refundable && !waitsForPerson) return false;
  if (payment.status === 'PAID' && (await merchantViewOf(endpoints, merchantOrderNo))?.status !== 'PAID')
    return false;
  return true;
}

/** CONTRACT 8, for one order, once the system is quiet. */
export async function checkOrder(endpoints: Endpoints, merchantOrderNo: string): Promise<Violation[]> {
  const violations: Violation[] = [];
  const fail = (problem: string) => violations.push({ merchantOrderNo, problem });
  const payment = await paymentOf(endpoints, merchantOrderNo);
  const money = await moneyOf(endpoints, merchantOrderNo);
  const merchant = await merchantViewOf(endpoints, merchantOrderNo);
  if (!payment) {
    if (money.captured !== 0) fail(`captured ${money.captured} for an order the gateway does not know`);
    return violations;
  }
  const outside = payment.status === 'PAID' ? ((await endpoints.refundedOutside?.(merchantOrderNo)) ?? 0) : 0;
  const expectedNet = payment.status === 'PAID' ? payment.amount - outside : 0;
  if (money.net !== expectedNet) {
    fail(
      `status ${payment.status}: captured ${money.captured} - refunded ${money.returned} = ${money.net}, expected ${expectedNet}${outside ? ` (${outside} recorded as refunded outside)` : ''}`,
    );
  }
  if (payment.status === 'PAID') {
    if (!merchant || merchant.status !== 'PAID') fail('PAID but the order service was never told');
    else if (merchant.distinctEvents !== 1)
      fail(`the order service got ${merchant.distinctEvents} distinct payment events`);
  } else if (merchant) {
    fail(`${payment.status} but the order service was told it was paid`);
  }
  for (const refund of payment.refunds.filter((candidate) => candidate.status === 'MANUAL_REQUIRED'))
    fail(
      `owes ${refund.amount} by hand: refund ${refund.refundNo} is MANUAL_REQUIRED (payctl refund settle-manually)`,
    );
  const stuck = payment.attempts.filter((attempt) => attempt.status === 'PAYING');
  if (stuck.length > 0 && Date.now() > new Date(payment.expireAt).getTime())
    fail(`${stuck.length} attempt(s) still PAYING after expiry`);
  return violations;
}

export async function checkOrders(endpoints: Endpoints, merchantOrderNos: string[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const merchantOrderNo of merchantOrderNos)
    violations.push(...(await checkOrder(endpoints, merchantOrderNo)));
  return violations;
}

/** Waits until every order is quiet; returns those that are not by the deadline. */
export async function waitUntilQuiet(
  endpoints: Endpoints,
  merchantOrderNos: string[],
  timeoutMs: number,
  onProgress?: (quiet: number) => void,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...merchantOrderNos];
  while (pending.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    for (const merchantOrderNo of pending)
      if (!(await isQuiet(endpoints, merchantOrderNo).catch(() => false))) still.push(merchantOrderNo);
    pending = still;
    onProgress?.(merchantOrderNos.length - pending.length);
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return pending;
}
