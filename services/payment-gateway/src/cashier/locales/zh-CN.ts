import type { CashierStrings } from './strings';

/** Simplified Chinese, for Alipay and WeChat Pay shoppers. */
export const zhCN: CashierStrings = {
  title: '支付：{subject}',
  status: {
    UNPAID: '请选择支付方式。',
    PAYING: '正在等待您付款…',
    PAID: '支付成功，谢谢。',
    CLOSED: '订单已关闭或已过期，无法支付。',
  },
  applying: '正在连接支付机构…',
  paidWarning: '该订单已支付，请勿重复付款。',
  payWith: '支付方式',
  qrAlt: '二维码：请用应用扫码支付',
  qrCaption: '请用手机扫码支付，支付完成前请勿关闭本页面。',
  backToShop: '返回商家',
  startFailed: '无法发起支付，请重试。',
  timeLeft: '剩余支付时间：{time}',
  payBy: '请在 {when} 前完成支付',
  returnTitle: '您的支付',
  gone404: '没有这个支付页面。',
  gone410: '该支付页面已过期。',
};
