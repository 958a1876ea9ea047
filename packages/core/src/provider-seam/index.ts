/**
 * The provider seam (CONTRACT 9): what every provider implements and is built with. The providers
 * themselves, and their registry, are `@payments/providers`.
 */
export * from './payment-channel';
export * from './provider';
export * from './errors';
export * from './registry-kit';
export * from './unserved';
export * from './unserved-channels';
