/**
 * Hidden losses made on purpose (issue 29.5), through the public interfaces and the sandboxes'
 * control APIs: a shopper pays while the provider's API has lost sight of the trade (the kit's
 * hidden trades: no notification, every query and close answered "not found"), a Stripe create
 * whose answer is lost with every webhook, a refund made at the PSP's portal. What each leaves is
 * money there that nothing here knows of, until reconciliation reads the statement.
 */
import { api, applyBody, type SandboxKind } from './stack';
import type { SystemStack } from './system';

export interface HiddenLoss {
  merchantOrderNo: string;
  channelOrderNo: string;
  sandbox: SandboxKind;
  /** What reconciliation should do with its statement line. */
  expect: 'SETTLED_KEPT' | 'SETTLED_EXTRA_REFUNDING';
}

/** The sandbox's API and notifications lose sight of this trade (`number`: out-trade-no or merchant order). */
export async function hide(system: SystemStack, sandbox: SandboxKind, number: string): Promise<void> {
  const answer = await fetch(
    `${system.stack.sandboxUrl(sandbox)}/sandbox/hidden/${encodeURIComponent(number)}`,
    {
      method: 'PUT',
    },
  );
  if (!answer.ok) throw new Error(`hiding ${number} at ${sandbox}: ${answer.status}`);
}

/** The provider's API sees every hidden trade again (as after its outage): only a query now tells. */
export async function showAll(system: SystemStack, sandboxes: readonly SandboxKind[]): Promise<void> {
  for (const sandbox of sandboxes) {
    const url = system.stack.sandboxUrl(sandbox);
    const { hidden } = (await (await fetch(`${url}/sandbox/hidden`)).json()) as { hidden: string[] };
    for (const number of hidden)
      await fetch(`${url}/sandbox/hidden/${encodeURIComponent(number)}`, { method: 'DELETE' });
  }
}

const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

/** Every attempt of the order as it stands here. */
export async function attemptsOf(system: SystemStack, merchantOrderNo: string) {
  const view = await api(system.gatewayUrls[0]!, 'GET', `/v1/payments/${merchantOrderNo}`);
  return (view.body?.attempts ?? []) as { channelOrderNo: string; channel: string; status: string }[];
}

/**
 * A PSP wallet payment whose every notification and poll find nothing: hidden before its apply,
 * paid, its order valid `validS` seconds. A short-lived order ends closed here (the poller closes
 * an attempt never found once past its expiry), so its payment is extra and given back.
 */
export async function hiddenPspPayment(
  system: SystemStack,
  merchantOrderNo: string,
  validS: number,
): Promise<HiddenLoss> {
  await hide(system, 'psp', merchantOrderNo);
  const applied = await api(
    system.gatewayUrls[0]!,
    'POST',
    '/v1/payments',
    applyBody(merchantOrderNo, { expireAt: inSeconds(validS) }),
  );
  if (applied.status !== 201) throw new Error(`apply ${merchantOrderNo}: ${applied.status}`);
  const channelOrderNo = applied.body.attempt.channelOrderNo as string;
  if ((await system.stack.pay(channelOrderNo)) !== 200) throw new Error(`pay ${channelOrderNo}`);
  return {
    merchantOrderNo,
    channelOrderNo,
    sandbox: 'psp',
    expect: validS > 60 ? 'SETTLED_KEPT' : 'SETTLED_EXTRA_REFUNDING',
  };
}

/**
 * Two payments of one order: a PSP voucher paid while hidden, then a wallet paid and told as usual.
 * The voucher is the duplicate nobody here saw.
 */
export async function hiddenDuplicate(system: SystemStack, merchantOrderNo: string): Promise<HiddenLoss> {
  const gateway = system.gatewayUrls[0]!;
  const expireAt = inSeconds(5);
  const voucher = await api(
    gateway,
    'POST',
    '/v1/payments',
    applyBody(merchantOrderNo, { channel: 'sandbox-voucher', expireAt }),
  );
  const channelOrderNo = voucher.body.attempt.channelOrderNo as string;
  await hide(system, 'psp', channelOrderNo);
  if ((await system.stack.pay(channelOrderNo)) !== 200) throw new Error(`pay ${channelOrderNo}`);
  const wallet = await api(gateway, 'POST', '/v1/payments', applyBody(merchantOrderNo, { expireAt }));
  if ((await system.stack.pay(wallet.body.attempt.channelOrderNo as string)) !== 200)
    throw new Error(`pay the wallet of ${merchantOrderNo}`);
  return { merchantOrderNo, channelOrderNo, sandbox: 'psp', expect: 'SETTLED_EXTRA_REFUNDING' };
}

/**
 * A Stripe card order whose session create ran but whose answer was lost, and whose every webhook
 * is lost too: the shopper pays the session anyway (the sandbox's control API stands for them).
 */
export async function hiddenStripePayment(system: SystemStack, merchantOrderNo: string): Promise<HiddenLoss> {
  const stripe = system.stack.stripeUrl;
  await hide(system, 'stripe', merchantOrderNo);
  const lost = await fetch(`${stripe}/sandbox/stripe-faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ createAnswerLostRate: 1 }),
  });
  if (!lost.ok) throw new Error(`stripe faults: ${lost.status}`);
  let applied;
  try {
    applied = await api(
      system.gatewayUrls[0]!,
      'POST',
      '/v1/payments',
      applyBody(merchantOrderNo, {
        channel: 'stripe-card',
        amount: 1999,
        currency: 'USD',
        returnUrl: 'https://shop.example/back',
        expireAt: inSeconds(6),
      }),
    );
  } finally {
    await fetch(`${stripe}/sandbox/stripe-faults`, { method: 'DELETE' });
  }
  if (applied.status !== 502)
    throw new Error(`a lost create answer should fail the apply: ${applied.status}`);
  const [attempt] = await attemptsOf(system, merchantOrderNo);
  if (!attempt) throw new Error(`no attempt recorded for ${merchantOrderNo}`);
  if ((await system.stack.pay(attempt.channelOrderNo, 'stripe')) !== 200)
    throw new Error(`pay the session of ${attempt.channelOrderNo}`);
  return {
    merchantOrderNo,
    channelOrderNo: attempt.channelOrderNo,
    sandbox: 'stripe',
    expect: 'SETTLED_EXTRA_REFUNDING',
  };
}

/** A wallet payment made and told as usual, then `amount` of it given back at the PSP's portal. */
export async function portalRefund(
  system: SystemStack,
  merchantOrderNo: string,
  amount: number,
): Promise<{ merchantOrderNo: string; channelOrderNo: string; refundNo: string }> {
  const applied = await api(system.gatewayUrls[0]!, 'POST', '/v1/payments', applyBody(merchantOrderNo));
  const channelOrderNo = applied.body.attempt.channelOrderNo as string;
  if ((await system.stack.pay(channelOrderNo)) !== 200) throw new Error(`pay ${channelOrderNo}`);
  for (let i = 0; i < 100 && (await system.stack.merchantOrder(merchantOrderNo))?.status !== 'PAID'; i++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const made = await fetch(`${system.stack.pspUrl}/sandbox/trades/${channelOrderNo}/portal-refund`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ amount }),
  });
  if (made.status !== 200) throw new Error(`portal refund of ${channelOrderNo}: ${made.status}`);
  return {
    merchantOrderNo,
    channelOrderNo,
    refundNo: ((await made.json()) as { refundNo: string }).refundNo,
  };
}
