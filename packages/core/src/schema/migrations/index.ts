import { InitialSchema1732300000000 } from './1732300000000-initial-schema';
import { SuccessSettledIndex1732400000000 } from './1732400000000-success-settled-index';
import { HostileReview1732500000000 } from './1732500000000-hostile-review';
import { PayAction1732600000000 } from './1732600000000-pay-action';
import { ProviderReference1732700000000 } from './1732700000000-provider-reference';
import { ManualRefunds1732800000000 } from './1732800000000-manual-refunds';
import { CheckoutTokens1732900000000 } from './1732900000000-checkout-tokens';
import { ProviderTruth1733000000000 } from './1733000000000-provider-truth';
import { CashierLocale1733100000000 } from './1733100000000-cashier-locale';
import { Reconciliation1733200000000 } from './1733200000000-reconciliation';
import { ReconAttemptMatch1733210000000 } from './1733210000000-recon-attempt-match';

/** Every migration, in order. */
export const MIGRATIONS = [
  InitialSchema1732300000000,
  SuccessSettledIndex1732400000000,
  HostileReview1732500000000,
  PayAction1732600000000,
  ProviderReference1732700000000,
  ManualRefunds1732800000000,
  CheckoutTokens1732900000000,
  ProviderTruth1733000000000,
  CashierLocale1733100000000,
  Reconciliation1733200000000,
  ReconAttemptMatch1733210000000,
];
