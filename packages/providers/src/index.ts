export * from './compose';
export * from './registry';
export * from './china-time';
export * from './sandbox/channel';
export * from './sandbox/provider';
export { pspSection, type PspSettings } from './sandbox/settings';
export * from './alipay/status';
export * from './alipay/channel';
export * from './alipay/provider';
export * from './alipay/statement';
export {
  alipayBillLines,
  checkedAlipayBill,
  ALIPAY_BILL_COLUMNS,
  ALIPAY_SUMMARY_COLUMNS,
} from './alipay/bill-file';
export { alipaySection, type AlipaySettings } from './alipay/settings';
export * from './wechatpay/status';
export * from './wechatpay/channel';
export * from './wechatpay/provider';
export * from './wechatpay/statement';
export {
  checkedWechatBill,
  wechatBillLines,
  WECHAT_BILL_COLUMNS,
  WECHAT_BILL_SUMMARY_COLUMNS,
} from './wechatpay/bill-file';
export { wechatpaySection, type WechatpaySettings } from './wechatpay/settings';
export * from './stripe/status';
export * from './stripe/channel';
export * from './stripe/provider';
export * from './stripe/statement';
export { stripeBalanceLines, stripeLineOf, type BalanceRecord } from './stripe/balance-file';
export { stripeSection, type StripeSettings } from './stripe/settings';
export { readSandboxLine, sandboxLines, sandboxStatement } from './sandbox/statement';
export { Spool, SpoolWriter, spoolPath, spoolStream } from './statement-files/spool';
export { fileSource, type ByteSource } from './statement-files/bytes';
