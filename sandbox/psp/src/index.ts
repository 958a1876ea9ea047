/** For tests and scripts that run the sandbox PSP in-process (the package's `main`). */
export { buildPspServer, type PspServerOptions } from './server';
export { NO_FAULTS, type Faults } from '@payments/sandbox-kit';
export type { Channel, RefundStatus, TradeStatus } from './state';
/** The sandbox's published TEST-ONLY keys (never production code's). */
export * from './keys';
