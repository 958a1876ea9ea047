/**
 * The platform the payment pipeline runs on: configuration, errors, logging, the broker, the
 * database's connection and transactions, the order lock, HTTP, metrics and the process runtime.
 * It knows nothing of payments: `@payments/core` builds on it, never the other way.
 */
export * from './config';
export * from './errors';
export * from './logging';
export * from './json/strict-json';
export * from './amqp';
export * from './db';
export * from './lock';
export * from './http';
export * from './metrics';
export * from './runtime';
