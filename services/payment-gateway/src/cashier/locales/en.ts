import type { CashierStrings } from './strings';

export const en: CashierStrings = {
  title: 'Pay: {subject}',
  status: {
    UNPAID: 'Choose how to pay.',
    PAYING: 'Waiting for your payment…',
    PAID: 'Paid. Thank you.',
    CLOSED: 'This order is closed or has expired. Nothing can be paid.',
  },
  applying: 'Contacting the payment provider…',
  paidWarning: 'This order is already paid, please do not pay again.',
  payWith: 'Pay with',
  qrAlt: 'QR code: scan it with the app to pay',
  qrCaption: 'Scan with your phone to pay. Keep this page open.',
  backToShop: 'Back to the shop',
  startFailed: 'The payment could not be started. Please try again.',
  timeLeft: 'Time left to pay: {time}',
  payBy: 'Pay by {when}',
  returnTitle: 'Your payment',
  gone404: 'There is no such payment page.',
  gone410: 'This payment page has expired.',
};
