export * from './data-source';
export * from './batched-transaction';
export { sqlQuery } from './driver';
export { connectInUtc, pinPoolToUtc, UTC_SESSION_SQL } from './utc-session';
