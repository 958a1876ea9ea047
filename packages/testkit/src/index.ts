/** Test support (dev only): production code never imports this package. */
export * from './eventually';
export * from './test-env';
