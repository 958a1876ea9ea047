export * from './redis-lock';
export * from './redis';
