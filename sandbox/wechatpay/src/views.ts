/** How WeChat Pay's API (and its notifications) show an order and a refund. */
import { chinaRfc3339 } from '@payments/providers';
import type { Refund, Trade } from './state';

/** The merchant and app an answer names. */
export interface MerchantIds {
  mchid: string;
  appid: string;
}

/** An order as the API answers it (and `TRANSACTION.SUCCESS` carries it). */
export function transaction(trade: Trade, options: MerchantIds, now: () => number) {
  const paid = trade.state === 'SUCCESS' || trade.state === 'REFUND';
  return {
    appid: options.appid,
    mchid: options.mchid,
    out_trade_no: trade.outTradeNo,
    trade_type: 'NATIVE',
    trade_state: trade.state,
    trade_state_desc: {
      NOTPAY: '未支付',
      USERPAYING: '用户支付中',
      SUCCESS: '支付成功',
      REFUND: '转入退款',
      CLOSED: '已关闭',
    }[trade.state],
    ...(trade.attach !== null ? { attach: trade.attach } : {}),
    ...(paid
      ? {
          transaction_id: trade.transactionId,
          bank_type: 'OTHERS',
          success_time: chinaRfc3339(new Date(trade.successTime ?? now())),
          payer: { openid: trade.openid },
        }
      : {}),
    amount: {
      total: trade.amount,
      ...(paid ? { payer_total: trade.amount } : {}),
      currency: 'CNY',
      payer_currency: 'CNY',
    },
  };
}

/** Where a refund's money goes: back the way it came, or where an abnormal-refund application sent it. */
export const refundChannel = (refund: Refund) => {
  switch (refund.abnormalHandling) {
    case null:
      return { channel: 'ORIGINAL', user_received_account: '支付用户零钱' };
    case 'USER_BANK_CARD':
      return { channel: 'OTHER_BANKCARD', user_received_account: '招商银行借记卡0403' };
    case 'MERCHANT_BANK_CARD':
      return { channel: 'OTHER_BANKCARD', user_received_account: '商户结算银行账户' };
    default: {
      const unknown: never = refund.abnormalHandling;
      throw new Error(`unknown abnormal refund handling ${String(unknown)}`);
    }
  }
};

export function refundView(refund: Refund, trade: Trade) {
  return {
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    transaction_id: trade.transactionId,
    out_trade_no: trade.outTradeNo,
    ...refundChannel(refund),
    create_time: chinaRfc3339(new Date(refund.createdAt)),
    ...(refund.successTime !== null ? { success_time: chinaRfc3339(new Date(refund.successTime)) } : {}),
    status: refund.status,
    funds_account: 'AVAILABLE',
    amount: {
      total: trade.amount,
      refund: refund.amount,
      payer_total: trade.amount,
      payer_refund: refund.amount,
      settlement_total: trade.amount,
      settlement_refund: refund.amount,
      discount_refund: 0,
      currency: 'CNY',
      refund_fee: 0,
    },
  };
}
