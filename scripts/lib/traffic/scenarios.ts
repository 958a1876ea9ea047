/**
 * The demo's and the chaos suite's scenarios: what a shopper does in each (the channels tried, the
 * clicks, the switches, the late payments), through the shop's requests.
 */
export const SCENARIOS = [
  'simple',
  'double-click',
  'switch',
  'voucher-then-wallet',
  'cancel-then-pay',
  'abandoned',
  'by-queue',
  'alipay-qr',
  'alipay-page-late',
  'wechat-native',
  'two-wallets',
  'stripe-card',
  'boleto-then-card',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** An answer to an apply, as the scenarios read it. */
export interface Applied {
  status: number;
  body: { attempt?: { channelOrderNo: string }; error?: { code: string } };
}

/** What a scenario does through: the shop's applies (HTTP or by queue), the shopper's payment, a close. */
export interface Shop {
  /** What the scenarios read of the traffic's options (TrafficOptions). */
  readonly options: {
    alipayUrl: string;
    wechatpayUrl: string;
    stripeUrl: string;
    /** Orders that are never paid expire after this long. */
    abandonAfterMs: number;
  };
  apply(merchantOrderNo: string, body: Record<string, unknown>): Promise<Applied>;
  applyByQueue(merchantOrderNo: string, body: Record<string, unknown>): Promise<Applied>;
  /** The shopper pays at a sandbox's control API (the PSP unless told). */
  pay(channelOrderNo: string | undefined, sandboxUrl?: string): Promise<boolean>;
  cancel(merchantOrderNo: string): Promise<number>;
}

/** One scenario's steps (`sequence` numbers the order); true when the shopper paid at least once. */
export async function playScenario(
  shop: Shop,
  scenario: Scenario,
  merchantOrderNo: string,
  amount: number,
  sequence: number,
  expect: (what: string, ok: boolean) => void,
): Promise<boolean> {
  let paid = false;
  switch (scenario) {
    case 'simple': {
      const applied = await shop.apply(merchantOrderNo, { amount });
      expect(`apply answered ${applied.status}`, applied.status === 201);
      paid = await shop.pay(applied.body.attempt?.channelOrderNo);
      break;
    }
    case 'double-click': {
      // Double and triple clicks, in turn.
      const clickCount = 2 + (sequence % 2);
      const clicks = await Promise.all(
        Array.from({ length: clickCount }, () => shop.apply(merchantOrderNo, { amount })),
      );
      const channelOrderNos = new Set(
        clicks.filter((click) => click.status < 300).map((click) => click.body.attempt?.channelOrderNo),
      );
      expect(`${clickCount} clicks made ${channelOrderNos.size} attempts`, channelOrderNos.size === 1);
      paid = await shop.pay([...channelOrderNos][0]);
      break;
    }
    case 'switch': {
      const wallet = await shop.apply(merchantOrderNo, { amount });
      const qr = await shop.apply(merchantOrderNo, { amount, channel: 'sandbox-qr' });
      expect(`switch answered ${qr.status}`, qr.status === 201);
      // The shopper tries the old QR code too: closed, so it cannot be paid (or, if the close failed, the refunder handles it).
      await shop.pay(wallet.body.attempt?.channelOrderNo);
      paid = await shop.pay(qr.body.attempt?.channelOrderNo);
      break;
    }
    case 'voucher-then-wallet': {
      const voucher = await shop.apply(merchantOrderNo, { amount, channel: 'sandbox-voucher' });
      const wallet = await shop.apply(merchantOrderNo, { amount });
      paid = await shop.pay(wallet.body.attempt?.channelOrderNo);
      // The voucher is paid later, offline: a second charge the refunder must give back.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await shop.pay(voucher.body.attempt?.channelOrderNo);
      break;
    }
    case 'cancel-then-pay': {
      const voucher = await shop.apply(merchantOrderNo, { amount, channel: 'sandbox-voucher' });
      expect('close answered', (await shop.cancel(merchantOrderNo)) === 200);
      paid = await shop.pay(voucher.body.attempt?.channelOrderNo);
      break;
    }
    case 'abandoned': {
      const applied = await shop.apply(merchantOrderNo, {
        amount,
        expireAt: new Date(Date.now() + shop.options.abandonAfterMs).toISOString(),
      });
      expect(`apply answered ${applied.status}`, applied.status === 201);
      break;
    }
    case 'by-queue': {
      const applied = await shop.applyByQueue(merchantOrderNo, { amount });
      expect(`queued apply answered ${applied.status}`, applied.status === 201);
      paid = await shop.pay(applied.body.attempt?.channelOrderNo);
      break;
    }
    case 'alipay-qr': {
      const applied = await shop.apply(merchantOrderNo, { amount, channel: 'alipay-qr' });
      expect(`alipay-qr apply answered ${applied.status}`, applied.status === 201);
      paid = await shop.pay(applied.body.attempt?.channelOrderNo, shop.options.alipayUrl);
      break;
    }
    case 'alipay-page-late': {
      // The page is handed out but not opened; the shopper switches to the wallet and pays, then
      // opens the old Alipay page after all and pays it too: a second charge, refunded.
      const page = await shop.apply(merchantOrderNo, { amount, channel: 'alipay-page' });
      expect(`alipay-page apply answered ${page.status}`, page.status === 201);
      const wallet = await shop.apply(merchantOrderNo, { amount });
      paid = await shop.pay(wallet.body.attempt?.channelOrderNo);
      const pageUrl = (page.body.attempt as { payUrl?: string } | undefined)?.payUrl;
      if (pageUrl) {
        await fetch(pageUrl);
        paid = (await shop.pay(page.body.attempt?.channelOrderNo, shop.options.alipayUrl)) || paid;
      }
      break;
    }
    case 'wechat-native': {
      const applied = await shop.apply(merchantOrderNo, { amount, channel: 'wechat-native' });
      expect(`wechat-native apply answered ${applied.status}`, applied.status === 201);
      paid = await shop.pay(applied.body.attempt?.channelOrderNo, shop.options.wechatpayUrl);
      break;
    }
    case 'two-wallets': {
      // The seeds' double charge: WeChat Pay opened, the shopper goes back and pays with Alipay,
      // then pays in WeChat as well (where its close failed): one payment kept, one refunded.
      const wechat = await shop.apply(merchantOrderNo, { amount, channel: 'wechat-native' });
      expect(`wechat-native apply answered ${wechat.status}`, wechat.status === 201);
      const alipay = await shop.apply(merchantOrderNo, { amount, channel: 'alipay-qr' });
      expect(`alipay-qr apply answered ${alipay.status}`, alipay.status === 201);
      paid = await shop.pay(alipay.body.attempt?.channelOrderNo, shop.options.alipayUrl);
      paid = (await shop.pay(wechat.body.attempt?.channelOrderNo, shop.options.wechatpayUrl)) || paid;
      break;
    }
    case 'stripe-card': {
      const applied = await shop.apply(merchantOrderNo, {
        amount,
        currency: 'USD',
        channel: 'stripe-card',
        returnUrl: 'https://shop.example/back',
      });
      expect(`stripe-card apply answered ${applied.status}`, applied.status === 201);
      paid = await shop.pay(applied.body.attempt?.channelOrderNo, shop.options.stripeUrl);
      break;
    }
    case 'boleto-then-card': {
      // Paulo's double charge: a Boleto voucher issued, the voucher office far away, the order
      // paid by card, then the voucher paid on market day as well. Stripe refunds no Boleto
      // payment, so the voucher is the payment kept and the card's charge is refunded through
      // Stripe (CONTRACT 9): nothing is owed by hand.
      const order = { amount, currency: 'BRL', returnUrl: 'https://shop.example/back' };
      const voucher = await shop.apply(merchantOrderNo, { ...order, channel: 'stripe-boleto' });
      expect(`stripe-boleto apply answered ${voucher.status}`, voucher.status === 201);
      const voucherNo = voucher.body.attempt?.channelOrderNo;
      if (voucherNo)
        await fetch(`${shop.options.stripeUrl}/sandbox/trades/${voucherNo}/voucher`, { method: 'POST' });
      try {
        const card = await shop.apply(merchantOrderNo, { ...order, channel: 'stripe-card' });
        expect(`stripe-card apply answered ${card.status}`, card.status === 201);
        paid = await shop.pay(card.body.attempt?.channelOrderNo, shop.options.stripeUrl);
      } finally {
        // Market day comes whatever happened at the shop (a voucher out is paid, or in flight for days).
        paid = (await shop.pay(voucherNo, shop.options.stripeUrl)) || paid;
      }
      break;
    }
    default: {
      const unknown: never = scenario;
      throw new Error(`unknown scenario ${String(unknown)}`);
    }
  }
  return paid;
}
