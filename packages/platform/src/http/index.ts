export * from './signature';
export * from './ops-server';
export * from './client';
