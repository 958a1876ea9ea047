/** Every text the cashier shows, by key: one catalogue per language gives each (checked by the type). */
export interface CashierStrings {
  /** The page's title; `{subject}` is the order's. */
  title: string;
  status: { UNPAID: string; PAYING: string; PAID: string; CLOSED: string };
  applying: string;
  paidWarning: string;
  payWith: string;
  qrAlt: string;
  qrCaption: string;
  backToShop: string;
  startFailed: string;
  /** `{time}`: minutes and seconds left (or hours, minutes and seconds). */
  timeLeft: string;
  /** `{when}`: the order's expiry, in the shopper's local time. */
  payBy: string;
  returnTitle: string;
  gone404: string;
  gone410: string;
}
