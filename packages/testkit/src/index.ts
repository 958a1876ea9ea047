/** Test support (dev only): production code never imports this package. */
export * from './eventually';
export * from './notification-receiver';
export * from './sandbox-control';
export * from './test-env';
export * from './provider-harness';
export * from './statement-sandbox';
