import { InitialSchema1732300000000 } from './1732300000000-initial-schema';
import { SuccessSettledIndex1732400000000 } from './1732400000000-success-settled-index';

/** Every migration, in order. */
export const MIGRATIONS = [InitialSchema1732300000000, SuccessSettledIndex1732400000000];
