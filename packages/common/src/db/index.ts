export * from './entities';
export * from './data-source';
export * from './batched-transaction';
export { sqlQuery } from './driver';
export * from './outbox';
export * from './refunds';
export { MIGRATIONS } from './migrations';
